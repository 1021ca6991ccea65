// SPDX-License-Identifier: GPL-2.0
/*
 * The libc-facing side of libexasock: every exported function lives here.
 * Each one looks the descriptor up in the table (fdtab.c) and, unless it
 * is an accelerated socket or a conversion candidate, calls the real libc
 * function straight away. Internals return -errno; exa_ret() turns that
 * into -1 and errno here, and nowhere else.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include "internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

struct exa_config exa_cfg = {
	.trace_fd = -1,
	.spin_ns = 50000,
};

struct exa_real exa_real;

#define EXA_REAL_OFF(fn)	offsetof(struct exa_real, fn)

static const struct {
	const char *name;
	size_t off;
} exa_real_names[] = {
	{ "socket", EXA_REAL_OFF(socket) },
	{ "bind", EXA_REAL_OFF(bind) },
	{ "connect", EXA_REAL_OFF(connect) },
	{ "close", EXA_REAL_OFF(close) },
	{ "dup", EXA_REAL_OFF(dup) },
	{ "dup2", EXA_REAL_OFF(dup2) },
	{ "dup3", EXA_REAL_OFF(dup3) },
	{ "fcntl", EXA_REAL_OFF(fcntl) },
	{ "ioctl", EXA_REAL_OFF(ioctl) },
	{ "setsockopt", EXA_REAL_OFF(setsockopt) },
	{ "getsockopt", EXA_REAL_OFF(getsockopt) },
	{ "accept", EXA_REAL_OFF(accept) },
	{ "accept4", EXA_REAL_OFF(accept4) },
	{ "socketpair", EXA_REAL_OFF(socketpair) },
	{ "send", EXA_REAL_OFF(send) },
	{ "sendto", EXA_REAL_OFF(sendto) },
	{ "sendmsg", EXA_REAL_OFF(sendmsg) },
	{ "sendmmsg", EXA_REAL_OFF(sendmmsg) },
	{ "recv", EXA_REAL_OFF(recv) },
	{ "recvfrom", EXA_REAL_OFF(recvfrom) },
	{ "recvmsg", EXA_REAL_OFF(recvmsg) },
	{ "recvmmsg", EXA_REAL_OFF(recvmmsg) },
	{ "read", EXA_REAL_OFF(read) },
	{ "readv", EXA_REAL_OFF(readv) },
	{ "poll", EXA_REAL_OFF(poll) },
	{ "ppoll", EXA_REAL_OFF(ppoll) },
	{ "select", EXA_REAL_OFF(select) },
	{ "pselect", EXA_REAL_OFF(pselect) },
	{ "epoll_create", EXA_REAL_OFF(epoll_create) },
	{ "epoll_create1", EXA_REAL_OFF(epoll_create1) },
	{ "epoll_ctl", EXA_REAL_OFF(epoll_ctl) },
	{ "epoll_wait", EXA_REAL_OFF(epoll_wait) },
	{ "epoll_pwait", EXA_REAL_OFF(epoll_pwait) },
	{ "epoll_pwait2", EXA_REAL_OFF(epoll_pwait2) },
	{ "close_range", EXA_REAL_OFF(close_range) },
	{ "closefrom", EXA_REAL_OFF(closefrom) },
	{ "__recv_chk", EXA_REAL_OFF(__recv_chk) },
	{ "__recvfrom_chk", EXA_REAL_OFF(__recvfrom_chk) },
	{ "__read_chk", EXA_REAL_OFF(__read_chk) },
	{ "__poll_chk", EXA_REAL_OFF(__poll_chk) },
	{ "__ppoll_chk", EXA_REAL_OFF(__ppoll_chk) },
	{ "sigaction", EXA_REAL_OFF(sigaction) },
};

void exa_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	exa_vline(STDERR_FILENO, "exasock: ", fmt, ap);
	va_end(ap);
}

void exa_assert_fail(const char *cond, const char *file, int line)
{
	exa_msg("assertion failed: %s (%s:%d)", cond, file, line);
	abort();
}

void *exa_resolve(const char *name, void **slot)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		exa_msg("cannot find %s in the C library", name);
		abort();
	}
	__atomic_store_n(slot, p, __ATOMIC_RELAXED);
	return p;
}

static int exa_env_on(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

static void exa_config_parse(void)
{
	const char *v;
	char *end;
	long long us;
	int fd, hi;

	exa_cfg.debug = exa_env_on("EXASOCK_DEBUG");
	exa_cfg.no_warn = exa_env_on("EXASOCK_NO_WARN");
	exa_cfg.no_auto = exa_env_on("EXASOCK_NO_AUTO");

	v = getenv("EXASOCK_SPIN_USEC");
	if (v && *v) {
		errno = 0;
		us = strtoll(v, &end, 10);
		if (errno || *end || us > LLONG_MAX / 1000)
			exa_msg("ignoring EXASOCK_SPIN_USEC=%s", v);
		else
			exa_cfg.spin_ns = us < 0 ? -1 : us * 1000;
	}

	if (exa_env_on("EXASOCK_TRACE")) {
		v = getenv("EXASOCK_TRACE_FILE");
		fd = STDOUT_FILENO;
		if (v && *v) {
			fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				  0644);
			if (fd < 0) {
				exa_msg("cannot open %s: %s", v,
					strerror(errno));
				fd = STDOUT_FILENO;
			} else {
				/* out of the way of the program's fds */
				hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 1000);
				if (hi >= 0) {
					REAL(close)(fd);
					fd = hi;
				}
			}
		}
		exa_cfg.trace_fd = fd;
	}
#ifdef EXASOCK_DEBUG_BUILD
	if (exa_cfg.debug)
		exa_msg("debug library, spin %lld ns%s%s", exa_cfg.spin_ns,
			exa_cfg.no_auto ? ", no-auto" : "",
			exa_cfg.trace_fd >= 0 ? ", tracing" : "");
#endif
}

void exa_config_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, exa_config_parse);
}

__attribute__((constructor))
static void exa_init(void)
{
	unsigned int i;
	void **slot;

	for (i = 0; i < EXA_ARRAY_SIZE(exa_real_names); i++) {
		slot = (void **)((char *)&exa_real + exa_real_names[i].off);
		if (!*slot)
			exa_resolve(exa_real_names[i].name, slot);
	}
	exa_fdtab_init();
	exa_config_init();
	pthread_atfork(exa_fork_prepare, exa_fork_parent, exa_fork_child);
}

static inline long exa_ret(long r)
{
	if (unlikely(r < 0)) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static int exa_is_inet(const struct sockaddr *sa, socklen_t len)
{
	return sa && len >= sizeof(struct sockaddr_in) &&
	       sa->sa_family == AF_INET;
}

/* A candidate that has not opted out (nor failed to opt in) */
static int exa_cand(uintptr_t ent)
{
	if (ent >= EXA_FD_PTR_MIN ||
	    (ent & EXA_FD_KIND_MASK) != EXA_FD_CAND || (ent & EXA_FDF_OPTOUT))
		return 0;
	return !exa_cfg.no_auto || (ent & EXA_FDF_OPTIN);
}

static void exa_mark_bound(int fd, uintptr_t ent)
{
	if (ent < EXA_FD_PTR_MIN &&
	    (ent & EXA_FD_KIND_MASK) == EXA_FD_CAND && !(ent & EXA_FDF_BOUND))
		exa_fd_cas_state(fd, ent, ent | EXA_FDF_BOUND);
}

/* ---- sockets: creation, bind, connect ----------------------------------- */

EXA_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = REAL(socket)(domain, type, protocol);
	int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	uintptr_t ent = EXA_FD_UNKNOWN;

	if (fd >= 0) {
		switch (domain) {
		case AF_INET:
			if (t == SOCK_DGRAM &&
			    (protocol == 0 || protocol == IPPROTO_UDP))
				ent = EXA_FD_CAND;
			else if (t == SOCK_STREAM &&
				 (protocol == 0 || protocol == IPPROTO_TCP))
				ent = EXA_FD_CAND | EXA_FDF_STREAM;
			else
				ent = EXA_FD_NATIVE;
			break;
		case AF_INET6:
		case AF_UNIX:
		case AF_NETLINK:
		case AF_PACKET:
			ent = EXA_FD_NATIVE;
			break;
		}
		/* a reused number may still carry a stale state */
		exa_fd_set(fd, ent);
	}
	EXA_TRACE(fd, "%s(%d, %#x, %d)", __func__, domain, type, protocol);
	return fd;
}

EXA_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int r = REAL(socketpair)(domain, type, protocol, sv);

	if (!r) {
		exa_fd_set(sv[0], EXA_FD_NATIVE);
		exa_fd_set(sv[1], EXA_FD_NATIVE);
	}
	EXA_TRACE(r, "%s(%d, %#x, %d, %p)", __func__, domain, type, protocol,
		  (void *)sv);
	return r;
}

EXA_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
	int r = REAL(accept)(fd, addr, alen);

	if (r >= 0)
		exa_fd_accepted(r, fd);
	EXA_TRACE(r, "%s(%d, %p, %p)", __func__, fd, (void *)addr,
		  (void *)alen);
	return r;
}

EXA_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen,
		       int flags)
{
	int r = REAL(accept4)(fd, addr, alen, flags);

	if (r >= 0)
		exa_fd_accepted(r, fd);
	EXA_TRACE(r, "%s(%d, %p, %p, %#x)", __func__, fd, (void *)addr,
		  (void *)alen, flags);
	return r;
}

EXA_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	uintptr_t ent = exa_fd_class(fd);
	long r = EXA_CONV_SKIPPED;

	if (unlikely(exa_cand(ent)) && !(ent & EXA_FDF_BOUND) &&
	    exa_is_inet(addr, len))
		r = exa_convert(fd, EXA_CONV_BIND, addr, len);
	if (r == EXA_CONV_SKIPPED) {
		r = REAL(bind)(fd, addr, len) ? -errno : 0;
		if (!r)
			exa_mark_bound(fd, ent);
	} else if (r > 0) {
		r = 0;
	}
	r = exa_ret(r);
	EXA_TRACE(r, "%s(%d, %s, %u)", __func__, fd, EXA_ADDR(addr, len),
		  (unsigned int)len);
	return r;
}

EXA_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	uintptr_t ent = exa_fd_class(fd);
	long r = EXA_CONV_SKIPPED;

	if (unlikely(exa_cand(ent)) && exa_is_inet(addr, len))
		r = exa_convert(fd, EXA_CONV_CONNECT, addr, len);
	if (r == EXA_CONV_SKIPPED) {
		r = REAL(connect)(fd, addr, len) ? -errno : 0;
		if (!r && exa_is_inet(addr, len))
			exa_mark_bound(fd, ent);
	} else if (r > 0) {
		r = 0;
	}
	r = exa_ret(r);
	EXA_TRACE(r, "%s(%d, %s, %u)", __func__, fd, EXA_ADDR(addr, len),
		  (unsigned int)len);
	return r;
}

/* ---- socket options ----------------------------------------------------- */

/* Is @fd a socket at all? 0 or -errno (ENOTSOCK, EBADF). */
static int exa_check_socket(int fd)
{
	socklen_t len = sizeof(int);
	int type;

	return REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &len) ?
	       -errno : 0;
}

/* SO_EXA_NO_ACCEL on a socket that is not (yet) an exasock socket. */
static int exa_set_no_accel(int fd, const void *optval, socklen_t optlen)
{
	uintptr_t ent, nent;
	int val = 0, err = 0;

	ent = exa_fd_class(fd);
	if (exa_ent_kind(ent) == EXA_FD_NATIVE) {
		/* never accelerated anyway; but errors as the kernel's */
		err = exa_check_socket(fd);
		if (err)
			return err;
	}
	if (exa_ent_kind(ent) != EXA_FD_KERNEL) {
		if (optlen < sizeof(int))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&val, optval, sizeof(val));
	}

	exa_lock_take();
	ent = exa_fd_class(fd);
	if (exa_ent_kind(ent) == EXA_FD_KERNEL) {
		err = 1;	/* an exasock socket: the kernel decides */
	} else if (exa_ent_kind(ent) != EXA_FD_CAND) {
		err = 0;
	} else if (val) {
		nent = (ent | EXA_FDF_OPTOUT) & ~(uintptr_t)EXA_FDF_OPTIN;
		exa_fd_cas_state(fd, ent, nent);
	} else if (ent & EXA_FDF_OPTOUT) {
		err = -EPERM;	/* opting out is for good */
	} else {
		exa_fd_cas_state(fd, ent, ent | EXA_FDF_OPTIN);
	}
	pthread_mutex_unlock(&exa_lock);
	if (err == 1)
		err = REAL(setsockopt)(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL,
				       optval, optlen) ? -errno : 0;
	return err;
}

static int exa_optval_int(const void *optval, socklen_t optlen)
{
	int val = 0;
	unsigned char c;

	if (!optval)
		return 0;
	if (optlen >= sizeof(int)) {
		memcpy(&val, optval, sizeof(val));
	} else if (optlen >= 1) {
		memcpy(&c, optval, 1);
		val = c;
	}
	return val;
}

static int exa_is_join(int level, int optname)
{
	return level == IPPROTO_IP &&
	       (optname == IP_ADD_MEMBERSHIP ||
		optname == IP_ADD_SOURCE_MEMBERSHIP ||
		optname == MCAST_JOIN_GROUP ||
		optname == MCAST_JOIN_SOURCE_GROUP);
}

/*
 * The socket filters act where the kernel's receive paths run them, on
 * the native twin; the kernel would attach them to the exasock socket,
 * which receives nothing itself. For SOL_SOCKET options; returns 1 for
 * any other.
 */
static long exa_set_twin_opt(int fd, int optname, const void *optval,
			     socklen_t optlen)
{
	struct exasock_sockopt o = {
		.level = SOL_SOCKET,
		.optname = (uint32_t)optname,
		.optval = (uintptr_t)optval,
		.optlen = optlen,
	};

	if ((optname != SO_ATTACH_FILTER && optname != SO_ATTACH_BPF &&
	     optname != SO_DETACH_FILTER && optname != SO_LOCK_FILTER) ||
	    exa_ent_kind(exa_fd_class(fd)) != EXA_FD_KERNEL)
		return 1;
	if (REAL(setsockopt)(fd, SOL_EXASOCK, SO_EXA_TWIN_SOCKOPT, &o,
			     sizeof(o))) {
		/* a module without the option: as before it, on the socket */
		if (errno == ENOPROTOOPT)
			return 1;
		return -errno;
	}
	/* so that getsockopt(SO_LOCK_FILTER) reads it back */
	if (optname == SO_LOCK_FILTER)
		REAL(setsockopt)(fd, SOL_SOCKET, optname, optval, optlen);
	return 0;
}

EXA_EXPORT int setsockopt(int fd, int level, int optname, const void *optval,
			  socklen_t optlen)
{
	unsigned int opts, nopts;
	struct exa_sock *s;
	uintptr_t ent;
	long r;

	if (unlikely(level == SOL_EXASOCK) && optname == SO_EXA_NO_ACCEL) {
		r = exa_set_no_accel(fd, optval, optlen);
		goto out;
	}
	if (unlikely(exa_is_join(level, optname))) {
		/* "A multicast socket is accelerated once it joins a group
		 * on an attached interface": join through the exasock
		 * socket, as bind and connect are done (a socket not bound
		 * yet is converted when it binds)
		 */
		ent = exa_fd_class(fd);
		r = EXA_CONV_SKIPPED;
		if (exa_cand(ent) && (ent & EXA_FDF_BOUND))
			r = exa_convert_join(fd, level, optname, optval,
					     optlen);
		if (r != EXA_CONV_SKIPPED) {
			r = r < 0 ? r : 0;
			goto out;
		}
	}
	if (unlikely(level == SOL_SOCKET)) {
		r = exa_set_twin_opt(fd, optname, optval, optlen);
		if (r != 1)
			goto out;
	}
	r = REAL(setsockopt)(fd, level, optname, optval, optlen) ? -errno : 0;
	if (r)
		goto out;

	ent = exa_fd_peek(fd);
	/* The kernel keeps SOL_SOCKET options on the exasock socket; the
	 * native twin needs some (keepalive, linger...) now.
	 */
	if (level == SOL_SOCKET && exa_ent_kind(ent) == EXA_FD_KERNEL)
		REAL(setsockopt)(fd, SOL_EXASOCK, SO_EXA_SYNC, &r, sizeof(r));
	if (exa_ent_is_sock(ent)) {
		s = exa_fd_sock(fd);
		if (!s)
			goto out;
		if (level == SOL_SOCKET &&
		    (optname == SO_RCVLOWAT || optname == SO_RCVTIMEO_OLD ||
		     optname == SO_RCVTIMEO_NEW))
			exa_query_rcv_opts(fd, s);
		opts = __atomic_load_n(&s->cmsg_opts, __ATOMIC_RELAXED);
		do {
			nopts = opts;
			if (!exa_cmsg_opt_update(&nopts, level, optname,
						 exa_optval_int(optval,
								optlen)))
				break;
		} while (!__atomic_compare_exchange_n(&s->cmsg_opts, &opts,
						      nopts, 0,
						      __ATOMIC_RELAXED,
						      __ATOMIC_RELAXED));
		exa_sock_put(s);
	}
out:
	r = exa_ret(r);
	EXA_TRACE(r, "%s(%d, %d, %d, %p, %u)", __func__, fd, level, optname,
		  optval, (unsigned int)optlen);
	return r;
}

/* SOL_EXASOCK options the library answers for a socket not converted. */
static int exa_get_exa_opt(int fd, int optname, void *optval,
			   socklen_t *optlen)
{
	uintptr_t ent = exa_fd_class(fd);
	unsigned int kind = exa_ent_kind(ent);
	int val, err, len;

	if (kind == EXA_FD_KERNEL ||
	    (optname != SO_EXA_NO_ACCEL && optname != SO_EXA_ACCELERATED))
		return 1;	/* the kernel answers */
	err = exa_check_socket(fd);
	if (err)
		return err;
	if (!optlen || !optval)
		return -EFAULT;
	memcpy(&len, optlen, sizeof(len));
	if (len < 0)
		return -EINVAL;

	val = 0;
	if (optname == SO_EXA_NO_ACCEL)
		val = kind != EXA_FD_CAND || (ent & EXA_FDF_OPTOUT) ||
		      (exa_cfg.no_auto && !(ent & EXA_FDF_OPTIN));
	if (len > (int)sizeof(int))
		len = sizeof(int);
	memcpy(optval, &val, len);
	*optlen = len;
	return 0;
}

/*
 * SO_GET_FILTER reads the filter the twin runs (exa_set_twin_opt()).
 * Returns 1 when the kernel should see the call as it is.
 */
static long exa_get_twin_opt(int fd, int optname, void *optval,
			     socklen_t *optlen)
{
	struct exasock_sockopt o = {
		.level = SOL_SOCKET,
		.optname = (uint32_t)optname,
		.optval = (uintptr_t)optval,
	};
	socklen_t len = sizeof(o);

	if (optname != SO_GET_FILTER || !optlen ||
	    exa_ent_kind(exa_fd_class(fd)) != EXA_FD_KERNEL)
		return 1;
	o.optlen = *optlen;
	if (REAL(getsockopt)(fd, SOL_EXASOCK, SO_EXA_TWIN_SOCKOPT, &o, &len))
		return errno == ENOPROTOOPT ? 1 : -errno;
	*optlen = o.optlen;
	return 0;
}

EXA_EXPORT int getsockopt(int fd, int level, int optname, void *optval,
			  socklen_t *optlen)
{
	long r = 1;

	if (unlikely(level == SOL_EXASOCK))
		r = exa_get_exa_opt(fd, optname, optval, optlen);
	else if (unlikely(level == SOL_SOCKET))
		r = exa_get_twin_opt(fd, optname, optval, optlen);
	if (r == 1)
		r = REAL(getsockopt)(fd, level, optname, optval, optlen) ?
		    -errno : 0;
	r = exa_ret(r);
	EXA_TRACE(r, "%s(%d, %d, %d, %p, %p)", __func__, fd, level, optname,
		  optval, (void *)optlen);
	return r;
}

/* ---- send --------------------------------------------------------------- */

/*
 * MSG_EXA_WARM on a socket that is not accelerated: Linux would send the
 * data for real, so do nothing and report it sent. Returns 1 when the
 * kernel should see the call instead (an exasock socket).
 */
static int exa_warm_native(int fd)
{
	return exa_ent_kind(exa_fd_class(fd)) != EXA_FD_KERNEL;
}

static size_t exa_iov_len(const struct msghdr *msg)
{
	size_t i, n = 0;

	for (i = 0; msg && i < msg->msg_iovlen; i++)
		n += msg->msg_iov[i].iov_len;
	return n;
}

/*
 * First send to an address from an unbound candidate: convert it now, with
 * the bind Linux would do implicitly. 0 to go on with the send, or -errno.
 */
static int exa_autobind(int fd, uintptr_t ent, const struct sockaddr *addr,
			socklen_t alen)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int r;

	if (likely(!exa_cand(ent)) || (ent & EXA_FDF_BOUND) ||
	    !exa_is_inet(addr, alen))
		return 0;
	/* bound where we could not see it (inherited, raw system call) */
	if (!getsockname(fd, (struct sockaddr *)&sin, &len) && sin.sin_port) {
		exa_mark_bound(fd, ent);
		return 0;
	}
	r = exa_convert(fd, EXA_CONV_AUTOBIND, NULL, 0);
	if (r == EXA_CONV_SKIPPED)
		exa_mark_bound(fd, ent);	/* the send will bind it */
	return r < 0 ? r : 0;
}

EXA_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t r;

	if (unlikely(flags & MSG_EXA_WARM) && exa_warm_native(fd))
		r = len;
	else
		r = REAL(send)(fd, buf, len, flags);
	EXA_TRACE(r, "%s(%d, %p, %zu, %#x)", __func__, fd, buf, len, flags);
	return r;
}

EXA_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *addr, socklen_t alen)
{
	ssize_t r;

	if (unlikely(flags & MSG_EXA_WARM) && exa_warm_native(fd)) {
		r = len;
		goto out;
	}
	r = exa_autobind(fd, exa_fd_class(fd), addr, alen);
	if (r)
		r = exa_ret(r);
	else
		r = REAL(sendto)(fd, buf, len, flags, addr, alen);
out:
	EXA_TRACE(r, "%s(%d, %p, %zu, %#x, %s, %u)", __func__, fd, buf, len,
		  flags, EXA_ADDR(addr, alen), (unsigned int)alen);
	return r;
}

EXA_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r;

	if (unlikely(flags & MSG_EXA_WARM) && exa_warm_native(fd)) {
		r = exa_iov_len(msg);
		goto out;
	}
	r = 0;
	if (msg)
		r = exa_autobind(fd, exa_fd_class(fd), msg->msg_name,
				 msg->msg_namelen);
	if (r)
		r = exa_ret(r);
	else
		r = REAL(sendmsg)(fd, msg, flags);
out:
	EXA_TRACE(r, "%s(%d, %p, %#x)", __func__, fd, (void *)msg, flags);
	return r;
}

EXA_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
			int flags)
{
	unsigned int i;
	int r;

	if (unlikely(flags & MSG_EXA_WARM) && exa_warm_native(fd)) {
		for (i = 0; i < vlen; i++)
			vec[i].msg_len = exa_iov_len(&vec[i].msg_hdr);
		r = vlen;
		goto out;
	}
	r = 0;
	if (vec && vlen)
		r = exa_autobind(fd, exa_fd_class(fd), vec[0].msg_hdr.msg_name,
				 vec[0].msg_hdr.msg_namelen);
	if (r)
		r = exa_ret(r);
	else
		r = REAL(sendmmsg)(fd, vec, vlen, flags);
out:
	EXA_TRACE(r, "%s(%d, %p, %u, %#x)", __func__, fd, (void *)vec, vlen,
		  flags);
	return r;
}

/* ---- receive ------------------------------------------------------------ */

static ssize_t exa_recv_one(int fd, struct exa_sock *s, struct iovec *iov,
			    int iovcnt, int flags, struct sockaddr *addr,
			    socklen_t *alen)
{
	struct msghdr msg;
	ssize_t r;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = iovcnt;
	if (addr) {
		msg.msg_name = addr;
		msg.msg_namelen = *alen;
	}
	r = exa_recvmsg_sock(fd, s, &msg, flags, -1);
	if (r >= 0 && addr)
		*alen = msg.msg_namelen;
	exa_sock_put(s);
	return r;
}

static ssize_t exa_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };
	struct exa_sock *s = exa_fd_sock(fd);
	ssize_t r;

	if (likely(!s))
		r = REAL(recv)(fd, buf, len, flags);
	else
		r = exa_ret(exa_recv_one(fd, s, &iov, 1, flags, NULL, NULL));
	EXA_TRACE(r, "recv(%d, %p, %zu, %#x)", fd, buf, len, flags);
	return r;
}

EXA_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return exa_recv(fd, buf, len, flags);
}

EXA_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			      int flags)
{
	if (len > buflen)
		return REAL(__recv_chk)(fd, buf, len, buflen, flags);
	return exa_recv(fd, buf, len, flags);
}

static ssize_t exa_recvfrom(int fd, void *buf, size_t len, int flags,
			    struct sockaddr *addr, socklen_t *alen)
{
	struct iovec iov = { buf, len };
	struct exa_sock *s = exa_fd_sock(fd);
	ssize_t r;

	if (likely(!s) || (addr && !alen)) {
		if (s)
			exa_sock_put(s);
		r = REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	} else {
		r = exa_ret(exa_recv_one(fd, s, &iov, 1, flags, addr, alen));
	}
	EXA_TRACE(r, "recvfrom(%d, %p, %zu, %#x, %s, %p)", fd, buf, len,
		  flags, r >= 0 && addr && alen ? EXA_ADDR(addr, *alen) :
		  addr ? "?" : "NULL", (void *)alen);
	return r;
}

EXA_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			    struct sockaddr *addr, socklen_t *alen)
{
	return exa_recvfrom(fd, buf, len, flags, addr, alen);
}

EXA_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				  size_t buflen, int flags,
				  struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		return REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, addr,
					    alen);
	return exa_recvfrom(fd, buf, len, flags, addr, alen);
}

EXA_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct exa_sock *s = exa_fd_sock(fd);
	ssize_t r;

	if (likely(!s) || !msg) {
		if (s)
			exa_sock_put(s);
		r = REAL(recvmsg)(fd, msg, flags);
	} else {
		r = exa_ret(exa_recvmsg_sock(fd, s, msg, flags, -1));
		exa_sock_put(s);
	}
	EXA_TRACE(r, "%s(%d, %p, %#x)", __func__, fd, (void *)msg, flags);
	return r;
}

EXA_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
			int flags, struct timespec *tmo)
{
	struct exa_sock *s = exa_fd_sock(fd);
	int r;

	if (likely(!s) || !vec) {
		if (s)
			exa_sock_put(s);
		r = REAL(recvmmsg)(fd, vec, vlen, flags, tmo);
	} else {
		r = exa_ret(exa_recvmmsg_sock(fd, s, vec, vlen, flags, tmo));
		exa_sock_put(s);
	}
	EXA_TRACE(r, "%s(%d, %p, %u, %#x, %p)", __func__, fd, (void *)vec, vlen,
		  flags, (void *)tmo);
	return r;
}

static ssize_t exa_read(int fd, void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	struct exa_sock *s = exa_fd_sock(fd);
	ssize_t r;

	if (likely(!s)) {
		r = REAL(read)(fd, buf, len);
	} else if (!len) {
		exa_sock_put(s);	/* as sock_read_iter(): no datagram */
		r = 0;
	} else {
		r = exa_ret(exa_recv_one(fd, s, &iov, 1, 0, NULL, NULL));
	}
	EXA_TRACE(r, "read(%d, %p, %zu)", fd, buf, len);
	return r;
}

EXA_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	return exa_read(fd, buf, len);
}

EXA_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		return REAL(__read_chk)(fd, buf, len, buflen);
	return exa_read(fd, buf, len);
}

EXA_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct exa_sock *s = exa_fd_sock(fd);
	size_t total = 0;
	ssize_t r;
	int i;

	if (likely(!s) || iovcnt < 0 || iovcnt > IOV_MAX) {
		if (s)
			exa_sock_put(s);
		r = REAL(readv)(fd, iov, iovcnt);
		goto out;
	}
	for (i = 0; i < iovcnt; i++)
		total |= iov[i].iov_len;
	if (!total) {
		exa_sock_put(s);
		r = 0;
		goto out;
	}
	r = exa_ret(exa_recv_one(fd, s, (struct iovec *)iov, iovcnt, 0, NULL,
				 NULL));
out:
	EXA_TRACE(r, "%s(%d, %p, %d)", __func__, fd, (void *)iov, iovcnt);
	return r;
}

/* ---- readiness ---------------------------------------------------------- */

static int exa_poll_ms(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts = {
		.tv_sec = timeout / 1000,
		.tv_nsec = (timeout % 1000) * 1000000L,
	};

	return exa_ret(exa_poll(fds, n, timeout < 0 ? NULL : &ts, NULL, 0));
}

EXA_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int r = exa_poll_ms(fds, n, timeout);

	EXA_TRACE(r, "%s(%p, %lu, %d)", __func__, (void *)fds, (unsigned long)n,
		  timeout);
	return r;
}

EXA_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout,
			  size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		return REAL(__poll_chk)(fds, n, timeout, fdslen);
	return poll(fds, n, timeout);
}

static int exa_valid_ts(const struct timespec *ts)
{
	return !ts || (ts->tv_sec >= 0 && ts->tv_nsec >= 0 &&
		       ts->tv_nsec < 1000000000L);
}

EXA_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		     const sigset_t *sigmask)
{
	int r;

	if (!exa_valid_ts(tmo))
		r = REAL(ppoll)(fds, n, tmo, sigmask);
	else
		r = exa_ret(exa_poll(fds, n, tmo, sigmask, 1));
	EXA_TRACE(r, "%s(%p, %lu, %p, %p)", __func__, (void *)fds,
		  (unsigned long)n, (void *)tmo, (void *)sigmask);
	return r;
}

EXA_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
			   const struct timespec *tmo, const sigset_t *ss,
			   size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		return REAL(__ppoll_chk)(fds, n, tmo, ss, fdslen);
	return ppoll(fds, n, tmo, ss);
}

EXA_EXPORT int select(int nfds, fd_set *rfds, fd_set *wfds, fd_set *efds,
		      struct timeval *tv)
{
	int r = exa_ret(exa_select(nfds, rfds, wfds, efds, tv, NULL, NULL,
				   0));

	EXA_TRACE(r, "%s(%d, %p, %p, %p, %p)", __func__, nfds, (void *)rfds,
		  (void *)wfds, (void *)efds, (void *)tv);
	return r;
}

EXA_EXPORT int pselect(int nfds, fd_set *rfds, fd_set *wfds, fd_set *efds,
		       const struct timespec *ts, const sigset_t *sigmask)
{
	int r;

	if (!exa_valid_ts(ts))
		r = REAL(pselect)(nfds, rfds, wfds, efds, ts, sigmask);
	else
		r = exa_ret(exa_select(nfds, rfds, wfds, efds, NULL, ts,
				       sigmask, 1));
	EXA_TRACE(r, "%s(%d, %p, %p, %p, %p, %p)", __func__, nfds, (void *)rfds,
		  (void *)wfds, (void *)efds, (void *)ts, (void *)sigmask);
	return r;
}

EXA_EXPORT int epoll_create(int size)
{
	int r = REAL(epoll_create)(size);

	if (r >= 0)
		exa_fd_set(r, EXA_FD_NATIVE);
	EXA_TRACE(r, "%s(%d)", __func__, size);
	return r;
}

EXA_EXPORT int epoll_create1(int flags)
{
	int r = REAL(epoll_create1)(flags);

	if (r >= 0)
		exa_fd_set(r, EXA_FD_NATIVE);
	EXA_TRACE(r, "%s(%#x)", __func__, flags);
	return r;
}

EXA_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct exa_epoll *ep;
	uintptr_t ent;
	int r;

	r = REAL(epoll_ctl)(epfd, op, fd, ev);
	if (!r) {
		ent = exa_fd_class(fd);
		ep = exa_epoll_get(epfd, 1);
		if (ep)
			exa_epoll_track(ep, op, fd, ev,
					exa_ent_is_sock(ent) || exa_cand(ent));
	}
	EXA_TRACE(r, "%s(%d, %d, %d, {%#x, %#llx})", __func__, epfd, op, fd,
		  ev ? ev->events : 0,
		  ev ? (unsigned long long)ev->data.u64 : 0ULL);
	return r;
}

static int64_t exa_ms_ns(int ms)
{
	return ms < 0 ? -1 : ms * 1000000LL;
}

EXA_EXPORT int epoll_wait(int epfd, struct epoll_event *events,
			  int maxevents, int timeout)
{
	int r = exa_ret(exa_epoll_wait(epfd, events, maxevents,
				       exa_ms_ns(timeout), NULL, EXA_EPW_WAIT));

	EXA_TRACE(r, "%s(%d, %p, %d, %d)", __func__, epfd, (void *)events,
		  maxevents, timeout);
	return r;
}

EXA_EXPORT int epoll_pwait(int epfd, struct epoll_event *events,
			   int maxevents, int timeout, const sigset_t *ss)
{
	int r = exa_ret(exa_epoll_wait(epfd, events, maxevents,
				       exa_ms_ns(timeout), ss,
				       EXA_EPW_PWAIT));

	EXA_TRACE(r, "%s(%d, %p, %d, %d, %p)", __func__, epfd, (void *)events,
		  maxevents, timeout, (void *)ss);
	return r;
}

EXA_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events,
			    int maxevents, const struct timespec *tmo,
			    const sigset_t *ss)
{
	int r;

	if (!exa_valid_ts(tmo))
		r = REAL(epoll_pwait2)(epfd, events, maxevents, tmo, ss);
	else
		r = exa_ret(exa_epoll_wait(epfd, events, maxevents,
					   tmo ? exa_ts_ns(tmo) : -1, ss,
					   EXA_EPW_PWAIT2));
	EXA_TRACE(r, "%s(%d, %p, %d, %p, %p)", __func__, epfd, (void *)events,
		  maxevents, (void *)tmo, (void *)ss);
	return r;
}

/* ---- descriptors -------------------------------------------------------- */

EXA_EXPORT int close(int fd)
{
	uintptr_t set;
	int r;

	set = exa_fd_closing(fd);
	r = REAL(close)(fd);
	exa_fd_closed(fd, set);
	EXA_TRACE(r, "%s(%d)", __func__, fd);
	return r;
}

EXA_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	int r = REAL(close_range)(lo, hi, flags);

	if (!r && !(flags & CLOSE_RANGE_CLOEXEC) && lo <= hi)
		exa_fd_forget_range(lo, hi);
	EXA_TRACE(r, "%s(%u, %u, %#x)", __func__, lo, hi, flags);
	return r;
}

EXA_EXPORT void closefrom(int lo)
{
	REAL(closefrom)(lo);
	if (lo >= 0)
		exa_fd_forget_range(lo, UINT_MAX);
	if (EXA_TRACE_ON())
		exa_trace("%s(%d)", __func__, lo);
}

EXA_EXPORT int dup(int fd)
{
	int r = REAL(dup)(fd);

	if (r >= 0)
		exa_fd_dup(fd, r);
	EXA_TRACE(r, "%s(%d)", __func__, fd);
	return r;
}

EXA_EXPORT int dup2(int oldfd, int newfd)
{
	int r = REAL(dup2)(oldfd, newfd);

	if (r >= 0 && oldfd != newfd)
		exa_fd_dup(oldfd, newfd);
	EXA_TRACE(r, "%s(%d, %d)", __func__, oldfd, newfd);
	return r;
}

EXA_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int r = REAL(dup3)(oldfd, newfd, flags);

	if (r >= 0)
		exa_fd_dup(oldfd, newfd);
	EXA_TRACE(r, "%s(%d, %d, %#x)", __func__, oldfd, newfd, flags);
	return r;
}

/* O_NONBLOCK changed on an accelerated socket's open file */
static void exa_set_nonblock(int fd, int on)
{
	struct exa_sock *s;

	if (likely(!exa_ent_is_sock(exa_fd_peek(fd))))
		return;
	s = exa_fd_sock(fd);
	if (s) {
		__atomic_store_n(&s->nonblock, on, __ATOMIC_RELAXED);
		exa_sock_put(s);
	}
}

EXA_EXPORT int fcntl(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;
	int r;

	/* as glibc: whatever the command, one pointer-sized argument */
	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);

	r = REAL(fcntl)(fd, cmd, arg);
	if (r >= 0) {
		switch (cmd) {
		case F_DUPFD:
		case F_DUPFD_CLOEXEC:
			exa_fd_dup(fd, r);
			break;
		case F_SETFL:
			exa_set_nonblock(fd, !!(arg & O_NONBLOCK));
			break;
		}
	}
	EXA_TRACE(r, "%s(%d, %d, %#lx)", __func__, fd, cmd, arg);
	return r;
}

EXA_EXPORT int fcntl64(int fd, int cmd, ...) __alias(fcntl);

EXA_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);

	r = REAL(ioctl)(fd, req, arg);
	if (!r && req == FIONBIO && arg)
		exa_set_nonblock(fd, !!*(int *)arg);
	EXA_TRACE(r, "%s(%d, %#lx, %p)", __func__, fd, req, arg);
	return r;
}
