// SPDX-License-Identifier: GPL-2.0
/*
 * poll, select and epoll_wait over sets holding accelerated sockets.
 *
 * The rings are looked at in user space first. If only accelerated
 * sockets are watched, and only for input, poll() and select() answer
 * from the rings alone: they are level-triggered and keep no state, so
 * this is what the kernel would say. So does epoll_wait() when every
 * registration is level-triggered input on an accelerated socket (the
 * state of edge-triggered and one-shot ones lives in the kernel).
 * Otherwise a ring that looks ready only earns a real call with a zero
 * timeout, and the kernel's answer is returned. Then we spin for
 * EXASOCK_SPIN_USEC, watching the rings (and asking the kernel every 32
 * rounds about the other fds), and finally sleep in the real call for the
 * time left; a signal handler that runs meanwhile ends it with EINTR.
 * Sets without accelerated sockets go straight to the real call.
 */
#include <limits.h>
#include <string.h>
#include "internal.h"

#define EXA_POLL_MAX	64	/* accelerated fds watched per call */
#define EXA_POLL_OTHER_EVERY 32	/* spin rounds between real calls */

#define EXA_POLLIN	(POLLIN | POLLRDNORM)
/* events we can decide from the ring (PRI and RDHUP never come from it) */
#define EXA_POLL_RING	(POLLIN | POLLRDNORM | POLLPRI | POLLRDHUP)

struct exa_acc {
	struct exa_sock *s;
	int idx;		/* pollfd index, fd (select), or 0 */
	int ready;		/* last exa_sock_readable() */
	uint32_t stale;		/* kernel flags that meant nothing */
	uint32_t quiet_prod;	/* epoll: producer when the kernel said 0 */
	int quiet;
	uint32_t events;	/* epoll: the registration */
	uint64_t data;
};

struct exa_accset {
	struct exa_acc acc[EXA_POLL_MAX];
	int n;
	int other;		/* something only the kernel can answer */
};

static void exa_accset_put(struct exa_accset *as)
{
	int i;

	for (i = 0; i < as->n; i++)
		exa_sock_put(as->acc[i].s);
}

/* Add @fd if it is accelerated and watched for input; 1 if added. */
static int exa_accset_add(struct exa_accset *as, int fd, int idx)
{
	struct exa_acc *a;
	struct exa_sock *s;
	uintptr_t ent;

	ent = exa_fd_class(fd);
	if (likely(!exa_ent_is_sock(ent)) || as->n == EXA_POLL_MAX)
		return 0;
	s = exa_sock_get_ent(fd, ent);
	if (!s)
		return 0;
	EXA_ASSERT(__atomic_load_n(&s->refs, __ATOMIC_RELAXED) > 0);
	a = &as->acc[as->n++];
	memset(a, 0, sizeof(*a));
	a->s = s;
	a->idx = idx;
	return 1;
}

/* Look at every ring: 0 nothing, 1 data only we can see, 2 ask the kernel */
static int exa_accset_check(struct exa_accset *as)
{
	struct exa_acc *a;
	int i, any = 0;

	for (i = 0; i < as->n; i++) {
		a = &as->acc[i];
		if (a->quiet) {
			if (__atomic_load_n(a->s->ring.producer,
					    __ATOMIC_RELAXED) == a->quiet_prod) {
				a->ready = 0;
				continue;
			}
			a->quiet = 0;
		}
		a->ready = exa_sock_readable(a->s, a->stale);
		if (a->ready > any)
			any = a->ready;
	}
	return any;
}

/* The kernel found nothing although a ring looked ready. */
static void exa_accset_calm(struct exa_accset *as, int epoll)
{
	struct exa_acc *a;
	int i;

	for (i = 0; i < as->n; i++) {
		a = &as->acc[i];
		a->stale = exa_ring_kflags(&a->s->ring);
		if (epoll && a->ready == 1) {
			/* edge-triggered, one-shot, or taken by another
			 * thread: wait for the producer to move
			 */
			a->quiet = 1;
			a->quiet_prod = __atomic_load_n(a->s->ring.producer,
							__ATOMIC_RELAXED);
		}
	}
}

/* A timeout in ns as poll(2)'s milliseconds: -1 for ever, rounded up. */
static int exa_ns_ms(int64_t ns)
{
	if (ns < 0)
		return -1;
	if (ns / 1000000 >= INT_MAX)
		return INT_MAX;
	return (int)((ns + 999999) / 1000000);
}

static void exa_ns_ts(int64_t ns, struct timespec *ts)
{
	if (ns < 0)
		ns = 0;
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
}

/*
 * The common loop. @real(ctx, timeout_ns) makes the real call (-1: no
 * timeout; EXA_PROBE: a look without waiting in the middle of the spin,
 * which select must make on copies of the caller's sets) and returns its
 * result or -errno; @answer(ctx, as) builds the result from the rings
 * alone, or is NULL when that is never allowed.
 */
#define EXA_PROBE (-2)

typedef int (*exa_real_fn)(void *ctx, int64_t timeout_ns);
typedef int (*exa_answer_fn)(void *ctx, struct exa_accset *as);

/* Tell the kernel we spin on these rings (TCP: it fills them at once). */
static void exa_accset_spinning(struct exa_accset *as, int on)
{
	int i;

	for (i = 0; i < as->n; i++)
		exa_ring_spinning(&as->acc[i].s->ring, on);
}

/*
 * ppoll, pselect and epoll_pwait let signals in only while they wait,
 * which the spin does not: it looks (every EXA_SIGMASK_EVERY rounds) for
 * a signal pending that @sigmask would let in, and leaves the waiting to
 * the real call, which takes it.
 */
#define EXA_SIGMASK_EVERY	4096

static int exa_sig_would_wake(const sigset_t *sigmask)
{
	sigset_t pending;
	int sig;

	if (sigpending(&pending))
		return 0;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&pending, sig) == 1 &&
		    sigismember(sigmask, sig) == 0)
			return 1;
	return 0;
}

static int exa_wait(struct exa_accset *as, int64_t timeout_ns,
		    const sigset_t *sigmask, exa_real_fn real,
		    exa_answer_fn answer, void *ctx)
{
	unsigned int k = 0, m = 0;
	int64_t deadline = -1;
	struct exa_spin sp;
	int ready, r;

	if (timeout_ns >= 0)
		deadline = exa_now_ns() + timeout_ns;

	ready = exa_accset_check(as);
	if (ready == 1 && !as->other && answer)
		return answer(ctx, as);
	if (ready || as->other) {
		r = real(ctx, EXA_PROBE);
		if (r)
			return r;
		if (ready)
			exa_accset_calm(as, !answer);
	}
	if (timeout_ns == 0) {
		/* nothing ready, or the kernel said so: an empty answer */
		if (!answer)
			return 0;
		for (r = 0; r < as->n; r++)
			as->acc[r].ready = 0;
		return answer(ctx, as);
	}

	exa_spin_init(&sp, deadline, 0);
	exa_accset_spinning(as, 1);
	r = 0;
	while (exa_spin_more(&sp)) {
		ready = exa_accset_check(as);
		if (ready == 1 && !as->other && answer) {
			r = answer(ctx, as);
			break;
		}
		if (ready || (as->other && !(++k % EXA_POLL_OTHER_EVERY))) {
			r = real(ctx, EXA_PROBE);
			if (r)
				break;
			if (ready)
				exa_accset_calm(as, !answer);
		}
		if (sigmask && !(++m % EXA_SIGMASK_EVERY) &&
		    exa_sig_would_wake(sigmask))
			break;
	}
	exa_accset_spinning(as, 0);
	if (r)
		return r;
	if (sp.intr)
		return -EINTR;
	if (deadline < 0)
		return real(ctx, -1);
	timeout_ns = deadline - exa_now_ns();
	return real(ctx, timeout_ns > 0 ? timeout_ns : 0);
}

/* ---- poll, ppoll -------------------------------------------------------- */

struct exa_poll_ctx {
	struct pollfd *fds;
	nfds_t n;
	const sigset_t *sigmask;
	int is_ppoll;
};

static int exa_poll_real(void *p, int64_t timeout_ns)
{
	struct exa_poll_ctx *c = p;
	struct timespec ts;
	int r;

	if (timeout_ns == EXA_PROBE)
		timeout_ns = 0;
	if (c->is_ppoll) {
		exa_ns_ts(timeout_ns, &ts);
		r = REAL(ppoll)(c->fds, c->n, timeout_ns < 0 ? NULL : &ts,
				c->sigmask);
	} else {
		r = REAL(poll)(c->fds, c->n, exa_ns_ms(timeout_ns));
	}
	return r < 0 ? -errno : r;
}

static int exa_poll_answer(void *p, struct exa_accset *as)
{
	struct exa_poll_ctx *c = p;
	int i, count = 0;
	nfds_t j;

	for (j = 0; j < c->n; j++)
		c->fds[j].revents = 0;
	for (i = 0; i < as->n; i++) {
		if (as->acc[i].ready != 1)
			continue;
		c->fds[as->acc[i].idx].revents =
			c->fds[as->acc[i].idx].events & EXA_POLLIN;
		count++;
	}
	return count;
}

/**
 * exa_poll - poll(2) and ppoll(2)
 * @tmo: NULL to wait for ever
 *
 * Return: as the real call, or -errno.
 */
int exa_poll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	     const sigset_t *sigmask, int is_ppoll)
{
	struct exa_poll_ctx c = { fds, n, sigmask, is_ppoll };
	struct exa_accset as;
	nfds_t i;
	int r;

	as.n = 0;
	as.other = 0;
	for (i = 0; i < n; i++) {
		if (fds[i].fd < 0)
			continue;
		if (!(fds[i].events & EXA_POLLIN) ||
		    !exa_accset_add(&as, fds[i].fd, i)) {
			as.other = 1;
			continue;
		}
		if (fds[i].events & ~EXA_POLL_RING)
			as.other = 1;
	}
	if (!as.n)
		return exa_poll_real(&c, tmo ? exa_ts_ns(tmo) : -1);

	r = exa_wait(&as, tmo ? exa_ts_ns(tmo) : -1, sigmask, exa_poll_real,
		     exa_poll_answer, &c);
	exa_accset_put(&as);
	return r;
}

/* ---- select, pselect ---------------------------------------------------- */

#define EXA_LBITS	(8 * (int)sizeof(unsigned long))

struct exa_select_ctx {
	int nfds;
	size_t bytes;			/* of each set we touch */
	unsigned long *set[3];		/* the caller's r, w, e sets */
	unsigned long *tmp;		/* 3 * bytes of scratch */
	const sigset_t *sigmask;
	int is_pselect;
};

static int exa_bit(const unsigned long *set, int fd)
{
	return (set[fd / EXA_LBITS] >> (fd % EXA_LBITS)) & 1;
}

static int exa_select_call(struct exa_select_ctx *c, unsigned long **sets,
			   int64_t timeout_ns)
{
	struct timespec ts;
	struct timeval tv;
	int r;

	exa_ns_ts(timeout_ns, &ts);
	if (c->is_pselect) {
		r = REAL(pselect)(c->nfds, (fd_set *)sets[0],
				  (fd_set *)sets[1], (fd_set *)sets[2],
				  timeout_ns < 0 ? NULL : &ts, c->sigmask);
	} else {
		tv.tv_sec = ts.tv_sec;
		tv.tv_usec = (ts.tv_nsec + 999) / 1000;
		if (tv.tv_usec == 1000000) {
			tv.tv_sec++;
			tv.tv_usec = 0;
		}
		r = REAL(select)(c->nfds, (fd_set *)sets[0],
				 (fd_set *)sets[1], (fd_set *)sets[2],
				 timeout_ns < 0 ? NULL : &tv);
	}
	return r < 0 ? -errno : r;
}

static int exa_select_real(void *p, int64_t timeout_ns)
{
	struct exa_select_ctx *c = p;
	unsigned long *sets[3];
	int i, r;

	/* the final call, even one that does not wait: on the caller's sets */
	if (timeout_ns != EXA_PROBE)
		return exa_select_call(c, c->set, timeout_ns);

	/* a probe must not clobber the caller's sets when it finds nothing */
	for (i = 0; i < 3; i++) {
		sets[i] = NULL;
		if (c->set[i]) {
			sets[i] = c->tmp + i * (c->bytes / sizeof(long));
			memcpy(sets[i], c->set[i], c->bytes);
		}
	}
	r = exa_select_call(c, sets, 0);
	if (r > 0)
		for (i = 0; i < 3; i++)
			if (c->set[i])
				memcpy(c->set[i], sets[i], c->bytes);
	return r;
}

static int exa_select_answer(void *p, struct exa_accset *as)
{
	struct exa_select_ctx *c = p;
	int i, fd, count = 0;

	for (i = 0; i < 3; i++)
		if (c->set[i])
			memset(c->set[i], 0, c->bytes);
	for (i = 0; i < as->n; i++) {
		if (as->acc[i].ready != 1)
			continue;
		fd = as->acc[i].idx;
		if (!exa_bit(c->set[0], fd)) {
			c->set[0][fd / EXA_LBITS] |= 1UL << (fd % EXA_LBITS);
			count++;
		}
	}
	return count;
}

/**
 * exa_select - select(2) (@tv) and pselect(2) (@ts)
 *
 * Return: as the real call, or -errno.
 */
int exa_select(int nfds, fd_set *rfds, fd_set *wfds, fd_set *efds,
	       struct timeval *tv, const struct timespec *ts,
	       const sigset_t *sigmask, int is_pselect)
{
	unsigned long stack_tmp[3 * (FD_SETSIZE / EXA_LBITS)];
	struct exa_select_ctx c;
	struct exa_accset as;
	int64_t timeout_ns = -1, start;
	size_t words, i;
	int fd, r;

	if (is_pselect && ts)
		timeout_ns = exa_ts_ns(ts);
	else if (!is_pselect && tv && tv->tv_sec >= INT64_MAX / 4000000000LL)
		timeout_ns = INT64_MAX / 4;
	else if (!is_pselect && tv)
		timeout_ns = tv->tv_sec * 1000000000LL + tv->tv_usec * 1000LL;

	c.nfds = nfds;
	c.set[0] = (unsigned long *)rfds;
	c.set[1] = (unsigned long *)wfds;
	c.set[2] = (unsigned long *)efds;
	c.sigmask = sigmask;
	c.is_pselect = is_pselect;
	c.tmp = NULL;

	if (!rfds || nfds <= 0 || nfds > EXA_FD_MAX || timeout_ns < -1 ||
	    (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 ||
		    tv->tv_usec >= 1000000)))
		goto real;

	words = ((size_t)nfds + EXA_LBITS - 1) / EXA_LBITS;
	c.bytes = words * sizeof(long);
	as.n = 0;
	as.other = 0;
	for (fd = 0; fd < nfds; fd++) {
		if (!exa_bit(c.set[0], fd))
			continue;
		if (!exa_accset_add(&as, fd, fd))
			as.other = 1;
	}
	if (!as.n)
		goto real;
	for (i = 0; i < words && !as.other; i++)
		if ((wfds && c.set[1][i]) || (efds && c.set[2][i]))
			as.other = 1;

	if (words <= FD_SETSIZE / EXA_LBITS) {
		c.tmp = stack_tmp;
	} else {
		c.tmp = malloc(3 * c.bytes);
		if (!c.tmp) {
			exa_accset_put(&as);
			goto real;
		}
	}
	start = exa_now_ns();
	r = exa_wait(&as, timeout_ns, sigmask, exa_select_real,
		     exa_select_answer, &c);
	exa_accset_put(&as);
	if (c.tmp != stack_tmp)
		free(c.tmp);
	/* select() reports the time left, as Linux does */
	if (!is_pselect && tv) {
		start = timeout_ns - (exa_now_ns() - start);
		if (start < 0)
			start = 0;
		tv->tv_sec = start / 1000000000LL;
		tv->tv_usec = (start % 1000000000LL) / 1000;
	}
	return r;

real:
	if (is_pselect)
		r = REAL(pselect)(nfds, rfds, wfds, efds, ts, sigmask);
	else
		r = REAL(select)(nfds, rfds, wfds, efds, tv);
	return r < 0 ? -errno : r;
}

/* ---- epoll_wait, epoll_pwait, epoll_pwait2 ------------------------------ */

struct exa_epoll_ctx {
	int epfd;
	struct epoll_event *events;
	int maxevents;
	const sigset_t *sigmask;
	int which;
};

static int exa_epoll_real(void *p, int64_t timeout_ns)
{
	struct exa_epoll_ctx *c = p;
	struct timespec ts;
	int r, ms;

	if (timeout_ns == EXA_PROBE)
		timeout_ns = 0;
	if (c->which == EXA_EPW_PWAIT2) {
		exa_ns_ts(timeout_ns, &ts);
		r = REAL(epoll_pwait2)(c->epfd, c->events, c->maxevents,
				       timeout_ns < 0 ? NULL : &ts,
				       c->sigmask);
		return r < 0 ? -errno : r;
	}
	ms = exa_ns_ms(timeout_ns);
	if (c->which == EXA_EPW_PWAIT)
		r = REAL(epoll_pwait)(c->epfd, c->events, c->maxevents, ms,
				      c->sigmask);
	else
		r = REAL(epoll_wait)(c->epfd, c->events, c->maxevents, ms);
	return r < 0 ? -errno : r;
}

/* Level-triggered input only: what the kernel would report is known. */
#define EXA_EPOLL_SIMPLE	(EPOLLIN | EPOLLRDNORM | EPOLLPRI | EPOLLRDHUP)

static int exa_epoll_answer(void *p, struct exa_accset *as)
{
	struct exa_epoll_ctx *c = p;
	struct exa_acc *a;
	int i, n = 0;

	for (i = 0; i < as->n && n < c->maxevents; i++) {
		a = &as->acc[i];
		if (a->ready != 1)
			continue;
		c->events[n].events = a->events & (EPOLLIN | EPOLLRDNORM);
		c->events[n].data.u64 = a->data;
		n++;
	}
	return n;
}

/**
 * exa_epoll_wait - the epoll_wait family
 * @timeout_ns: -1 to wait for ever
 * @which: EXA_EPW_WAIT, EXA_EPW_PWAIT or EXA_EPW_PWAIT2 (the real call)
 *
 * Return: as the real call, or -errno.
 */
int exa_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
		   int64_t timeout_ns, const sigset_t *sigmask, int which)
{
	struct exa_epoll_ctx c = { epfd, events, maxevents, sigmask, which };
	uintptr_t ent = exa_fd_peek(epfd);
	struct exa_ep_ent *e;
	struct exa_accset as;
	struct exa_epoll *ep;
	int r, simple = 1;
	unsigned int i;

	if (likely(!exa_ent_is_epoll(ent)) || maxevents <= 0)
		return exa_epoll_real(&c, timeout_ns);
	ep = exa_ent_epoll(ent);
	if (!__atomic_load_n(&ep->n, __ATOMIC_RELAXED))
		return exa_epoll_real(&c, timeout_ns);

	as.n = 0;
	as.other = 0;
	exa_later_check();
	pthread_mutex_lock(&ep->lock);
	if (ep->epfd != epfd) {		/* recycled under us */
		pthread_mutex_unlock(&ep->lock);
		return exa_epoll_real(&c, timeout_ns);
	}
	as.other = ep->nother > 0;
	for (i = 0; i < ep->n; i++) {
		e = &ep->ents[i];
		if (!(e->events & EPOLLIN) || !exa_accset_add(&as, e->fd, 0)) {
			as.other = 1;
			continue;
		}
		as.acc[as.n - 1].events = e->events;
		as.acc[as.n - 1].data = e->data;
		if (e->events & ~EXA_EPOLL_SIMPLE)
			simple = 0;
	}
	pthread_mutex_unlock(&ep->lock);
	if (!as.n)
		return exa_epoll_real(&c, timeout_ns);

	r = exa_wait(&as, timeout_ns, sigmask, exa_epoll_real,
		     simple ? exa_epoll_answer : NULL, &c);
	exa_accset_put(&as);
	return r;
}
