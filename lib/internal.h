/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libexasock internals, one section per file.
 *
 * Convention: internal functions return a value >= 0 or -errno and leave
 * errno alone where they can; only the libc-facing shims in shim.c set
 * errno (exa_ret()).
 */
#ifndef EXASOCK_LIB_INTERNAL_H
#define EXASOCK_LIB_INTERNAL_H

#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/exasock.h>
#include "ring.h"

#define EXA_EXPORT	__attribute__((visibility("default")))
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))
#define __maybe_unused	__attribute__((unused))
#define __alias(sym)	__attribute__((alias(#sym)))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define EXA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifdef EXASOCK_DEBUG_BUILD
#define EXA_ASSERT(cond)						\
	do {								\
		if (unlikely(!(cond)))					\
			exa_assert_fail(#cond, __FILE__, __LINE__);	\
	} while (0)
#else
#define EXA_ASSERT(cond)	do { } while (0)
#endif

static inline void exa_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- shim.c: configuration, real libc functions, messages -------------- */

struct exa_config {
	int debug;		/* EXASOCK_DEBUG: report conversions */
	int no_warn;		/* EXASOCK_NO_WARN */
	int no_auto;		/* EXASOCK_NO_AUTO: convert only on opt-in */
	int trace_fd;		/* EXASOCK_TRACE: -1 off */
	long long spin_ns;	/* EXASOCK_SPIN_USEC in ns, -1 forever */
};

extern struct exa_config exa_cfg;

void exa_config_init(void);
void exa_msg(const char *fmt, ...) __printf(1, 2);
void exa_vline(int fd, const char *prefix, const char *fmt, va_list ap);
void exa_assert_fail(const char *cond, const char *file, int line)
	__noreturn;

/* declarations of the glibc functions not in its headers */
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		const sigset_t *ss, size_t fdslen);

/* The libc functions we interpose, resolved with RTLD_NEXT by the
 * constructor, or on first use if someone calls us before it ran (REAL()
 * does the check). The list of names is exa_real_names[] in shim.c.
 */
struct exa_real {
	__typeof__(socket) *socket;
	__typeof__(bind) *bind;
	__typeof__(connect) *connect;
	__typeof__(close) *close;
	__typeof__(dup) *dup;
	__typeof__(dup2) *dup2;
	__typeof__(dup3) *dup3;
	__typeof__(fcntl) *fcntl;
	__typeof__(ioctl) *ioctl;
	__typeof__(setsockopt) *setsockopt;
	__typeof__(getsockopt) *getsockopt;
	__typeof__(accept) *accept;
	__typeof__(accept4) *accept4;
	__typeof__(socketpair) *socketpair;
	__typeof__(send) *send;
	__typeof__(sendto) *sendto;
	__typeof__(sendmsg) *sendmsg;
	__typeof__(sendmmsg) *sendmmsg;
	__typeof__(recv) *recv;
	__typeof__(recvfrom) *recvfrom;
	__typeof__(recvmsg) *recvmsg;
	__typeof__(recvmmsg) *recvmmsg;
	__typeof__(read) *read;
	__typeof__(readv) *readv;
	__typeof__(poll) *poll;
	__typeof__(ppoll) *ppoll;
	__typeof__(select) *select;
	__typeof__(pselect) *pselect;
	__typeof__(epoll_create) *epoll_create;
	__typeof__(epoll_create1) *epoll_create1;
	__typeof__(epoll_ctl) *epoll_ctl;
	__typeof__(epoll_wait) *epoll_wait;
	__typeof__(epoll_pwait) *epoll_pwait;
	__typeof__(epoll_pwait2) *epoll_pwait2;
	__typeof__(close_range) *close_range;
	__typeof__(closefrom) *closefrom;
	__typeof__(__recv_chk) *__recv_chk;
	__typeof__(__recvfrom_chk) *__recvfrom_chk;
	__typeof__(__read_chk) *__read_chk;
	__typeof__(__poll_chk) *__poll_chk;
	__typeof__(__ppoll_chk) *__ppoll_chk;
	__typeof__(sigaction) *sigaction;
};

extern struct exa_real exa_real;

void *exa_resolve(const char *name, void **slot);

#define REAL(fn)							\
	(likely(exa_real.fn != NULL) ? exa_real.fn :			\
	 (__typeof__(exa_real.fn))exa_resolve(#fn, (void **)&exa_real.fn))

/* ---- time and spinning ------------------------------------------------- */

static inline int64_t exa_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A valid timespec in ns; "for ever" (centuries) does not overflow. */
static inline int64_t exa_ts_ns(const struct timespec *ts)
{
	if (ts->tv_sec >= INT64_MAX / 4000000000LL)
		return INT64_MAX / 4;
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/*
 * A bounded busy-wait: exa_spin_more() is true until EXASOCK_SPIN_USEC
 * (or the caller's deadline, whichever is first) has passed. The clock is
 * read only every 64 rounds.
 */
struct exa_spin {
	int64_t end_ns;
	unsigned int iter;
	int forever;
	int none;
	int restart;		/* SA_RESTART handlers do not interrupt */
	int intr;		/* stopped by a signal handler: -EINTR */
	unsigned int sig_any;
	unsigned int sig_intr;
};

/* signal.c: signal handlers run on this thread (without SA_RESTART) */
extern __thread unsigned int exa_sig_any
	__attribute__((tls_model("initial-exec")));
extern __thread unsigned int exa_sig_intr
	__attribute__((tls_model("initial-exec")));
/* signal.c: the program's signal handlers running on this thread now */
extern __thread unsigned int exa_sig_depth
	__attribute__((tls_model("initial-exec")));
void exa_sig_fork_child(void);

/*
 * Take @m; in a signal handler only try, since the thread the handler
 * interrupted may hold it (close() and sigaction() are async-signal-safe,
 * and take library locks). Return: 0 when locked, else EBUSY.
 */
static inline int exa_lock_or_try(pthread_mutex_t *m)
{
	if (unlikely(exa_sig_depth))
		return pthread_mutex_trylock(m);
	return pthread_mutex_lock(m);
}

/*
 * @deadline_ns: absolute CLOCK_MONOTONIC limit, or -1 for none
 * @restart: the call is restarted after an SA_RESTART handler (recv),
 *	rather than interrupted (poll, select, epoll_wait)
 */
static inline void exa_spin_init(struct exa_spin *sp, int64_t deadline_ns,
				 int restart)
{
	sp->iter = 0;
	sp->none = 0;
	sp->end_ns = 0;
	sp->intr = 0;
	sp->restart = restart;
	sp->sig_any = exa_sig_any;
	sp->sig_intr = exa_sig_intr;
	sp->forever = exa_cfg.spin_ns < 0 && deadline_ns < 0;
	if (sp->forever)
		return;
	if (exa_cfg.spin_ns < 0) {
		sp->end_ns = deadline_ns;
	} else {
		if (exa_cfg.spin_ns == 0) {
			sp->none = 1;
			return;
		}
		sp->end_ns = exa_now_ns() + exa_cfg.spin_ns;
		if (deadline_ns >= 0 && deadline_ns < sp->end_ns)
			sp->end_ns = deadline_ns;
	}
}

static inline int exa_spin_more(struct exa_spin *sp)
{
	if (sp->none)
		return 0;
	if (unlikely(exa_sig_intr != sp->sig_intr ||
		     (!sp->restart && exa_sig_any != sp->sig_any))) {
		sp->intr = 1;
		return 0;
	}
	exa_cpu_relax();
	if (++sp->iter & 63)
		return 1;
	/* every call that spins is a cancellation point (the references
	 * the caller holds on sockets are then lost: memory, not safety)
	 */
	pthread_testcancel();
	return sp->forever || exa_now_ns() < sp->end_ns;
}

/* ---- fdtab.c: what we know about each descriptor ------------------------
 *
 * One word per fd, read without locks:
 *   < EXA_FD_PTR_MIN   a state (EXA_FD_* kind plus EXA_FDF_* flags)
 *   pointer, bit 0 = 0 struct exa_sock *   (accelerated, ring mapped)
 *   pointer, bit 0 = 1 struct exa_epoll *  (an epoll fd we track)
 * Changes happen under exa_lock (except close() of untracked fds, which
 * is a single exchange).
 */
#define EXA_FD_UNKNOWN		0U	/* not looked at yet */
#define EXA_FD_NATIVE		1U	/* never ours (not AF_INET UDP/TCP) */
#define EXA_FD_CAND		2U	/* AF_INET UDP or TCP, not converted */
#define EXA_FD_KERNEL		3U	/* exasock socket, no mapping */
#define EXA_FD_KIND_MASK	3U
#define EXA_FDF_BOUND		(1U << 2) /* CAND: bound (natively) */
#define EXA_FDF_OPTOUT		(1U << 3) /* CAND: SO_EXA_NO_ACCEL=1 */
#define EXA_FDF_OPTIN		(1U << 4) /* CAND: SO_EXA_NO_ACCEL=0 */
#define EXA_FDF_STREAM		(1U << 5) /* CAND: TCP, not UDP */
#define EXA_FD_PTR_MIN		4096U

#define EXA_FDTAB_CHUNK		1024
#define EXA_FDTAB_CHUNKS	1024	/* fds beyond 1M stay native */
#define EXA_FD_MAX		(EXA_FDTAB_CHUNK * EXA_FDTAB_CHUNKS)

struct exa_sock {
	struct exa_ring ring;
	int nonblock;			/* O_NONBLOCK as we last knew it */
	unsigned int cmsg_opts;		/* EXA_CMSG_* */
	int rcvlowat;			/* SO_RCVLOWAT, as we last knew it */
	int64_t rcvtimeo_ns;		/* SO_RCVTIMEO (0: none), as well */
	int refs;			/* table entries + users in flight */
	void *ring_map;
	size_t ring_len;
	void *user_map;
	size_t user_len;
	struct exa_sock *free_next;
};

struct exa_ep_ent {
	int fd;
	uint32_t events;
	uint64_t data;
};

struct exa_epoll {
	pthread_mutex_t lock;
	int epfd;
	unsigned int n, cap;
	struct exa_ep_ent *ents;	/* candidate and accelerated fds */
	int nother;			/* registrations of other fds */
	struct exa_epoll *next;		/* exa_epolls, under exa_lock */
};

extern pthread_mutex_t exa_lock;
void exa_lock_take(void);

/* fdtab.c: bookkeeping a close() in a signal handler left for later */
extern int exa_later_any;
void exa_later_drain(void);

static inline void exa_later_check(void)
{
	if (unlikely(__atomic_load_n(&exa_later_any, __ATOMIC_ACQUIRE)) &&
	    !exa_sig_depth)
		exa_later_drain();
}
extern uintptr_t *exa_fdtab[EXA_FDTAB_CHUNKS];

static inline uintptr_t *exa_fd_slot(int fd)
{
	uintptr_t *chunk;

	if ((unsigned int)fd >= EXA_FD_MAX)
		return NULL;
	chunk = __atomic_load_n(&exa_fdtab[fd / EXA_FDTAB_CHUNK],
				__ATOMIC_ACQUIRE);
	return chunk ? &chunk[fd % EXA_FDTAB_CHUNK] : NULL;
}

static inline uintptr_t exa_fd_peek(int fd)
{
	uintptr_t *slot = exa_fd_slot(fd);

	return slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : EXA_FD_UNKNOWN;
}

static inline int exa_ent_is_sock(uintptr_t ent)
{
	return ent >= EXA_FD_PTR_MIN && !(ent & 1);
}

static inline int exa_ent_is_epoll(uintptr_t ent)
{
	return ent >= EXA_FD_PTR_MIN && (ent & 1);
}

/* EXA_FD_KERNEL for any exasock socket, EXA_FD_NATIVE for an epoll fd */
static inline unsigned int exa_ent_kind(uintptr_t ent)
{
	if (ent >= EXA_FD_PTR_MIN)
		return (ent & 1) ? EXA_FD_NATIVE : EXA_FD_KERNEL;
	return ent & EXA_FD_KIND_MASK;
}

static inline struct exa_epoll *exa_ent_epoll(uintptr_t ent)
{
	return (struct exa_epoll *)(ent & ~(uintptr_t)1);
}

void exa_fdtab_init(void);
uintptr_t *exa_fd_slot_alloc(int fd);
uintptr_t exa_fd_class(int fd);
void exa_fd_set(int fd, uintptr_t ent);
uintptr_t exa_fd_closing(int fd);
void exa_fd_closed(int fd, uintptr_t set);
void exa_fd_forget(int fd);
void exa_fd_forget_range(unsigned int lo, unsigned int hi);
void exa_fd_dup(int oldfd, int newfd);
void exa_fd_accepted(int fd, int listen_fd);
int exa_fd_cas_state(int fd, uintptr_t old, uintptr_t new);

/* exa_fd_sock - a reference to fd's accelerated socket, or NULL.
 * Release it with exa_sock_put(). Lock-free.
 */
struct exa_sock *exa_fd_sock(int fd);
struct exa_sock *exa_sock_get_ent(int fd, uintptr_t ent);
void exa_sock_put(struct exa_sock *s);
int exa_sock_map(int fd, int nonblock, unsigned int cmsg_opts,
		 struct exa_sock **sp);

/* exa_sock_readable - 1 datagram waiting, 2 the kernel must be asked
 * (corrupt ring, or a kernel flag other than @ignore set), 0 nothing.
 */
int exa_sock_readable(struct exa_sock *s, uint32_t ignore);

struct exa_epoll *exa_epoll_get(int epfd, int create);
void exa_epoll_track(struct exa_epoll *ep, int op, int fd,
		     const struct epoll_event *ev, int tracked);
void exa_epoll_forget_fd(int fd);
int exa_epoll_detach(int fd, struct exa_ep_ent *saved, int *epfds, int max);
void exa_epoll_attach(int fd, const struct exa_ep_ent *saved,
		      const int *epfds, int n);
void exa_fork_prepare(void);
void exa_fork_parent(void);
void exa_fork_child(void);

/* ---- convert.c: AF_INET to AF_EXASOCK ---------------------------------- */

enum exa_conv_op {
	EXA_CONV_BIND,
	EXA_CONV_CONNECT,
	EXA_CONV_AUTOBIND,
	EXA_CONV_JOIN,
};

#define EXA_CONV_SKIPPED	2	/* not tried: caller does the op */
#define EXA_CONV_NATIVE		0	/* op done, socket is native */
#define EXA_CONV_ACCEL		1	/* op done, socket accelerated */

int exa_convert(int fd, enum exa_conv_op op, const struct sockaddr *addr,
		socklen_t len);
int exa_convert_join(int fd, int level, int optname, const void *optval,
		     socklen_t optlen);
unsigned int exa_query_cmsg_opts(int fd);
void exa_query_rcv_opts(int fd, struct exa_sock *s);
int exa_cmsg_opt_update(unsigned int *opts, int level, int optname,
			int val);

/* ---- recv.c ------------------------------------------------------------ */

ssize_t exa_recvmsg_sock(int fd, struct exa_sock *s, struct msghdr *msg,
			 int flags, int64_t deadline_ns);
int exa_recvmmsg_sock(int fd, struct exa_sock *s, struct mmsghdr *vec,
		      unsigned int vlen, int flags, struct timespec *tmo);

/* ---- poll.c ------------------------------------------------------------ */

int exa_poll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	     const sigset_t *sigmask, int is_ppoll);
int exa_select(int nfds, fd_set *rfds, fd_set *wfds, fd_set *efds,
	       struct timeval *tv, const struct timespec *ts,
	       const sigset_t *sigmask, int is_pselect);
int exa_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
		   int64_t timeout_ns, const sigset_t *sigmask, int which);

#define EXA_EPW_WAIT	0
#define EXA_EPW_PWAIT	1
#define EXA_EPW_PWAIT2	2

/* ---- trace.c ----------------------------------------------------------- */

void exa_trace(const char *fmt, ...) __printf(1, 2);
const char *exa_trace_addr(char *buf, size_t len, const struct sockaddr *sa,
			   socklen_t salen);
const char *exa_trace_ret(char *buf, size_t len, long long ret);

#define EXA_TRACE_ON()	unlikely(exa_cfg.trace_fd >= 0)

/* Trace a call that returned @ret (libc-style: -1 and errno). */
#define EXA_TRACE(ret, fmt, ...)					\
	do {								\
		if (EXA_TRACE_ON()) {					\
			char rb_[96];					\
			char ab_[64] __maybe_unused;			\
			int e_ = errno;					\
									\
			exa_trace(fmt " = %s", __VA_ARGS__,		\
				  exa_trace_ret(rb_, sizeof(rb_),	\
						(long long)(ret)));	\
			errno = e_;					\
		}							\
	} while (0)

#define EXA_ADDR(sa, len)	exa_trace_addr(ab_, sizeof(ab_), (sa), (len))

#endif /* EXASOCK_LIB_INTERNAL_H */
