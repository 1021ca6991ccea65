// SPDX-License-Identifier: GPL-2.0
/*
 * tcp-raw-send: TCP data sent as frames the program builds and sends
 * itself, with libexasock_ext's TCP API (<exasock/tcp.h>).
 *
 *   exasock ./tcp-raw-send [options] HOST PORT
 *
 * Connects to HOST:PORT and sends COUNT messages of SIZE bytes. Each one
 * goes out as a complete Ethernet frame on a packet socket bound to the
 * connection's interface: the headers come from the kernel ahead of time
 * (exasock_tcp_build_header), the program adds payload, lengths and
 * checksum when the message is due, sends the frame and then tells the
 * kernel (exasock_tcp_send_advance), which keeps the bytes for
 * retransmission. A packet socket stands in for what a low-latency
 * program would really use: a NIC's own transmit API, or an FPGA holding
 * the prebuilt frame.
 *
 * Message i is SIZE bytes: i as a 32-bit big-endian number, then the
 * bytes (i * 131 + j * 7) & 0xff for j = 4 ... SIZE - 1, so that the
 * peer can check the stream.
 *
 * Options:
 *   -c COUNT  messages (default 1000)
 *   -s SIZE   bytes a message, 4 ... MSS (default 64)
 *   -e        the peer echoes: wait for each message to come back, check
 *             it, and report round-trip times
 *   -d USEC   wait USEC between sending a frame and the advance (shows
 *             that the peer's answer, arriving in between, is kept)
 *   -t N      every Nth message goes the ordinary way while a header is
 *             out (send() of its first half, then an advance of the rest
 *             without a frame): the header is stale, and the kernel must
 *             notice and send those bytes itself
 *   -p        plain: send() every message (for comparison)
 *   -b        a second thread keeps asking exasock_tcp_get_device(),
 *             which takes the socket's lock in the kernel: the peer's
 *             answers then often land in the kernel's backlog, and must
 *             be held there as well
 *
 * Needs CAP_NET_RAW for the packet socket. Exit status 0 when every
 * message went (and with -e came back intact), 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <exasock/exasock.h>
#include <exasock/tcp.h>

#define MAX_SIZE	9000

struct opts {
	unsigned long count;
	size_t size;
	int echo;
	long delay_us;
	unsigned long stale_every;
	int plain;
	int busy;
};

static int busy_stop;		/* atomic */

/* -b: keep the kernel's socket lock busy. */
static void *busy_thread(void *arg)
{
	int fd = *(int *)arg, port;
	char dev[IF_NAMESIZE];

	while (!__atomic_load_n(&busy_stop, __ATOMIC_RELAXED))
		exasock_tcp_get_device(fd, dev, sizeof(dev), &port);
	return NULL;
}

static void die(const char *what)
{
	fprintf(stderr, "tcp-raw-send: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tcp-raw-send [-c COUNT] [-s SIZE] [-e] [-d USEC] [-t N] [-p] [-b] HOST PORT\n");
	exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "tcp-raw-send: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void make_message(unsigned long i, uint8_t *buf, size_t size)
{
	uint32_t be = htonl((uint32_t)i);
	size_t j;

	memcpy(buf, &be, 4);
	for (j = 4; j < size; j++)
		buf[j] = (uint8_t)(i * 131 + j * 7);
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int fd, one = 1, err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "tcp-raw-send: %s:%s: %s\n", host, port,
			gai_strerror(err));
		exit(1);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect");
	freeaddrinfo(ai);
	/* The plain sends compared with frames should not wait for Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* A packet socket that sends on the connection's interface. */
static int packet_socket(int fd, struct sockaddr_ll *to)
{
	char dev[IF_NAMESIZE];
	int port, pfd;

	if (exasock_tcp_get_device(fd, dev, sizeof(dev), &port))
		die("exasock_tcp_get_device");
	memset(to, 0, sizeof(*to));
	to->sll_family = AF_PACKET;
	to->sll_protocol = htons(ETH_P_IP);
	to->sll_ifindex = (int)if_nametoindex(dev);
	if (!to->sll_ifindex)
		die(dev);
	/* protocol 0: send only, receive nothing */
	pfd = socket(AF_PACKET, SOCK_RAW, 0);
	if (pfd < 0)
		die("packet socket");
	printf("device %s port %d\n", dev, port);
	return pfd;
}

/* No header while the kernel still sends earlier bytes, the windows are
 * full (the peer has to read, or acknowledge), or the next hop is being
 * resolved: wait a little, for 60 s at most.
 */
static ssize_t build_header(int fd, uint8_t *frame, size_t len)
{
	uint64_t give_up = now_ns() + 60 * 1000000000ull;
	ssize_t hlen;

	for (;;) {
		hlen = exasock_tcp_build_header(fd, frame, len, 0, 0);
		if (hlen >= 0 || errno != EAGAIN || now_ns() > give_up)
			return hlen;
		usleep(20);
	}
}

/* What the kernel counted for this socket (exasock-stat -i shows it). */
static void print_counters(int fd)
{
	struct exasock_sock_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, SOL_EXASOCK, SO_EXA_INFO, &info, &len) ||
	    len < sizeof(info))
		return;
	printf("counters headers=%llu advances=%llu bytes=%llu held=%llu stale=%llu late=%llu\n",
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_HEADERS],
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_ADVANCES],
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_BYTES],
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_HELD],
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_STALE],
	       (unsigned long long)info.stats[EXASOCK_STAT_TCP_RAW_LATE]);
}

/* The message as a frame on the packet socket, then the advance. */
static void send_frame(int fd, int pfd, const struct sockaddr_ll *to,
		       uint8_t *frame, size_t hlen, const uint8_t *msg,
		       size_t size, long delay_us)
{
	memcpy(frame + hlen, msg, size);
	if (exasock_tcp_set_length(frame, hlen, size) ||
	    exasock_tcp_calc_checksum(frame, hlen, frame + hlen, size))
		die("frame");
	if (sendto(pfd, frame, hlen + size, 0, (const struct sockaddr *)to,
		   sizeof(*to)) != (ssize_t)(hlen + size))
		die("packet send");
	if (delay_us)
		usleep((useconds_t)delay_us);
	if (exasock_tcp_send_advance(fd, frame + hlen, size))
		die("exasock_tcp_send_advance");
}

/* A stale header: the bytes go by send() and by an advance without a
 * frame. The stream must still be whole.
 */
static void send_stale(int fd, uint8_t *frame, size_t flen,
		       const uint8_t *msg, size_t size)
{
	size_t half = size / 2;

	if (build_header(fd, frame, flen) < 0)
		die("exasock_tcp_build_header");
	if (send(fd, msg, half, 0) != (ssize_t)half)
		die("send");
	if (exasock_tcp_send_advance(fd, msg + half, size - half))
		die("exasock_tcp_send_advance (stale)");
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 1000, .size = 64 };
	static uint8_t frame[EXASOCK_TCP_HEADER_LEN + MAX_SIZE];
	static uint8_t msg[MAX_SIZE], back[MAX_SIZE];
	uint64_t *rtt = NULL, t0;
	struct sockaddr_ll to;
	unsigned long i, nrtt = 0, raw = 0, stale = 0;
	int fd, pfd = -1, c, mss;
	pthread_t busy;
	socklen_t len = sizeof(mss);
	ssize_t hlen = 0;

	while ((c = getopt(argc, argv, "c:s:ed:t:pb")) != -1) {
		switch (c) {
		case 'c':
			o.count = number(optarg, 100000000);
			break;
		case 's':
			o.size = number(optarg, MAX_SIZE);
			break;
		case 'e':
			o.echo = 1;
			break;
		case 'd':
			o.delay_us = (long)number(optarg, 10000000);
			break;
		case 't':
			o.stale_every = number(optarg, 100000000);
			break;
		case 'p':
			o.plain = 1;
			break;
		case 'b':
			o.busy = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || o.size < 4)
		usage();

	fd = connect_to(argv[optind], argv[optind + 1]);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) &&
	    o.size > (size_t)mss) {
		fprintf(stderr, "tcp-raw-send: -s %zu is over the MSS (%d)\n",
			o.size, mss);
		return 2;
	}
	if (!o.plain) {
		if (exasock_is_accelerated(fd) != 1) {
			fprintf(stderr,
				"tcp-raw-send: the connection is not accelerated (run it under exasock, on an attached interface; -p sends plainly)\n");
			return 1;
		}
		pfd = packet_socket(fd, &to);
	}
	if (o.busy) {
		errno = pthread_create(&busy, NULL, busy_thread, &fd);
		if (errno)
			die("pthread_create");
	}
	if (o.echo) {
		rtt = calloc(o.count, sizeof(*rtt));
		if (!rtt)
			die("calloc");
	}

	for (i = 0; i < o.count; i++) {
		make_message(i, msg, o.size);
		if (o.plain) {
			t0 = now_ns();
			if (send(fd, msg, o.size, 0) != (ssize_t)o.size)
				die("send");
		} else if (o.stale_every && i % o.stale_every ==
			   o.stale_every - 1) {
			t0 = now_ns();
			send_stale(fd, frame, sizeof(frame), msg, o.size);
			stale++;
		} else {
			/* Prebuilt: the header is ready before the message. */
			hlen = build_header(fd, frame, sizeof(frame));
			if (hlen < 0)
				die("exasock_tcp_build_header");
			t0 = now_ns();
			send_frame(fd, pfd, &to, frame, (size_t)hlen, msg,
				   o.size, o.delay_us);
			raw++;
		}
		if (!o.echo)
			continue;
		if (recv(fd, back, o.size, MSG_WAITALL) != (ssize_t)o.size)
			die("recv of the echo");
		rtt[nrtt++] = now_ns() - t0;
		if (memcmp(back, msg, o.size)) {
			fprintf(stderr, "tcp-raw-send: echo of message %lu differs\n",
				i);
			return 1;
		}
	}
	if (o.busy) {
		__atomic_store_n(&busy_stop, 1, __ATOMIC_RELAXED);
		pthread_join(busy, NULL);
	}
	if (!o.plain)
		print_counters(fd);
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The peer closes when it has everything. */
	while ((c = (int)recv(fd, back, sizeof(back), 0)) > 0)
		;
	if (c < 0)
		die("recv");

	printf("sent %lu messages of %zu bytes: %lu as frames, %lu stale\n",
	       o.count, o.size, raw, stale);
	if (nrtt) {
		qsort(rtt, nrtt, sizeof(*rtt), compare_u64);
		printf("round trip: median %.1f us, 99%% %.1f us\n",
		       rtt[nrtt / 2] / 1e3, rtt[nrtt * 99 / 100] / 1e3);
	}
	free(rtt);
	if (pfd >= 0)
		close(pfd);
	close(fd);
	return 0;
}
