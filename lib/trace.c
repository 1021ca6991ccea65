// SPDX-License-Identifier: GPL-2.0
/*
 * EXASOCK_TRACE: one line per intercepted call, its arguments and its
 * result, written with a single write(2) so that lines from several
 * threads do not interleave.
 */
#include <stdarg.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "internal.h"

/**
 * exa_vline - write "@prefix" + formatted text + newline to @fd in one
 * write(2), cut at 511 bytes, so that lines from threads never mix
 */
void exa_vline(int fd, const char *prefix, const char *fmt, va_list ap)
{
	char buf[512];
	int n, m;

	n = snprintf(buf, sizeof(buf), "%s", prefix);
	m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, n) < 0)
		return;
}

void exa_trace(const char *fmt, ...)
{
	char prefix[32];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "exasock-trace[%d]: ", (int)getpid());
	va_start(ap, fmt);
	exa_vline(exa_cfg.trace_fd, prefix, fmt, ap);
	va_end(ap);
}

const char *exa_trace_addr(char *buf, size_t len, const struct sockaddr *sa,
			   socklen_t salen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	char ip[INET_ADDRSTRLEN];

	if (!sa)
		snprintf(buf, len, "NULL");
	else if (salen >= sizeof(*sin) && sa->sa_family == AF_INET &&
		 inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
		snprintf(buf, len, "{AF_INET, %s:%u}", ip,
			 ntohs(sin->sin_port));
	else if (salen >= sizeof(sa->sa_family))
		snprintf(buf, len, "{family %u, len %u}", sa->sa_family,
			 (unsigned int)salen);
	else
		snprintf(buf, len, "{len %u}", (unsigned int)salen);
	return buf;
}

/* "-1 EAGAIN (Resource temporarily unavailable)" when @ret is -1 */
const char *exa_trace_ret(char *buf, size_t len, long long ret)
{
	const char *name;
	int err = errno;

	if (ret != -1) {
		snprintf(buf, len, "%lld", ret);
		return buf;
	}
	name = strerrorname_np(err);
	snprintf(buf, len, "-1 %s (%s)", name ? name : "?", strerror(err));
	return buf;
}
