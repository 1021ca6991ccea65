// SPDX-License-Identifier: GPL-2.0
/*
 * Receive ring consumer. The letters in comments are the barriers of the
 * drawing in uapi/linux/exasock.h.
 *
 * The consumer index is shared with other threads, forked processes and
 * the kernel's recvmsg, so a consumer copies a record first and keeps the
 * copy only if its compare-and-swap of the index succeeds (B): while the
 * index still reads c the producer cannot have reused [c, c + size).
 * Nothing read from the ring is trusted before it has been bounded, so a
 * torn or corrupt record costs a retry or a -EUCLEAN, never a wild read.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include "ring.h"

static int is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* A __u32 field at @off, inside a mapping of @len bytes? */
static int u32_fits(uint64_t off, uint64_t len)
{
	return !(off & 3) && off < len && len - off >= sizeof(uint32_t);
}

int exa_ring_check_info(const struct exasock_mmap_info *mi, size_t mi_len)
{
	if (mi_len < sizeof(*mi))
		return -EINVAL;
	if (mi->rx_kind == EXASOCK_RING_STREAM) {
		if (!is_pow2(mi->rx_size) || mi->rx_align != 1)
			return -EINVAL;
	} else if (mi->rx_kind != EXASOCK_RING_DGRAM ||
		   !is_pow2(mi->rx_size) || !is_pow2(mi->rx_align) ||
		   mi->rx_align < 8 || mi->rx_align > mi->rx_size) {
		return -EINVAL;
	}
	if (!u32_fits(mi->rx_producer, mi->rx_ring_len) ||
	    !u32_fits(mi->rx_flags, mi->rx_ring_len) ||
	    !u32_fits(mi->rx_consumer, mi->rx_user_len))
		return -EINVAL;
	if ((mi->rx_data & 7) || mi->rx_data > mi->rx_ring_len ||
	    mi->rx_ring_len - mi->rx_data < mi->rx_size)
		return -EINVAL;
	/* mmap() lengths must fit a size_t and stay sane */
	if (mi->rx_ring_len > (1ULL << 40) || mi->rx_user_len > (1ULL << 40))
		return -EINVAL;
	return 0;
}

void exa_ring_init(struct exa_ring *r, const struct exasock_mmap_info *mi,
		   const void *ring_map, void *user_map)
{
	const unsigned char *base = ring_map;

	r->data = base + mi->rx_data;
	r->producer = (const uint32_t *)(base + mi->rx_producer);
	r->kflags = (const uint32_t *)(base + mi->rx_flags);
	r->consumer = (uint32_t *)((unsigned char *)user_map +
				   mi->rx_consumer);
	r->size = mi->rx_size;
	r->align = mi->rx_align;
	r->stream = mi->rx_kind == EXASOCK_RING_STREAM;
	r->waiting = NULL;
	if (r->stream && u32_fits(mi->rx_waiting, mi->rx_user_len))
		r->waiting = (uint32_t *)((unsigned char *)user_map +
					  mi->rx_waiting);
}

static uint32_t rec_len(const struct exa_ring *r, uint32_t payload)
{
	uint64_t n = sizeof(struct exasock_rx_entry) + (uint64_t)payload;

	n = (n + r->align - 1) & ~(uint64_t)(r->align - 1);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/*
 * Find the record at the consumer index: its index, its length in the
 * ring and a copy of its header. 0, -EAGAIN or -EUCLEAN.
 */
static int ring_head(const struct exa_ring *r, uint32_t *cp, uint32_t *recp,
		     struct exasock_rx_entry *ent)
{
	uint32_t c, p, avail, off, rec;

	for (;;) {
		/* Consumer before producer: a consumer index read after the
		 * producer could have moved past it.
		 */
		c = __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
		p = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE); /* C */
		if (c == p)
			return -EAGAIN;

		avail = p - c;
		off = c & (r->size - 1);
		if (avail > r->size || (c & (r->align - 1)) ||
		    r->size - off < sizeof(*ent))
			goto suspect;
		memcpy(ent, r->data + off, sizeof(*ent));
		rec = rec_len(r, ent->len);
		if (rec > avail || rec > r->size - off)
			goto suspect;
		*cp = c;
		*recp = rec;
		return 0;
suspect:
		/* Another consumer may have moved on while we looked (and the
		 * producer reused the space): only an index that stayed put
		 * proves the ring is really corrupt.
		 */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(r->consumer, __ATOMIC_RELAXED) == c)
			return -EUCLEAN;
	}
}

/* B: advance the consumer past a record we have finished reading. */
static int ring_claim(struct exa_ring *r, uint32_t c, uint32_t rec)
{
	return __atomic_compare_exchange_n(r->consumer, &c, c + rec, 0,
					   __ATOMIC_RELEASE,
					   __ATOMIC_RELAXED);
}

int exa_ring_ready(struct exa_ring *r)
{
	struct exasock_rx_entry ent;
	uint32_t c, p, rec;
	int err;

	if (r->stream) {
		c = __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
		p = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE); /* C */
		if (p - c > r->size)
			return -EUCLEAN;
		return p != c;
	}

	for (;;) {
		err = ring_head(r, &c, &rec, &ent);
		if (err == -EAGAIN)
			return 0;
		if (err)
			return err;
		if (!(ent.flags & EXASOCK_RX_F_PAD))
			return 1;
		ring_claim(r, c, rec);
	}
}

static void copy_out(const struct iovec *iov, size_t iovcnt,
		     const unsigned char *src, size_t len)
{
	size_t i, n;

	for (i = 0; i < iovcnt && len; i++) {
		n = iov[i].iov_len < len ? iov[i].iov_len : len;
		if (n)
			memcpy(iov[i].iov_base, src, n);
		src += n;
		len -= n;
	}
}

ssize_t exa_ring_read(struct exa_ring *r, const struct iovec *iov,
		      size_t iovcnt, int peek, struct exasock_rx_entry *ent)
{
	uint32_t c, rec;
	int err;

	for (;;) {
		err = ring_head(r, &c, &rec, ent);
		if (err)
			return err;
		if (ent->flags & EXASOCK_RX_F_PAD) {
			ring_claim(r, c, rec);
			continue;
		}

		copy_out(iov, iovcnt, r->data + (c & (r->size - 1)) +
			 sizeof(*ent), ent->len);

		if (peek) {
			/* The copy is good if nobody consumed it meanwhile:
			 * order the data reads before the index re-read.
			 */
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(r->consumer, __ATOMIC_RELAXED) == c)
				return ent->len;
			continue;
		}
		if (ring_claim(r, c, rec))
			return ent->len;
	}
}

/* Append one control message; MSG_CTRUNC when it does not fit. */
static void put_cmsg(struct msghdr *msg, size_t *used, int *oflags,
		     int level, int type, const void *data, size_t len)
{
	size_t room = msg->msg_control ? msg->msg_controllen - *used : 0;
	struct cmsghdr *cm;

	if (room < CMSG_SPACE(len)) {
		/* The last one may go without its trailing padding. */
		if (room < CMSG_LEN(len)) {
			*oflags |= MSG_CTRUNC;
			return;
		}
	}
	cm = (struct cmsghdr *)((unsigned char *)msg->msg_control + *used);
	cm->cmsg_len = CMSG_LEN(len);
	cm->cmsg_level = level;
	cm->cmsg_type = type;
	memcpy(CMSG_DATA(cm), data, len);
	*used += room < CMSG_SPACE(len) ? CMSG_LEN(len) : CMSG_SPACE(len);
}

/* In the order udp_recvmsg() puts them: timestamps, then IP_PKTINFO. */
static size_t put_cmsgs(struct msghdr *msg,
			const struct exasock_rx_entry *ent,
			unsigned int opts, int *oflags)
{
	struct in_pktinfo pi;
	struct timespec ts;
	struct timeval tv;
	size_t used = 0;

	if (opts & (EXA_CMSG_TIMESTAMP | EXA_CMSG_TIMESTAMPNS)) {
		if (ent->tstamp_ns) {
			ts.tv_sec = ent->tstamp_ns / 1000000000ULL;
			ts.tv_nsec = ent->tstamp_ns % 1000000000ULL;
		} else {
			clock_gettime(CLOCK_REALTIME, &ts);
		}
		if (opts & EXA_CMSG_TIMESTAMPNS) {
			put_cmsg(msg, &used, oflags, SOL_SOCKET, SO_TIMESTAMPNS,
				 &ts, sizeof(ts));
		} else {
			tv.tv_sec = ts.tv_sec;
			tv.tv_usec = ts.tv_nsec / 1000;
			put_cmsg(msg, &used, oflags, SOL_SOCKET, SO_TIMESTAMP,
				 &tv, sizeof(tv));
		}
	}
	if (opts & EXA_CMSG_PKTINFO) {
		memset(&pi, 0, sizeof(pi));
		pi.ipi_ifindex = (int)ent->ifindex;
		pi.ipi_spec_dst.s_addr = ent->dst_addr;
		pi.ipi_addr.s_addr = ent->dst_addr;
		put_cmsg(msg, &used, oflags, IPPROTO_IP, IP_PKTINFO, &pi,
			 sizeof(pi));
	}
	return used;
}

ssize_t exa_ring_recvmsg(struct exa_ring *r, struct msghdr *msg, int flags,
			 unsigned int cmsg_opts)
{
	struct exasock_rx_entry ent;
	struct sockaddr_in sin;
	size_t cap = 0, i;
	int oflags = 0;
	ssize_t len;

	for (i = 0; i < msg->msg_iovlen; i++) {
		if (msg->msg_iov[i].iov_len > (size_t)SSIZE_MAX - cap) {
			cap = SSIZE_MAX;
			break;
		}
		cap += msg->msg_iov[i].iov_len;
	}

	len = exa_ring_read(r, msg->msg_iov, msg->msg_iovlen,
			    flags & MSG_PEEK, &ent);
	if (len < 0)
		return len;

	if (msg->msg_name) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = ent.src_port;
		sin.sin_addr.s_addr = ent.src_addr;
		/* As the kernel does: copy what fits, report the real size. */
		memcpy(msg->msg_name, &sin,
		       msg->msg_namelen < sizeof(sin) ? msg->msg_namelen :
		       sizeof(sin));
		msg->msg_namelen = sizeof(sin);
	}
	msg->msg_controllen = put_cmsgs(msg, &ent,
					cmsg_opts & ~EXA_CMSG_OTHER, &oflags);
	if ((size_t)len > cap)
		oflags |= MSG_TRUNC;
	msg->msg_flags = oflags;
	if ((flags & MSG_TRUNC) || (size_t)len <= cap)
		return len;
	return cap;
}

/* ---- stream rings -------------------------------------------------------
 *
 * The same indices without records: [consumer, producer) are the next
 * bytes of the stream. A consumer copies what it wants and keeps the copy
 * if its compare-and-swap moves the index (B), as for datagrams.
 */

uint32_t exa_stream_used(const struct exa_ring *r)
{
	uint32_t c = __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
	uint32_t p = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

	return p - c > r->size ? 0 : p - c;
}

/* Copy @len bytes from ring offset @off (wrapping) into @iov, after its
 * first @skip bytes.
 */
static void stream_copy_out(const struct exa_ring *r, const struct iovec *iov,
			    size_t iovcnt, size_t skip, uint32_t off,
			    size_t len)
{
	size_t i, n, first;
	unsigned char *dst;

	for (i = 0; i < iovcnt && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		n = iov[i].iov_len - skip;
		if (n > len)
			n = len;
		dst = (unsigned char *)iov[i].iov_base + skip;
		skip = 0;
		len -= n;
		while (n) {
			first = r->size - off;
			if (first > n)
				first = n;
			memcpy(dst, r->data + off, first);
			dst += first;
			n -= first;
			off = (off + first) & (r->size - 1);
		}
	}
}

ssize_t exa_stream_read(struct exa_ring *r, const struct iovec *iov,
			size_t iovcnt, size_t skip, int flags)
{
	uint32_t c, p, avail;
	size_t cap = 0, i, n;

	for (i = 0; i < iovcnt && cap < r->size + skip; i++)	/* no wrap */
		cap += iov[i].iov_len < SIZE_MAX / 2 ? iov[i].iov_len :
						       SIZE_MAX / 2;
	cap = cap > skip ? cap - skip : 0;
	for (;;) {
		c = __atomic_load_n(r->consumer, __ATOMIC_RELAXED);
		p = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE); /* C */
		avail = p - c;
		if (!avail)
			return -EAGAIN;
		if (avail > r->size) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(r->consumer, __ATOMIC_RELAXED) == c)
				return -EUCLEAN;
			continue;
		}
		n = cap < avail ? cap : avail;
		if (!n)
			return 0;
		if (!(flags & MSG_TRUNC))	/* TCP's MSG_TRUNC: discard */
			stream_copy_out(r, iov, iovcnt, skip,
					c & (r->size - 1), n);
		if (flags & MSG_PEEK) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(r->consumer, __ATOMIC_RELAXED) == c)
				return n;
			continue;
		}
		if (ring_claim(r, c, n))
			return n;
	}
}
