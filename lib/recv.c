// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving on an accelerated socket: from the ring when it has a
 * datagram (no system call), else spin a while watching it, else sleep in
 * the kernel's recvmsg, which also serves the ring, the native twin,
 * errors, shutdown and SO_RCVTIMEO.
 */
#include <limits.h>
#include <string.h>
#include "internal.h"

static ssize_t exa_kernel_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = REAL(recvmsg)(fd, msg, flags);

	return r < 0 ? -errno : r;
}

/*
 * One datagram from the ring, unless the socket has an error pending:
 * udp_recvmsg() reports that before the datagrams queued behind it, so
 * the kernel gives it (and lowers the flag once it is taken).
 */
static ssize_t exa_dgram_try(int fd, struct exa_sock *s, struct msghdr *msg,
			     int flags)
{
	if (unlikely(exa_ring_kflags(&s->ring) & EXASOCK_RING_F_ERROR))
		return exa_kernel_recvmsg(fd, msg, flags | MSG_DONTWAIT);
	return exa_ring_recvmsg(&s->ring, msg, flags, s->cmsg_opts);
}

/* recvmmsg with a timeout: wait for more until @deadline_ns. */
static ssize_t exa_recv_until(int fd, struct exa_sock *s, struct msghdr *msg,
			      int flags, int64_t deadline_ns)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec ts;
	int64_t left;
	ssize_t r;
	int pr;

	for (;;) {
		left = deadline_ns - exa_now_ns();
		if (left <= 0)
			return -EAGAIN;
		ts.tv_sec = left / 1000000000LL;
		ts.tv_nsec = left % 1000000000LL;
		pr = REAL(ppoll)(&pfd, 1, &ts, NULL);
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -EAGAIN;
		r = exa_dgram_try(fd, s, msg, flags);
		if (r != -EAGAIN && r != -EUCLEAN)
			return r;
		r = exa_kernel_recvmsg(fd, msg, flags | MSG_DONTWAIT);
		if (r != -EAGAIN)
			return r;
	}
}

/* ---- TCP: the stream ring ------------------------------------------------ */

/*
 * The part of @msg's buffer after its first @skip bytes, in @tail: at
 * most @max iovecs of it. Return: the bytes they hold.
 */
static size_t exa_msg_tail(const struct msghdr *msg, size_t skip,
			   struct msghdr *tail, struct iovec *iov, size_t max)
{
	size_t i, n = 0, bytes = 0;

	memset(tail, 0, sizeof(*tail));
	for (i = 0; i < msg->msg_iovlen && n < max; i++) {
		if (skip >= msg->msg_iov[i].iov_len) {
			skip -= msg->msg_iov[i].iov_len;
			continue;
		}
		iov[n].iov_base = (char *)msg->msg_iov[i].iov_base + skip;
		iov[n].iov_len = msg->msg_iov[i].iov_len - skip;
		bytes += iov[n].iov_len;
		skip = 0;
		n++;
	}
	tail->msg_iov = iov;
	tail->msg_iovlen = n;
	return bytes;
}

/* The program's thread may have a small stack: a tail is passed to the
 * kernel this many iovecs at a time.
 */
#define EXA_TAIL_IOVS	32

/* The kernel's recvmsg for what is left of @msg after @got bytes. */
static ssize_t exa_stream_kernel(int fd, struct msghdr *msg, size_t got,
				 int flags)
{
	struct iovec iov[EXA_TAIL_IOVS];
	struct msghdr tail;
	size_t want;
	ssize_t r;

	msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	if (!got)
		return exa_kernel_recvmsg(fd, msg, flags);
	/* With bytes in hand an error or the end of the stream is not
	 * reported now: MSG_EXA_CONTINUE has the kernel keep it for the
	 * next call. SO_RCVTIMEO starts again with each piece.
	 */
	do {
		want = exa_msg_tail(msg, got, &tail, iov, EXA_TAIL_IOVS);
		if (!want)
			break;
		r = exa_kernel_recvmsg(fd, &tail, flags | MSG_EXA_CONTINUE);
		if (r <= 0)
			break;
		got += r;
	} while ((flags & MSG_WAITALL) && (size_t)r == want);
	msg->msg_flags = 0;
	return got;
}

/* When a blocking receive gives up, by SO_RCVTIMEO; -1: never. */
static int64_t exa_rcv_deadline(const struct exa_sock *s)
{
	int64_t t = __atomic_load_n(&s->rcvtimeo_ns, __ATOMIC_RELAXED);

	return t > 0 ? exa_now_ns() + t : -1;
}

/*
 * recvmsg(2) on an accelerated TCP socket. Bytes come from the ring with
 * no system call. The kernel is asked when the ring is empty and its
 * flags say why (bytes it holds, end of stream, an error), and to block;
 * it reads the ring first, so the order of the stream is kept. While we
 * spin, the kernel copies new bytes into the ring as they come; while we
 * do not (a reader busy elsewhere, a bulk transfer), they wait with the
 * twin and the kernel's recvmsg copies them straight to the caller.
 * MSG_TRUNC takes bytes without copying them, as tcp_recvmsg() does.
 */
static ssize_t exa_stream_recvmsg(int fd, struct exa_sock *s,
				  struct msghdr *msg, int flags)
{
	int rflags = flags & (MSG_PEEK | MSG_TRUNC);
	size_t cap = 0, got = 0, target, i;
	struct exa_spin sp = { 0 };
	int64_t deadline = -1;
	int spinning = 0;
	uint32_t kf;
	ssize_t r;
	int nonblock;

	/* Receive timestamps and TCP_INQ come from the kernel's read (the
	 * ring keeps neither), as does urgent data.
	 */
	if (unlikely((flags & (MSG_OOB | MSG_ERRQUEUE)) ||
		     msg->msg_iovlen > IOV_MAX ||
		     (msg->msg_controllen &&
		      (__atomic_load_n(&s->cmsg_opts, __ATOMIC_RELAXED) &
		       ~EXA_CMSG_PKTINFO))))
		return exa_kernel_recvmsg(fd, msg, flags);
	for (i = 0; i < msg->msg_iovlen; i++)
		cap += msg->msg_iov[i].iov_len;
	if (!cap)
		return exa_kernel_recvmsg(fd, msg, flags);

	nonblock = (flags & MSG_DONTWAIT) ||
		   __atomic_load_n(&s->nonblock, __ATOMIC_RELAXED);
	target = (size_t)__atomic_load_n(&s->rcvlowat, __ATOMIC_RELAXED);
	if ((flags & MSG_WAITALL) || target > cap)
		target = cap;
	/* A peek always starts at the first unread byte, and SO_RCVLOWAT
	 * counts the bytes of the whole call: unless the ring holds enough
	 * now, the kernel waits for them (MSG_WAITALL alone can gather
	 * bytes as they come, so it stays here).
	 */
	if (unlikely(target > 1 &&
		     (flags & (MSG_PEEK | MSG_WAITALL)) != MSG_WAITALL &&
		     exa_stream_used(&s->ring) < target))
		return exa_kernel_recvmsg(fd, msg, flags);

	for (;;) {
		r = exa_stream_read(&s->ring, msg->msg_iov, msg->msg_iovlen,
				    got, rflags);
		if (likely(r > 0)) {
			got += r;
			if (got >= target || (flags & MSG_PEEK))
				break;
			continue;
		}
		if (r == -EUCLEAN)	/* the kernel resets the ring */
			return exa_stream_kernel(fd, msg, got, flags);

		/* Empty. The kernel knows more (bytes that did not fit, end
		 * of stream, an error), or we must wait: it reads the ring
		 * first, then waits as the socket and flags say.
		 */
		kf = exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY;
		/* Bytes first; the error or the end on the next call. */
		if (got && (kf & (EXASOCK_RING_F_ERROR |
				  EXASOCK_RING_F_SHUTDOWN)))
			break;
		if (kf)
			return exa_stream_kernel(fd, msg, got,
				got && !(flags & MSG_WAITALL) ?
				flags | MSG_DONTWAIT : flags);
		if (got && !(flags & MSG_WAITALL))
			break;
		if (nonblock)
			return got ? (ssize_t)got : -EAGAIN;
		if (!spinning) {
			/* spinning without end: SO_RCVTIMEO ends it */
			if (exa_cfg.spin_ns < 0)
				deadline = exa_rcv_deadline(s);
			exa_spin_init(&sp, deadline, 1);
			spinning = 1;
		}
		exa_ring_spinning(&s->ring, 1);
		while (!exa_ring_maybe_ready(&s->ring) &&
		       !(exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY)) {
			if (!exa_spin_more(&sp))
				break;
		}
		exa_ring_spinning(&s->ring, 0);
		if (sp.intr)
			return got ? (ssize_t)got : -EINTR;
		if (!exa_ring_maybe_ready(&s->ring) &&
		    !(exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY)) {
			if (deadline >= 0)	/* SO_RCVTIMEO ran out */
				return got ? (ssize_t)got : -EAGAIN;
			return exa_stream_kernel(fd, msg, got, flags);
		}
	}
	msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	return got;
}

/**
 * exa_recvmsg_sock - recvmsg(2) on the accelerated socket @s at @fd
 * @deadline_ns: CLOCK_MONOTONIC time after which a blocking call gives up
 *	with -EAGAIN, or -1 to block as the socket says
 *
 * Return: bytes (as recvmsg) or -errno.
 */
ssize_t exa_recvmsg_sock(int fd, struct exa_sock *s, struct msghdr *msg,
			 int flags, int64_t deadline_ns)
{
	uint32_t kf, stale = 0;
	struct exa_spin sp;
	int spinning = 0;
	int nonblock;
	ssize_t r;

	/* what only the kernel can do */
	if (unlikely((flags & (MSG_OOB | MSG_ERRQUEUE)) ||
		     msg->msg_iovlen > IOV_MAX ||
		     (msg->msg_name && (int)msg->msg_namelen < 0) ||
		     (msg->msg_controllen &&
		      (s->cmsg_opts & EXA_CMSG_OTHER))))
		return exa_kernel_recvmsg(fd, msg, flags);

	EXA_ASSERT(__atomic_load_n(&s->refs, __ATOMIC_RELAXED) > 0);
	if (s->ring.stream)
		return exa_stream_recvmsg(fd, s, msg, flags);
	nonblock = (flags & MSG_DONTWAIT) ||
		   __atomic_load_n(&s->nonblock, __ATOMIC_RELAXED);
	for (;;) {
		r = exa_dgram_try(fd, s, msg, flags);
		if (likely(r != -EAGAIN)) {
			if (unlikely(r == -EUCLEAN))
				break;	/* the kernel resets the ring */
			return r;
		}

		/* Empty. The kernel may have something else for us: data
		 * on the twin, an error, a shutdown. Ask it without
		 * blocking; a flag that turns out stale is then ignored
		 * until it changes.
		 */
		kf = exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY;
		if (kf != stale) {
			if (kf) {
				r = exa_kernel_recvmsg(fd, msg,
						     flags | MSG_DONTWAIT);
				if (r != -EAGAIN)
					return r;
			}
			stale = kf;
		}
		if (nonblock)
			return -EAGAIN;

		if (!spinning) {
			/* spinning without end: SO_RCVTIMEO ends it */
			if (deadline_ns < 0 && exa_cfg.spin_ns < 0)
				deadline_ns = exa_rcv_deadline(s);
			exa_spin_init(&sp, deadline_ns, 1);
			spinning = 1;
		}
		while (!exa_ring_maybe_ready(&s->ring) &&
		       (exa_ring_kflags(&s->ring) & EXA_RING_KFLAGS_ANY) ==
		       stale) {
			if (!exa_spin_more(&sp)) {
				if (sp.intr)
					return -EINTR;
				if (deadline_ns >= 0)
					return exa_recv_until(fd, s, msg, flags,
							      deadline_ns);
				return exa_kernel_recvmsg(fd, msg, flags);
			}
		}
	}
	return exa_kernel_recvmsg(fd, msg, flags);
}

/* The kernel keeps @err as the socket's pending error (SO_ERROR). */
static void exa_keep_error(int fd, int err)
{
	int saved = errno;

	if (REAL(setsockopt)(fd, SOL_EXASOCK, SO_EXA_PENDING_ERROR, &err,
			     sizeof(err)))
		exa_msg("fd %d: recvmmsg could not keep error %d: %s", fd, err,
			strerror(errno));
	errno = saved;
}

/**
 * exa_recvmmsg_sock - recvmmsg(2) on an accelerated socket
 *
 * As Linux: the first datagram is waited for as the socket and @flags
 * say; MSG_WAITFORONE makes the rest non-blocking. Unlike Linux (and the
 * original exasock), @tmo also bounds the wait for the later datagrams,
 * so a call never blocks past it once it has something to return. The
 * time left is written back to @tmo, as Linux does. An error after the
 * first datagram is kept on the socket for the next call, as Linux keeps
 * it, but for an interruption: the signal has been handled, and the
 * datagrams are returned (Linux would fail the next call with EINTR).
 *
 * Return: datagrams received or -errno (only when there are none).
 */
int exa_recvmmsg_sock(int fd, struct exa_sock *s, struct mmsghdr *vec,
		      unsigned int vlen, int flags, struct timespec *tmo)
{
	int64_t deadline = -1, left;
	unsigned int i;
	ssize_t r;
	int f;

	if (tmo) {
		if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 ||
		    tmo->tv_nsec >= 1000000000L)
			return -EINVAL;
		deadline = exa_now_ns() + exa_ts_ns(tmo);
	}
	if (vlen > IOV_MAX)	/* UIO_MAXIOV, as Linux */
		vlen = IOV_MAX;

	f = flags & ~MSG_WAITFORONE;
	for (i = 0; i < vlen; i++) {
		r = exa_recvmsg_sock(fd, s, &vec[i].msg_hdr, f,
				     i ? deadline : -1);
		if (r < 0) {
			if (!i)
				return r;
			if (r != -EAGAIN && r != -EINTR)
				exa_keep_error(fd, -r);
			break;
		}
		vec[i].msg_len = r;
		if (flags & MSG_WAITFORONE)
			f |= MSG_DONTWAIT;
		if (tmo && exa_now_ns() >= deadline) {
			i++;
			break;
		}
	}
	if (tmo) {
		left = deadline - exa_now_ns();
		if (left < 0)
			left = 0;
		tmo->tv_sec = left / 1000000000LL;
		tmo->tv_nsec = left % 1000000000LL;
	}
	return i;
}
