/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Numbered, self-checking datagram payloads for the selftests:
 *
 *   0      4      8      12
 *   "EXA1" seq    len    pattern bytes (depend on seq and offset)
 *
 * seq and len are big-endian. A datagram shorter than the 12-byte header
 * carries only pattern bytes and cannot be checked.
 */
#ifndef EXASOCK_SELFTEST_PAYLOAD_H
#define EXASOCK_SELFTEST_PAYLOAD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define PAYLOAD_HDR	12

static inline unsigned char payload_byte(uint32_t seq, size_t i)
{
	return (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

static inline void payload_fill(void *buf, size_t len, uint32_t seq)
{
	unsigned char *p = buf;
	uint32_t be;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = payload_byte(seq, i);
	if (len < PAYLOAD_HDR)
		return;
	memcpy(p, "EXA1", 4);
	be = htonl(seq);
	memcpy(p + 4, &be, 4);
	be = htonl((uint32_t)len);
	memcpy(p + 8, &be, 4);
}

/* Returns the sequence number of an intact payload, -1 otherwise. */
static inline long payload_check(const void *buf, ssize_t len)
{
	const unsigned char *p = buf;
	uint32_t seq, be;
	ssize_t i;

	if (len < PAYLOAD_HDR || memcmp(p, "EXA1", 4))
		return -1;
	memcpy(&be, p + 8, 4);
	if (ntohl(be) != (uint32_t)len)
		return -1;
	memcpy(&be, p + 4, 4);
	seq = ntohl(be);
	for (i = PAYLOAD_HDR; i < len; i++)
		if (p[i] != payload_byte(seq, i))
			return -1;
	return seq;
}

#endif /* EXASOCK_SELFTEST_PAYLOAD_H */
