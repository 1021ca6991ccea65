// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_tool: the TCP end points the shell selftests run, with or without
 * the exasock launcher in front.
 *
 *   tcp_tool connect -c ADDR:PORT [-b ADDR:PORT] [-N] [-x STEPS]
 *	connect (-N: non-blocking, then poll and SO_ERROR), run STEPS
 *   tcp_tool listen  -b ADDR:PORT [-B BACKLOG] [-n ACCEPTS] [-P STEPS]
 *		      [-x STEPS]
 *	listen, run the -P STEPS on the listener, then accept ACCEPTS
 *	connections one after the other and run STEPS on each
 *   tcp_tool serve   -b ADDR:PORT [-n CONNS]
 *	poll() echo server for the churn protocol below; exits after CONNS
 *	connections (0: never)
 *   tcp_tool churn   -c ADDR:PORT -n CYCLES [-s SIZE]
 *	CYCLES sequential connect/request/echo/close cycles; the side that
 *	closes first alternates (even cycles the client, odd the server)
 *   tcp_tool burst   -c ADDR:PORT -n CONNS [-s SIZE]
 *	CONNS connections at once (non-blocking connects), one request
 *	each, then all closed
 *   tcp_tool hold    [-b ADDR:PORT -m ACCEPTS] [-c ADDR:PORT]... [-n PER]
 *	accept ACCEPTS connections and open PER to each -c, send 1000
 *	bytes on each, never read, and wait to be killed
 *
 * STEPS is a comma-separated list, run in order on one connection:
 *   info		local/peer address, SO_DOMAIN, accelerated, TCP state
 *   state		the TCP state (TCP_INFO)
 *   send:N		send N bytes of the stream pattern
 *   recv:N		read exactly N bytes and check them
 *   eof		read (and check) until EOF or an error
 *   quiet:MS		nothing to read, no EOF, for MS milliseconds
 *   inq:N		wait until N bytes are queued to read (FIONREAD)
 *   revents		poll() without waiting; print what is ready
 *   until:err|rdhup	poll() until POLLERR / POLLRDHUP is reported
 *   soerror		getsockopt(SO_ERROR)
 *   peer		getpeername(): "getpeername ok" or the error
 *   echo		send back everything read, until EOF
 *   sendall:MS		send until EPIPE or MS milliseconds, printing each
 *			distinct error
 *   shut:wr|rd|rdwr	shutdown()
 *   linger0 / linger:S	SO_LINGER on, S seconds
 *   ka:IDLE/INTVL/CNT	SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT
 *   uto:MS		TCP_USER_TIMEOUT
 *   nosig		later sends use MSG_NOSIGNAL
 *   wait:FILE		wait until FILE exists
 *   touch:FILE		create FILE
 *   sleep:MS		sleep
 *   close		close()
 *
 * Everything is printed on stdout, one line per event, errno values by
 * name ("read error ECONNRESET after 1000 bytes"), so the scripts can
 * grep for them; a SIGPIPE is caught and printed as "signal SIGPIPE".
 * "ready fd=N accelerated=A port=P domain=D" is printed once the socket
 * is listening (listen, serve, hold) or connected (connect).
 * "accelerated" is asked of the kernel with a raw system call, past any
 * LD_PRELOAD library; "domain" is SO_DOMAIN as the program sees it.
 *
 * The stream pattern: byte i of a connection (each direction counted on
 * its own) is stream_byte(i), so an echo can be checked, and lost,
 * repeated or foreign bytes are found.
 *
 * Churn protocol: the client sends a 5-byte header ('C' or 'S', then the
 * total request length, big-endian) and the rest of the request; the
 * server sends every byte back. After the last byte, 'S': the server
 * closes first; 'C': the client closes first, the server on EOF.
 *
 * Exit status: 0 success, 1 failure (corrupt data, a connect that
 * failed, a churn cycle that failed), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/exasock.h>
#include "sock_util.h"

#define MAX_TARGETS	8
#define CHURN_HDR	5

static struct {
	const char *mode;
	struct sockaddr_in bind, dst[MAX_TARGETS];
	int ndst;
	bool have_bind;
	const char *steps, *pre_steps;
	long count;		/* -n */
	long accepts;		/* -m */
	int backlog;
	size_t size;
	bool nonblock;
	int expect_accel;	/* -1 don't care */
} opt = {
	.count = 1,
	.backlog = 128,
	.size = 100,
	.expect_accel = -1,
};

static volatile sig_atomic_t sigpipes;
static int send_flags;

static unsigned char stream_byte(uint64_t i)
{
	return (unsigned char)(i % 251 + (i / 251) * 7);
}

static void stream_fill(unsigned char *p, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = stream_byte(off + i);
}

/* Returns the index of the first bad byte, or -1. */
static long stream_check(const unsigned char *p, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != stream_byte(off + i))
			return i;
	return -1;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int domain_of(int fd)
{
	socklen_t len = sizeof(int);
	int val = -1;

	getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len);
	return val;
}

static int check_accel(int fd)
{
	int a = raw_accelerated(fd);

	if (opt.expect_accel >= 0 && a != opt.expect_accel) {
		printf("accel error fd %d is %s\n", fd,
		       a ? "accelerated" : "native");
		exit(1);
	}
	return a;
}

static void report_ready(int fd)
{
	printf("ready fd=%d accelerated=%d port=%u domain=%d\n", fd,
	       check_accel(fd), local_port(fd), domain_of(fd));
}

static const char *tcp_state(int fd)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
		"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING",
	};
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return ename(errno);
	return ti.tcpi_state < sizeof(names) / sizeof(names[0]) ?
	       names[ti.tcpi_state] : "?";
}

static void set_int(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		die(what);
}

static int tcp_socket(bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0),
			0);

	if (fd < 0)
		die("socket");
	return fd;
}

static int listen_socket(void)
{
	int fd = tcp_socket(false);

	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&opt.bind, sizeof(opt.bind)) < 0)
		die("bind");
	if (listen(fd, opt.backlog) < 0)
		die("listen");
	return fd;
}

static void set_blocking(int fd, bool block)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, block ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* ------------------------------------------------------------ steps */

struct conn {
	int fd;
	uint64_t tx, rx;	/* stream offsets */
	bool corrupt;
};

static void do_info(struct conn *c)
{
	struct sockaddr_in l, p;
	socklen_t ll = sizeof(l), pl = sizeof(p);

	memset(&l, 0, sizeof(l));
	memset(&p, 0, sizeof(p));
	if (getsockname(c->fd, (struct sockaddr *)&l, &ll) < 0)
		printf("getsockname error %s\n", ename(errno));
	if (getpeername(c->fd, (struct sockaddr *)&p, &pl) < 0)
		printf("getpeername error %s\n", ename(errno));
	printf("info local=%s peer=%s domain=%d accelerated=%d state=%s\n",
	       fmt_addr(&l), fmt_addr(&p), domain_of(c->fd),
	       raw_accelerated(c->fd), tcp_state(c->fd));
}

static ssize_t send_chunk(struct conn *c, size_t len)
{
	unsigned char buf[65536];
	int before = sigpipes;
	ssize_t n;

	if (len > sizeof(buf))
		len = sizeof(buf);
	stream_fill(buf, len, c->tx);
	n = send(c->fd, buf, len, send_flags);
	if (sigpipes != before)
		printf("signal SIGPIPE\n");
	if (n > 0)
		c->tx += n;
	return n;
}

static void do_send(struct conn *c, long total)
{
	long done = 0;

	while (done < total) {
		ssize_t n = send_chunk(c, total - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("send error %s after %ld bytes\n", ename(errno),
			       done);
			return;
		}
		done += n;
	}
	printf("sent %ld\n", done);
}

static void do_sendall(struct conn *c, long ms)
{
	long end = now_ms() + ms;
	int last = 0;

	while (now_ms() < end) {
		ssize_t n = send_chunk(c, 1000);

		if (n >= 0) {
			usleep(10000);
			continue;
		}
		if (errno != last)
			printf("send error %s\n", ename(errno));
		last = errno;
		if (errno == EPIPE)
			return;
		usleep(10000);
	}
	printf("sendall timeout\n");
}

/* Read into the stream check; returns bytes read, 0 at EOF, -1 error. */
static ssize_t read_chunk(struct conn *c, size_t max)
{
	unsigned char buf[65536];
	ssize_t n;
	long bad;

	if (max > sizeof(buf))
		max = sizeof(buf);
	do {
		n = recv(c->fd, buf, max, 0);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	bad = stream_check(buf, n, c->rx);
	if (bad >= 0 && !c->corrupt) {
		printf("corrupt data at offset %llu (byte 0x%02x, expected 0x%02x)\n",
		       (unsigned long long)(c->rx + bad), buf[bad],
		       stream_byte(c->rx + bad));
		c->corrupt = true;
	}
	c->rx += n;
	return n;
}

static void do_recv(struct conn *c, long total)
{
	long done = 0;

	while (done < total) {
		ssize_t n = read_chunk(c, total - done);

		if (n < 0) {
			printf("recv error %s after %ld bytes\n", ename(errno),
			       done);
			return;
		}
		if (n == 0) {
			printf("recv eof after %ld bytes\n", done);
			return;
		}
		done += n;
	}
	printf("recv %ld ok\n", done);
}

static void do_eof(struct conn *c)
{
	uint64_t start = c->rx;

	for (;;) {
		ssize_t n = read_chunk(c, 65536);

		if (n < 0) {
			printf("read error %s after %llu bytes\n", ename(errno),
			       (unsigned long long)(c->rx - start));
			return;
		}
		if (n == 0) {
			printf("eof after %llu bytes\n",
			       (unsigned long long)(c->rx - start));
			return;
		}
	}
}

static void do_quiet(struct conn *c, int ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	int n = poll(&pfd, 1, ms);

	if (n == 0)
		printf("quiet\n");
	else
		printf("not quiet revents=0x%x\n", pfd.revents);
}

static void do_revents(struct conn *c)
{
	struct pollfd pfd = {
		.fd = c->fd,
		.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI,
	};

	if (poll(&pfd, 1, 0) < 0)
		printf("poll error %s\n", ename(errno));
	else
		printf("revents%s%s%s%s%s%s\n",
		       pfd.revents & POLLIN ? " IN" : "",
		       pfd.revents & POLLOUT ? " OUT" : "",
		       pfd.revents & POLLRDHUP ? " RDHUP" : "",
		       pfd.revents & POLLHUP ? " HUP" : "",
		       pfd.revents & POLLERR ? " ERR" : "",
		       pfd.revents & POLLPRI ? " PRI" : "");
}

static void do_until(struct conn *c, const char *ev)
{
	short want = !strcmp(ev, "err") ? POLLERR : POLLRDHUP;
	struct pollfd pfd = { .fd = c->fd, .events = POLLRDHUP };

	do {
		if (poll(&pfd, 1, 10) < 0 && errno != EINTR) {
			printf("poll error %s\n", ename(errno));
			return;
		}
	} while (!(pfd.revents & want));
}

static void do_inq(struct conn *c, int want)
{
	int n = 0;

	for (;;) {
		if (ioctl(c->fd, FIONREAD, &n) < 0) {
			printf("inq error %s\n", ename(errno));
			return;
		}
		if (n >= want)
			break;
		usleep(5000);
	}
	printf("inq %d\n", n);
}

static void do_echo(struct conn *c)
{
	unsigned char buf[65536];
	long total = 0;

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("echo read error %s after %ld bytes\n",
			       ename(errno), total);
			return;
		}
		if (n == 0)
			break;
		while (off < n) {
			ssize_t w = send(c->fd, buf + off, n - off, send_flags);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				printf("echo send error %s after %ld bytes\n",
				       ename(errno), total);
				return;
			}
			off += w;
		}
		total += n;
	}
	printf("echoed %ld\n", total);
}

static void do_shut(struct conn *c, const char *how)
{
	int h = !strcmp(how, "wr") ? SHUT_WR : !strcmp(how, "rd") ? SHUT_RD :
		!strcmp(how, "rdwr") ? SHUT_RDWR : -1;

	if (shutdown(c->fd, h) < 0)
		printf("shutdown %s error %s\n", how, ename(errno));
	else
		printf("shutdown %s ok\n", how);
}

static void do_linger(struct conn *c, int secs)
{
	struct linger l = { .l_onoff = 1, .l_linger = secs };

	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) < 0)
		die("SO_LINGER");
}

static void do_wait_file(const char *path)
{
	struct stat st;

	while (stat(path, &st) < 0)
		usleep(10000);
}

static void run_steps(struct conn *c, const char *steps)
{
	char *copy, *save, *s;

	if (!steps)
		return;
	copy = strdup(steps);
	for (s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		char *arg = strchr(s, ':');

		if (arg)
			*arg++ = '\0';
		if (!strcmp(s, "info")) {
			do_info(c);
		} else if (!strcmp(s, "state")) {
			printf("state %s\n", tcp_state(c->fd));
		} else if (!strcmp(s, "send") && arg) {
			do_send(c, atol(arg));
		} else if (!strcmp(s, "recv") && arg) {
			do_recv(c, atol(arg));
		} else if (!strcmp(s, "eof")) {
			do_eof(c);
		} else if (!strcmp(s, "quiet") && arg) {
			do_quiet(c, atoi(arg));
		} else if (!strcmp(s, "peer")) {
			struct sockaddr_in p;
			socklen_t pl = sizeof(p);

			if (getpeername(c->fd, (struct sockaddr *)&p, &pl) < 0)
				printf("getpeername error %s\n", ename(errno));
			else
				printf("getpeername ok\n");
		} else if (!strcmp(s, "soerror")) {
			int err = 0;
			socklen_t len = sizeof(err);

			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				printf("SO_ERROR error %s\n", ename(errno));
			else
				printf("so_error %s\n", err ? ename(err) : "0");
		} else if (!strcmp(s, "until") && arg) {
			do_until(c, arg);
		} else if (!strcmp(s, "revents")) {
			do_revents(c);
		} else if (!strcmp(s, "inq") && arg) {
			do_inq(c, atoi(arg));
		} else if (!strcmp(s, "echo")) {
			do_echo(c);
		} else if (!strcmp(s, "sendall") && arg) {
			do_sendall(c, atol(arg));
		} else if (!strcmp(s, "shut") && arg) {
			do_shut(c, arg);
		} else if (!strcmp(s, "linger0")) {
			do_linger(c, 0);
		} else if (!strcmp(s, "linger") && arg) {
			do_linger(c, atoi(arg));
		} else if (!strcmp(s, "ka") && arg) {
			int idle, intvl, cnt;

			if (sscanf(arg, "%d/%d/%d", &idle, &intvl, &cnt) != 3)
				goto bad;
			set_int(c->fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
			set_int(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, idle, "TCP_KEEPIDLE");
			set_int(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, intvl, "TCP_KEEPINTVL");
			set_int(c->fd, IPPROTO_TCP, TCP_KEEPCNT, cnt, "TCP_KEEPCNT");
			printf("keepalive %s\n", arg);
		} else if (!strcmp(s, "uto") && arg) {
			set_int(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, atoi(arg),
				"TCP_USER_TIMEOUT");
			printf("user_timeout %s\n", arg);
		} else if (!strcmp(s, "nosig")) {
			send_flags |= MSG_NOSIGNAL;
		} else if (!strcmp(s, "wait") && arg) {
			do_wait_file(arg);
		} else if (!strcmp(s, "touch") && arg) {
			close(open(arg, O_WRONLY | O_CREAT, 0644));
		} else if (!strcmp(s, "sleep") && arg) {
			usleep(atol(arg) * 1000);
		} else if (!strcmp(s, "close")) {
			if (close(c->fd) < 0)
				printf("close error %s\n", ename(errno));
			else
				printf("closed\n");
			c->fd = -1;
		} else {
			goto bad;
		}
		continue;
bad:
		fprintf(stderr, "tcp_tool: bad step '%s'\n", s);
		exit(2);
	}
	free(copy);
}

/* ------------------------------------------------------------ modes */

static int mode_connect(void)
{
	struct conn c = { 0 };
	int err = 0;
	socklen_t len = sizeof(err);

	c.fd = tcp_socket(opt.nonblock);
	if (opt.have_bind) {
		set_int(c.fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
		if (bind(c.fd, (struct sockaddr *)&opt.bind,
			 sizeof(opt.bind)) < 0)
			die("bind");
	}
	if (connect(c.fd, (struct sockaddr *)&opt.dst[0],
		    sizeof(opt.dst[0])) == 0) {
		printf("connect ok\n");
	} else if (!opt.nonblock || errno != EINPROGRESS) {
		die("connect");
	} else {
		struct pollfd pfd = { .fd = c.fd, .events = POLLOUT };

		printf("connect %s\n", ename(errno));
		if (poll(&pfd, 1, -1) < 0)
			die("poll");
		printf("poll revents=0x%x\n", pfd.revents);
		if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			die("SO_ERROR");
		printf("so_error %s\n", err ? ename(err) : "0");
		if (err)
			return 1;
		set_blocking(c.fd, true);
	}
	report_ready(c.fd);
	run_steps(&c, opt.steps);
	printf("done\n");
	return c.corrupt;
}

static int mode_listen(void)
{
	struct conn l = { 0 };
	bool corrupt = false;
	long i;

	l.fd = listen_socket();
	report_ready(l.fd);
	run_steps(&l, opt.pre_steps);
	for (i = 0; !opt.count || i < opt.count; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct conn c = { 0 };

		c.fd = accept(l.fd, (struct sockaddr *)&peer, &plen);
		if (c.fd < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (c.fd < 0)
			die("accept");
		printf("accepted %ld from %s accelerated=%d domain=%d\n", i,
		       fmt_addr(&peer), check_accel(c.fd), domain_of(c.fd));
		run_steps(&c, opt.steps);
		corrupt |= c.corrupt;
		if (c.fd >= 0)
			close(c.fd);
	}
	printf("done\n");
	return corrupt;
}

/* --- churn server: a poll() loop over every connection */

struct sconn {
	int fd;
	uint32_t want;		/* request length, 0 until the header is in */
	uint32_t got, sent;
	unsigned char hdr[CHURN_HDR];
	unsigned char *buf;
	bool echoed;
};

static int mode_serve(void)
{
	long served = 0, errors = 0, accepted = 0;
	struct pollfd *pfd;
	struct sconn *sc;
	int lfd, maxc = 4096, n = 0, i;

	lfd = listen_socket();
	set_blocking(lfd, false);
	pfd = calloc(maxc + 1, sizeof(*pfd));
	sc = calloc(maxc, sizeof(*sc));
	report_ready(lfd);

	while (!opt.count || served + errors < opt.count) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = sc[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = n - 1; i >= 0; i--) {
			struct sconn *s = &sc[i];
			unsigned char buf[65536];
			bool done = false;
			ssize_t r;

			if (!pfd[i + 1].revents)
				continue;
			r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r < 0) {
				printf("serve read error %s\n", ename(errno));
				errors++;
				done = true;
			} else if (r == 0) {
				/* 'C': the client closed first, after the echo */
				if (!s->echoed) {
					printf("serve early eof after %u bytes\n",
					       s->got);
					errors++;
				} else {
					served++;
				}
				done = true;
			} else {
				ssize_t off = 0;

				while (off < r && s->got < CHURN_HDR)
					s->hdr[s->got++] = buf[off++];
				if (s->got == CHURN_HDR && !s->want) {
					uint32_t be;

					memcpy(&be, s->hdr + 1, 4);
					s->want = ntohl(be);
					if (s->want < CHURN_HDR)
						s->want = CHURN_HDR;
					if (send(s->fd, s->hdr, CHURN_HDR,
						 MSG_NOSIGNAL) != CHURN_HDR) {
						printf("serve send error %s\n",
						       ename(errno));
						errors++;
						done = true;
					}
				}
				s->got += r - off;
				/* the echo of small requests fits the send buffer */
				if (!done && r > off &&
				    send(s->fd, buf + off, r - off,
					 MSG_NOSIGNAL) != r - off) {
					printf("serve send error %s\n",
					       ename(errno));
					errors++;
					done = true;
				}
				if (!done && s->want && s->got >= s->want) {
					s->echoed = true;
					if (s->hdr[0] == 'S') {
						served++;
						done = true;
					}
				}
			}
			if (done) {
				close(s->fd);
				sc[i] = sc[--n];
			}
		}
		if (pfd[0].revents & POLLIN) {
			while (n < maxc) {
				int fd = accept(lfd, NULL, NULL);

				if (fd < 0)
					break;
				if (accepted++ == 0)
					printf("accepted first accelerated=%d domain=%d\n",
					       check_accel(fd), domain_of(fd));
				memset(&sc[n], 0, sizeof(sc[n]));
				sc[n++].fd = fd;
			}
		}
	}
	printf("served %ld errors %ld accepted %ld\n", served, errors,
	       accepted);
	return errors ? 1 : 0;
}

/* One request on a connected socket; returns 0 or -1 (printed). */
static int churn_request(int fd, char how, size_t size, long cycle)
{
	unsigned char out[65536], in[65536];
	size_t got = 0;
	uint32_t be = htonl(size);

	stream_fill(out, size, cycle);
	out[0] = how;
	memcpy(out + 1, &be, 4);
	if (send(fd, out, size, MSG_NOSIGNAL) != (ssize_t)size) {
		printf("cycle %ld send error %s\n", cycle, ename(errno));
		return -1;
	}
	while (got < size) {
		ssize_t r = recv(fd, in + got, size - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			printf("cycle %ld read %s after %zu bytes\n", cycle,
			       r ? ename(errno) : "eof", got);
			return -1;
		}
		got += r;
	}
	if (memcmp(in, out, size)) {
		printf("cycle %ld corrupt echo\n", cycle);
		return -1;
	}
	return 0;
}

static int mode_churn(void)
{
	long start = now_ms(), i;
	size_t size = opt.size < CHURN_HDR ? CHURN_HDR : opt.size;

	if (size > 65536)
		size = 65536;
	for (i = 0; i < opt.count; i++) {
		char how = i % 2 ? 'S' : 'C';
		int fd = tcp_socket(false);
		char b;

		if (connect(fd, (struct sockaddr *)&opt.dst[0],
			    sizeof(opt.dst[0])) < 0) {
			printf("cycle %ld connect error %s\n", i, ename(errno));
			return 1;
		}
		if (i == 0)
			report_ready(fd);
		if (churn_request(fd, how, size, i))
			return 1;
		if (how == 'S') {
			ssize_t r = recv(fd, &b, 1, 0);

			if (r != 0) {
				printf("cycle %ld no eof (%s)\n", i,
				       r < 0 ? ename(errno) : "data");
				return 1;
			}
		}
		close(fd);
	}
	printf("churn %ld cycles in %ld ms\n", i, now_ms() - start);
	return 0;
}

static int mode_burst(void)
{
	size_t size = opt.size < CHURN_HDR ? CHURN_HDR : opt.size;
	long start = now_ms(), i, up = 0;
	struct pollfd *pfd;
	int err;

	pfd = calloc(opt.count, sizeof(*pfd));
	for (i = 0; i < opt.count; i++) {
		pfd[i].fd = tcp_socket(true);
		pfd[i].events = POLLOUT;
		if (connect(pfd[i].fd, (struct sockaddr *)&opt.dst[0],
			    sizeof(opt.dst[0])) < 0 && errno != EINPROGRESS) {
			printf("burst connect %ld error %s\n", i, ename(errno));
			return 1;
		}
	}
	while (up < opt.count) {
		int n = poll(pfd, opt.count, 20000);

		if (n <= 0) {
			printf("burst only %ld of %ld connected\n", up,
			       opt.count);
			return 1;
		}
		for (i = 0; i < opt.count; i++) {
			socklen_t len = sizeof(err);

			if (!pfd[i].revents)
				continue;
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				printf("burst connect %ld error %s\n", i,
				       ename(err));
				return 1;
			}
			pfd[i].events = 0;
			pfd[i].revents = 0;
			up++;
		}
	}
	printf("burst connected %ld in %ld ms\n", up, now_ms() - start);
	for (i = 0; i < opt.count; i++) {
		set_blocking(pfd[i].fd, true);
		if (churn_request(pfd[i].fd, 'C', size, i))
			return 1;
	}
	for (i = 0; i < opt.count; i++)
		close(pfd[i].fd);
	printf("burst %ld ok in %ld ms\n", opt.count, now_ms() - start);
	return 0;
}

static int mode_hold(void)
{
	int lfd = -1, n = 0, i, j;
	struct conn c = { 0 };

	if (opt.have_bind) {
		lfd = listen_socket();
		report_ready(lfd);
	}
	for (i = 0; i < opt.ndst; i++) {
		for (j = 0; j < opt.count; j++) {
			c.fd = tcp_socket(false);
			if (connect(c.fd, (struct sockaddr *)&opt.dst[i],
				    sizeof(opt.dst[i])) < 0)
				die("connect");
			printf("connected to %s accelerated=%d\n",
			       fmt_addr(&opt.dst[i]), check_accel(c.fd));
			c.tx = 0;
			do_send(&c, 1000);
			n++;
		}
	}
	for (i = 0; lfd >= 0 && i < opt.accepts; i++) {
		c.fd = accept(lfd, NULL, NULL);
		if (c.fd < 0)
			die("accept");
		printf("accepted accelerated=%d\n", check_accel(c.fd));
		c.tx = 0;
		do_send(&c, 1000);
		n++;
	}
	printf("holding %d\n", n);
	for (;;)
		pause();
	return 0;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: tcp_tool MODE [options]   (see the top of tcp_tool.c)\n"
		"modes: connect listen serve churn burst hold\n"
		"  -b ADDR:PORT   bind / listen\n"
		"  -c ADDR:PORT   connect (hold: repeatable)\n"
		"  -n COUNT       accepts, connections, cycles\n"
		"  -m COUNT       accepts (hold)\n"
		"  -B BACKLOG     listen backlog (128)\n"
		"  -s SIZE        request bytes (churn, burst)\n"
		"  -x STEPS       steps on each connection\n"
		"  -P STEPS       steps on the listener before accepting\n"
		"  -N             non-blocking connect\n"
		"  -a / -A        fail unless accelerated / native\n"
		"  -W SEC         watchdog: exit 1 after SEC seconds (60)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int watchdog = 60;
	int c;

	prog.name = "tcp_tool";
	prog.errors_on_stdout = true;
	if (argc < 2)
		print_usage();
	opt.mode = prog.mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "b:c:n:m:B:s:x:P:NaAW:")) != -1) {
		switch (c) {
		case 'b':
			if (parse_addr(optarg, &opt.bind))
				print_usage();
			opt.have_bind = true;
			break;
		case 'c':
			if (opt.ndst == MAX_TARGETS ||
			    parse_addr(optarg, &opt.dst[opt.ndst]))
				print_usage();
			opt.ndst++;
			break;
		case 'n':
			opt.count = atol(optarg);
			break;
		case 'm':
			opt.accepts = atol(optarg);
			break;
		case 'B':
			opt.backlog = atoi(optarg);
			break;
		case 's':
			opt.size = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			opt.steps = optarg;
			break;
		case 'P':
			opt.pre_steps = optarg;
			break;
		case 'N':
			opt.nonblock = true;
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
		default:
			print_usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, on_sigpipe);
	watchdog_start(watchdog);

	if (!strcmp(opt.mode, "connect") && opt.ndst)
		return mode_connect();
	if (!strcmp(opt.mode, "listen") && opt.have_bind)
		return mode_listen();
	if (!strcmp(opt.mode, "serve") && opt.have_bind) {
		return mode_serve();
	}
	if (!strcmp(opt.mode, "churn") && opt.ndst)
		return mode_churn();
	if (!strcmp(opt.mode, "burst") && opt.ndst)
		return mode_burst();
	if (!strcmp(opt.mode, "hold") && (opt.have_bind || opt.ndst))
		return mode_hold();
	print_usage();
	return 2;
}
