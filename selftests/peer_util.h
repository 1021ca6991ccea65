/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the selftest programs (the harness tests udp_poll_test and
 * tcp_recv_test; raw_accelerated() also for the tools, by sock_util.h):
 * addresses, whether a socket is accelerated, a plain peer socket opened
 * in the other network namespace, and receiving with control messages.
 */
#ifndef EXASOCK_SELFTESTS_PEER_UTIL_H
#define EXASOCK_SELFTESTS_PEER_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/exasock.h>

static inline int env_int(const char *name, int def)
{
	const char *s = getenv(name);

	return s && *s ? atoi(s) : def;
}

static inline struct sockaddr_in mkaddr(const char *ip, int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* 1 accelerated, 0 native; asked with a raw system call. */
static inline int raw_accelerated(int fd)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (syscall(SYS_getsockopt, fd, SOL_EXASOCK, SO_EXA_ACCELERATED,
		    &val, &len) < 0)
		return 0;
	return val;
}

/*
 * A socket of @type in network namespace @ns (a name under /run/netns,
 * NULL for the current one), opted out of acceleration, bound to
 * @ip:@port, listening if it is a stream one. Returns the fd or -errno.
 */
static inline int peer_open(const char *ns, int type, const char *ip,
			    int port)
{
	struct sockaddr_in sin = mkaddr(ip, port);
	int self_ns = -1, ns_fd = -1, fd, one = 1, err = 0;
	char path[256];

	if (ns && *ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (self_ns < 0 || ns_fd < 0 || setns(ns_fd, CLONE_NEWNET))
			return -errno;
	}
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = -errno;
	if (fd >= 0) {
		/* ENOPROTOOPT without libexasock: nothing to opt out of */
		setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &one, sizeof(one));
		if (type == SOCK_STREAM)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    (type == SOCK_STREAM && listen(fd, 4)))
			err = -errno;
	}
	if (self_ns >= 0) {
		if (setns(self_ns, CLONE_NEWNET) && !err)
			err = -errno;
		close(self_ns);
		close(ns_fd);
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* Seconds between now and the struct timespec at @p (a control message). */
static inline long ts_age(const void *p)
{
	struct timespec ts, now;

	memcpy(&ts, p, sizeof(ts));
	clock_gettime(CLOCK_REALTIME, &now);
	return labs(now.tv_sec - ts.tv_sec);
}

/* The data of the first control message of @level and @type, or NULL. */
static inline void *find_cmsg(struct msghdr *msg, int level, int type)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == level && c->cmsg_type == type)
			return CMSG_DATA(c);
	return NULL;
}

/*
 * recvmsg() of up to @len bytes with a control buffer of @clen, through
 * the library (@raw 0) or with a raw system call; @msg is filled in.
 */
static inline ssize_t recv_cmsgs(int fd, int raw, int flags, void *buf,
				 size_t len, char *cbuf, size_t clen,
				 struct msghdr *msg)
{
	static struct iovec iov;

	iov.iov_base = buf;
	iov.iov_len = len;
	memset(msg, 0, sizeof(*msg));
	msg->msg_iov = &iov;
	msg->msg_iovlen = 1;
	msg->msg_control = cbuf;
	msg->msg_controllen = clen;
	return raw ? syscall(SYS_recvmsg, fd, msg, flags) :
		     recvmsg(fd, msg, flags);
}

#endif /* EXASOCK_SELFTESTS_PEER_UTIL_H */
