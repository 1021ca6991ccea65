// SPDX-License-Identifier: GPL-2.0
/*
 * The receive calls of an accelerated TCP socket where the library and
 * the kernel share the work, against Linux's semantics: MSG_TRUNC (bytes
 * dropped, no buffer needed), MSG_PEEK with MSG_WAITALL and with
 * SO_RCVLOWAT (a peek waits for all it asked for), SO_RCVTIMEO (also when
 * the library spins without limit), the stream around an urgent byte read
 * with MSG_OOB (reads stop at the urgent mark), receive timestamps and
 * TCP_INQ, a reset that ends a recvmmsg, and a many-iovec MSG_WAITALL
 * read on a thread with a small stack.
 *
 * Run under the launcher in namespace A; the peer is a plain socket
 * opened in namespace B (EXA_PEER_NETNS, a name under /run/netns):
 *
 *   ns A: exa0 10.77.0.1  <-- veth -->  exa1 10.77.0.2 :ns B
 *         self->fd (accelerated)        self->peer (native, accepted)
 *
 * EXA_EXPECT_ACCEL=1 makes every test check that self->fd is
 * accelerated; without it the same tests run against the plain kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/errqueue.h>
#include <linux/exasock.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "peer_util.h"

#define PEER_ADDR	"10.77.0.2"	/* EXA_PEER_ADDR overrides it */
#define BASE_PORT	7600

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Byte @k of the stream the peer sends. */
static unsigned char stream_byte(size_t k)
{
	return (unsigned char)(k * 7 + (k >> 9) + 1);
}

/* Send bytes [@off, @off + @len) of the stream on @fd. */
static int send_stream(int fd, size_t off, size_t len)
{
	unsigned char buf[8192];
	size_t i, n;
	ssize_t w;

	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = stream_byte(off + i);
		w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		off += w;
		len -= w;
	}
	return 0;
}

/* The first byte of @buf that is not stream byte @off + i, or -1. */
static long stream_mismatch(const unsigned char *buf, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != stream_byte(off + i))
			return (long)i;
	return -1;
}

FIXTURE(tcp) {
	int fd;			/* accelerated, blocking */
	int peer;		/* plain, in namespace B */
	int lfd;
};

FIXTURE_SETUP(tcp)
{
	const char *ns = getenv("EXA_PEER_NETNS");
	const char *addr = getenv("EXA_PEER_ADDR");
	int port = BASE_PORT + getpid() % 1000;
	struct sockaddr_in to;
	int one = 1;

	if (!addr || !*addr)
		addr = PEER_ADDR;
	to = mkaddr(addr, port);
	self->lfd = peer_open(ns, SOCK_STREAM, addr, port);
	ASSERT_LE(0, self->lfd) TH_LOG("listener in %s: %s",
				       ns ? ns : "this netns",
				       strerror(-self->lfd));
	self->fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, connect(self->fd, (struct sockaddr *)&to, sizeof(to)))
		TH_LOG("connect: %s", strerror(errno));
	if (env_int("EXA_EXPECT_ACCEL", 0))
		ASSERT_EQ(1, raw_accelerated(self->fd))
			TH_LOG("fd %d was not accelerated", self->fd);
	self->peer = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, self->peer);
	setsockopt(self->peer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

FIXTURE_TEARDOWN(tcp)
{
	close(self->fd);
	if (self->peer >= 0)
		close(self->peer);
	close(self->lfd);
}

/* Wait until @fd has at least @n bytes to read (SIOCINQ). */
static int wait_inq(int fd, int n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int i, inq = 0;

	for (i = 0; i < 500; i++) {
		if (poll(&p, 1, 10) < 0 || ioctl(fd, SIOCINQ, &inq))
			return -1;
		if (inq >= n)
			return 0;
	}
	return -1;
}

struct late_stream {
	int fd, delay_ms;
	size_t off, len;
};

static void *late_stream_send(void *arg)
{
	struct late_stream *ls = arg;

	sleep_ms(ls->delay_ms);
	send_stream(ls->fd, ls->off, ls->len);
	return NULL;
}

/* MSG_TRUNC takes bytes without copying them: no buffer is needed. */
TEST_F(tcp, trunc_discards)
{
	struct late_stream ls = { self->peer, 0, 3000, 200000 };
	unsigned char buf[4096];
	pthread_t th;
	ssize_t n;

	ASSERT_EQ(0, send_stream(self->peer, 0, 3000));
	ASSERT_EQ(0, wait_inq(self->fd, 3000));
	n = recv(self->fd, NULL, 700, MSG_TRUNC | MSG_PEEK);
	EXPECT_EQ(700, n) TH_LOG("MSG_TRUNC|MSG_PEEK: %s", strerror(errno));
	n = recv(self->fd, NULL, 1000, MSG_TRUNC);
	ASSERT_EQ(1000, n) TH_LOG("MSG_TRUNC: %s", strerror(errno));
	n = recv(self->fd, buf, 2000, MSG_WAITALL);
	ASSERT_EQ(2000, n);
	EXPECT_EQ(-1, stream_mismatch(buf, 1000, 2000));

	/* a bulk transfer, which the kernel's recvmsg serves */
	ASSERT_EQ(0, pthread_create(&th, NULL, late_stream_send, &ls));
	n = recv(self->fd, NULL, 150000, MSG_TRUNC | MSG_WAITALL);
	ASSERT_EQ(150000, n) TH_LOG("bulk MSG_TRUNC: %s", strerror(errno));
	n = recv(self->fd, buf, 4000, MSG_WAITALL);
	ASSERT_EQ(4000, n);
	EXPECT_EQ(-1, stream_mismatch(buf, 153000, 4000));
	n = recv(self->fd, NULL, 46000, MSG_TRUNC | MSG_WAITALL);
	EXPECT_EQ(46000, n);
	pthread_join(th, NULL);
}

/* MSG_PEEK | MSG_WAITALL waits for all the bytes it asked for. */
TEST_F(tcp, peek_waitall_waits)
{
	struct late_stream ls = { self->peer, 200, 100, 900 };
	unsigned char buf[1000], again[1000];
	pthread_t th;
	ssize_t n;

	ASSERT_EQ(0, send_stream(self->peer, 0, 100));
	ASSERT_EQ(0, wait_inq(self->fd, 100));
	ASSERT_EQ(0, pthread_create(&th, NULL, late_stream_send, &ls));
	n = recv(self->fd, buf, sizeof(buf), MSG_PEEK | MSG_WAITALL);
	pthread_join(th, NULL);
	ASSERT_EQ(1000, n) TH_LOG("peek returned %zd", n);
	EXPECT_EQ(-1, stream_mismatch(buf, 0, 1000));
	n = recv(self->fd, again, sizeof(again), MSG_WAITALL);
	ASSERT_EQ(1000, n);
	EXPECT_EQ(0, memcmp(buf, again, sizeof(buf)));
}

/* SO_RCVLOWAT: poll, a read and a peek wait for that many bytes. */
TEST_F(tcp, rcvlowat_waits)
{
	struct late_stream ls = { self->peer, 200, 100, 400 };
	struct pollfd p = { .fd = self->fd, .events = POLLIN };
	unsigned char buf[1000];
	int lowat = 500;
	pthread_t th;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)));
	ASSERT_EQ(0, send_stream(self->peer, 0, 100));
	ASSERT_EQ(0, wait_inq(self->fd, 100));
	EXPECT_EQ(0, poll(&p, 1, 100)) TH_LOG("readable below SO_RCVLOWAT");
	ASSERT_EQ(0, pthread_create(&th, NULL, late_stream_send, &ls));
	n = recv(self->fd, buf, sizeof(buf), MSG_PEEK);
	pthread_join(th, NULL);
	ASSERT_EQ(500, n) TH_LOG("peek returned %zd", n);
	EXPECT_EQ(1, poll(&p, 1, 0));
	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(500, n);
	EXPECT_EQ(-1, stream_mismatch(buf, 0, 500));

	/* not blocking: what there is (a blocking read that already has
	 * some bytes is not woken by Linux until SO_RCVLOWAT more come)
	 */
	ASSERT_EQ(0, send_stream(self->peer, 500, 100));
	ASSERT_EQ(0, wait_inq(self->fd, 100));
	n = recv(self->fd, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(100, n) TH_LOG("read returned %zd", n);
	EXPECT_EQ(-1, stream_mismatch(buf, 500, 100));
}

/* SO_RCVTIMEO ends a blocking read, however long the library spins. */
TEST_F(tcp, rcvtimeo_ends_the_wait)
{
	struct timeval tv = { 0, 150000 };
	unsigned char buf[100];
	int64_t t0, waited;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	t0 = now_ms();
	n = recv(self->fd, buf, sizeof(buf), 0);
	waited = now_ms() - t0;
	ASSERT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_LE(140, waited) TH_LOG("gave up after %lld ms",
				      (long long)waited);

	/* MSG_WAITALL: what came before the time ran out */
	ASSERT_EQ(0, send_stream(self->peer, 0, 10));
	t0 = now_ms();
	n = recv(self->fd, buf, sizeof(buf), MSG_WAITALL);
	waited = now_ms() - t0;
	ASSERT_EQ(10, n) TH_LOG("MSG_WAITALL: %zd: %s", n, strerror(errno));
	EXPECT_EQ(-1, stream_mismatch(buf, 0, 10));
	EXPECT_LE(140, waited) TH_LOG("gave up after %lld ms",
				      (long long)waited);
}

/*
 * The peer sends @before, then @urg as urgent data (MSG_OOB), then
 * @after. Returns 0 once the urgent byte has reached @fd (POLLPRI).
 */
static int send_urgent(int peer, int fd, const char *before, char urg,
		       const char *after)
{
	struct pollfd pri = { .fd = fd, .events = POLLPRI };

	if (send(peer, before, strlen(before), 0) != (ssize_t)strlen(before) ||
	    send(peer, &urg, 1, MSG_OOB) != 1 ||
	    send(peer, after, strlen(after), 0) != (ssize_t)strlen(after))
		return -1;
	return poll(&pri, 1, 5000) == 1 ? 0 : -1;
}

/*
 * The urgent byte read with MSG_OOB, then the stream around it: it is
 * not part of the stream (no SO_OOBINLINE), and reading on past it must
 * not stall.
 */
TEST_F(tcp, oob_byte_then_stream)
{
	struct timeval tv = { 5, 0 };
	unsigned char buf[16], got[16];
	int inq = -1, mark = -1;
	size_t total = 0;
	char c = 0;
	ssize_t n;
	int i;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	ASSERT_EQ(0, send_urgent(self->peer, self->fd, "ab", '!', "cd"));
	ASSERT_EQ(0, wait_inq(self->fd, 2));
	/* SIOCINQ counts the bytes before the mark */
	ASSERT_EQ(0, ioctl(self->fd, SIOCINQ, &inq));
	EXPECT_EQ(2, inq);
	ASSERT_EQ(0, ioctl(self->fd, SIOCATMARK, &mark));
	EXPECT_EQ(0, mark);
	n = recv(self->fd, &c, 1, MSG_OOB);
	ASSERT_EQ(1, n) TH_LOG("MSG_OOB: %s", strerror(errno));
	EXPECT_EQ('!', c);

	n = recv(self->fd, buf, sizeof(buf), MSG_PEEK);
	EXPECT_LE(1, n) TH_LOG("peek: %s", strerror(errno));
	for (i = 0; i < 8 && total < 4; i++) {
		n = recv(self->fd, buf, sizeof(buf), 0);
		ASSERT_LT(0, n) TH_LOG("read after %zu bytes: %s", total,
				       strerror(errno));
		ASSERT_GE(4, total + n);
		memcpy(got + total, buf, n);
		total += n;
	}
	ASSERT_EQ(4, total);
	EXPECT_EQ(0, memcmp(got, "abcd", 4));

	/* and the same with the stream read up to the mark first */
	ASSERT_EQ(0, send_urgent(self->peer, self->fd, "ef", '?', "gh"));
	ASSERT_EQ(0, wait_inq(self->fd, 2));
	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(2, n) TH_LOG("up to the mark: %zd", n);
	EXPECT_EQ(0, memcmp(buf, "ef", 2));
	n = recv(self->fd, &c, 1, MSG_OOB);
	ASSERT_EQ(1, n) TH_LOG("MSG_OOB: %s", strerror(errno));
	EXPECT_EQ('?', c);
	n = recv(self->fd, buf, 2, MSG_WAITALL);
	ASSERT_EQ(2, n) TH_LOG("after the mark: %zd: %s", n, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "gh", 2));
}

/* Wait until everything sent on @fd is acknowledged: 0, or -1. */
static int wait_sent(int fd)
{
	int i, outq = -1;

	for (i = 0; i < 500; i++) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			return -1;
		if (!outq)
			return 0;
		sleep_ms(10);
	}
	return -1;
}

/* SIOCATMARK, as an int. */
static int at_mark(int fd)
{
	int mark = -1;

	return ioctl(fd, SIOCATMARK, &mark) ? -1 : mark;
}

/*
 * A read stops at the urgent mark, even with MSG_WAITALL, so the bytes
 * before and after it never come in one read, and SIOCATMARK says when
 * the reader is there; out of line, the urgent byte alone is nothing to
 * read. Then the same with SO_OOBINLINE, where it is the next byte.
 */
TEST_F(tcp, reads_stop_at_the_urgent_mark)
{
	struct pollfd pri = { .fd = self->fd, .events = POLLPRI };
	struct pollfd in = { .fd = self->fd, .events = POLLIN };
	struct timeval tv = { 5, 0 };
	unsigned char buf[16];
	int one = 1, inq = -1;
	char c = 0;
	ssize_t n;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	ASSERT_EQ(0, send_urgent(self->peer, self->fd, "ab", '!', "cd"));
	ASSERT_EQ(0, wait_sent(self->peer));	/* "cd" too, to stop short of */
	n = recv(self->fd, buf, sizeof(buf), MSG_WAITALL);
	ASSERT_EQ(2, n) TH_LOG("up to the mark: %zd: %s", n, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "ab", 2));
	EXPECT_EQ(1, at_mark(self->fd));
	ASSERT_EQ(0, ioctl(self->fd, SIOCINQ, &inq));
	EXPECT_EQ(0, inq);	/* counted up to the mark */
	/* a peek at the mark looks past the byte and leaves the mark */
	n = recv(self->fd, buf, sizeof(buf), MSG_PEEK);
	ASSERT_EQ(2, n) TH_LOG("peek at the mark: %zd: %s", n,
			       strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "cd", 2));
	EXPECT_EQ(1, at_mark(self->fd));
	/* past the mark without reading the byte: it is not in the stream */
	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(2, n) TH_LOG("after the mark: %zd: %s", n, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "cd", 2));
	EXPECT_EQ(0, at_mark(self->fd));
	EXPECT_EQ(-1, recv(self->fd, &c, 1, MSG_OOB | MSG_DONTWAIT));
	EXPECT_EQ(EINVAL, errno);

	/* only the urgent byte: nothing to read, before and after MSG_OOB */
	ASSERT_EQ(1, send(self->peer, "*", 1, MSG_OOB));
	ASSERT_EQ(1, poll(&pri, 1, 5000));
	sleep_ms(50);
	EXPECT_EQ(0, poll(&in, 1, 0));
	EXPECT_EQ(1, at_mark(self->fd));
	ASSERT_EQ(1, recv(self->fd, &c, 1, MSG_OOB));
	EXPECT_EQ('*', c);
	EXPECT_EQ(0, poll(&in, 1, 0));
	ASSERT_EQ(2, send(self->peer, "ij", 2, 0));
	n = recv(self->fd, buf, 2, MSG_WAITALL);
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, memcmp(buf, "ij", 2));

	/* in line, the byte is data, and a read still stops before it */
	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_OOBINLINE, &one,
				sizeof(one)));
	ASSERT_EQ(0, send_urgent(self->peer, self->fd, "ef", '?', "gh"));
	ASSERT_EQ(0, wait_sent(self->peer));
	n = recv(self->fd, buf, sizeof(buf), 0);
	ASSERT_EQ(2, n) TH_LOG("up to the mark: %zd: %s", n, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "ef", 2));
	EXPECT_EQ(1, at_mark(self->fd));
	n = recv(self->fd, buf, 3, MSG_WAITALL);
	ASSERT_EQ(3, n) TH_LOG("from the mark: %zd: %s", n, strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "?gh", 3));
	EXPECT_EQ(0, at_mark(self->fd));
}

/*
 * The control messages tcp_recvmsg() gives: the receive timestamp of
 * SO_TIMESTAMPNS and of SO_TIMESTAMPING, and TCP_INQ's count of the
 * bytes left; through the library and with a raw system call.
 */
TEST_F(tcp, timestamps_and_inq)
{
	int one = 1, tsflags = SOF_TIMESTAMPING_RX_SOFTWARE |
			       SOF_TIMESTAMPING_SOFTWARE;
	unsigned char buf[1000];
	char cbuf[512];
	struct msghdr msg;
	int raw, inq, i;
	size_t off = 0;
	void *p;

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->fd, SOL_TCP, TCP_INQ, &one,
				sizeof(one)));
	/* the kernel turns receive timestamps on in a work item: wait for
	 * a byte that has one
	 */
	for (i = 0; i < 50; i++, off++) {
		ASSERT_EQ(0, send_stream(self->peer, off, 1));
		ASSERT_EQ(1, recv_cmsgs(self->fd, 0, MSG_WAITALL, buf, 1,
					cbuf, sizeof(cbuf), &msg));
		if (find_cmsg(&msg, SOL_SOCKET, SO_TIMESTAMPNS))
			break;
		sleep_ms(100);
	}
	ASSERT_GT(50, i) TH_LOG("no SO_TIMESTAMPNS in 5 s");
	off++;
	for (raw = 0; raw < 2; raw++) {
		ASSERT_EQ(0, send_stream(self->peer, off, 300));
		ASSERT_EQ(0, wait_inq(self->fd, 300));
		ASSERT_EQ(100, recv_cmsgs(self->fd, raw, MSG_WAITALL, buf,
					  100, cbuf, sizeof(cbuf), &msg));
		EXPECT_EQ(-1, stream_mismatch(buf, off, 100));
		p = find_cmsg(&msg, SOL_SOCKET, SO_TIMESTAMPNS);
		ASSERT_NE(NULL, p) TH_LOG("no SO_TIMESTAMPNS (%s)",
					  raw ? "raw" : "lib");
		EXPECT_GT(60, ts_age(p));
		p = find_cmsg(&msg, SOL_TCP, TCP_CM_INQ);
		ASSERT_NE(NULL, p) TH_LOG("no TCP_CM_INQ (%s)",
					  raw ? "raw" : "lib");
		memcpy(&inq, p, sizeof(inq));
		EXPECT_EQ(200, inq);
		ASSERT_EQ(200, recv_cmsgs(self->fd, raw, MSG_WAITALL, buf,
					  200, cbuf, sizeof(cbuf), &msg));
		EXPECT_EQ(-1, stream_mismatch(buf, off + 100, 200));
		off += 300;
	}

	ASSERT_EQ(0, setsockopt(self->fd, SOL_SOCKET, SO_TIMESTAMPING,
				&tsflags, sizeof(tsflags)));
	ASSERT_EQ(0, send_stream(self->peer, off, 100));
	ASSERT_EQ(100, recv_cmsgs(self->fd, 0, MSG_WAITALL, buf, 100, cbuf,
				  sizeof(cbuf), &msg));
	EXPECT_EQ(-1, stream_mismatch(buf, off, 100));
	p = find_cmsg(&msg, SOL_SOCKET, SCM_TIMESTAMPING);
	ASSERT_NE(NULL, p) TH_LOG("no SCM_TIMESTAMPING");
	EXPECT_GT(60, ts_age(p));	/* ts[0]: software */
}

/*
 * Kernel TLS would take the receive queue the ring is filled from: an
 * accelerated connection refuses the upper layer protocol, and goes on.
 */
TEST_F(tcp, tls_ulp_refused)
{
	unsigned char buf[100];
	int rc;

	rc = setsockopt(self->fd, SOL_TCP, TCP_ULP, "tls", 3);
	if (env_int("EXA_EXPECT_ACCEL", 0)) {
		ASSERT_EQ(-1, rc);
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
	if (!rc)
		return;	/* Linux's own with its tls module: TLS from now on */
	ASSERT_EQ(0, send_stream(self->peer, 0, 100));
	ASSERT_EQ(100, recv(self->fd, buf, sizeof(buf), MSG_WAITALL));
	EXPECT_EQ(-1, stream_mismatch(buf, 0, 100));
}

static void *late_reset(void *arg)
{
	struct linger lg = { 1, 0 };
	int fd = *(int *)arg;

	sleep_ms(200);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return NULL;
}

/*
 * A reset while MSG_WAITALL waits for more: the call returns the bytes it
 * has, the next one the error (it must not be lost to an end of file).
 */
TEST_F(tcp, reset_after_bytes)
{
	unsigned char buf[1000];
	pthread_t th;
	ssize_t n;

	ASSERT_EQ(0, send_stream(self->peer, 0, 100));
	ASSERT_EQ(0, wait_inq(self->fd, 100));
	ASSERT_EQ(0, pthread_create(&th, NULL, late_reset, &self->peer));
	n = recv(self->fd, buf, sizeof(buf), MSG_WAITALL);
	pthread_join(th, NULL);
	self->peer = -1;	/* closed by late_reset() */
	ASSERT_EQ(100, n) TH_LOG("MSG_WAITALL: %zd: %s", n, strerror(errno));
	EXPECT_EQ(-1, stream_mismatch(buf, 0, 100));
	n = recv(self->fd, buf, sizeof(buf), 0);
	EXPECT_EQ(-1, n) TH_LOG("then %zd", n);
	EXPECT_EQ(ECONNRESET, errno);
}

/*
 * recvmmsg on a stream: a reset while it waits for its second message
 * ends the call with the first, and the error stays for the next call,
 * as Linux's recvmmsg keeps it.
 */
TEST_F(tcp, recvmmsg_keeps_the_reset)
{
	unsigned char bufs[2][1000];
	struct iovec iov[2] = { { bufs[0], 1000 }, { bufs[1], 1000 } };
	struct mmsghdr vec[2];
	pthread_t th;
	int rc;

	memset(vec, 0, sizeof(vec));
	vec[0].msg_hdr.msg_iov = &iov[0];
	vec[0].msg_hdr.msg_iovlen = 1;
	vec[1].msg_hdr.msg_iov = &iov[1];
	vec[1].msg_hdr.msg_iovlen = 1;
	ASSERT_EQ(0, send_stream(self->peer, 0, 100));
	ASSERT_EQ(0, wait_inq(self->fd, 100));
	ASSERT_EQ(0, pthread_create(&th, NULL, late_reset, &self->peer));
	rc = recvmmsg(self->fd, vec, 2, 0, NULL);
	pthread_join(th, NULL);
	self->peer = -1;	/* closed by late_reset() */
	ASSERT_EQ(1, rc) TH_LOG("recvmmsg: %d: %s", rc, strerror(errno));
	ASSERT_EQ(100, vec[0].msg_len);
	EXPECT_EQ(-1, stream_mismatch(bufs[0], 0, 100));
	EXPECT_EQ(-1, recv(self->fd, bufs[0], sizeof(bufs[0]), 0));
	EXPECT_EQ(ECONNRESET, errno);
}

#define MANY_IOVS	1024

struct small_stack_read {
	int fd;
	struct iovec *iov;
	ssize_t n;
};

static void *small_stack_reader(void *arg)
{
	struct small_stack_read *r = arg;
	struct msghdr msg = { .msg_iov = r->iov, .msg_iovlen = MANY_IOVS };

	r->n = recvmsg(r->fd, &msg, MSG_WAITALL);
	return NULL;
}

/*
 * A MSG_WAITALL recvmsg into IOV_MAX one-byte iovecs, half in the ring
 * at once and half later, on a thread with a 64 KiB stack.
 */
TEST_F(tcp, many_iovecs_small_stack)
{
	struct late_stream ls = { self->peer, 200, 300, MANY_IOVS - 300 };
	unsigned char *buf = malloc(MANY_IOVS);
	struct iovec *iov = calloc(MANY_IOVS, sizeof(*iov));
	struct small_stack_read r = { self->fd, iov, 0 };
	pthread_t th, reader;
	pthread_attr_t attr;
	int i;

	ASSERT_TRUE(buf && iov);
	for (i = 0; i < MANY_IOVS; i++)
		iov[i] = (struct iovec){ buf + i, 1 };
	ASSERT_EQ(0, send_stream(self->peer, 0, 300));
	ASSERT_EQ(0, wait_inq(self->fd, 300));
	ASSERT_EQ(0, pthread_attr_init(&attr));
	ASSERT_EQ(0, pthread_attr_setstacksize(&attr, 64 * 1024));
	ASSERT_EQ(0, pthread_create(&th, NULL, late_stream_send, &ls));
	ASSERT_EQ(0, pthread_create(&reader, &attr, small_stack_reader, &r));
	pthread_join(reader, NULL);
	pthread_join(th, NULL);
	ASSERT_EQ(MANY_IOVS, r.n) TH_LOG("recvmsg: %zd", r.n);
	EXPECT_EQ(-1, stream_mismatch(buf, 0, MANY_IOVS));
	free(buf);
	free(iov);
}

TEST_HARNESS_MAIN
