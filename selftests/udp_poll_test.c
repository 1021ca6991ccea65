// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness of accelerated UDP sockets mixed with pipes: poll, select and
 * epoll (level and edge triggered), non-blocking receive, blocking waits
 * woken by a datagram, connected and unconnected sockets, SO_RCVTIMEO,
 * the signal mask of ppoll, pselect and epoll_pwait, control messages
 * (also SO_TIMESTAMPING, SO_RXQ_OVFL, SO_RCVMARK and transmit timestamps,
 * and timestamp options set before bind), a broken consumer index, sends
 * corked (MSG_MORE, UDP_CORK) or segmented (UDP_SEGMENT), and pending
 * errors (ICMP port unreachable) met by recv and recvmmsg.
 *
 * Run under the launcher in namespace A. The sending peer is a plain
 * socket opened in namespace B (EXA_PEER_NETNS, a name under /run/netns)
 * so that datagrams cross the veth pair and land in the receive ring:
 *
 *   ns A: exa0 10.77.0.1  <-- veth -->  exa1 10.77.0.2 :ns B
 *         self->fd (accelerated)        self->peer (native)
 *
 * EXA_EXPECT_ACCEL=1 makes every test check that self->fd really is
 * accelerated; without it the same tests run against the plain kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/exasock.h>
#include <linux/net_tstamp.h>

#include "kselftest_harness.h"
#include "payload.h"
#include "peer_util.h"

#define LOCAL_ADDR	"10.77.0.1"
#define PEER_ADDR	"10.77.0.2"
#define BASE_PORT	7100
#define WAIT_MS		3000	/* for a datagram to cross the veth pair */

/* A plain UDP socket in namespace @ns on @ip:@port; the fd or -errno. */
static int peer_socket(const char *ns, const char *ip, int port)
{
	return peer_open(ns, SOCK_DGRAM, ip, port);
}

static int send_seq(int fd, int port, uint32_t seq, size_t len)
{
	struct sockaddr_in to = mkaddr(LOCAL_ADDR, port);
	char buf[2048];

	payload_fill(buf, len, seq);
	return sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
	       (ssize_t)len ? 0 : -1;
}

/* Wait until poll() says @fd is readable; returns poll's result. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

FIXTURE(udp) {
	int fd;			/* accelerated, non-blocking */
	int peer;		/* plain, in namespace B */
	int pipe[2];
	int port;
	int peer_port;
	struct sockaddr_in local;
};

FIXTURE_SETUP(udp)
{
	const char *ns = getenv("EXA_PEER_NETNS");
	int flags;

	/* The harness forks per test: a port per test keeps them apart. */
	self->port = BASE_PORT + (getpid() % 400) * 2;
	self->peer_port = self->port + 1;
	self->local = mkaddr(LOCAL_ADDR, self->port);

	self->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, bind(self->fd, (struct sockaddr *)&self->local,
			  sizeof(self->local))) TH_LOG("bind: %s",
						       strerror(errno));
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_EQ(1, raw_accelerated(self->fd))
			TH_LOG("fd %d was not accelerated", self->fd);

	/* O_NONBLOCK survives the conversion */
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_NE(0, flags & O_NONBLOCK);

	self->peer = peer_socket(ns, PEER_ADDR, self->peer_port);
	ASSERT_LE(0, self->peer) TH_LOG("peer socket in %s: %s",
					ns ? ns : "this netns",
					strerror(-self->peer));
	ASSERT_EQ(0, pipe2(self->pipe, O_NONBLOCK));
}

FIXTURE_TEARDOWN(udp)
{
	close(self->fd);
	close(self->peer);
	close(self->pipe[0]);
	close(self->pipe[1]);
}

/* Reads one datagram and checks it is @seq. */
static void expect_seq(struct __test_metadata *_metadata, int fd,
		       uint32_t seq, size_t len)
{
	char buf[2048];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ((ssize_t)len, n) TH_LOG("recv: %s", strerror(errno));
	ASSERT_EQ((long)seq, payload_check(buf, n));
}

TEST_F(udp, empty_nonblocking)
{
	char buf[64];

	EXPECT_EQ(-1, recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(self->fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(udp, poll_mixed_with_pipe)
{
	struct pollfd p[2] = {
		{ .fd = self->fd, .events = POLLIN },
		{ .fd = self->pipe[0], .events = POLLIN },
	};

	/* nothing ready */
	EXPECT_EQ(0, poll(p, 2, 0));
	EXPECT_EQ(0, poll(p, 2, 20));

	/* only the pipe */
	ASSERT_EQ(1, write(self->pipe[1], "x", 1));
	ASSERT_EQ(1, poll(p, 2, 0));
	EXPECT_EQ(0, p[0].revents);
	EXPECT_EQ(POLLIN, p[1].revents);

	/* then the socket too */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 1, 100));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	ASSERT_EQ(2, poll(p, 2, 0));
	EXPECT_EQ(POLLIN, p[0].revents & POLLIN);
	EXPECT_EQ(POLLIN, p[1].revents);

	/* reading the datagram leaves the pipe */
	expect_seq(_metadata, self->fd, 1, 100);
	ASSERT_EQ(1, poll(p, 2, 0));
	EXPECT_EQ(0, p[0].revents);

	/* POLLOUT is always there */
	p[0].events = POLLOUT;
	ASSERT_EQ(1, poll(p, 1, 0));
	EXPECT_EQ(POLLOUT, p[0].revents);
}

TEST_F(udp, select_mixed_with_pipe)
{
	int nfds = (self->fd > self->pipe[0] ? self->fd : self->pipe[0]) + 1;
	struct timeval tv;
	fd_set r, w;

	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	FD_SET(self->pipe[0], &r);
	tv = (struct timeval){ 0, 0 };
	EXPECT_EQ(0, select(nfds, &r, NULL, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &r));
	EXPECT_FALSE(FD_ISSET(self->pipe[0], &r));

	/* A timeout the spin uses up: still 0, and the sets cleared. */
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	FD_SET(self->pipe[0], &r);
	tv = (struct timeval){ 0, 20 };
	EXPECT_EQ(0, select(nfds, &r, NULL, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &r));
	EXPECT_FALSE(FD_ISSET(self->pipe[0], &r));
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	tv = (struct timeval){ 0, 20 };
	EXPECT_EQ(0, select(self->fd + 1, &r, NULL, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &r));

	ASSERT_EQ(0, send_seq(self->peer, self->port, 2, 200));
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	FD_SET(self->pipe[0], &r);
	tv = (struct timeval){ WAIT_MS / 1000, 0 };
	ASSERT_EQ(1, select(nfds, &r, NULL, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &r));
	EXPECT_FALSE(FD_ISSET(self->pipe[0], &r));

	ASSERT_EQ(1, write(self->pipe[1], "y", 1));
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	FD_SET(self->pipe[0], &r);
	FD_ZERO(&w);
	FD_SET(self->fd, &w);
	tv = (struct timeval){ 0, 0 };
	ASSERT_EQ(3, select(nfds, &r, &w, NULL, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &r));
	EXPECT_TRUE(FD_ISSET(self->pipe[0], &r));
	EXPECT_TRUE(FD_ISSET(self->fd, &w));

	expect_seq(_metadata, self->fd, 2, 200);
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	tv = (struct timeval){ 0, 0 };
	EXPECT_EQ(0, select(nfds, &r, NULL, NULL, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &r));
}

TEST_F(udp, epoll_level_triggered)
{
	struct epoll_event ev, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = self->fd };
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ev = (struct epoll_event){ .events = EPOLLIN,
				   .data.fd = self->pipe[0] };
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->pipe[0], &ev));

	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 20));

	ASSERT_EQ(0, send_seq(self->peer, self->port, 3, 300));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	EXPECT_EQ(self->fd, out[0].data.fd);
	EXPECT_TRUE(out[0].events & EPOLLIN);

	/* level triggered: still reported until read */
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	ASSERT_EQ(1, write(self->pipe[1], "z", 1));
	ASSERT_EQ(2, epoll_wait(ep, out, 4, 0));

	expect_seq(_metadata, self->fd, 3, 300);
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ(self->pipe[0], out[0].data.fd);
	close(ep);
}

TEST_F(udp, epoll_edge_triggered)
{
	struct epoll_event ev, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ev = (struct epoll_event){ .events = EPOLLIN | EPOLLET,
				   .data.fd = self->fd };
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));

	ASSERT_EQ(0, send_seq(self->peer, self->port, 4, 64));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	/* one edge, one event */
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));

	/* a new datagram is a new edge */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 5, 64));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	expect_seq(_metadata, self->fd, 4, 64);
	expect_seq(_metadata, self->fd, 5, 64);
	close(ep);
}

/* Sends datagram @seq to the fixture's socket after a delay. */
struct late_send {
	int fd, port, delay_ms;
	uint32_t seq;
};

static void *late_sender(void *arg)
{
	struct late_send *ls = arg;
	struct timespec ts = {
		.tv_sec = ls->delay_ms / 1000,
		.tv_nsec = (ls->delay_ms % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
	send_seq(ls->fd, ls->port, ls->seq, 500);
	return NULL;
}

/* The library spins for a bounded time, then sleeps; the datagram comes
 * after the spin, so the kernel must wake the sleeper.
 */
TEST_F(udp, blocking_waits_are_woken)
{
	struct late_send ls = { self->peer, self->port, 200, 6 };
	struct epoll_event ev, out;
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	struct timeval tv;
	char buf[1024];
	pthread_t th;
	ssize_t n;
	fd_set r;
	int ep;

	ASSERT_EQ(0, pthread_create(&th, NULL, late_sender, &ls));
	ASSERT_EQ(1, poll(&p, 1, 5000));
	pthread_join(th, NULL);
	expect_seq(_metadata, self->fd, 6, 500);

	ls.seq = 7;
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sender, &ls));
	FD_ZERO(&r);
	FD_SET(self->fd, &r);
	tv = (struct timeval){ 5, 0 };
	ASSERT_EQ(1, select(self->fd + 1, &r, NULL, NULL, &tv));
	pthread_join(th, NULL);
	expect_seq(_metadata, self->fd, 7, 500);

	ls.seq = 8;
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = self->fd };
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sender, &ls));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 5000));
	pthread_join(th, NULL);
	expect_seq(_metadata, self->fd, 8, 500);
	close(ep);

	/* a blocking recv on a socket made blocking again */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL,
			   fcntl(self->fd, F_GETFL) & ~O_NONBLOCK));
	ls.seq = 9;
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sender, &ls));
	n = recv(self->fd, buf, sizeof(buf), 0);
	pthread_join(th, NULL);
	ASSERT_EQ(500, n);
	EXPECT_EQ(9, payload_check(buf, n));
}

TEST_F(udp, burst_in_order)
{
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	uint32_t seq;

	for (seq = 0; seq < 32; seq++)
		ASSERT_EQ(0, send_seq(self->peer, self->port, seq,
				      20 + seq * 40));
	for (seq = 0; seq < 32; seq++) {
		ASSERT_EQ(1, poll(&p, 1, WAIT_MS));
		expect_seq(_metadata, self->fd, seq, 20 + seq * 40);
	}
	EXPECT_EQ(0, poll(&p, 1, 0));
}

TEST_F(udp, connected_both_ways)
{
	struct sockaddr_in peer = mkaddr(PEER_ADDR, self->peer_port);
	struct sockaddr_in other = mkaddr(LOCAL_ADDR, self->port);
	char buf[1024];
	ssize_t n;

	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&peer,
			     sizeof(peer)));
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_EQ(1, raw_accelerated(self->fd));

	/* out: send() on the connected socket */
	payload_fill(buf, 333, 10);
	ASSERT_EQ(333, send(self->fd, buf, 333, 0));
	ASSERT_EQ(1, wait_readable(self->peer, WAIT_MS));
	n = recv(self->peer, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(333, n);
	EXPECT_EQ(10, payload_check(buf, n));

	/* in: from the connected peer */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 11, 222));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	expect_seq(_metadata, self->fd, 11, 222);

	/* disconnect (AF_UNSPEC) and go back to sendto */
	other.sin_family = AF_UNSPEC;
	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&other,
			     sizeof(other)));
	payload_fill(buf, 111, 12);
	ASSERT_EQ(111, sendto(self->fd, buf, 111, 0,
			      (struct sockaddr *)&peer, sizeof(peer)));
	ASSERT_EQ(1, wait_readable(self->peer, WAIT_MS));
	n = recv(self->peer, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(111, n);
	EXPECT_EQ(12, payload_check(buf, n));
}

TEST_F(udp, unconnected_reply_to_sender)
{
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	char buf[1024];
	ssize_t n;

	ASSERT_EQ(0, send_seq(self->peer, self->port, 13, 77));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	n = recvfrom(self->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		     &flen);
	ASSERT_EQ(77, n);
	EXPECT_EQ(13, payload_check(buf, n));
	EXPECT_EQ(sizeof(from), flen);
	EXPECT_EQ(htons(self->peer_port), from.sin_port);
	EXPECT_EQ(mkaddr(PEER_ADDR, 0).sin_addr.s_addr, from.sin_addr.s_addr);

	/* answer to the address we got */
	ASSERT_EQ(n, sendto(self->fd, buf, n, 0, (struct sockaddr *)&from,
			    flen));
	ASSERT_EQ(1, wait_readable(self->peer, WAIT_MS));
	n = recv(self->peer, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(77, n);
	EXPECT_EQ(13, payload_check(buf, n));
}

TEST_F(udp, peek_and_trunc)
{
	char buf[1024];
	ssize_t n;

	ASSERT_EQ(0, send_seq(self->peer, self->port, 14, 400));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));

	n = recv(self->fd, buf, sizeof(buf), MSG_PEEK);
	ASSERT_EQ(400, n);
	EXPECT_EQ(14, payload_check(buf, n));

	/* short buffer + MSG_TRUNC returns the real length */
	n = recv(self->fd, buf, 100, MSG_PEEK | MSG_TRUNC);
	EXPECT_EQ(400, n);

	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(400, n);
	EXPECT_EQ(14, payload_check(buf, n));
	EXPECT_EQ(-1, recv(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * A process that scribbles over its consumer index loses what was queued,
 * not the datagrams after it: the kernel puts the index back when it
 * next writes the ring, and counts a reset.
 */
TEST_F(udp, broken_consumer_index_heals)
{
	struct exasock_mmap_info mi;
	struct exasock_sock_info info;
	socklen_t len = sizeof(mi);
	volatile uint32_t *prod, *cons;
	uint32_t before;
	void *ring, *user;
	int i;

	if (!raw_accelerated(self->fd))
		SKIP(return, "the kernel's own UDP has no ring");
	ASSERT_EQ(0, syscall(SYS_getsockopt, self->fd, SOL_EXASOCK,
			     SO_EXA_MMAP_INFO, &mi, &len));
	ring = mmap(NULL, mi.rx_ring_len, PROT_READ, MAP_SHARED, self->fd,
		    EXASOCK_MMAP_RX_RING);
	ASSERT_NE(MAP_FAILED, ring);
	user = mmap(NULL, mi.rx_user_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    self->fd, EXASOCK_MMAP_RX_USER);
	ASSERT_NE(MAP_FAILED, user);
	prod = (volatile uint32_t *)((char *)ring + mi.rx_producer);
	cons = (volatile uint32_t *)((char *)user + mi.rx_consumer);

	before = *prod;
	*cons = before + mi.rx_size * 2 + 64;	/* more queued than fits */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 15, 200));
	for (i = 0; i < WAIT_MS && *prod == before; i++)
		usleep(1000);
	ASSERT_NE(before, *prod) TH_LOG("the datagram never reached the ring");
	EXPECT_EQ(before, *cons);
	expect_seq(_metadata, self->fd, 15, 200);

	len = sizeof(info);
	ASSERT_EQ(0, syscall(SYS_getsockopt, self->fd, SOL_EXASOCK,
			     SO_EXA_INFO, &info, &len));
	EXPECT_EQ(1, info.stats[EXASOCK_STAT_RX_RING_RESET]);
	EXPECT_EQ(0, info.stats[EXASOCK_STAT_RX_RING_FULL]);
	munmap(ring, mi.rx_ring_len);
	munmap(user, mi.rx_user_len);
}

TEST_F(udp, two_sockets_and_pipes_in_one_epoll)
{
	struct epoll_event ev, out[8];
	int ep, fd2, n, i, seen = 0;
	struct sockaddr_in a2 = mkaddr(LOCAL_ADDR, self->port + 800);
	int p2[2];

	fd2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, bind(fd2, (struct sockaddr *)&a2, sizeof(a2)));
	ASSERT_EQ(0, pipe2(p2, O_NONBLOCK));
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);

	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = self->fd };
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ev.data.fd = fd2;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev));
	ev.data.fd = self->pipe[0];
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->pipe[0], &ev));
	ev.data.fd = p2[0];
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p2[0], &ev));

	ASSERT_EQ(0, send_seq(self->peer, self->port, 20, 50));
	ASSERT_EQ(0, send_seq(self->peer, self->port + 800, 21, 60));
	ASSERT_EQ(1, write(p2[1], "p", 1));

	/* collect until all three are ready */
	for (i = 0; i < 50 && seen != 7; i++) {
		n = epoll_wait(ep, out, 8, 100);
		ASSERT_LE(0, n);
		while (n-- > 0) {
			if (out[n].data.fd == self->fd)
				seen |= 1;
			else if (out[n].data.fd == fd2)
				seen |= 2;
			else if (out[n].data.fd == p2[0])
				seen |= 4;
			else
				seen |= 8;
		}
	}
	EXPECT_EQ(7, seen);
	expect_seq(_metadata, self->fd, 20, 50);
	expect_seq(_metadata, fd2, 21, 60);
	EXPECT_EQ(1, epoll_wait(ep, out, 8, 0));
	EXPECT_EQ(p2[0], out[0].data.fd);

	close(ep);
	close(fd2);
	close(p2[0]);
	close(p2[1]);
}

/* The next datagram on the peer, within WAIT_MS; its length or -1. */
static ssize_t peer_recv(int fd, char *buf, size_t len)
{
	if (wait_readable(fd, WAIT_MS) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/*
 * Sends the kernel's UDP must build itself: data corked by MSG_MORE or
 * UDP_CORK goes out as one datagram with what follows, UDP_SEGMENT cuts
 * a send into datagrams of that size.
 */
TEST_F(udp, corked_and_segmented_sends)
{
	struct sockaddr_in to = mkaddr(PEER_ADDR, self->peer_port);
	int one = 1, zero = 0, seg = 100, i;
	char buf[2048];
	ssize_t n;

	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&to, sizeof(to)));
	ASSERT_EQ(2, send(self->fd, "ab", 2, MSG_MORE));
	ASSERT_EQ(2, send(self->fd, "cd", 2, 0));
	n = peer_recv(self->peer, buf, sizeof(buf));
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, memcmp(buf, "abcd", 4));

	ASSERT_EQ(0, setsockopt(self->fd, SOL_UDP, UDP_CORK, &one,
				sizeof(one)));
	ASSERT_EQ(1, send(self->fd, "x", 1, 0));
	ASSERT_EQ(1, send(self->fd, "y", 1, 0));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_UDP, UDP_CORK, &zero,
				sizeof(zero)));
	n = peer_recv(self->peer, buf, sizeof(buf));
	ASSERT_EQ(2, n);
	EXPECT_EQ(0, memcmp(buf, "xy", 2));

	ASSERT_EQ(0, setsockopt(self->fd, SOL_UDP, UDP_SEGMENT, &seg,
				sizeof(seg)));
	memset(buf, 's', 1000);
	ASSERT_EQ(1000, send(self->fd, buf, 1000, 0));
	for (i = 0; i < 10; i++) {
		n = peer_recv(self->peer, buf, sizeof(buf));
		ASSERT_EQ(100, n) TH_LOG("segment %d: %zd", i, n);
	}
	EXPECT_EQ(0, wait_readable(self->peer, 50));
}

/*
 * Receive one datagram @seq with a control buffer, through the library
 * (@raw 0) or with a raw system call (the kernel's read of the ring), and
 * check IP_PKTINFO, SO_TIMESTAMP and, with @ttl, IP_TTL.
 */
static void expect_cmsgs(struct __test_metadata *_metadata, int fd, int raw,
			 uint32_t seq, int ttl)
{
	char buf[2048], cbuf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct in_pktinfo pi;
	struct timeval tv, now;
	void *p;
	ssize_t n;

	n = raw ? syscall(SYS_recvmsg, fd, &msg, 0) : recvmsg(fd, &msg, 0);
	ASSERT_EQ(300, n) TH_LOG("recvmsg: %s", strerror(errno));
	EXPECT_EQ((long)seq, payload_check(buf, n));
	EXPECT_EQ(0, msg.msg_flags & MSG_CTRUNC);
	p = find_cmsg(&msg, SOL_SOCKET, SO_TIMESTAMP);
	ASSERT_NE(NULL, p) TH_LOG("no SO_TIMESTAMP (%s)", raw ? "raw" : "lib");
	memcpy(&tv, p, sizeof(tv));
	gettimeofday(&now, NULL);
	EXPECT_GT(60, labs(now.tv_sec - tv.tv_sec)) TH_LOG("timestamp %ld",
							 (long)tv.tv_sec);
	p = find_cmsg(&msg, SOL_IP, IP_PKTINFO);
	ASSERT_NE(NULL, p) TH_LOG("no IP_PKTINFO (%s)", raw ? "raw" : "lib");
	memcpy(&pi, p, sizeof(pi));
	EXPECT_STREQ(LOCAL_ADDR, inet_ntoa(pi.ipi_addr));
	EXPECT_LT(0, pi.ipi_ifindex);
	if (ttl) {
		p = find_cmsg(&msg, SOL_IP, IP_TTL);
		ASSERT_NE(NULL, p) TH_LOG("no IP_TTL");
		EXPECT_EQ(64, *(int *)p);
	}
}

/*
 * Control messages, whether the library or the kernel reads the
 * datagram: IP_PKTINFO and SO_TIMESTAMP come with ring datagrams, and
 * IP_RECVTTL (which a ring record cannot carry) sends them to the twin.
 */
TEST_F(udp, control_messages)
{
	int one = 1, raw;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL,
			   fcntl(self->fd, F_GETFL) & ~O_NONBLOCK));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_IP, IP_PKTINFO, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_TIMESTAMP, &one,
				sizeof(one)));
	for (raw = 0; raw < 2; raw++) {
		ASSERT_EQ(0, send_seq(self->peer, self->port, 50 + raw, 300));
		ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
		expect_cmsgs(_metadata, self->fd, raw, 50 + raw, 0);
	}
	ASSERT_EQ(0, setsockopt(self->fd, SOL_IP, IP_RECVTTL, &one,
				sizeof(one)));
	ASSERT_EQ(0, send_seq(self->peer, self->port, 52, 300));
	expect_cmsgs(_metadata, self->fd, 0, 52, 1);
}

/*
 * Timestamp options set before bind() (so on the socket before the
 * library converts it) are still the socket's afterwards, for
 * getsockopt() and for the datagrams, whoever reads them.
 */
TEST_F(udp, timestamps_set_before_bind)
{
	struct sockaddr_in sin = mkaddr(LOCAL_ADDR, self->port + 1600);
	char buf[2048], cbuf[256];
	int fd, one = 1, val = 0, raw;
	socklen_t len = sizeof(val);
	struct msghdr msg;
	void *p;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				sizeof(one)));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_EQ(1, raw_accelerated(fd));
	ASSERT_EQ(0, syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TIMESTAMPNS,
			     &val, &len));
	EXPECT_EQ(1, val);
	for (raw = 0; raw < 2; raw++) {
		ASSERT_EQ(0, send_seq(self->peer, self->port + 1600, 60 + raw,
				      300));
		ASSERT_EQ(1, wait_readable(fd, WAIT_MS));
		ASSERT_EQ(300, recv_cmsgs(fd, raw, 0, buf, sizeof(buf), cbuf,
					  sizeof(cbuf), &msg));
		EXPECT_EQ(60 + raw, payload_check(buf, 300));
		p = find_cmsg(&msg, SOL_SOCKET, SO_TIMESTAMPNS);
		ASSERT_NE(NULL, p) TH_LOG("no SO_TIMESTAMPNS (%s)",
					  raw ? "raw" : "lib");
		EXPECT_GT(60, ts_age(p));
	}
	close(fd);
}

struct late_tx {
	int fd;
	struct sockaddr_in to;
};

/* Sends "txt" to ->to on ->fd a moment from now. */
static void *late_sendto(void *arg)
{
	struct late_tx *l = arg;

	usleep(200 * 1000);
	sendto(l->fd, "txt", 3, 0, (struct sockaddr *)&l->to, sizeof(l->to));
	return NULL;
}

/*
 * The control messages only the kernel's receive path builds: a software
 * receive timestamp by SO_TIMESTAMPING, the mark by SO_RCVMARK, the drop
 * count by SO_RXQ_OVFL; and transmit timestamps on the error queue.
 */
TEST_F(udp, timestamping_drops_and_marks)
{
	int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		      SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED;
	struct sockaddr_in to = mkaddr(PEER_ADDR, self->peer_port);
	struct pollfd perr = { .fd = self->fd, .events = 0 };
	int one = 1, small = 2048, raw, i, got = 0, tx = 0;
	struct sock_extended_err *ee;
	char buf[2048], cbuf[512];
	struct late_tx late;
	struct msghdr msg;
	uint32_t drops;
	pthread_t th;
	void *p;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_TIMESTAMPING,
				&tsflags, sizeof(tsflags)));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVMARK, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RXQ_OVFL, &one,
				sizeof(one)));
	/* the kernel turns receive timestamps on in a work item: wait for
	 * a datagram that has one
	 */
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, send_seq(self->peer, self->port, 69, 300));
		ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
		ASSERT_EQ(300, recv_cmsgs(self->fd, 0, 0, buf, sizeof(buf),
					  cbuf, sizeof(cbuf), &msg));
		if (find_cmsg(&msg, SOL_SOCKET, SCM_TIMESTAMPING))
			break;
		usleep(100 * 1000);
	}
	ASSERT_GT(50, i) TH_LOG("no SCM_TIMESTAMPING in 5 s");
	for (raw = 0; raw < 2; raw++) {
		ASSERT_EQ(0, send_seq(self->peer, self->port, 70 + raw, 300));
		ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
		ASSERT_EQ(300, recv_cmsgs(self->fd, raw, 0, buf, sizeof(buf),
					  cbuf, sizeof(cbuf), &msg));
		EXPECT_EQ(70 + raw, payload_check(buf, 300));
		p = find_cmsg(&msg, SOL_SOCKET, SCM_TIMESTAMPING);
		ASSERT_NE(NULL, p) TH_LOG("no SCM_TIMESTAMPING (%s)",
					  raw ? "raw" : "lib");
		EXPECT_GT(60, ts_age(p));	/* ts[0]: software */
		p = find_cmsg(&msg, SOL_SOCKET, SO_MARK);
		ASSERT_NE(NULL, p) TH_LOG("no SO_MARK (%s)",
					  raw ? "raw" : "lib");
		EXPECT_EQ(0, *(uint32_t *)p);
	}

	/* overflow a small buffer; the next datagram carries the count */
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVBUF, &small,
				sizeof(small)));
	for (i = 0; i < 40; i++)
		ASSERT_EQ(0, send_seq(self->peer, self->port, 100 + i, 1000));
	while (wait_readable(self->fd, 300) == 1 &&
	       recv(self->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	EXPECT_GT(40, got);
	ASSERT_EQ(0, send_seq(self->peer, self->port, 200, 300));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	ASSERT_EQ(300, recv_cmsgs(self->fd, 0, 0, buf, sizeof(buf), cbuf,
				  sizeof(cbuf), &msg));
	EXPECT_EQ(200, payload_check(buf, 300));
	p = find_cmsg(&msg, SOL_SOCKET, SO_RXQ_OVFL);
	ASSERT_NE(NULL, p) TH_LOG("no SO_RXQ_OVFL after %d of 40 read", got);
	memcpy(&drops, p, sizeof(drops));
	EXPECT_EQ(40 - got, drops);

	/* a send's timestamps come back on the error queue, and wake a
	 * poll already waiting (SO_SELECT_ERR_QUEUE: with POLLPRI)
	 */
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE,
				&one, sizeof(one)));
	late.fd = self->fd;
	late.to = to;
	ASSERT_EQ(0, pthread_create(&th, NULL, late_sendto, &late));
	perr.events = POLLPRI;
	EXPECT_EQ(1, poll(&perr, 1, WAIT_MS));
	EXPECT_NE(0, perr.revents & POLLPRI);
	pthread_join(th, NULL);
	EXPECT_EQ(3, peer_recv(self->peer, buf, sizeof(buf)));
	perr.events = 0;
	for (i = 0; i < 2; i++) {
		if (poll(&perr, 1, WAIT_MS) != 1 || !(perr.revents & POLLERR))
			break;
		if (recv_cmsgs(self->fd, 0, MSG_ERRQUEUE, buf, sizeof(buf),
			       cbuf, sizeof(cbuf), &msg) < 0)
			break;
		ee = find_cmsg(&msg, SOL_IP, IP_RECVERR);
		if (find_cmsg(&msg, SOL_SOCKET, SCM_TIMESTAMPING) && ee &&
		    ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING)
			tx++;
	}
	EXPECT_EQ(2, tx) TH_LOG("transmit timestamps (sched, software)");
}

/* A socket in this namespace on @port (0.0.0.0 with @wild), sharing it
 * by @opt; @native opts it out of acceleration first.
 */
static int shared_socket(int port, int wild, int opt, int native)
{
	struct sockaddr_in sin = mkaddr(wild ? "0.0.0.0" : LOCAL_ADDR, port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -1;
	if (native)
		setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, opt, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Datagrams waiting on @fd, taken. */
static int drain(int fd)
{
	char buf[2048];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/*
 * A port shared with SO_REUSEPORT or SO_REUSEADDR: each datagram goes
 * where the kernel's own lookup sends it. A reuseport group spreads them
 * by source port; a native socket bound to the address beats an
 * accelerated wildcard one.
 */
TEST_F(udp, shared_port_as_the_kernel_says)
{
	const char *ns = getenv("EXA_PEER_NETNS");
	int port = self->port + 1000, a, b, tx, i, na = 0, nb = 0;
	struct sockaddr_in to = mkaddr(LOCAL_ADDR, port);
	struct pollfd p[2];
	char buf[64] = "x";

	a = shared_socket(port, 1, SO_REUSEPORT, 0);
	b = shared_socket(port, 1, SO_REUSEPORT, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_TRUE(raw_accelerated(a) && raw_accelerated(b));
	for (i = 0; i < 32; i++) {
		tx = peer_socket(ns, PEER_ADDR, 0);	/* a new source port */
		ASSERT_LE(0, tx);
		ASSERT_EQ(1, sendto(tx, buf, 1, 0, (struct sockaddr *)&to,
				    sizeof(to)));
		close(tx);
	}
	p[0] = (struct pollfd){ .fd = a, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = b, .events = POLLIN };
	for (i = 0; i < 100 && na + nb < 32; i++) {
		poll(p, 2, 30);
		na += drain(a);
		nb += drain(b);
	}
	EXPECT_EQ(32, na + nb);
	EXPECT_LT(0, na) TH_LOG("the group's second socket got all %d", nb);
	EXPECT_LT(0, nb) TH_LOG("the group's first socket got all %d", na);
	close(a);
	close(b);

	a = shared_socket(port + 1, 0, SO_REUSEADDR, 1);	/* native */
	b = shared_socket(port + 1, 1, SO_REUSEADDR, 0);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, send_seq(self->peer, port + 1, 60 + i, 40));
	na = nb = 0;
	for (i = 0; i < 100 && na + nb < 5; i++) {
		wait_readable(a, 30);
		na += drain(a);
		nb += drain(b);
	}
	EXPECT_EQ(5, na) TH_LOG("the bound native socket got %d", na);
	EXPECT_EQ(0, nb) TH_LOG("the accelerated wildcard one got %d", nb);
	close(a);
	close(b);
}

#define HANDLER_CLOSES	200

static int handler_fds[HANDLER_CLOSES];
static volatile sig_atomic_t handler_next;

static void on_alarm_close(int sig)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	/* both async-signal-safe, both take library locks */
	sigaction(SIGUSR2, &sa, NULL);
	if (handler_next < HANDLER_CLOSES)
		close(handler_fds[handler_next++]);
}

/*
 * close() and sigaction() from a signal handler that interrupts the
 * library holding the lock they need (an epoll set's, the signal
 * table's): they must not wait for it.
 */
TEST_F(udp, close_in_signal_handler)
{
	struct sigaction sa = { .sa_handler = on_alarm_close };
	struct sigaction usr2 = { .sa_handler = SIG_DFL };
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct sockaddr_in any = mkaddr(LOCAL_ADDR, 0);
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	int ep, i, rounds = 0;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ev.data.fd = self->fd;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	for (i = 0; i < HANDLER_CLOSES; i++) {
		handler_fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		ASSERT_LE(0, handler_fds[i]);
		ASSERT_EQ(0, bind(handler_fds[i], (struct sockaddr *)&any,
				  sizeof(any)));
		ev.data.fd = handler_fds[i];
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, handler_fds[i],
				       &ev));
	}
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	while (handler_next < HANDLER_CLOSES && rounds < 2000000) {
		ev.data.fd = self->fd;
		epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev);
		epoll_wait(ep, out, 4, 0);
		sigaction(SIGUSR2, &usr2, NULL);
		rounds++;
	}
	it = (struct itimerval){ 0 };
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
	ASSERT_EQ(HANDLER_CLOSES, handler_next) TH_LOG("%d rounds", rounds);
	for (i = 0; i < HANDLER_CLOSES; i++)
		EXPECT_EQ(-1, fcntl(handler_fds[i], F_GETFD));

	/* the set still works, for the socket left in it */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 70, 100));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, WAIT_MS));
	EXPECT_EQ(self->fd, out[0].data.fd);
	expect_seq(_metadata, self->fd, 70, 100);
	close(ep);
}

static volatile sig_atomic_t sigio_seen;

static void on_sigio(int sig)
{
	sigio_seen++;
}

/*
 * Signal-driven I/O set up before bind (where the socket is converted):
 * the owner and O_ASYNC carry over, and a datagram raises SIGIO.
 */
TEST_F(udp, sigio_survives_conversion)
{
	struct sigaction sa = { .sa_handler = on_sigio };
	struct sockaddr_in sin = mkaddr(LOCAL_ADDR, self->port + 1002);
	int fd, i;

	ASSERT_EQ(0, sigaction(SIGIO, &sa, NULL));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC |
			   O_NONBLOCK));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_EQ(1, raw_accelerated(fd));
	EXPECT_EQ(getpid(), fcntl(fd, F_GETOWN));
	EXPECT_NE(0, fcntl(fd, F_GETFL) & O_ASYNC);
	ASSERT_EQ(0, send_seq(self->peer, self->port + 1002, 80, 100));
	for (i = 0; i < WAIT_MS / 10 && !sigio_seen; i++)
		wait_readable(fd, 10);
	EXPECT_LT(0, sigio_seen);
	expect_seq(_metadata, fd, 80, 100);
	close(fd);
	signal(SIGIO, SIG_DFL);
}

/* SO_RCVTIMEO ends a blocking recv, however long the library spins. */
TEST_F(udp, rcvtimeo_ends_the_wait)
{
	struct timeval tv = { 0, 150000 };
	struct timespec t0, t1;
	char buf[1024];
	long waited_ms;
	ssize_t n;

	ASSERT_EQ(0, fcntl(self->fd, F_SETFL,
			   fcntl(self->fd, F_GETFL) & ~O_NONBLOCK));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = recv(self->fd, buf, sizeof(buf), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ASSERT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_LE(140, waited_ms) TH_LOG("gave up after %ld ms", waited_ms);

	ASSERT_EQ(0, send_seq(self->peer, self->port, 30, 200));
	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(200, n);
	EXPECT_EQ(30, payload_check(buf, n));
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
	usr1_seen++;
}

struct late_kill {
	pthread_t target;
	int delay_ms;
};

static void *late_kill(void *arg)
{
	struct late_kill *lk = arg;
	struct timespec ts = { 0, lk->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	pthread_kill(lk->target, SIGUSR1);
	return NULL;
}

/*
 * ppoll, pselect and epoll_pwait let in, while they wait, a signal the
 * thread otherwise blocks: it interrupts them (the race-free pattern),
 * also while the library spins on the rings.
 */
TEST_F(udp, sigmask_lets_the_signal_in)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	struct timespec five = { 5, 0 };
	struct late_kill lk = { pthread_self(), 100 };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	sigset_t block, open;
	pthread_t th;
	fd_set r;
	int ep, rc, i;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &block, &open));
	sigdelset(&open, SIGUSR1);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));

	for (i = 0; i < 3; i++) {
		usr1_seen = 0;
		ASSERT_EQ(0, pthread_create(&th, NULL, late_kill, &lk));
		if (i == 0) {
			rc = ppoll(&p, 1, &five, &open);
		} else if (i == 1) {
			FD_ZERO(&r);
			FD_SET(self->fd, &r);
			rc = pselect(self->fd + 1, &r, NULL, NULL, &five,
				     &open);
		} else {
			rc = epoll_pwait(ep, &out, 1, 5000, &open);
		}
		pthread_join(th, NULL);
		EXPECT_EQ(-1, rc) TH_LOG("%s returned %d",
					 i == 0 ? "ppoll" : i == 1 ?
					 "pselect" : "epoll_pwait", rc);
		EXPECT_EQ(EINTR, errno);
		EXPECT_EQ(1, usr1_seen);
	}
	close(ep);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
}

/*
 * Close the peer, then send to it from the connected @fd: its ICMP port
 * unreachable comes back as @fd's pending error. Wait for it (POLLERR).
 */
static int provoke_refusal(int fd, int *peer)
{
	struct pollfd p = { .fd = fd };
	int i;

	close(*peer);
	*peer = -1;
	if (send(fd, "x", 1, 0) != 1)
		return -1;
	for (i = 0; i < WAIT_MS / 10; i++) {
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
			return 0;
		usleep(10000);	/* readable all along: poll would not wait */
	}
	return -1;
}

static void recvmmsg_setup(struct mmsghdr *vec, struct iovec *iov,
			   char (*bufs)[256], unsigned int n)
{
	unsigned int i;

	memset(vec, 0, n * sizeof(*vec));
	for (i = 0; i < n; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
	}
}

/*
 * A pending error is reported before the datagrams queued ahead of it,
 * by recv and by recvmmsg, as udp_recvmsg() reports it; the datagrams
 * are still there afterwards.
 */
TEST_F(udp, pending_error_comes_first)
{
	struct sockaddr_in peer = mkaddr(PEER_ADDR, self->peer_port);
	char bufs[4][256];
	struct mmsghdr vec[4];
	struct iovec iov[4];
	socklen_t len = sizeof(int);
	int err = -1, rc;

	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&peer,
			     sizeof(peer)));
	ASSERT_EQ(0, send_seq(self->peer, self->port, 20, 100));
	ASSERT_EQ(0, send_seq(self->peer, self->port, 21, 101));
	ASSERT_EQ(0, send_seq(self->peer, self->port, 22, 102));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	ASSERT_EQ(0, provoke_refusal(self->fd, &self->peer));

	/* the error first, then the datagrams; each error once */
	recvmmsg_setup(vec, iov, bufs, 4);
	rc = recvmmsg(self->fd, vec, 4, MSG_DONTWAIT, NULL);
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(ECONNREFUSED, errno);
	expect_seq(_metadata, self->fd, 20, 100);

	ASSERT_EQ(0, provoke_refusal(self->fd, &self->peer));	/* again */
	EXPECT_EQ(-1, recv(self->fd, bufs[0], sizeof(bufs[0]), MSG_DONTWAIT));
	EXPECT_EQ(ECONNREFUSED, errno);

	rc = recvmmsg(self->fd, vec, 4, MSG_DONTWAIT, NULL);
	ASSERT_EQ(2, rc) TH_LOG("recvmmsg: %s", strerror(errno));
	EXPECT_EQ(101, vec[0].msg_len);
	EXPECT_EQ(21, payload_check(bufs[0], vec[0].msg_len));
	EXPECT_EQ(102, vec[1].msg_len);
	EXPECT_EQ(22, payload_check(bufs[1], vec[1].msg_len));
	EXPECT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(0, err);
}

struct late_refusal {
	int fd;
	int delay_ms;
};

static void *late_refusal(void *arg)
{
	struct late_refusal *lr = arg;
	struct timespec ts = { 0, lr->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	send(lr->fd, "x", 1, 0);
	return NULL;
}

/*
 * An error that comes while recvmmsg waits for its second datagram ends
 * the call with the first, and stays on the socket for the next call
 * and SO_ERROR, as Linux's recvmmsg keeps it.
 */
TEST_F(udp, recvmmsg_keeps_a_later_error)
{
	struct sockaddr_in peer = mkaddr(PEER_ADDR, self->peer_port);
	struct late_refusal lr = { self->fd, 200 };
	struct timespec tmo = { 5, 0 };
	char bufs[2][256];
	struct mmsghdr vec[2];
	struct iovec iov[2];
	socklen_t len = sizeof(int);
	pthread_t th;
	int err = -1, rc;

	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&peer,
			     sizeof(peer)));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, 0));	/* blocking */
	ASSERT_EQ(0, send_seq(self->peer, self->port, 30, 130));
	ASSERT_EQ(1, wait_readable(self->fd, WAIT_MS));
	close(self->peer);
	self->peer = -1;

	recvmmsg_setup(vec, iov, bufs, 2);
	ASSERT_EQ(0, pthread_create(&th, NULL, late_refusal, &lr));
	rc = recvmmsg(self->fd, vec, 2, 0, &tmo);
	pthread_join(th, NULL);
	ASSERT_EQ(1, rc) TH_LOG("recvmmsg: %s", strerror(errno));
	EXPECT_EQ(130, vec[0].msg_len);
	EXPECT_EQ(30, payload_check(bufs[0], vec[0].msg_len));
	EXPECT_LT(0, tmo.tv_sec);	/* it did not wait for the timeout */

	EXPECT_EQ(0, getsockopt(self->fd, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNREFUSED, err);
	EXPECT_EQ(-1, recv(self->fd, bufs[0], sizeof(bufs[0]), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_HARNESS_MAIN
