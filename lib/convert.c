// SPDX-License-Identifier: GPL-2.0
/*
 * Converting a program's AF_INET UDP socket into an exasock socket, as in
 * "Life of an accelerated socket" (Documentation/architecture.rst):
 *
 *   s = socket(AF_EXASOCK); setsockopt(s, SO_EXA_ADOPT, fd);
 *   bind(s) or connect(s)        the kernel does it on the twin (fd's
 *                                socket), so its error is the real one
 *   getsockopt(s, SO_EXA_ACCELERATED)
 *     0: close(s)                fd stays native, already bound/connected
 *     1: dup3(s, fd); close(s)   fd is now the exasock socket; map ring
 *
 * Conversions are serialised by exa_lock.
 */
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <netinet/tcp.h>
#include "internal.h"

#define EXA_FAMILY_ABSENT	(-1)

static int exa_family;		/* 0: not looked up yet; under exa_lock */

/* The module parameter "family" may have moved the family number. */
static int exa_family_get(void)
{
	char buf[16];
	ssize_t n;
	int fd, f;

	if (exa_family)
		return exa_family;
	exa_family = AF_EXASOCK;
	fd = open("/sys/module/exasock/parameters/family",
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return exa_family;
	n = REAL(read)(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (n > 0) {
		buf[n] = '\0';
		f = atoi(buf);
		if (f > 0 && f < 256)
			exa_family = f;
	}
	return exa_family;
}

static void exa_warn_absent(void)
{
	static int warned;

	if (warned || exa_cfg.no_warn || getenv("EXASOCK_LAUNCHER_WARNED"))
		return;
	warned = 1;
	exa_msg("warning: the exasock kernel module is not loaded; sockets stay native");
}

/* Options whose control messages the ring path cannot build. */
static const struct {
	int level, name;
} exa_cmsg_other[] = {
	{ IPPROTO_IP, IP_RECVTTL },
	{ IPPROTO_IP, IP_RECVTOS },
	{ IPPROTO_IP, IP_RECVOPTS },
	{ IPPROTO_IP, IP_RETOPTS },
	{ IPPROTO_IP, IP_RECVORIGDSTADDR },
	{ IPPROTO_IP, IP_CHECKSUM },
	{ IPPROTO_IP, IP_RECVFRAGSIZE },
	{ IPPROTO_IP, IP_PASSSEC },
	{ SOL_SOCKET, SO_TIMESTAMPING_OLD },
	{ SOL_SOCKET, SO_TIMESTAMP_NEW },
	{ SOL_SOCKET, SO_TIMESTAMPNS_NEW },
	{ SOL_SOCKET, SO_TIMESTAMPING_NEW },
	{ SOL_SOCKET, SO_RXQ_OVFL },
	{ SOL_SOCKET, SO_RCVMARK },
	{ SOL_SOCKET, SO_PASSSEC },
	{ IPPROTO_UDP, UDP_GRO },
	{ IPPROTO_TCP, TCP_INQ },
};

/**
 * exa_cmsg_opt_update - follow a setsockopt() that changes which control
 * messages recvmsg() returns
 *
 * Return: 1 if the option is one of those (and *@opts was updated), else 0.
 */
int exa_cmsg_opt_update(unsigned int *opts, int level, int optname, int val)
{
	unsigned int i;

	if (level == IPPROTO_IP && optname == IP_PKTINFO) {
		if (val)
			*opts |= EXA_CMSG_PKTINFO;
		else
			*opts &= ~EXA_CMSG_PKTINFO;
		return 1;
	}
	/* As in sock_set_timestamp(): the last one set wins. */
	if (level == SOL_SOCKET && (optname == SO_TIMESTAMP_OLD ||
				    optname == SO_TIMESTAMPNS_OLD)) {
		*opts &= ~(EXA_CMSG_TIMESTAMP | EXA_CMSG_TIMESTAMPNS);
		if (val)
			*opts |= optname == SO_TIMESTAMP_OLD ?
				 EXA_CMSG_TIMESTAMP : EXA_CMSG_TIMESTAMPNS;
		return 1;
	}
	for (i = 0; i < EXA_ARRAY_SIZE(exa_cmsg_other); i++) {
		if (exa_cmsg_other[i].level == level &&
		    exa_cmsg_other[i].name == optname) {
			/* never cleared: being wrong only costs speed */
			if (val)
				*opts |= EXA_CMSG_OTHER;
			return 1;
		}
	}
	return 0;
}

static int exa_getsockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (REAL(getsockopt)(fd, level, name, &val, &len))
		return 0;
	return val;
}

/* Which control messages the socket at @fd asks for. Keeps errno. */
unsigned int exa_query_cmsg_opts(int fd)
{
	unsigned int opts = 0, i;
	int saved = errno;

	exa_cmsg_opt_update(&opts, IPPROTO_IP, IP_PKTINFO,
			    exa_getsockopt_int(fd, IPPROTO_IP, IP_PKTINFO));
	if (exa_getsockopt_int(fd, SOL_SOCKET, SO_TIMESTAMP_OLD))
		opts |= EXA_CMSG_TIMESTAMP;
	if (exa_getsockopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS_OLD))
		opts |= EXA_CMSG_TIMESTAMPNS;
	for (i = 0; i < EXA_ARRAY_SIZE(exa_cmsg_other); i++)
		if (exa_getsockopt_int(fd, exa_cmsg_other[i].level,
				       exa_cmsg_other[i].name))
			opts |= EXA_CMSG_OTHER;
	errno = saved;
	return opts;
}

/*
 * SO_RCVLOWAT and SO_RCVTIMEO of the socket at @fd into @s: receives
 * served from the ring honour them as the kernel's would. Keeps errno.
 */
void exa_query_rcv_opts(int fd, struct exa_sock *s)
{
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);
	struct timespec ts = { 0 };
	int saved = errno, lowat;

	lowat = exa_getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT);
	__atomic_store_n(&s->rcvlowat, lowat > 1 ? lowat : 1,
			 __ATOMIC_RELAXED);
	if (!REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) &&
	    len == sizeof(tv) && tv.tv_sec >= 0 && tv.tv_usec >= 0) {
		ts.tv_sec = tv.tv_sec;
		ts.tv_nsec = tv.tv_usec * 1000L;
	}
	__atomic_store_n(&s->rcvtimeo_ns, exa_ts_ns(&ts), __ATOMIC_RELAXED);
	errno = saved;
}

/* May @op convert a socket in state @ent? */
static int exa_convertible(uintptr_t ent, enum exa_conv_op op)
{
	if (exa_ent_kind(ent) != EXA_FD_CAND || ent >= EXA_FD_PTR_MIN)
		return 0;
	if (ent & EXA_FDF_OPTOUT)
		return 0;
	if (exa_cfg.no_auto && !(ent & EXA_FDF_OPTIN))
		return 0;
	if ((ent & EXA_FDF_STREAM) &&
	    (op == EXA_CONV_AUTOBIND || op == EXA_CONV_JOIN))
		return 0;
	switch (op) {
	case EXA_CONV_BIND:
	case EXA_CONV_AUTOBIND:
		return !(ent & EXA_FDF_BOUND);
	case EXA_CONV_CONNECT:
		return 1;
	case EXA_CONV_JOIN:
		return !!(ent & EXA_FDF_BOUND);
	}
	return 0;
}

/* The operation during which a socket is converted. */
struct exa_conv {
	enum exa_conv_op op;
	const struct sockaddr *addr;	/* bind, connect */
	socklen_t len;
	int level;			/* join: the setsockopt() */
	int optname;
	const void *optval;
	socklen_t optlen;
};

/* Map the ring of the exasock socket now at @fd, in table state @ent. */
static void exa_install_map(int fd, uintptr_t ent, int nonblock,
			    unsigned int cmsg_opts)
{
	struct exa_sock *sock;
	int err;

	err = exa_sock_map(fd, nonblock, cmsg_opts, &sock);
	if (err) {
		exa_fd_cas_state(fd, ent, EXA_FD_KERNEL);
		exa_msg("fd %d: accelerated, but its ring cannot be mapped (%s); using system calls",
			fd, strerror(-err));
		return;
	}
	if (!exa_fd_cas_state(fd, ent, (uintptr_t)sock)) {
		/* closed under our feet by another thread */
		exa_sock_put(sock);
		return;
	}
	if (exa_cfg.debug)
		exa_msg("enabled bypass on fd %d", fd);
}

/*
 * Signal-driven I/O belongs to the open file: its owner (F_SETOWN), its
 * signal (F_SETSIG) and O_ASYNC go from @fd's file to @s's.
 */
static void exa_copy_async(int fd, int s, int fl)
{
	struct f_owner_ex own = { 0 };
	int sig;

	if (!REAL(fcntl)(fd, F_GETOWN_EX, &own) && own.pid)
		REAL(fcntl)(s, F_SETOWN_EX, &own);
	if (!(fl & O_ASYNC))
		return;
	sig = REAL(fcntl)(fd, F_GETSIG);
	if (sig > 0)
		REAL(fcntl)(s, F_SETSIG, sig);
	REAL(fcntl)(s, F_SETFL, REAL(fcntl)(s, F_GETFL) | O_ASYNC);
}

/*
 * Put the exasock socket @s in place of @fd's file and, with @map, map
 * its ring; without, leave @fd in state EXA_FD_KERNEL. Return: 0, or -1
 * when @fd keeps its own file.
 */
static int exa_install(int fd, int s, uintptr_t ent, int map)
{
	struct exa_ep_ent saved[16];
	unsigned int cmsg_opts;
	int epfds[16], nep;
	int fl, fdfl, err;

	cmsg_opts = exa_query_cmsg_opts(fd);
	fl = REAL(fcntl)(fd, F_GETFL);
	fdfl = REAL(fcntl)(fd, F_GETFD);
	if (fl >= 0 && (fl & O_NONBLOCK))
		REAL(fcntl)(s, F_SETFL, REAL(fcntl)(s, F_GETFL) | O_NONBLOCK);
	if (fl >= 0)
		exa_copy_async(fd, s, fl);

	nep = exa_epoll_detach(fd, saved, epfds, EXA_ARRAY_SIZE(saved));
	if (REAL(dup3)(s, fd, fdfl > 0 && (fdfl & FD_CLOEXEC) ?
		       O_CLOEXEC : 0) < 0) {
		/* fd keeps the twin, already bound or connected */
		err = errno;
		exa_epoll_attach(fd, saved, epfds, nep);
		REAL(close)(s);
		exa_fd_cas_state(fd, ent, ent | EXA_FDF_BOUND);
		if (exa_cfg.debug)
			exa_msg("fd %d stays native: dup3: %s", fd,
				strerror(err));
		return -1;
	}
	REAL(close)(s);
	exa_epoll_attach(fd, saved, epfds, nep);

	if (map)
		exa_install_map(fd, ent, fl >= 0 && (fl & O_NONBLOCK), cmsg_opts);
	else
		exa_fd_cas_state(fd, ent, EXA_FD_KERNEL);
	return 0;
}

/*
 * A TCP connect through an attached interface: the exasock socket takes
 * @fd's place first, and the connect (which may take a round trip, or
 * minutes) runs on it without exa_lock. The kernel accelerates the
 * socket as the connect starts; the ring is mapped once it has.
 */
static int exa_connect_stream(int fd, int s, uintptr_t ent,
			      const struct exa_conv *c)
{
	int err, fl;

	if (exa_install(fd, s, ent, 0)) {
		pthread_mutex_unlock(&exa_lock);
		return EXA_CONV_SKIPPED;
	}
	pthread_mutex_unlock(&exa_lock);

	err = REAL(connect)(fd, c->addr, c->len) ? -errno : 0;
	if (err && err != -EINPROGRESS)
		return err;

	exa_lock_take();
	if (exa_fd_peek(fd) == EXA_FD_KERNEL) {
		fl = REAL(fcntl)(fd, F_GETFL);
		exa_install_map(fd, EXA_FD_KERNEL, fl >= 0 && (fl & O_NONBLOCK),
				0);
	}
	pthread_mutex_unlock(&exa_lock);
	return err ? err : EXA_CONV_ACCEL;
}

/*
 * Would a connect to @addr from the twin adopted by @s be accelerated?
 * (The rules' "connected through an attached interface".)
 */
static int exa_route_attached(int s, const struct sockaddr *addr)
{
	union {
		struct sockaddr_in sin;
		int val;
	} q;
	socklen_t len = sizeof(q.sin);

	memcpy(&q.sin, addr, sizeof(q.sin));
	if (REAL(getsockopt)(s, SOL_EXASOCK, SO_EXA_ROUTE, &q, &len))
		return 0;
	return q.val;
}


/*
 * Return: EXA_CONV_ACCEL or EXA_CONV_NATIVE when the operation has been
 * done, EXA_CONV_SKIPPED when nothing was tried (the caller does it), or
 * the -errno of the operation, which failed. Keeps errno.
 */
static int exa_do_convert(int fd, const struct exa_conv *c)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	int saved = errno, ret = EXA_CONV_SKIPPED;
	enum exa_conv_op op = c->op;
	socklen_t alen = sizeof(int);
	int s, acc = 0, err;
	uintptr_t ent;

	exa_config_init();
	exa_lock_take();
	ent = exa_fd_peek(fd);
	if (!exa_convertible(ent, op) || exa_family == EXA_FAMILY_ABSENT)
		goto unlock;

	s = REAL(socket)(exa_family_get(),
			 ((ent & EXA_FDF_STREAM) ? SOCK_STREAM : SOCK_DGRAM) |
			 SOCK_CLOEXEC, 0);
	if (s < 0) {
		if (errno == EAFNOSUPPORT) {
			exa_family = EXA_FAMILY_ABSENT;
			exa_warn_absent();
		} else if (exa_cfg.debug) {
			exa_msg("fd %d stays native: socket: %s", fd,
				strerror(errno));
		}
		goto unlock;
	}
	if (REAL(setsockopt)(s, SOL_EXASOCK, SO_EXA_ADOPT, &fd, sizeof(fd))) {
		if (exa_cfg.debug)
			exa_msg("fd %d stays native: SO_EXA_ADOPT: %s", fd,
				strerror(errno));
		goto close_s;
	}

	if ((ent & EXA_FDF_STREAM) && op == EXA_CONV_CONNECT) {
		if (!exa_route_attached(s, c->addr)) {
			if (exa_cfg.debug)
				exa_msg("fd %d stays native: not on an accelerated interface",
					fd);
			goto close_s;	/* SKIPPED: connected natively */
		}
		ret = exa_connect_stream(fd, s, ent, c);
		errno = saved;
		return ret;
	}

	switch (op) {
	case EXA_CONV_BIND:
		err = REAL(bind)(s, c->addr, c->len);
		break;
	case EXA_CONV_CONNECT:
		err = REAL(connect)(s, c->addr, c->len);
		break;
	case EXA_CONV_AUTOBIND:
		err = REAL(bind)(s, (struct sockaddr *)&any, sizeof(any));
		break;
	case EXA_CONV_JOIN:
		err = REAL(setsockopt)(s, c->level, c->optname, c->optval,
				       c->optlen);
		break;
	default:
		err = 0;
		break;
	}
	if (err) {
		/* done on the twin, so this is the program's real error */
		ret = -errno;
		goto close_s;
	}

	if (REAL(getsockopt)(s, SOL_EXASOCK, SO_EXA_ACCELERATED, &acc, &alen))
		acc = 0;
	if (!acc) {
		if (exa_cfg.debug && op != EXA_CONV_JOIN)
			exa_msg("fd %d stays native: not on an accelerated interface",
				fd);
		exa_fd_cas_state(fd, ent, ent | EXA_FDF_BOUND);
		ret = EXA_CONV_NATIVE;
		goto close_s;
	}

	exa_install(fd, s, ent, 1);
	ret = EXA_CONV_ACCEL;
	goto unlock;

close_s:
	REAL(close)(s);
unlock:
	pthread_mutex_unlock(&exa_lock);
	errno = saved;
	return ret;
}

/**
 * exa_convert - try to move @fd onto an exasock socket while doing @op
 * @addr, @len: the bind or connect address (AF_INET); unused for
 *	EXA_CONV_AUTOBIND (INADDR_ANY:0)
 *
 * Return: EXA_CONV_ACCEL or EXA_CONV_NATIVE when @op has been done,
 * EXA_CONV_SKIPPED when nothing was tried (the caller performs @op), or
 * the -errno of @op, which failed. Keeps errno.
 */
int exa_convert(int fd, enum exa_conv_op op, const struct sockaddr *addr,
		socklen_t len)
{
	struct exa_conv c = { .op = op, .addr = addr, .len = len };

	return exa_do_convert(fd, &c);
}

/**
 * exa_convert_join - the same for a multicast join (setsockopt) of a bound
 * socket: the kernel accelerates a socket once it is a member of a group
 * on an attached interface.
 */
int exa_convert_join(int fd, int level, int optname, const void *optval,
		     socklen_t optlen)
{
	struct exa_conv c = {
		.op = EXA_CONV_JOIN,
		.level = level,
		.optname = optname,
		.optval = optval,
		.optlen = optlen,
	};

	return exa_do_convert(fd, &c);
}
