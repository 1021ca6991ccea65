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
		r = exa_ring_recvmsg(&s->ring, msg, flags, s->cmsg_opts);
		if (r != -EAGAIN && r != -EUCLEAN)
			return r;
		r = exa_kernel_recvmsg(fd, msg, flags | MSG_DONTWAIT);
		if (r != -EAGAIN)
			return r;
	}
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
	nonblock = (flags & MSG_DONTWAIT) ||
		   __atomic_load_n(&s->nonblock, __ATOMIC_RELAXED);
	for (;;) {
		r = exa_ring_recvmsg(&s->ring, msg, flags, s->cmsg_opts);
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

/**
 * exa_recvmmsg_sock - recvmmsg(2) on an accelerated socket
 *
 * As Linux: the first datagram is waited for as the socket and @flags
 * say; MSG_WAITFORONE makes the rest non-blocking. Unlike Linux (and the
 * original exasock), @tmo also bounds the wait for the later datagrams,
 * so a call never blocks past it once it has something to return. The
 * time left is written back to @tmo, as Linux does.
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
