// SPDX-License-Identifier: GPL-2.0
/*
 * udp_tool: the UDP end points the shell selftests run, with or without
 * the exasock launcher in front.
 *
 *   udp_tool echo  -b ADDR:PORT [-n COUNT] [-c PEER]
 *	receive COUNT datagrams (0: until killed) and send each back
 *   udp_tool ping  (-t DST | -c DST) [-b ADDR:PORT] [-n COUNT] [-s SIZE]
 *	send COUNT numbered datagrams, wait for each echo and check it
 *   udp_tool send  (-t DST | -c DST) [-b ADDR:PORT] [-n COUNT] [-s SIZE]
 *	send COUNT numbered datagrams, -p USEC apart
 *   udp_tool recv  -b ADDR:PORT [-n COUNT] [-w] [-l]
 *	receive numbered datagrams until COUNT or an idle timeout and
 *	check every byte of each; -w waits for a line on stdin first
 *	(so the ring can fill), -l allows losses
 *   udp_tool dump  -b ADDR:PORT
 *	print every datagram received, until the idle timeout
 *   udp_tool bind  -b ADDR:PORT
 *	bind, report, exit: for permission and acceleration checks
 *
 * Every mode prints "ready fd=N accelerated=A port=P" on stdout once its
 * socket is bound, so a script can wait for it. "accelerated" is asked of
 * the kernel with a raw system call, past any LD_PRELOAD library: 1 for
 * an accelerated exasock socket, 0 for a native one.
 *
 * Exit status: 0 success, 1 failure, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/exasock.h>

#include "payload.h"
#include "sock_util.h"

#define MAX_DGRAM	65536
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum rmethod { R_RECVFROM, R_RECV, R_READ, R_RECVMSG, R_READV, R_MIX };

static struct {
	const char *mode;
	struct sockaddr_in bind, dst;
	bool have_bind, have_dst, do_connect;
	long count;
	size_t size;
	long pace_us;
	long first_seq;		/* send: number of the first datagram */
	int rcvbuf;		/* SO_RCVBUF, 0: default */
	int timeout_ms;		/* per receive */
	bool wait_stdin;
	bool lossy;
	bool nonblock;		/* O_NONBLOCK + poll() */
	int expect_accel;	/* -1 don't care */
	enum rmethod rmethod;
	bool quiet;
} opt = {
	.count = 1,
	.size = 64,
	.timeout_ms = 5000,
	.expect_accel = -1,
};

static int check_accel(int fd)
{
	int a = raw_accelerated(fd);

	if (opt.expect_accel >= 0 && a != opt.expect_accel) {
		fprintf(stderr, "udp_tool %s: fd %d is %s, expected %s\n",
			opt.mode, fd, a ? "accelerated" : "native",
			opt.expect_accel ? "accelerated" : "native");
		exit(1);
	}
	return a;
}

static void report_ready(int fd)
{
	printf("ready fd=%d accelerated=%d port=%u\n", fd, check_accel(fd),
	       local_port(fd));
	fflush(stdout);
}

static int open_socket(void)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | (opt.nonblock ? SOCK_NONBLOCK : 0),
		    0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opt.rcvbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt.rcvbuf,
		       sizeof(opt.rcvbuf)) < 0)
		die("SO_RCVBUF");
	if (!opt.nonblock) {
		struct timeval tv = {
			.tv_sec = opt.timeout_ms / 1000,
			.tv_usec = (opt.timeout_ms % 1000) * 1000,
		};

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			       sizeof(tv)) < 0)
			die("SO_RCVTIMEO");
	}
	if (opt.have_bind &&
	    bind(fd, (struct sockaddr *)&opt.bind, sizeof(opt.bind)) < 0)
		die("bind");
	if (opt.do_connect &&
	    connect(fd, (struct sockaddr *)&opt.dst, sizeof(opt.dst)) < 0)
		die("connect");
	return fd;
}

/*
 * Receive one datagram by the chosen method; returns its length, or -1
 * with errno EAGAIN after the timeout.
 */
static ssize_t do_recv(int fd, void *buf, size_t len,
		       struct sockaddr_in *from, long seq)
{
	socklen_t flen = sizeof(*from);
	enum rmethod m = opt.rmethod;
	struct iovec iov[2];
	struct msghdr msg;
	size_t half;

	if (opt.nonblock) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, opt.timeout_ms);

		if (n < 0)
			die("poll");
		if (n == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	if (m == R_MIX)
		m = (enum rmethod)(seq % R_MIX);
	memset(from, 0, sizeof(*from));

	switch (m) {
	case R_RECV:
		return recv(fd, buf, len, 0);
	case R_READ:
		return read(fd, buf, len);
	case R_RECVMSG:
		memset(&msg, 0, sizeof(msg));
		iov[0].iov_base = buf;
		iov[0].iov_len = len;
		msg.msg_iov = iov;
		msg.msg_iovlen = 1;
		msg.msg_name = from;
		msg.msg_namelen = sizeof(*from);
		return recvmsg(fd, &msg, 0);
	case R_READV:
		/* split so the payload straddles two buffers */
		half = len > 40 ? 40 : len / 2;
		iov[0].iov_base = buf;
		iov[0].iov_len = half;
		iov[1].iov_base = (char *)buf + half;
		iov[1].iov_len = len - half;
		return readv(fd, iov, 2);
	default:
		return recvfrom(fd, buf, len, 0, (struct sockaddr *)from,
				&flen);
	}
}

static void do_send(int fd, const void *buf, size_t len,
		    const struct sockaddr_in *to)
{
	ssize_t n;

	if (opt.do_connect || !to)
		n = send(fd, buf, len, 0);
	else
		n = sendto(fd, buf, len, 0, (const struct sockaddr *)to,
			   sizeof(*to));
	if (n < 0)
		die("send");
	if ((size_t)n != len) {
		fprintf(stderr, "udp_tool %s: short send %zd of %zu\n",
			opt.mode, n, len);
		exit(1);
	}
}

static int mode_echo(void)
{
	static char buf[MAX_DGRAM];
	struct sockaddr_in from;
	long i;
	int fd;

	if (opt.rmethod != R_RECVFROM && opt.rmethod != R_RECVMSG &&
	    !opt.do_connect) {
		fprintf(stderr, "udp_tool echo: -r needs -c, or a sender address\n");
		return 2;
	}
	fd = open_socket();
	report_ready(fd);
	for (i = 0; !opt.count || i < opt.count; i++) {
		ssize_t n;

		/* an echo server waits as long as it takes */
		do {
			n = do_recv(fd, buf, sizeof(buf), &from, i);
		} while (n < 0 && (errno == EAGAIN || errno == EINTR));
		if (n < 0)
			die("recv");
		do_send(fd, buf, n, &from);
	}
	if (!opt.quiet)
		printf("echoed %ld\n", i);
	return 0;
}

static int mode_ping(void)
{
	static char out[MAX_DGRAM], in[MAX_DGRAM];
	struct sockaddr_in from;
	int fd, accel = -1;
	long i;

	fd = open_socket();
	if (opt.have_bind || opt.do_connect)
		report_ready(fd);
	for (i = 0; i < opt.count; i++) {
		ssize_t n;

		payload_fill(out, opt.size, i);
		do_send(fd, out, opt.size, &opt.dst);
		if (accel < 0)
			accel = check_accel(fd);
		n = do_recv(fd, in, sizeof(in), &from, i);
		if (n < 0) {
			fprintf(stderr, "udp_tool ping: no echo for %ld: %s\n",
				i, strerror(errno));
			return 1;
		}
		if ((size_t)n != opt.size || memcmp(in, out, opt.size)) {
			fprintf(stderr,
				"udp_tool ping: echo %ld: %zd bytes, %s\n", i,
				n, (size_t)n == opt.size ? "bad payload" :
				"bad length");
			return 1;
		}
	}
	printf("ping ok count=%ld size=%zu accelerated=%d\n", opt.count,
	       opt.size, accel);
	return 0;
}

static int mode_send(void)
{
	static char out[MAX_DGRAM];
	int fd, accel = -1;
	long i;

	fd = open_socket();
	if (opt.have_bind || opt.do_connect)
		report_ready(fd);
	for (i = opt.first_seq; i < opt.first_seq + opt.count; i++) {
		payload_fill(out, opt.size, i);
		do_send(fd, out, opt.size, &opt.dst);
		if (accel < 0)
			accel = check_accel(fd);
		if (opt.pace_us)
			usleep(opt.pace_us);
	}
	printf("sent %ld size=%zu accelerated=%d\n", opt.count, opt.size,
	       accel);
	return 0;
}

static int mode_recv(void)
{
	static char buf[MAX_DGRAM];
	long got = 0, last = -1, bad = 0;
	struct sockaddr_in from;
	char line[64];
	int fd;

	fd = open_socket();
	report_ready(fd);
	if (opt.wait_stdin && !fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "udp_tool recv: stdin closed\n");
		return 1;
	}
	while (!opt.count || got < opt.count) {
		ssize_t n = do_recv(fd, buf, sizeof(buf), &from, got);
		long seq;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			die("recv");
		seq = payload_check(buf, n);
		if (seq < 0) {
			fprintf(stderr,
				"udp_tool recv: datagram %ld (%zd bytes from %s) is corrupt\n",
				got, n, fmt_addr(&from));
			bad++;
		} else if (seq <= last) {
			fprintf(stderr,
				"udp_tool recv: seq %ld after %ld: out of order\n",
				seq, last);
			bad++;
		} else if (seq != last + 1 && !opt.lossy) {
			fprintf(stderr, "udp_tool recv: seq %ld after %ld: lost\n",
				seq, last);
			bad++;
		}
		if (seq >= 0)
			last = seq;
		got++;
	}
	printf("received %ld last=%ld bad=%ld\n", got, last, bad);
	if (bad)
		return 1;
	if (opt.count && got < opt.count && !opt.lossy) {
		fprintf(stderr, "udp_tool recv: only %ld of %ld\n", got,
			opt.count);
		return 1;
	}
	return 0;
}

static int mode_dump(void)
{
	static char buf[MAX_DGRAM];
	struct sockaddr_in from;
	long got = 0;
	int fd;

	fd = open_socket();
	report_ready(fd);
	while (!opt.count || got < opt.count) {
		ssize_t n = do_recv(fd, buf, sizeof(buf), &from, got), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			die("recv");
		printf("datagram len=%zd from=%s data=", n, fmt_addr(&from));
		for (i = 0; i < n && i < 200; i++)
			putchar(buf[i] >= 0x21 && buf[i] < 0x7f ? buf[i] : '.');
		putchar('\n');
		fflush(stdout);
		got++;
	}
	printf("received %ld\n", got);
	return 0;
}

static int mode_bind(void)
{
	int fd = open_socket();

	report_ready(fd);
	return 0;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: udp_tool MODE [options]\n"
		"modes: echo ping send recv dump bind\n"
		"  -b ADDR:PORT   bind\n"
		"  -t ADDR:PORT   sendto destination\n"
		"  -c ADDR:PORT   connect, then send/recv\n"
		"  -n COUNT       datagrams (0: no limit)\n"
		"  -s SIZE        payload bytes\n"
		"  -p USEC        pause between sends\n"
		"  -S SEQ         number of the first datagram (send)\n"
		"  -R BYTES       SO_RCVBUF\n"
		"  -T MS          receive timeout (default 5000)\n"
		"  -r METHOD      recvfrom recv read recvmsg readv mix\n"
		"  -N             O_NONBLOCK and poll()\n"
		"  -w             wait for a line on stdin before receiving\n"
		"  -l             losses allowed (recv)\n"
		"  -a / -A        fail unless accelerated / native\n"
		"  -W SEC         watchdog: exit 1 after SEC seconds (60)\n"
		"  -q             quiet\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const methods[] = {
		"recvfrom", "recv", "read", "recvmsg", "readv", "mix",
	};
	unsigned int watchdog = 60;
	bool count_given = false;
	size_t i;
	int c;

	prog.name = "udp_tool";
	if (argc < 2)
		print_usage();
	opt.mode = prog.mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "b:t:c:n:s:p:S:R:T:r:NwlaAW:q")) != -1) {
		switch (c) {
		case 'b':
			if (parse_addr(optarg, &opt.bind))
				print_usage();
			opt.have_bind = true;
			break;
		case 'c':
			opt.do_connect = true;
			/* fall through */
		case 't':
			if (parse_addr(optarg, &opt.dst))
				print_usage();
			opt.have_dst = true;
			break;
		case 'n':
			opt.count = atol(optarg);
			count_given = true;
			break;
		case 's':
			opt.size = strtoul(optarg, NULL, 0);
			if (opt.size > MAX_DGRAM - 1024)
				print_usage();
			break;
		case 'p':
			opt.pace_us = atol(optarg);
			break;
		case 'S':
			opt.first_seq = atol(optarg);
			break;
		case 'R':
			opt.rcvbuf = atoi(optarg);
			break;
		case 'T':
			opt.timeout_ms = atoi(optarg);
			break;
		case 'r':
			for (i = 0; i < ARRAY_SIZE(methods); i++)
				if (!strcmp(optarg, methods[i]))
					break;
			if (i == ARRAY_SIZE(methods))
				print_usage();
			opt.rmethod = (enum rmethod)i;
			break;
		case 'N':
			opt.nonblock = true;
			break;
		case 'w':
			opt.wait_stdin = true;
			break;
		case 'l':
			opt.lossy = true;
			break;
		case 'a':
			opt.expect_accel = 1;
			break;
		case 'A':
			opt.expect_accel = 0;
			break;
		case 'W':
			watchdog = atoi(optarg);
			break;
		case 'q':
			opt.quiet = true;
			break;
		default:
			print_usage();
		}
	}
	watchdog_start(watchdog);

	if (!strcmp(opt.mode, "echo") && opt.have_bind)
		return mode_echo();
	if (!strcmp(opt.mode, "ping") && opt.have_dst)
		return mode_ping();
	if (!strcmp(opt.mode, "send") && opt.have_dst)
		return mode_send();
	if (!strcmp(opt.mode, "recv") && opt.have_bind)
		return mode_recv();
	if (!strcmp(opt.mode, "dump") && opt.have_bind) {
		if (!count_given)
			opt.count = 0;
		return mode_dump();
	}
	if (!strcmp(opt.mode, "bind") && opt.have_bind)
		return mode_bind();
	print_usage();
	return 2;
}
