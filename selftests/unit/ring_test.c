// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit test of libexasock's ring consumer (lib/ring.c) against a
 * ring produced in-process by the rules of uapi/linux/exasock.h (the same
 * algorithm as the kernel's exasock_ring_put()). No module, no VM.
 *
 * Output is TAP 13; exit status 0 when every test passed, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "ring.h"
#include "unit_tap.h"

#define HDR_LEN		4096
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

struct tring {
	unsigned char *ring_map;	/* "kernel" mapping: header + data */
	unsigned char *user_map;	/* consumer page */
	struct exasock_mmap_info mi;
	struct exa_ring r;
	uint32_t *producer;
	uint32_t *kflags;
	uint32_t *consumer;
	unsigned char *data;
	uint32_t size;
	unsigned long drops;
};


static void tr_init(struct tring *t, uint32_t size, uint32_t start)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	t->ring_map = aligned_alloc(4096, HDR_LEN + size);
	t->user_map = aligned_alloc(4096, 4096);
	memset(t->ring_map, 0xa5, HDR_LEN + size);	/* garbage */
	memset(t->user_map, 0, 4096);

	/* the layout the kernel reports; the library must not assume it */
	t->mi.rx_size = size;
	t->mi.rx_align = EXASOCK_RX_ALIGN;
	t->mi.rx_ring_len = HDR_LEN + size;
	t->mi.rx_user_len = 4096;
	t->mi.rx_producer = 0;
	t->mi.rx_flags = 64;
	t->mi.rx_data = HDR_LEN;
	t->mi.rx_consumer = 128;

	t->producer = (uint32_t *)(t->ring_map + t->mi.rx_producer);
	t->kflags = (uint32_t *)(t->ring_map + t->mi.rx_flags);
	t->consumer = (uint32_t *)(t->user_map + t->mi.rx_consumer);
	t->data = t->ring_map + HDR_LEN;
	*t->producer = start;
	*t->kflags = 0;
	*t->consumer = start;
	exa_ring_init(&t->r, &t->mi, t->ring_map, t->user_map);
}

static void tr_free(struct tring *t)
{
	free(t->ring_map);
	free(t->user_map);
}

/* The producer of uapi/linux/exasock.h: -ENOBUFS when full. */
static int tr_put(struct tring *t, const void *payload, uint32_t len,
		  uint32_t saddr, uint16_t sport)
{
	uint32_t rec = ALIGN_UP(sizeof(struct exasock_rx_entry) + len,
				EXASOCK_RX_ALIGN);
	uint32_t prod, cons, used, pos, tail, need;
	struct exasock_rx_entry e;

	prod = *t->producer;
	cons = __atomic_load_n(t->consumer, __ATOMIC_ACQUIRE);
	used = prod - cons;
	if (used > t->size)
		return -EFAULT;
	pos = prod & (t->size - 1);
	tail = t->size - pos;
	need = tail < rec ? tail + rec : rec;
	if (rec > t->size || t->size - used < need) {
		t->drops++;
		return -ENOBUFS;
	}
	if (tail < rec) {
		memset(&e, 0, sizeof(e));
		e.len = tail - sizeof(e);
		e.flags = EXASOCK_RX_F_PAD;
		memcpy(t->data + pos, &e, sizeof(e));
		prod += tail;
		pos = 0;
	}
	memset(&e, 0, sizeof(e));
	e.len = len;
	e.src_addr = saddr;
	e.dst_addr = htonl(0x0a000002);
	e.src_port = sport;
	e.dst_port = htons(1234);
	e.ifindex = 7;
	e.tstamp_ns = 1700000000123456789ULL;
	memcpy(t->data + pos, &e, sizeof(e));
	memcpy(t->data + pos + sizeof(e), payload, len);
	__atomic_store_n(t->producer, prod + rec, __ATOMIC_RELEASE); /* A */
	return 0;
}

static ssize_t tr_recv(struct tring *t, void *buf, size_t len, int flags,
		       struct sockaddr_in *sin, socklen_t *slen, int *oflags)
{
	struct iovec iov = { buf, len };
	struct msghdr msg;
	ssize_t r;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (sin) {
		msg.msg_name = sin;
		msg.msg_namelen = *slen;
	}
	msg.msg_flags = -1;
	r = exa_ring_recvmsg(&t->r, &msg, flags, 0);
	if (r >= 0 && sin)
		*slen = msg.msg_namelen;
	if (oflags)
		*oflags = msg.msg_flags;
	return r;
}

/* ---- tests -------------------------------------------------------------- */

static void test_check_info(void)
{
	struct exasock_mmap_info mi;
	struct tring t;

	tr_init(&t, 4096, 0);
	mi = t.mi;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == 0, "good info");
	CHECK(exa_ring_check_info(&mi, sizeof(mi) - 8) == -EINVAL,
	      "short struct");
	mi.rx_size = 3000;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "size");
	mi = t.mi;
	mi.rx_align = 48;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "align");
	mi = t.mi;
	mi.rx_align = 8192;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "align>size");
	mi = t.mi;
	mi.rx_producer = mi.rx_ring_len - 2;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "producer");
	mi = t.mi;
	mi.rx_flags = 2;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "unaligned");
	mi = t.mi;
	mi.rx_data = HDR_LEN + 64;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "data");
	mi = t.mi;
	mi.rx_consumer = 4096;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "consumer");
	mi = t.mi;
	mi.rx_data = UINT64_MAX - 100;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL, "overflow");
	tr_free(&t);
}

static void test_empty(void)
{
	struct tring t;
	char buf[16];

	tr_init(&t, 4096, 0);
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EAGAIN,
	      "empty recv");
	CHECK(exa_ring_ready(&t.r) == 0, "empty ready");
	CHECK(!exa_ring_maybe_ready(&t.r), "maybe_ready");
	*t.kflags = EXASOCK_RING_F_NATIVE_PENDING;
	CHECK(exa_ring_kflags(&t.r) == EXASOCK_RING_F_NATIVE_PENDING,
	      "kflags");
	tr_free(&t);
}

static void test_one(void)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char buf[64];
	struct tring t;
	int of;
	ssize_t r;

	tr_init(&t, 4096, 0);
	CHECK(!tr_put(&t, "hello", 5, htonl(0x0a000001), htons(4321)), "put");
	CHECK(exa_ring_maybe_ready(&t.r), "maybe_ready");
	CHECK(exa_ring_ready(&t.r) == 1, "ready");
	memset(&sin, 0xff, sizeof(sin));
	r = tr_recv(&t, buf, sizeof(buf), 0, &sin, &slen, &of);
	CHECK(r == 5, "r=%zd", r);
	CHECK(!memcmp(buf, "hello", 5), "payload");
	CHECK(slen == sizeof(sin), "namelen %u", slen);
	CHECK(sin.sin_family == AF_INET, "family");
	CHECK(sin.sin_addr.s_addr == htonl(0x0a000001), "addr");
	CHECK(sin.sin_port == htons(4321), "port");
	CHECK(!memcmp(sin.sin_zero, "\0\0\0\0\0\0\0\0", 8), "zero");
	CHECK(of == 0, "msg_flags %#x", of);
	CHECK(*t.consumer == 64, "consumer %u", *t.consumer);
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EAGAIN,
	      "then empty");
	tr_free(&t);
}

static void test_peek(void)
{
	char buf[64];
	struct tring t;
	ssize_t r;

	tr_init(&t, 4096, 0);
	tr_put(&t, "peekaboo", 8, 1, 2);
	tr_put(&t, "second", 6, 1, 2);
	r = tr_recv(&t, buf, sizeof(buf), MSG_PEEK, NULL, NULL, NULL);
	CHECK(r == 8 && !memcmp(buf, "peekaboo", 8), "peek 1");
	CHECK(*t.consumer == 0, "peek consumed");
	memset(buf, 0, sizeof(buf));
	r = tr_recv(&t, buf, 4, MSG_PEEK | MSG_TRUNC, NULL, NULL, NULL);
	CHECK(r == 8 && !memcmp(buf, "peek", 4), "peek trunc r=%zd", r);
	r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL);
	CHECK(r == 8 && !memcmp(buf, "peekaboo", 8), "read after peek");
	r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL);
	CHECK(r == 6 && !memcmp(buf, "second", 6), "second");
	tr_free(&t);
}

static void test_trunc(void)
{
	char buf[64] = { 0 };
	struct tring t;
	int of;
	ssize_t r;

	tr_init(&t, 4096, 0);
	tr_put(&t, "0123456789", 10, 1, 2);
	tr_put(&t, "abcdefghij", 10, 1, 2);
	tr_put(&t, "", 0, 1, 2);
	r = tr_recv(&t, buf, 4, 0, NULL, NULL, &of);
	CHECK(r == 4 && !memcmp(buf, "0123", 4) && buf[4] == 0, "r=%zd", r);
	CHECK(of == MSG_TRUNC, "msg_flags %#x", of);
	r = tr_recv(&t, buf, 3, MSG_TRUNC, NULL, NULL, &of);
	CHECK(r == 10 && !memcmp(buf, "abc", 3), "MSG_TRUNC r=%zd", r);
	CHECK(of == MSG_TRUNC, "msg_flags %#x", of);
	r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, &of);
	CHECK(r == 0 && of == 0, "zero-length datagram r=%zd", r);
	CHECK(*t.consumer == *t.producer, "all consumed");
	/* a zero-byte read still takes the datagram, as UDP does */
	tr_put(&t, "xyz", 3, 1, 2);
	r = tr_recv(&t, buf, 0, 0, NULL, NULL, &of);
	CHECK(r == 0 && of == MSG_TRUNC, "zero buffer r=%zd", r);
	CHECK(*t.consumer == *t.producer, "consumed");
	tr_free(&t);
}

static void test_name(void)
{
	struct sockaddr_in sin;
	socklen_t slen;
	struct iovec iov;
	struct msghdr msg;
	char buf[16];
	struct tring t;

	tr_init(&t, 4096, 0);
	tr_put(&t, "a", 1, htonl(0x01020304), htons(80));
	tr_put(&t, "b", 1, htonl(0x01020304), htons(80));
	memset(&sin, 0xee, sizeof(sin));
	slen = 4;
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, &sin, &slen, NULL) == 1, "r");
	CHECK(slen == sizeof(sin), "namelen reports full size: %u", slen);
	CHECK(sin.sin_family == AF_INET && sin.sin_port == htons(80),
	      "first 4 bytes");
	CHECK(sin.sin_addr.s_addr == 0xeeeeeeee, "no write past namelen");

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_namelen = 1234;		/* ignored without msg_name */
	CHECK(exa_ring_recvmsg(&t.r, &msg, 0, 0) == 1, "r");
	CHECK(msg.msg_namelen == 1234, "namelen untouched");
	CHECK(msg.msg_controllen == 0, "no control");
	tr_free(&t);
}

static void test_iov(void)
{
	char a[3], b[0], c[5], d[8];
	struct iovec iov[4] = {
		{ a, sizeof(a) }, { b, 0 }, { c, sizeof(c) }, { d, sizeof(d) },
	};
	struct msghdr msg;
	struct tring t;
	ssize_t r;

	tr_init(&t, 4096, 0);
	tr_put(&t, "abcdefghijk", 11, 1, 2);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 4;
	memset(d, 0, sizeof(d));
	r = exa_ring_recvmsg(&t.r, &msg, 0, 0);
	CHECK(r == 11, "r=%zd", r);
	CHECK(!memcmp(a, "abc", 3) && !memcmp(c, "defgh", 5) &&
	      !memcmp(d, "ijk", 3) && d[3] == 0, "scatter");
	CHECK(msg.msg_flags == 0, "flags");
	tr_put(&t, "abcdefghijklmnopqrstuvwxyz", 26, 1, 2);
	r = exa_ring_recvmsg(&t.r, &msg, 0, 0);
	CHECK(r == 16 && msg.msg_flags == MSG_TRUNC, "truncated scatter");
	tr_free(&t);
}

static void test_cmsg(void)
{
	union {
		struct cmsghdr align;
		char buf[256];
	} ctl;
	struct in_pktinfo pi;
	struct timespec ts;
	struct cmsghdr *cm;
	struct iovec iov;
	struct msghdr msg;
	char buf[16];
	struct tring t;
	int n = 0;

	tr_init(&t, 4096, 0);
	tr_put(&t, "x", 1, 1, 2);
	tr_put(&t, "y", 1, 1, 2);
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	CHECK(exa_ring_recvmsg(&t.r, &msg, 0, EXA_CMSG_PKTINFO |
			       EXA_CMSG_TIMESTAMPNS) == 1, "r");
	CHECK(msg.msg_flags == 0, "flags %#x", msg.msg_flags);
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		n++;
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			CHECK(pi.ipi_ifindex == 7, "ifindex");
			CHECK(pi.ipi_addr.s_addr == htonl(0x0a000002), "dst");
			CHECK(n == 2, "pktinfo after the timestamp");
		} else if (cm->cmsg_level == SOL_SOCKET &&
			   cm->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			CHECK(ts.tv_sec == 1700000000 &&
			      ts.tv_nsec == 123456789, "timestamp");
		} else {
			CHECK(0, "unexpected cmsg %d/%d", cm->cmsg_level,
			      cm->cmsg_type);
		}
	}
	CHECK(n == 2, "two cmsgs, got %d", n);

	msg.msg_control = ctl.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(struct timeval)) + 4;
	CHECK(exa_ring_recvmsg(&t.r, &msg, 0, EXA_CMSG_PKTINFO |
			       EXA_CMSG_TIMESTAMP) == 1, "r");
	CHECK(msg.msg_flags == MSG_CTRUNC, "ctrunc %#x", msg.msg_flags);
	CHECK(msg.msg_controllen == CMSG_SPACE(sizeof(struct timeval)),
	      "controllen %zu", (size_t)msg.msg_controllen);
	cm = CMSG_FIRSTHDR(&msg);
	CHECK(cm && cm->cmsg_type == SO_TIMESTAMP, "timeval first");
	tr_free(&t);
}

/* Records never wrap: a PAD covers the tail, and is skipped. */
static void test_pad_wrap(void)
{
	char payload[300], buf[400];
	struct tring t;
	uint32_t before;
	ssize_t r;
	int i;

	tr_init(&t, 1024, 0);
	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = i;
	/* 3 records of ALIGN(32 + 200, 64) = 256 bytes: 768 used */
	for (i = 0; i < 3; i++)
		CHECK(!tr_put(&t, payload, 200, 1, 2), "put %d", i);
	for (i = 0; i < 2; i++)
		CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) ==
		      200, "get %d", i);
	/* a 320-byte record does not fit in the 256-byte tail: PAD */
	CHECK(!tr_put(&t, payload + 1, 288, 1, 2), "put across the end");
	CHECK(*t.producer == 1024 + 320, "producer %u", *t.producer);
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == 200,
	      "third");
	before = *t.consumer;
	r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL);
	CHECK(r == 288 && !memcmp(buf, payload + 1, 288),
	      "after the PAD r=%zd", r);
	CHECK(*t.consumer - before == 256 + 320, "skipped pad");

	tr_free(&t);

	/* a ring holding nothing but a PAD has no datagram; ready() eats it */
	tr_init(&t, 1024, 1024 - 256);
	{
		struct exasock_rx_entry e = { .len = 256 - 32,
					      .flags = EXASOCK_RX_F_PAD };

		memcpy(t.data + 768, &e, sizeof(e));
		*t.producer = 1024;
	}
	CHECK(exa_ring_maybe_ready(&t.r), "pad is something");
	CHECK(exa_ring_ready(&t.r) == 0, "but no datagram");
	CHECK(*t.consumer == 1024, "pad consumed by ready()");
	tr_free(&t);
}

/* Random sizes through a small ring, indices crossing 2^32. */
static void test_stream(void)
{
	uint32_t seq_in = 0, seq_out = 0, len, i;
	unsigned char pl[1500], buf[1500];
	unsigned int seed = 12345;
	struct tring t;
	int j, bad = 0;
	ssize_t r;

	tr_init(&t, 8192, UINT32_MAX - 8192 * 3 + 1);
	for (i = 0; i < 200000 && !bad; i++) {
		/* produce a burst */
		for (j = rand_r(&seed) % 6; j > 0; j--) {
			len = rand_r(&seed) % 1400 + 4;
			memcpy(pl, &seq_in, 4);
			memset(pl + 4, seq_in & 0xff, len - 4);
			if (!tr_put(&t, pl, len, seq_in, 0))
				seq_in++;
		}
		/* consume some */
		for (j = rand_r(&seed) % 6; j > 0; j--) {
			r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL);
			if (r == -EAGAIN)
				break;
			memcpy(&len, buf, 4);
			if (r < 4 || len != seq_out ||
			    (r > 4 && (buf[4] != (seq_out & 0xff) ||
				       buf[r - 1] != (seq_out & 0xff)))) {
				CHECK(0, "seq %u: got r=%zd seq %u", seq_out,
				      r, len);
				bad = 1;
				break;
			}
			seq_out++;
		}
	}
	while ((r = tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL)) >= 0)
		seq_out++;
	CHECK(r == -EAGAIN, "drained r=%zd", r);
	CHECK(seq_in == seq_out, "in %u out %u", seq_in, seq_out);
	CHECK(*t.producer < UINT32_MAX - 8192 * 3 + 1,
	      "indices wrapped: producer %u", *t.producer);
	CHECK(t.drops > 0, "ring got full sometimes");
	printf("# stream: %u datagrams, %lu refused (full)\n", seq_in,
	       t.drops);
	tr_free(&t);
}

static void test_corrupt(void)
{
	struct exasock_rx_entry e;
	char buf[64];
	struct tring t;

	tr_init(&t, 4096, 0);
	tr_put(&t, "ok", 2, 1, 2);

	*t.consumer = *t.producer + 64;	/* ahead of the producer */
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "consumer ahead");
	CHECK(exa_ring_ready(&t.r) == -EUCLEAN, "ready sees it too");

	*t.consumer = *t.producer - 8192;	/* further back than size */
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "consumer too far back");

	*t.consumer = 8;			/* misaligned */
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "misaligned");

	/* a record claiming more than was produced */
	*t.consumer = 0;
	memcpy(&e, t.data, sizeof(e));
	e.len = 100000;
	memcpy(t.data, &e, sizeof(e));
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "huge len");
	e.len = UINT32_MAX;
	memcpy(t.data, &e, sizeof(e));
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "len overflow");
	e.len = 64;		/* ALIGN(32 + 64) = 128 > 64 produced */
	memcpy(t.data, &e, sizeof(e));
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "len past producer");
	tr_free(&t);

	/* A consumer moved (by the program) onto payload that looks like a
	 * header whose record would run off the end of the data area.
	 */
	tr_init(&t, 4096, 0);
	memset(&e, 0, sizeof(e));
	e.len = 1000;
	memcpy(t.data + 4096 - 128, &e, sizeof(e));
	*t.consumer = 4096 - 128;
	*t.producer = *t.consumer + 4096;	/* full: rec <= avail */
	CHECK(tr_recv(&t, buf, sizeof(buf), 0, NULL, NULL, NULL) == -EUCLEAN,
	      "record past the end of the ring");
	tr_free(&t);
}

/* ---- concurrency: one producer, several consumers and a peeker ---------- */

#define MT_COUNT	200000
#define MT_CONSUMERS	2

/*
 * Rounds: the producer fills the ring while the others wait, then two
 * consumers and a peeker drain it at once, so that they really race for
 * the same records even on a machine with two CPUs.
 */
struct mt {
	struct tring t;
	unsigned char *seen;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int gen;	/* bumped when a full ring is ready to drain */
	int stop;
	int errors;
	unsigned long peeks;
};

static int mt_payload_ok(const unsigned char *buf, ssize_t r, uint32_t *seq)
{
	ssize_t i;

	if (r < 8)
		return 0;
	memcpy(seq, buf, 4);
	if ((uint32_t)r != 8 + *seq % 300)
		return 0;
	for (i = 4; i < r; i++)
		if (buf[i] != (unsigned char)(*seq + i))
			return 0;
	return 1;
}

/* Sleep until the next round (or the end): 1 to drain, 0 to exit. */
static int mt_wait(struct mt *m, unsigned int *gen)
{
	int go;

	pthread_mutex_lock(&m->lock);
	while (m->gen == *gen && !m->stop)
		pthread_cond_wait(&m->cond, &m->lock);
	*gen = m->gen;
	go = !m->stop;
	pthread_mutex_unlock(&m->lock);
	return go;
}

static void *mt_consumer(void *arg)
{
	struct mt *m = arg;
	unsigned char buf[512];
	unsigned int gen = 0;
	uint32_t seq;
	ssize_t r;

	while (mt_wait(m, &gen)) {
		while ((r = tr_recv(&m->t, buf, sizeof(buf), 0, NULL, NULL,
				    NULL)) != -EAGAIN) {
			if (!mt_payload_ok(buf, r, &seq) || seq >= MT_COUNT) {
				__atomic_fetch_add(&m->errors, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			__atomic_fetch_add(&m->seen[seq], 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void *mt_peeker(void *arg)
{
	struct mt *m = arg;
	unsigned char buf[512];
	unsigned int gen = 0;
	uint32_t seq;
	ssize_t r;

	while (mt_wait(m, &gen)) {
		while ((r = tr_recv(&m->t, buf, sizeof(buf), MSG_PEEK, NULL,
				    NULL, NULL)) != -EAGAIN) {
			if (!mt_payload_ok(buf, r, &seq))
				__atomic_fetch_add(&m->errors, 1,
						   __ATOMIC_RELAXED);
			m->peeks++;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[MT_CONSUMERS + 1];
	unsigned int missing = 0, dup = 0, rounds = 0;
	unsigned char pl[512];
	uint32_t seq, len, i;
	struct mt m;
	int k;

	memset(&m, 0, sizeof(m));
	tr_init(&m.t, 1 << 20, UINT32_MAX - (1 << 20) + 1);
	m.seen = calloc(MT_COUNT, 1);
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	for (k = 0; k < MT_CONSUMERS; k++)
		pthread_create(&th[k], NULL, mt_consumer, &m);
	pthread_create(&th[k], NULL, mt_peeker, &m);

	for (seq = 0; seq < MT_COUNT; ) {
		len = 8 + seq % 300;
		memcpy(pl, &seq, 4);
		for (i = 4; i < len; i++)
			pl[i] = (unsigned char)(seq + i);
		k = tr_put(&m.t, pl, len, 0, 0);
		if (!k) {
			seq++;
			if (seq < MT_COUNT)
				continue;
		} else if (k == -EFAULT) {
			CHECK(0, "consumer index went wrong");
			break;
		}
		/* full (or done): let them drain it, all at once */
		rounds++;
		pthread_mutex_lock(&m.lock);
		m.gen++;
		pthread_cond_broadcast(&m.cond);
		pthread_mutex_unlock(&m.lock);
		while (exa_ring_maybe_ready(&m.t.r) &&
		       *m.t.producer - *m.t.consumer <= m.t.size)
			usleep(20);	/* leave the CPUs to the consumers */
	}
	pthread_mutex_lock(&m.lock);
	m.stop = 1;
	pthread_cond_broadcast(&m.cond);
	pthread_mutex_unlock(&m.lock);
	for (k = 0; k <= MT_CONSUMERS; k++)
		pthread_join(th[k], NULL);

	for (i = 0; i < MT_COUNT; i++) {
		if (!m.seen[i])
			missing++;
		else if (m.seen[i] > 1)
			dup++;
	}
	CHECK(!m.errors, "%d torn or bad datagrams", m.errors);
	CHECK(!missing && !dup, "%u missing, %u duplicated", missing, dup);
	printf("# threads: %d datagrams, %u rounds, %d consumers, %lu peeks\n",
	       MT_COUNT, rounds, MT_CONSUMERS, m.peeks);
	free(m.seen);
	tr_free(&m.t);
}

/* ---- stream (TCP) rings ------------------------------------------------ */

static void ts_init(struct tring *t, uint32_t size, uint32_t start)
{
	tr_init(t, size, start);
	t->mi.rx_kind = EXASOCK_RING_STREAM;
	t->mi.rx_align = 1;
	exa_ring_init(&t->r, &t->mi, t->ring_map, t->user_map);
}

/* Byte @k of the test stream. */
static unsigned char ts_byte(uint32_t k)
{
	return (unsigned char)(k * 7 + (k >> 8) + 3);
}

/* The kernel's exasock_stream_put(): as much of @len as fits, the
 * stream's bytes from @pos on.
 */
static uint32_t ts_put(struct tring *t, uint32_t pos, uint32_t len)
{
	uint32_t prod = *t->producer, room, i;

	room = t->size - (prod - __atomic_load_n(t->consumer,
						 __ATOMIC_ACQUIRE));
	if (len > room)
		len = room;
	for (i = 0; i < len; i++)
		t->data[(prod + i) & (t->size - 1)] = ts_byte(pos + i);
	__atomic_store_n(t->producer, prod + len, __ATOMIC_RELEASE); /* A */
	return len;
}

/* Are @len bytes at @buf the stream's from @pos on? */
static int ts_match(const unsigned char *buf, uint32_t pos, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ts_byte(pos + i))
			return 0;
	return 1;
}

static void test_stream_bytes(void)
{
	unsigned char out[3000], a[700], b[900];
	uint32_t sent = 0, got = 0, n, want;
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct exasock_mmap_info mi;
	unsigned int seed = 7;
	struct tring t;
	int i, bad = 0;
	ssize_t r;

	/* the kind is checked: a stream ring has no record alignment */
	ts_init(&t, 4096, 0);
	mi = t.mi;
	CHECK(!exa_ring_check_info(&mi, sizeof(mi)), "stream info refused");
	mi.rx_align = 64;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL,
	      "stream ring with records accepted");
	mi = t.mi;
	mi.rx_kind = 9;
	CHECK(exa_ring_check_info(&mi, sizeof(mi)) == -EINVAL,
	      "unknown ring kind accepted");

	r = exa_stream_read(&t.r, iov, 2, 0, 0);
	CHECK(r == -EAGAIN, "empty: %zd", r);
	CHECK(exa_ring_ready(&t.r) == 0, "empty ring ready");
	tr_free(&t);

	/* bytes in order across the data area's end and the 2^32 wrap, in
	 * reads of every size, some peeked first
	 */
	ts_init(&t, 4096, UINT32_MAX - 5000);
	for (i = 0; i < 20000 && !bad; i++) {
		want = rand_r(&seed) % 3000 + 1;
		n = ts_put(&t, sent, want);
		sent += n;
		want = rand_r(&seed) % sizeof(out) + 1;
		if (rand_r(&seed) % 4 == 0) {
			struct iovec pv = { out, want };

			r = exa_stream_read(&t.r, &pv, 1, 0, MSG_PEEK);
			if (r > 0 && !ts_match(out, got, r)) {
				CHECK(0, "peek at %u: wrong bytes", got);
				bad = 1;
			}
		}
		iov[0].iov_len = want < sizeof(a) ? want : sizeof(a);
		iov[1].iov_len = want - iov[0].iov_len < sizeof(b) ?
				 want - iov[0].iov_len : sizeof(b);
		r = exa_stream_read(&t.r, iov, 2, 0, 0);
		if (r == -EAGAIN)
			continue;
		if (r <= 0 || (size_t)r > iov[0].iov_len + iov[1].iov_len) {
			CHECK(0, "read %zd of %zu", r,
			      iov[0].iov_len + iov[1].iov_len);
			bad = 1;
			break;
		}
		memcpy(out, a, r < (ssize_t)iov[0].iov_len ? (size_t)r :
		       iov[0].iov_len);
		if (r > (ssize_t)iov[0].iov_len)
			memcpy(out + iov[0].iov_len, b, r - iov[0].iov_len);
		if (!ts_match(out, got, r)) {
			CHECK(0, "bytes %u..%zd out of order", got, got + r);
			bad = 1;
		}
		got += r;
	}
	while (!bad && (r = exa_stream_read(&t.r, iov, 1, 0, 0)) > 0)
		got += r;
	CHECK(got == sent, "sent %u got %u", sent, got);
	CHECK(exa_stream_used(&t.r) == 0, "left %u", exa_stream_used(&t.r));

	/* a consumer index the producer cannot have left */
	ts_put(&t, sent, 100);
	*t.consumer -= 5000;
	r = exa_stream_read(&t.r, iov, 2, 0, 0);
	CHECK(r == -EUCLEAN, "corrupt index: %zd", r);
	CHECK(exa_ring_ready(&t.r) == -EUCLEAN, "corrupt ring ready");
	CHECK(exa_stream_used(&t.r) == 0, "corrupt ring has bytes");
	printf("# stream bytes: %u through a 4 KiB ring\n", got);
	tr_free(&t);
}

/* A read that resumes part way into the caller's buffers, and TCP's
 * MSG_TRUNC, which takes bytes without copying them (no buffer at all).
 */
static void test_stream_skip_trunc(void)
{
	unsigned char a[700], b[900], out[1600];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec none = { NULL, 250 };
	struct tring t;
	ssize_t r;

	ts_init(&t, 4096, UINT32_MAX - 100);	/* the reads cross the wrap */
	ts_put(&t, 0, 2000);
	memset(a, 0xee, sizeof(a));
	r = exa_stream_read(&t.r, iov, 2, 300, 0);
	CHECK(r == 1300, "skip 300 of 1600: read %zd", r);
	memcpy(out, a + 300, 400);
	memcpy(out + 400, b, 900);
	CHECK(ts_match(out, 0, 1300), "bytes after the skip wrong");
	CHECK(a[299] == 0xee, "a byte before the skip was written");
	r = exa_stream_read(&t.r, iov, 2, 1600, 0);
	CHECK(r == 0, "skip of the whole buffer: %zd", r);
	r = exa_stream_read(&t.r, iov, 2, 5000, 0);
	CHECK(r == 0, "skip past the buffer: %zd", r);

	r = exa_stream_read(&t.r, &none, 1, 0, MSG_TRUNC | MSG_PEEK);
	CHECK(r == 250, "MSG_TRUNC|MSG_PEEK: %zd", r);
	CHECK(exa_stream_used(&t.r) == 700, "a peek took bytes");
	r = exa_stream_read(&t.r, &none, 1, 0, MSG_TRUNC);
	CHECK(r == 250, "MSG_TRUNC: %zd", r);
	CHECK(exa_stream_used(&t.r) == 450, "left %u", exa_stream_used(&t.r));
	r = exa_stream_read(&t.r, iov, 1, 0, 0);
	CHECK(r == 450 && ts_match(a, 1550, 450),
	      "after MSG_TRUNC: %zd, bytes %s", r,
	      ts_match(a, 1550, 450) ? "right" : "wrong");
	tr_free(&t);
}

static const struct unit_test tests[] = {
	{ "mmap info validation", test_check_info },
	{ "empty ring", test_empty },
	{ "one datagram and its source address", test_one },
	{ "MSG_PEEK", test_peek },
	{ "truncation, MSG_TRUNC, zero-length datagrams", test_trunc },
	{ "msg_name and msg_namelen", test_name },
	{ "scatter into several iovecs", test_iov },
	{ "IP_PKTINFO and timestamp control messages", test_cmsg },
	{ "PAD records and wrap-around", test_pad_wrap },
	{ "random stream across the 2^32 index wrap", test_stream },
	{ "corrupt consumer index and records", test_corrupt },
	{ "concurrent consumers (compare-and-swap)", test_threads },
	{ "TCP stream ring: order, wrap, peek, corrupt index",
	  test_stream_bytes },
	{ "TCP stream ring: a read part way into the buffer, MSG_TRUNC",
	  test_stream_skip_trunc },
};

int main(void)
{
	return unit_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
