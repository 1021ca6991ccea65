/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the selftest programs (udp_tool, tcp_tool): address
 * parsing and printing, what kind of socket an fd is, and dying on an
 * error or when the watchdog expires.
 */
#ifndef EXASOCK_SELFTESTS_SOCK_UTIL_H
#define EXASOCK_SELFTESTS_SOCK_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/exasock.h>
#include "peer_util.h"	/* raw_accelerated() */

/* "ADDR:PORT" ("*" or nothing for INADDR_ANY) into @sin; 0 or -1. */
static inline int parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64], *colon;

	if (snprintf(host, sizeof(host), "%s", s) >= (int)sizeof(host))
		return -1;
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(atoi(colon + 1));
	if (!*host || !strcmp(host, "*"))
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

/* "ADDR:PORT"; two calls may be used in one printf. */
static inline const char *fmt_addr(const struct sockaddr_in *sin)
{
	static char buf[2][32];
	static int i;
	char a[INET_ADDRSTRLEN];

	i ^= 1;
	inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
	snprintf(buf[i], sizeof(buf[i]), "%s:%u", a, ntohs(sin->sin_port));
	return buf[i];
}

/* The port @fd is bound to, host order; 0 if it has none. */
static inline unsigned int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	getsockname(fd, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

/*
 * Who is running, for die() and the watchdog: each tool fills in @name
 * and @mode at the top of main(), before anything can fail.
 */
static struct {
	const char *name;	/* "udp_tool" */
	const char *mode;	/* its first argument */
	bool errors_on_stdout;	/* die() also says "WHAT error ENAME" there */
	char watchdog_msg[64];
	size_t watchdog_len;
} prog;

/* errno's name ("EAGAIN"), or "E?". */
static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

/* "NAME MODE: WHAT: strerror(errno)" on stderr, then exit status 1. */
static inline void die(const char *what)
{
	if (prog.errors_on_stdout)
		printf("%s error %s\n", what, ename(errno));
	fprintf(stderr, "%s %s: %s: %s\n", prog.name, prog.mode, what,
		strerror(errno));
	exit(1);
}

/* The SIGALRM handler: one write(), so the message was made beforehand. */
static inline void watchdog_expired(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, prog.watchdog_msg, prog.watchdog_len);
	_exit(1);
}

/* Exit status 1, with "NAME: watchdog expired", after @secs seconds. */
static inline void watchdog_start(unsigned int secs)
{
	snprintf(prog.watchdog_msg, sizeof(prog.watchdog_msg),
		 "%s: watchdog expired\n", prog.name);
	prog.watchdog_len = strlen(prog.watchdog_msg);
	signal(SIGALRM, watchdog_expired);
	alarm(secs);
}

#endif /* EXASOCK_SELFTESTS_SOCK_UTIL_H */
