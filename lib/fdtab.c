// SPDX-License-Identifier: GPL-2.0
/*
 * What libexasock knows about each file descriptor, and the objects that
 * hang off it: the mapped ring of an accelerated socket (struct exa_sock)
 * and the registrations of an epoll fd (struct exa_epoll).
 *
 * Readers are lock-free: they load a table word with acquire ordering.
 * A struct exa_sock is reference counted (one reference per table entry,
 * one per call in flight) and its mappings go away with the last one, so
 * a close() racing with a recv() in another thread never unmaps memory
 * under it. Both object types are type-stable: they are recycled through
 * free lists and never given back to malloc, so a reader holding a stale
 * pointer reads a valid (if reused) object and notices with a re-check.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "internal.h"

pthread_mutex_t exa_lock = PTHREAD_MUTEX_INITIALIZER;
uintptr_t *exa_fdtab[EXA_FDTAB_CHUNKS];

/* exa_sock_free: pushed without a lock (a close() in a signal handler
 * may free a socket), popped by one thread at a time, under
 * exa_free_lock; the one popper cannot see a node it has not popped come
 * back, so there is no ABA.
 */
static pthread_mutex_t exa_free_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exa_sock *exa_sock_free;
static struct exa_epoll *exa_epolls;		/* live, under exa_lock */
static struct exa_epoll *exa_epoll_free;	/* under exa_lock */
static pid_t exa_pid;				/* see exa_borrowed_vm() */

/*
 * What a close() in a signal handler could not do because the thread it
 * interrupted held a lock: forget a closed fd's epoll registrations
 * (EXA_LATER_FD(fd)) or recycle a closed epoll fd's struct exa_epoll.
 * The next exa_lock_take() does it. Slots are 0 when free.
 */
#define EXA_LATER_MAX		64
#define EXA_LATER_FD(fd)	(((uintptr_t)(fd) << 1) | 1)
static uintptr_t exa_later[EXA_LATER_MAX];
int exa_later_any;

static void exa_epoll_forget_locked(int fd);
static void exa_epoll_recycle_locked(struct exa_epoll *ep);

static void exa_later_add(uintptr_t item)
{
	uintptr_t free_slot;
	int i;

	for (i = 0; i < EXA_LATER_MAX; i++) {
		free_slot = 0;
		/* sequentially consistent with exa_lock_take(): either it
		 * sees the item, or it sees exa_later_any raised after it
		 */
		if (__atomic_compare_exchange_n(&exa_later[i], &free_slot,
						item, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&exa_later_any, 1, __ATOMIC_SEQ_CST);
			return;
		}
	}
	/* Full (64 such closes before the next exa_lock_take()): this
	 * one's bookkeeping is lost, stale entries the kernel no longer has.
	 */
	if (exa_cfg.debug)
		exa_msg("close in a signal handler: bookkeeping dropped");
}

/* Before an epoll set is used or changed: the closes left to do. */
void exa_later_drain(void)
{
	exa_lock_take();
	pthread_mutex_unlock(&exa_lock);
}

void exa_lock_take(void)
{
	uintptr_t item;
	int i;

	pthread_mutex_lock(&exa_lock);
	if (likely(!__atomic_load_n(&exa_later_any, __ATOMIC_ACQUIRE)))
		return;
	__atomic_store_n(&exa_later_any, 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < EXA_LATER_MAX; i++) {
		item = __atomic_exchange_n(&exa_later[i], 0, __ATOMIC_SEQ_CST);
		if (item & 1)
			exa_epoll_forget_locked((int)(item >> 1));
		else if (item)
			exa_epoll_recycle_locked((struct exa_epoll *)item);
	}
}

uintptr_t *exa_fd_slot_alloc(int fd)
{
	uintptr_t *chunk, *old = NULL;
	unsigned int i;

	if ((unsigned int)fd >= EXA_FD_MAX)
		return NULL;
	i = fd / EXA_FDTAB_CHUNK;
	chunk = __atomic_load_n(&exa_fdtab[i], __ATOMIC_ACQUIRE);
	if (!chunk) {
		chunk = calloc(EXA_FDTAB_CHUNK, sizeof(*chunk));
		if (!chunk)
			return NULL;
		if (!__atomic_compare_exchange_n(&exa_fdtab[i], &old, chunk, 0,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			free(chunk);
			chunk = old;
		}
	}
	return &chunk[fd % EXA_FDTAB_CHUNK];
}

/* ---- accelerated sockets ------------------------------------------------ */

static struct exa_sock *exa_sock_alloc(void)
{
	struct exa_sock *s;

	pthread_mutex_lock(&exa_free_lock);
	s = __atomic_load_n(&exa_sock_free, __ATOMIC_ACQUIRE);
	while (s && !__atomic_compare_exchange_n(&exa_sock_free, &s,
						 s->free_next, 0,
						 __ATOMIC_ACQUIRE,
						 __ATOMIC_ACQUIRE))
		;
	pthread_mutex_unlock(&exa_free_lock);
	if (!s)
		s = calloc(1, sizeof(*s));
	return s;
}

static void exa_sock_destroy(struct exa_sock *s)
{
	munmap(s->ring_map, s->ring_len);
	munmap(s->user_map, s->user_len);
	s->ring_map = NULL;
	s->user_map = NULL;
	s->free_next = __atomic_load_n(&exa_sock_free, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&exa_sock_free, &s->free_next, s,
					    0, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

void exa_sock_put(struct exa_sock *s)
{
	int old = __atomic_fetch_sub(&s->refs, 1, __ATOMIC_ACQ_REL);

	EXA_ASSERT(old > 0);
	if (old == 1)
		exa_sock_destroy(s);
}

/* Take a reference unless the object is dead; then make sure it is still
 * what @fd names (it may have been recycled meanwhile).
 */
struct exa_sock *exa_sock_get_ent(int fd, uintptr_t ent)
{
	struct exa_sock *s = (struct exa_sock *)ent;
	int n = __atomic_load_n(&s->refs, __ATOMIC_RELAXED);

	do {
		if (n <= 0)
			return NULL;
	} while (!__atomic_compare_exchange_n(&s->refs, &n, n + 1, 1,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	if (exa_fd_peek(fd) != ent) {
		exa_sock_put(s);
		return NULL;
	}
	return s;
}

struct exa_sock *exa_fd_sock(int fd)
{
	struct exa_sock *s;
	uintptr_t ent;
	int tries;

	for (tries = 0; tries < 4; tries++) {
		ent = exa_fd_class(fd);
		if (!exa_ent_is_sock(ent))
			return NULL;
		s = exa_sock_get_ent(fd, ent);
		if (s)
			return s;
	}
	return NULL;
}

/**
 * exa_sock_map - map the receive ring of the accelerated socket at @fd
 *
 * Return: 0 and a socket holding one reference in *@sp, or -errno (the
 * socket then works through system calls only).
 */
int exa_sock_map(int fd, int nonblock, unsigned int cmsg_opts,
		 struct exa_sock **sp)
{
	struct exasock_mmap_info mi;
	socklen_t len = sizeof(mi);
	void *ring, *user;
	struct exa_sock *s;
	int err;

	memset(&mi, 0, sizeof(mi));
	if (REAL(getsockopt)(fd, SOL_EXASOCK, SO_EXA_MMAP_INFO, &mi, &len))
		return -errno;
	err = exa_ring_check_info(&mi, len);
	if (err)
		return err;

	ring = mmap(NULL, mi.rx_ring_len, PROT_READ, MAP_SHARED, fd,
		    EXASOCK_MMAP_RX_RING);
	if (ring == MAP_FAILED)
		return -errno;
	user = mmap(NULL, mi.rx_user_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, EXASOCK_MMAP_RX_USER);
	if (user == MAP_FAILED) {
		err = -errno;
		goto unmap_ring;
	}
	s = exa_sock_alloc();
	if (!s) {
		err = -ENOMEM;
		goto unmap_user;
	}

	exa_ring_init(&s->ring, &mi, ring, user);
	s->ring_map = ring;
	s->ring_len = mi.rx_ring_len;
	s->user_map = user;
	s->user_len = mi.rx_user_len;
	s->nonblock = nonblock;
	s->cmsg_opts = cmsg_opts;
	exa_query_rcv_opts(fd, s);
	s->free_next = NULL;
	EXA_ASSERT(!__atomic_load_n(&s->refs, __ATOMIC_RELAXED));
	__atomic_store_n(&s->refs, 1, __ATOMIC_RELEASE);
	*sp = s;
	return 0;

unmap_user:
	munmap(user, mi.rx_user_len);
unmap_ring:
	munmap(ring, mi.rx_ring_len);
	return err;
}

int exa_sock_readable(struct exa_sock *s, uint32_t ignore)
{
	uint32_t kf = exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY & ~ignore;
	int r, lowat;

	/* A pending error is the kernel's to report (POLLERR), data or not;
	 * so is anything a stream's flags say: its end (POLLRDHUP, POLLHUP
	 * once both ways are shut) may have come behind unread bytes.
	 */
	if (kf & EXASOCK_RING_F_ERROR)
		return 2;
	if (s->ring.stream && kf)
		return 2;
	r = exa_ring_ready(&s->ring);
	if (r == 1) {
		/* SO_RCVLOWAT: short of the mark, the kernel decides (it
		 * also counts the twin's bytes, and the window)
		 */
		lowat = __atomic_load_n(&s->rcvlowat, __ATOMIC_RELAXED);
		if (s->ring.stream && lowat > 1 &&
		    exa_stream_used(&s->ring) < (uint32_t)lowat)
			return 2;
		return 1;
	}
	if (r < 0 || kf)
		return 2;
	return 0;
}

/* ---- classification ----------------------------------------------------- */

static uintptr_t exa_classify(int fd)
{
	int dom = 0, type = 0, proto = 0, fl, err;
	socklen_t len = sizeof(int);
	struct exa_sock *s;

	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len))
		return errno == EBADF ? EXA_FD_UNKNOWN : EXA_FD_NATIVE;

	switch (dom) {
	case AF_INET:
		len = sizeof(int);
		if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &len))
			return EXA_FD_NATIVE;
		len = sizeof(int);
		if (REAL(getsockopt)(fd, SOL_SOCKET, SO_PROTOCOL, &proto,
				     &len))
			return EXA_FD_NATIVE;
		if (type == SOCK_DGRAM && proto == IPPROTO_UDP)
			return EXA_FD_CAND;
		if (type == SOCK_STREAM && proto == IPPROTO_TCP)
			return EXA_FD_CAND | EXA_FDF_STREAM;
		return EXA_FD_NATIVE;
	case AF_INET6:
	case AF_UNIX:
	case AF_NETLINK:
	case AF_PACKET:
		return EXA_FD_NATIVE;
	}

	/* Perhaps an exasock socket inherited across exec (the family
	 * number can be moved by a module parameter, so ask it directly).
	 */
	fl = REAL(fcntl)(fd, F_GETFL);
	err = exa_sock_map(fd, fl >= 0 && (fl & O_NONBLOCK), 0, &s);
	if (!err) {
		s->cmsg_opts = exa_query_cmsg_opts(fd);
		if (exa_cfg.debug)
			exa_msg("enabled bypass on inherited fd %d", fd);
		return (uintptr_t)s;
	}
	/* ours, but not accelerated or not mappable */
	if (err == -ENODEV || err == -EINVAL)
		return EXA_FD_KERNEL;
	return EXA_FD_NATIVE;
}

/**
 * exa_fd_class - the table word for @fd, classifying it on first sight
 *
 * Costs one to three getsockopt() calls the first time a descriptor is
 * seen, nothing afterwards. Keeps errno.
 */
uintptr_t exa_fd_class(int fd)
{
	uintptr_t ent = exa_fd_peek(fd), cur = EXA_FD_UNKNOWN;
	uintptr_t *slot;
	int saved;

	if (likely(ent != EXA_FD_UNKNOWN))
		return ent;
	if ((unsigned int)fd >= EXA_FD_MAX)
		return EXA_FD_NATIVE;

	saved = errno;
	ent = exa_classify(fd);
	slot = exa_fd_slot_alloc(fd);
	if (ent != EXA_FD_UNKNOWN && slot &&
	    !__atomic_compare_exchange_n(slot, &cur, ent, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* someone else classified or converted it first */
		if (exa_ent_is_sock(ent))
			exa_sock_put((struct exa_sock *)ent);
		ent = cur;
	} else if (ent != EXA_FD_UNKNOWN && !slot && exa_ent_is_sock(ent)) {
		exa_sock_put((struct exa_sock *)ent);
		ent = EXA_FD_KERNEL;
	}
	errno = saved;
	return ent == EXA_FD_UNKNOWN ? EXA_FD_NATIVE : ent;
}

int exa_fd_cas_state(int fd, uintptr_t old, uintptr_t new)
{
	uintptr_t *slot = exa_fd_slot_alloc(fd);

	if (!slot)
		return 0;
	return __atomic_compare_exchange_n(slot, &old, new, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void exa_epoll_recycle(struct exa_epoll *ep);

void exa_fdtab_init(void)
{
	exa_pid = getpid();
}

/*
 * A vfork() child (posix_spawn(), Python's subprocess...) runs on our
 * memory until it execs. What it closes or dup2()s is its own descriptor,
 * not ours: it must leave alone the table entries that hold something, or
 * it would unmap its parent's rings. Only those entries cost a getpid().
 */
static int exa_borrowed_vm(void)
{
	if (unlikely(!exa_pid))
		exa_fdtab_init();
	return getpid() != exa_pid;
}

static int exa_ent_precious(uintptr_t ent)
{
	return ent >= EXA_FD_PTR_MIN ||
	       (ent & EXA_FD_KIND_MASK) == EXA_FD_CAND;
}

/* Drop what a table word held. */
static void exa_ent_release(int fd, uintptr_t old)
{
	if (exa_ent_is_sock(old)) {
		exa_epoll_forget_fd(fd);
		exa_sock_put((struct exa_sock *)old);
	} else if (exa_ent_is_epoll(old)) {
		exa_epoll_recycle(exa_ent_epoll(old));
	} else if ((old & EXA_FD_KIND_MASK) == EXA_FD_CAND) {
		exa_epoll_forget_fd(fd);
	}
}

void exa_fd_set(int fd, uintptr_t ent)
{
	uintptr_t *slot = exa_fd_slot_alloc(fd);
	uintptr_t old;

	if (!slot || (exa_ent_precious(__atomic_load_n(slot, __ATOMIC_RELAXED))
		      && exa_borrowed_vm())) {
		if (exa_ent_is_sock(ent))
			exa_sock_put((struct exa_sock *)ent);
		return;
	}
	old = __atomic_exchange_n(slot, ent, __ATOMIC_ACQ_REL);
	exa_ent_release(fd, old);
}

/*
 * close(@fd) is about to run. Until it has, the descriptor is the
 * kernel's alone (EXA_FD_NATIVE): a thread racing the close must not
 * classify it and map a ring that the close would leave behind, on a
 * number the next open() may take. Return: the state set, for
 * exa_fd_closed().
 */
uintptr_t exa_fd_closing(int fd)
{
	uintptr_t *slot = exa_fd_slot(fd);
	uintptr_t old;

	if (!slot)
		return 0;
	old = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (exa_ent_precious(old) && exa_borrowed_vm())
		return 0;
	old = __atomic_exchange_n(slot, EXA_FD_NATIVE, __ATOMIC_ACQ_REL);
	exa_ent_release(fd, old);
	return EXA_FD_NATIVE;
}

/* ... and has run: unknown again, unless the number was taken since. */
void exa_fd_closed(int fd, uintptr_t set)
{
	if (set)
		exa_fd_cas_state(fd, set, EXA_FD_UNKNOWN);
}

/* The descriptor is gone (close_range, closefrom). */
void exa_fd_forget(int fd)
{
	uintptr_t *slot = exa_fd_slot(fd);
	uintptr_t old;

	if (!slot)
		return;
	old = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (old == EXA_FD_UNKNOWN ||
	    (exa_ent_precious(old) && exa_borrowed_vm()))
		return;
	old = __atomic_exchange_n(slot, EXA_FD_UNKNOWN, __ATOMIC_ACQ_REL);
	exa_ent_release(fd, old);
}

void exa_fd_forget_range(unsigned int lo, unsigned int hi)
{
	unsigned int fd, c;

	if (hi >= EXA_FD_MAX)
		hi = EXA_FD_MAX - 1;
	for (fd = lo; fd <= hi; ) {
		c = fd / EXA_FDTAB_CHUNK;
		if (!__atomic_load_n(&exa_fdtab[c], __ATOMIC_ACQUIRE)) {
			fd = (c + 1) * EXA_FDTAB_CHUNK;
			continue;
		}
		exa_fd_forget(fd);
		if (fd == hi)
			break;
		fd++;
	}
}

/* @newfd now refers to the same open file as @oldfd. */
void exa_fd_dup(int oldfd, int newfd)
{
	uintptr_t ent = exa_fd_peek(oldfd);
	struct exa_sock *s;

	if (exa_ent_is_sock(ent)) {
		if (exa_borrowed_vm())
			return;
		/* share the mapping: O_NONBLOCK belongs to the open file */
		s = exa_sock_get_ent(oldfd, ent);
		exa_fd_set(newfd, s ? (uintptr_t)s : EXA_FD_UNKNOWN);
	} else if (ent == EXA_FD_NATIVE || ent == EXA_FD_KERNEL) {
		exa_fd_set(newfd, ent);
	} else {
		/* a candidate's duplicate is not converted with it */
		exa_fd_set(newfd, EXA_FD_UNKNOWN);
	}
}

/*
 * @fd was just accepted on @listen_fd. A native listener gives native
 * connections; an exasock one gives exasock connections, mapped now so
 * that the first read is already free of system calls.
 */
void exa_fd_accepted(int fd, int listen_fd)
{
	struct exa_sock *s;
	int fl, err;

	if (exa_ent_kind(exa_fd_peek(listen_fd)) != EXA_FD_KERNEL) {
		exa_fd_set(fd, EXA_FD_NATIVE);
		return;
	}
	fl = REAL(fcntl)(fd, F_GETFL);
	err = exa_sock_map(fd, fl >= 0 && (fl & O_NONBLOCK), 0, &s);
	if (err) {
		/* not accelerated (or not mappable): the kernel serves it */
		exa_fd_set(fd, err == -ENODEV || err == -EINVAL ?
			       EXA_FD_KERNEL : EXA_FD_NATIVE);
		return;
	}
	s->cmsg_opts = exa_query_cmsg_opts(fd);
	exa_fd_set(fd, (uintptr_t)s);
	if (exa_cfg.debug)
		exa_msg("enabled bypass on fd %d", fd);
}

/* ---- epoll registrations -------------------------------------------------
 *
 * For each epoll fd we remember which candidate and accelerated sockets it
 * watches (to look at their rings while spinning, and to register the new
 * file after a conversion), and how many other fds it watches. These are
 * hints: the kernel's epoll_wait() always has the last word.
 */

struct exa_epoll *exa_epoll_get(int epfd, int create)
{
	uintptr_t ent = exa_fd_peek(epfd), cur;
	struct exa_epoll *ep;

	if (exa_ent_is_epoll(ent))
		return exa_ent_epoll(ent);
	if (!create || exa_ent_is_sock(ent) || (unsigned int)epfd >= EXA_FD_MAX)
		return NULL;

	exa_lock_take();
	cur = exa_fd_peek(epfd);
	if (exa_ent_is_epoll(cur)) {
		pthread_mutex_unlock(&exa_lock);
		return exa_ent_epoll(cur);
	}
	ep = exa_epoll_free;
	if (ep) {
		exa_epoll_free = ep->next;
	} else {
		ep = calloc(1, sizeof(*ep));
		if (!ep)
			goto unlock;
		pthread_mutex_init(&ep->lock, NULL);
	}
	ep->epfd = epfd;
	ep->n = 0;
	ep->nother = 0;
	if (!exa_fd_cas_state(epfd, cur, (uintptr_t)ep | 1)) {
		ep->next = exa_epoll_free;
		exa_epoll_free = ep;
		ep = NULL;
		goto unlock;
	}
	ep->next = exa_epolls;
	exa_epolls = ep;
unlock:
	pthread_mutex_unlock(&exa_lock);
	return ep;
}

/* Under exa_lock, and @ep's lock, which is released here. */
static void exa_epoll_recycle_both(struct exa_epoll *ep)
{
	struct exa_epoll **pp;

	for (pp = &exa_epolls; *pp; pp = &(*pp)->next) {
		if (*pp == ep) {
			*pp = ep->next;
			break;
		}
	}
	ep->n = 0;
	ep->nother = 0;
	ep->epfd = -1;
	pthread_mutex_unlock(&ep->lock);
	ep->next = exa_epoll_free;
	exa_epoll_free = ep;
}

/* Under exa_lock. */
static void exa_epoll_recycle_locked(struct exa_epoll *ep)
{
	pthread_mutex_lock(&ep->lock);
	exa_epoll_recycle_both(ep);
}

static void exa_epoll_recycle(struct exa_epoll *ep)
{
	if (exa_lock_or_try(&exa_lock)) {
		exa_later_add((uintptr_t)ep);
		return;
	}
	/* in a handler, the set's own lock may be the one held */
	if (exa_lock_or_try(&ep->lock)) {
		pthread_mutex_unlock(&exa_lock);
		exa_later_add((uintptr_t)ep);
		return;
	}
	exa_epoll_recycle_both(ep);
	pthread_mutex_unlock(&exa_lock);
}

static int exa_epoll_find(struct exa_epoll *ep, int fd)
{
	unsigned int i;

	for (i = 0; i < ep->n; i++)
		if (ep->ents[i].fd == fd)
			return i;
	return -1;
}

static void exa_epoll_del(struct exa_epoll *ep, int i)
{
	ep->ents[i] = ep->ents[--ep->n];
}

void exa_epoll_track(struct exa_epoll *ep, int op, int fd,
		     const struct epoll_event *ev, int tracked)
{
	struct exa_ep_ent *ents;
	int i;

	exa_later_check();
	pthread_mutex_lock(&ep->lock);
	i = exa_epoll_find(ep, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
	case EPOLL_CTL_MOD:
		if (!tracked) {
			if (op == EPOLL_CTL_ADD)
				ep->nother++;
			break;
		}
		if (i < 0) {
			if (ep->n == ep->cap) {
				ents = realloc(ep->ents, (ep->cap * 2 + 8) *
					       sizeof(*ents));
				if (!ents) {
					ep->nother++; /* fall back: hint only */
					break;
				}
				ep->ents = ents;
				ep->cap = ep->cap * 2 + 8;
			}
			i = ep->n++;
		}
		ep->ents[i].fd = fd;
		ep->ents[i].events = ev ? ev->events : 0;
		ep->ents[i].data = ev ? ev->data.u64 : 0;
		break;
	case EPOLL_CTL_DEL:
		if (i >= 0)
			exa_epoll_del(ep, i);
		else if (ep->nother > 0)
			ep->nother--;
		break;
	}
	pthread_mutex_unlock(&ep->lock);
}

/* Under exa_lock. */
static void exa_epoll_forget_locked(int fd)
{
	struct exa_epoll *ep;
	int i;

	for (ep = exa_epolls; ep; ep = ep->next) {
		pthread_mutex_lock(&ep->lock);
		i = exa_epoll_find(ep, fd);
		if (i >= 0)
			exa_epoll_del(ep, i);
		pthread_mutex_unlock(&ep->lock);
	}
}

/* The kernel drops a closed file from every epoll set; so do we. */
void exa_epoll_forget_fd(int fd)
{
	struct exa_epoll *ep;
	int i, busy = 0;

	if (exa_lock_or_try(&exa_lock)) {
		exa_later_add(EXA_LATER_FD(fd));
		return;
	}
	if (likely(!exa_sig_depth)) {
		exa_epoll_forget_locked(fd);
		pthread_mutex_unlock(&exa_lock);
		return;
	}
	/* In a handler: the sets whose lock is held are done later (doing
	 * the others twice is harmless).
	 */
	for (ep = exa_epolls; ep; ep = ep->next) {
		if (pthread_mutex_trylock(&ep->lock)) {
			busy = 1;
			continue;
		}
		i = exa_epoll_find(ep, fd);
		if (i >= 0)
			exa_epoll_del(ep, i);
		pthread_mutex_unlock(&ep->lock);
	}
	pthread_mutex_unlock(&exa_lock);
	if (busy)
		exa_later_add(EXA_LATER_FD(fd));
}

/*
 * Conversion replaces the file at @fd; an epoll registration names the
 * file, so it must be taken off every set before the dup3() and put back
 * after. Under exa_lock. @saved gets one entry per set (up to @max).
 */
int exa_epoll_detach(int fd, struct exa_ep_ent *saved, int *epfds, int max)
{
	struct exa_epoll *ep;
	int n = 0, i;

	for (ep = exa_epolls; ep && n < max; ep = ep->next) {
		pthread_mutex_lock(&ep->lock);
		i = exa_epoll_find(ep, fd);
		if (i >= 0 && !REAL(epoll_ctl)(ep->epfd, EPOLL_CTL_DEL, fd,
					       NULL)) {
			saved[n] = ep->ents[i];
			epfds[n++] = ep->epfd;
		}
		pthread_mutex_unlock(&ep->lock);
	}
	return n;
}

void exa_epoll_attach(int fd, const struct exa_ep_ent *saved,
		      const int *epfds, int n)
{
	struct epoll_event ev;
	int i;

	for (i = 0; i < n; i++) {
		ev.events = saved[i].events;
		ev.data.u64 = saved[i].data;
		if (REAL(epoll_ctl)(epfds[i], EPOLL_CTL_ADD, fd, &ev))
			exa_msg("fd %d: lost its epoll registration on fd %d: %s",
				fd, epfds[i], strerror(errno));
	}
}

/* ---- fork --------------------------------------------------------------- */

void exa_fork_prepare(void)
{
	pthread_mutex_lock(&exa_lock);
	pthread_mutex_lock(&exa_free_lock);
}

void exa_fork_parent(void)
{
	pthread_mutex_unlock(&exa_free_lock);
	pthread_mutex_unlock(&exa_lock);
}

/* Only the forking thread exists in the child: a lock some other thread
 * held at fork time would never be released, so start them afresh.
 */
void exa_fork_child(void)
{
	struct exa_epoll *ep;

	exa_fdtab_init();
	for (ep = exa_epolls; ep; ep = ep->next)
		pthread_mutex_init(&ep->lock, NULL);
	pthread_mutex_init(&exa_free_lock, NULL);
	pthread_mutex_init(&exa_lock, NULL);
	exa_sig_fork_child();
}
