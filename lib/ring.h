/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive ring consumer: the user-space half of the protocol drawn in
 * uapi/linux/exasock.h. Pure memory logic with no system calls, so that
 * selftests/unit/ring_test can drive it against a ring built in-process.
 *
 * Every function returns a value >= 0 or -errno: -EAGAIN when the ring
 * holds no datagram, -EUCLEAN when the indices or a record cannot be
 * right (the caller then leaves the ring to the kernel's recvmsg, which
 * resets it and counts the reset).
 */
#ifndef EXASOCK_LIB_RING_H
#define EXASOCK_LIB_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/exasock.h>

struct exa_ring {
	const unsigned char *data;	/* data area, read-only mapping */
	const uint32_t *producer;	/* kernel-written */
	const uint32_t *kflags;		/* kernel-written RING_F_* */
	uint32_t *consumer;		/* shared by all consumers */
	uint32_t size;			/* data bytes, a power of two */
	uint32_t align;			/* record alignment, a power of two */
	int stream;			/* TCP: bytes, no records */
	uint32_t *waiting;		/* stream: spinning readers, or NULL */
};

/* Control messages exa_ring_recvmsg() builds from the record header,
 * mirroring the socket options that ask for them.
 */
#define EXA_CMSG_PKTINFO	(1U << 0)	/* IP_PKTINFO */
#define EXA_CMSG_TIMESTAMP	(1U << 1)	/* SO_TIMESTAMP (timeval) */
#define EXA_CMSG_TIMESTAMPNS	(1U << 2)	/* SO_TIMESTAMPNS */
/* Some option asks for a control message we cannot build. */
#define EXA_CMSG_OTHER		(1U << 3)

#define EXA_RING_KFLAGS_ANY	(EXASOCK_RING_F_NATIVE_PENDING | \
				 EXASOCK_RING_F_ERROR | \
				 EXASOCK_RING_F_SHUTDOWN)

/* exa_ring_check_info - can these mappings be a ring? 0 or -EINVAL */
int exa_ring_check_info(const struct exasock_mmap_info *mi, size_t mi_len);

/* exa_ring_init - point @r into the two mappings described by @mi.
 * @mi must have passed exa_ring_check_info().
 */
void exa_ring_init(struct exa_ring *r, const struct exasock_mmap_info *mi,
		   const void *ring_map, void *user_map);

/* exa_ring_spinning - tell the kernel a reader spins on this (stream)
 * ring (@on 1) or stopped (@on 0): it then copies new bytes in at once.
 */
static inline void exa_ring_spinning(struct exa_ring *r, int on)
{
	if (r->waiting)
		__atomic_add_fetch(r->waiting, on ? 1 : (uint32_t)-1,
				   __ATOMIC_SEQ_CST);
}

static inline uint32_t exa_ring_kflags(const struct exa_ring *r)
{
	return __atomic_load_n(r->kflags, __ATOMIC_ACQUIRE);
}

/* Cheap test for spin loops: has anything been produced that nobody
 * consumed? May be a PAD record or a corrupt ring; exa_ring_ready() says.
 */
static inline int exa_ring_maybe_ready(const struct exa_ring *r)
{
	return __atomic_load_n(r->producer, __ATOMIC_RELAXED) !=
	       __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
}

/* exa_ring_ready - is a datagram (or, on a stream ring, a byte) waiting?
 * Skips (consumes) PAD records.
 * Return: 1 datagram waiting, 0 empty, -EUCLEAN corrupt.
 */
int exa_ring_ready(struct exa_ring *r);

/* exa_ring_read - take the next datagram, or look at it with @peek.
 * Copies min(datagram, iov space) bytes and fills @ent with its header.
 * Return: the datagram's full length, -EAGAIN or -EUCLEAN.
 */
ssize_t exa_ring_read(struct exa_ring *r, const struct iovec *iov,
		      size_t iovcnt, int peek, struct exasock_rx_entry *ent);

/* exa_ring_recvmsg - recvmsg(2) from the ring: payload, msg_name and
 * msg_namelen, msg_flags (MSG_TRUNC, MSG_CTRUNC), and the control messages
 * selected by @cmsg_opts (EXA_CMSG_*). Honours MSG_PEEK and MSG_TRUNC in
 * @flags. @msg is left untouched unless a datagram is returned.
 * Return: what recvmsg(2) would return, -EAGAIN or -EUCLEAN.
 */
ssize_t exa_ring_recvmsg(struct exa_ring *r, struct msghdr *msg, int flags,
			 unsigned int cmsg_opts);

/* exa_stream_read - take (or with MSG_PEEK in @flags, look at) the next
 * bytes of a stream ring, as many as are queued and fit @iov after its
 * first @skip bytes; with MSG_TRUNC they are taken but not copied.
 * Return: bytes taken (> 0 unless @iov has no room), -EAGAIN when empty,
 * -EUCLEAN when the indices cannot be right.
 */
ssize_t exa_stream_read(struct exa_ring *r, const struct iovec *iov,
			size_t iovcnt, size_t skip, int flags);

/* exa_stream_used - bytes queued in a stream ring (0 if corrupt) */
uint32_t exa_stream_used(const struct exa_ring *r);

#endif /* EXASOCK_LIB_RING_H */
