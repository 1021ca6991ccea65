// SPDX-License-Identifier: GPL-2.0
/*
 * The per-socket receive ring: a byte ring of variable-length records,
 * produced by the rx_handler and consumed by the process (mapped) or by
 * recvmsg() here. The layout and the barrier protocol are described in
 * uapi/linux/exasock.h; the letters in comments refer to it.
 *
 * The consumer index lives in memory the process can write. It is read
 * once per operation and validated; a bad value only ever costs the
 * owning socket its queued datagrams (counted as a ring reset).
 */
#include <linux/in.h>
#include <linux/uio.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include "exasock.h"

#define EXASOCK_RING_HDR_LEN	PAGE_SIZE	/* shared page before data */

static u32 exasock_rec_len(u32 payload)
{
	return ALIGN(sizeof(struct exasock_rx_entry) + payload,
		     EXASOCK_RX_ALIGN);
}

/*
 * Ring memory is charged to the socket owner's memory cgroup
 * (__GFP_ACCOUNT; the caller is the process that binds, connects or
 * accepts), and never had at any cost: a ring that cannot be had (no
 * memory, or the cgroup's limit) leaves the socket native, so no reclaim
 * storm and no OOM kill for it. The consumer's page follows the ring's
 * header and data in the same allocation; vfree() may run in the RCU
 * callback that destroys the socket.
 */
#define EXASOCK_RING_GFP	(GFP_KERNEL_ACCOUNT | __GFP_ZERO | \
				 __GFP_NORETRY | __GFP_NOWARN)

/**
 * exasock_ring_alloc - allocate a ring of @size data bytes (power of two)
 *
 * Return: 0 or -ENOMEM. Process context.
 */
int exasock_ring_alloc(struct exasock_ring *ring, u32 size)
{
	ring->shared_len = EXASOCK_RING_HDR_LEN + size;
	ring->shared = __vmalloc(ring->shared_len + PAGE_SIZE,
				 EXASOCK_RING_GFP);
	if (!ring->shared)
		return -ENOMEM;
	ring->user = (void *)((u8 *)ring->shared + ring->shared_len);
	ring->data = (u8 *)ring->shared + EXASOCK_RING_HDR_LEN;
	ring->size = size;
	ring->mask = size - 1;
	spin_lock_init(&ring->producer_lock);
	exasock_count_add(&exasock_stats, EXASOCK_STAT_RING_BYTES,
			  ring->shared_len + PAGE_SIZE);
	return 0;
}

/* Only once no rx_handler can see the ring (after an RCU grace period). */
void exasock_ring_free(struct exasock_ring *ring)
{
	if (!ring->shared)
		return;
	exasock_count_add(&exasock_stats, EXASOCK_STAT_RING_BYTES,
			  -(u64)(ring->shared_len + PAGE_SIZE));
	vfree(ring->shared);	/* a process mapping holds its own pages */
	ring->shared = NULL;
	ring->user = NULL;
}

/**
 * exasock_ring_put - append one datagram
 * @ring: the socket's ring
 * @hdr: the record header to write (len is the payload length)
 * @skb: holds the payload at @offset
 * @offset: where the payload starts in @skb
 * @resets: incremented when a consumer index the process broke had to be
 *	put back to the producer's (what was queued is lost to it)
 *
 * Return: 0, or -ENOBUFS when there is no room (the caller counts the
 * drop). Softirq context; takes producer_lock.
 */
int exasock_ring_put(struct exasock_ring *ring,
		     const struct exasock_rx_entry *hdr,
		     const struct sk_buff *skb, int offset, u64 *resets)
{
	u32 rec = exasock_rec_len(hdr->len);
	u32 prod, cons, used, pos, tail, need;
	struct exasock_rx_entry *e;
	int err = 0;

	if (rec > ring->size)
		return -ENOBUFS;

	spin_lock(&ring->producer_lock);
	prod = ring->shared->producer;
	cons = READ_ONCE(ring->user->consumer);
	used = prod - cons;
	if (used > ring->size) {
		/* the ring heals now, not at the process's next recvmsg() */
		if (cmpxchg(&ring->user->consumer, cons, prod) != cons) {
			err = -ENOBUFS;	/* a consumer is still writing it */
			goto unlock;
		}
		(*resets)++;
		used = 0;
	}

	pos = prod & ring->mask;
	tail = ring->size - pos;
	need = tail < rec ? tail + rec : rec;
	if (ring->size - used < need) {
		err = -ENOBUFS;
		goto unlock;
	}

	if (tail < rec) {
		/* Records never wrap: pad to the end of the ring. tail is a
		 * multiple of EXASOCK_RX_ALIGN, so the header always fits.
		 */
		e = (struct exasock_rx_entry *)(ring->data + pos);
		memset(e, 0, sizeof(*e));
		e->len = tail - sizeof(*e);
		e->flags = EXASOCK_RX_F_PAD;
		prod += tail;
		pos = 0;
	}

	e = (struct exasock_rx_entry *)(ring->data + pos);
	*e = *hdr;
	skb_copy_bits(skb, offset, e + 1, hdr->len);

	/* A, matches C: the record is visible before the index moves. */
	smp_store_release(&ring->shared->producer, prod + rec);
unlock:
	spin_unlock(&ring->producer_lock);
	return err;
}

/*
 * Snapshot the indices and check them. Returns the bytes queued, 0 when
 * empty, or -EFAULT when the consumer index cannot be right.
 */
static long exasock_ring_snapshot(struct exasock_ring *ring, u32 *cons)
{
	u32 prod = smp_load_acquire(&ring->shared->producer); /* C, matches A */
	u32 used;

	*cons = READ_ONCE(ring->user->consumer);
	used = prod - *cons;
	if (used > ring->size ||
	    (used && !ring->stream && (*cons & (EXASOCK_RX_ALIGN - 1))))
		return -EFAULT;
	return used;
}

/*
 * Is the record at @cons, of payload @len, one the producer could have
 * written? Records lie within the bytes queued and never wrap.
 */
static bool exasock_rec_ok(const struct exasock_ring *ring, u32 cons, u32 len,
			   long used)
{
	u32 rec;

	if (len > ring->size)
		return false;
	rec = exasock_rec_len(len);
	return rec <= used && rec <= ring->size - (cons & ring->mask);
}

/* Throw away everything queued: the process broke its consumer index. */
static void exasock_ring_reset(struct exasock_ring *ring, u32 cons, u64 *resets)
{
	u32 prod = smp_load_acquire(&ring->shared->producer); /* C */

	cmpxchg(&ring->user->consumer, cons, prod);
	(*resets)++;
}

bool exasock_ring_empty(struct exasock_ring *ring)
{
	u32 cons;

	return exasock_ring_snapshot(ring, &cons) == 0;
}

/**
 * exasock_ring_read - take (or peek at) the next datagram, for recvmsg()
 * @hdr: its record header, for the control messages
 * @resets: incremented when the ring had to be reset
 *
 * Copies to user memory with no lock held. Consumers agree through a
 * compare-and-swap on the consumer index (B): the copy is kept only if
 * the swap succeeds, which proves the producer did not reuse the space.
 *
 * Return: bytes copied (or the datagram length with MSG_TRUNC), -EAGAIN
 * when empty, -EFAULT when the copy to user memory faulted.
 */
int exasock_ring_read(struct exasock_ring *ring, struct msghdr *msg,
		      size_t len, int flags, struct exasock_rx_entry *hdr,
		      u64 *resets)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, msg->msg_name);
	struct exasock_rx_entry e;
	size_t copied;
	long used;
	u32 cons, rec;

	for (;;) {
		used = exasock_ring_snapshot(ring, &cons);
		if (used == 0)
			return -EAGAIN;
		if (used < 0) {
			exasock_ring_reset(ring, cons, resets);
			return -EAGAIN;
		}

		memcpy(&e, ring->data + (cons & ring->mask), sizeof(e));
		if (!exasock_rec_ok(ring, cons, e.len, used)) {
			if (READ_ONCE(ring->user->consumer) != cons)
				continue;	/* raced with another consumer */
			exasock_ring_reset(ring, cons, resets);
			return -EAGAIN;
		}
		rec = exasock_rec_len(e.len);

		if (e.flags & EXASOCK_RX_F_PAD) {
			cmpxchg(&ring->user->consumer, cons, cons + rec);
			continue;
		}

		copied = min_t(size_t, len, e.len);
		if (copy_to_iter(ring->data + (cons & ring->mask) + sizeof(e),
				 copied, &msg->msg_iter) != copied)
			return -EFAULT;

		/* B: claim the record (or, peeking, check nobody did while we
		 * copied); if someone else did, undo and retry.
		 */
		if (flags & MSG_PEEK) {
			smp_rmb();	/* the copy before the check */
			if (READ_ONCE(ring->user->consumer) == cons)
				break;
		} else if (cmpxchg(&ring->user->consumer, cons,
				   cons + rec) == cons) {
			break;
		}
		iov_iter_revert(&msg->msg_iter, copied);
	}

	if (sin) {
		sin->sin_family = AF_INET;
		sin->sin_port = (__force __be16)e.src_port;
		sin->sin_addr.s_addr = (__force __be32)e.src_addr;
		memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
		msg->msg_namelen = sizeof(*sin);
	}
	if (copied < e.len)
		msg->msg_flags |= MSG_TRUNC;
	*hdr = e;
	return flags & MSG_TRUNC ? e.len : copied;
}

/*
 * Walk the queued records: returns the payload bytes of all datagrams;
 * *@first gets the length of the first one (-EAGAIN if none). With
 * @first_only, stops there.
 */
static u32 exasock_ring_walk(struct exasock_ring *ring, bool first_only,
			     int *first)
{
	struct exasock_rx_entry e;
	u32 cons, bytes = 0;
	long used;

	*first = -EAGAIN;
	used = exasock_ring_snapshot(ring, &cons);
	while (used > 0) {
		memcpy(&e, ring->data + (cons & ring->mask), sizeof(e));
		if (!exasock_rec_ok(ring, cons, e.len, used))
			break;
		if (!(e.flags & EXASOCK_RX_F_PAD)) {
			if (*first < 0)
				*first = e.len;
			if (first_only)
				break;
			bytes += e.len;
		}
		cons += exasock_rec_len(e.len);
		used -= exasock_rec_len(e.len);
	}
	return bytes;
}

/* Length of the next datagram (SIOCINQ), or -EAGAIN when empty. */
int exasock_ring_next_len(struct exasock_ring *ring)
{
	int first;

	exasock_ring_walk(ring, true, &first);
	return first;
}

/* Payload bytes queued, not counting headers and padding. */
u32 exasock_ring_payload(struct exasock_ring *ring)
{
	int first;

	return exasock_ring_walk(ring, false, &first);
}

/* ---- stream rings (TCP): bytes, no records ------------------------------ */

/*
 * Bytes queued, or -EFAULT when the consumer index is nonsense. For the
 * producer, whose own index is stable under the twin's socket lock.
 */
static long exasock_stream_used(struct exasock_ring *ring, u32 *cons)
{
	u32 prod = smp_load_acquire(&ring->shared->producer); /* C */
	u32 used;

	*cons = READ_ONCE(ring->user->consumer);
	used = prod - *cons;
	return used > ring->size ? -EFAULT : used;
}

/**
 * exasock_stream_room - bytes the producer may add now
 * @resets: incremented when a bad consumer index had to be reset
 *
 * A consumer index the process broke is put back to the producer's: the
 * bytes queued are lost to that process, which broke its own stream.
 */
u32 exasock_stream_room(struct exasock_ring *ring, u64 *resets)
{
	long used;
	u32 cons;

	used = exasock_stream_used(ring, &cons);
	if (used < 0) {
		exasock_ring_reset(ring, cons, resets);
		used = exasock_stream_used(ring, &cons);
		if (used < 0)
			return 0;
	}
	return ring->size - used;
}

/**
 * exasock_stream_put - append @len bytes of @skb from @offset
 *
 * The caller has checked the room (exasock_stream_room()) and is the only
 * producer (it owns the twin's socket lock).
 */
void exasock_stream_put(struct exasock_ring *ring, const struct sk_buff *skb,
			int offset, u32 len)
{
	u32 prod = ring->shared->producer;
	u32 pos = prod & ring->mask;
	u32 first = min(len, ring->size - pos);

	skb_copy_bits(skb, offset, ring->data + pos, first);
	if (first < len)
		skb_copy_bits(skb, offset + first, ring->data, len - first);
	/* A: the bytes are visible before the index moves. */
	smp_store_release(&ring->shared->producer, prod + len);
}

/**
 * exasock_stream_read - take (or peek at) up to @len bytes, for recvmsg()
 *
 * As exasock_ring_read(): copy with no lock held, keep the copy only if
 * the compare-and-swap of the consumer index succeeds. With MSG_TRUNC the
 * bytes are taken (or looked at) and not copied, as tcp_recvmsg() does.
 *
 * Return: bytes taken, -EAGAIN when empty, -EFAULT on a fault.
 */
int exasock_stream_read(struct exasock_ring *ring, struct msghdr *msg,
			size_t len, int flags, u64 *resets)
{
	u32 cons, pos, n, first;
	long used;

	for (;;) {
		used = exasock_stream_used(ring, &cons);
		if (used < 0) {
			exasock_ring_reset(ring, cons, resets);
			return -EAGAIN;
		}
		if (!used)
			return -EAGAIN;
		n = min_t(size_t, len, used);
		pos = cons & ring->mask;
		first = min(n, ring->size - pos);
		if (!(flags & MSG_TRUNC)) {
			if (copy_to_iter(ring->data + pos, first,
					 &msg->msg_iter) != first)
				return -EFAULT;
			if (first < n &&
			    copy_to_iter(ring->data, n - first,
					 &msg->msg_iter) != n - first) {
				iov_iter_revert(&msg->msg_iter, first);
				return -EFAULT;
			}
		}
		if (flags & MSG_PEEK) {
			smp_rmb(); /* the copy, then the index re-read */
			if (READ_ONCE(ring->user->consumer) == cons)
				return n;
		} else if (cmpxchg(&ring->user->consumer, cons, cons + n) ==
			   cons) {
			return n;
		}
		if (!(flags & MSG_TRUNC))
			iov_iter_revert(&msg->msg_iter, n);
	}
}

/* Bytes queued (Recv-Q); 0 for a broken consumer index. */
u32 exasock_stream_bytes(struct exasock_ring *ring)
{
	long used;
	u32 cons;

	used = exasock_stream_used(ring, &cons);
	return used < 0 ? 0 : used;
}

void exasock_ring_fill_info(const struct exasock_ring *ring,
			    struct exasock_mmap_info *info)
{
	memset(info, 0, sizeof(*info));
	info->rx_size = ring->size;
	info->rx_kind = ring->stream ? EXASOCK_RING_STREAM : EXASOCK_RING_DGRAM;
	info->rx_align = ring->stream ? 1 : EXASOCK_RX_ALIGN;
	info->rx_ring_len = ring->shared_len;
	info->rx_user_len = PAGE_SIZE;
	info->rx_producer = offsetof(struct exasock_ring_shared, producer);
	info->rx_flags = offsetof(struct exasock_ring_shared, flags);
	info->rx_data = EXASOCK_RING_HDR_LEN;
	info->rx_consumer = offsetof(struct exasock_ring_user, consumer);
	info->rx_waiting = offsetof(struct exasock_ring_user, waiting);
}

/*
 * The pages of the vmalloc() memory at @kaddr into all of @vma, as
 * remap_vmalloc_range() would map them (which wants memory from
 * vmalloc_user(), which cannot be charged to a cgroup).
 */
static int exasock_map_pages(struct vm_area_struct *vma, void *kaddr)
{
	unsigned long uaddr;
	int err;

	for (uaddr = vma->vm_start; uaddr < vma->vm_end; uaddr += PAGE_SIZE) {
		err = vm_insert_page(vma, uaddr, vmalloc_to_page(kaddr));
		if (err)
			return err;
		kaddr = (u8 *)kaddr + PAGE_SIZE;
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

/**
 * exasock_ring_mmap - map the ring (read-only) or the consumer page
 *
 * The kernel-written part may never become writable: VM_MAYWRITE is
 * cleared so mprotect() cannot add PROT_WRITE later.
 */
int exasock_ring_mmap(struct exasock_ring *ring, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	switch (off) {
	case EXASOCK_MMAP_RX_RING:
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		if (len > ring->shared_len)
			return -EINVAL;
		vm_flags_clear(vma, VM_MAYWRITE);
		return exasock_map_pages(vma, ring->shared);
	case EXASOCK_MMAP_RX_USER:
		if (len > PAGE_SIZE)
			return -EINVAL;
		return exasock_map_pages(vma, ring->user);
	default:
		return -EINVAL;
	}
}
