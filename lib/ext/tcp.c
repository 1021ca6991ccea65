// SPDX-License-Identifier: GPL-2.0
/*
 * libexasock_ext: TCP frames the program sends itself (<exasock/tcp.h>).
 *
 * The socket calls are thin: the kernel builds the header
 * (SO_EXA_TCP_HEADER), names the device (SO_EXA_DEVICE) and accounts the
 * bytes (sendmsg with MSG_EXA_ADVANCE); kernel/tcp_raw.c has the
 * protocol side. The length and checksum helpers are plain functions on
 * the frame and need no kernel at all.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <exasock/exasock.h>
#include <exasock/tcp.h>

#define EXA_EXT_EXPORT	__attribute__((visibility("default")))

#define EXA_ETH_HLEN		14
#define EXA_ETH_P_IP		0x0800
#define EXA_ETH_P_8021Q		0x8100
#define EXA_ETH_P_8021AD	0x88a8
#define EXA_IPPROTO_TCP		6

/*
 * The kernel's answer to an SOL_EXASOCK option on a socket that is not an
 * exasock one (libexasock.so not preloaded, or a socket it left alone),
 * or on an exasock socket that is not accelerated TCP.
 */
static int exa_tcp_errno(int err)
{
	return err == ENOPROTOOPT ? EOPNOTSUPP : err;
}

EXA_EXT_EXPORT int exasock_tcp_get_device(int fd, char *dev, size_t dev_len,
					  int *port_num)
{
	struct exasock_device_info info;
	socklen_t len = sizeof(info);
	size_t n;

	if (getsockopt(fd, SOL_EXASOCK, SO_EXA_DEVICE, &info, &len)) {
		errno = exa_tcp_errno(errno);
		return -1;
	}
	info.name[sizeof(info.name) - 1] = '\0';
	n = strlen(info.name);
	if (!dev || dev_len <= n) {
		errno = ENOBUFS;
		return -1;
	}
	memcpy(dev, info.name, n + 1);
	if (port_num)
		*port_num = (int)info.port;
	return 0;
}

EXA_EXT_EXPORT ssize_t exasock_tcp_build_header(int fd, void *buf, size_t len,
						size_t offset, int flags)
{
	socklen_t optlen = EXASOCK_TCP_HEADER_LEN;

	if (offset || flags) {
		errno = EINVAL;
		return -1;
	}
	if (!buf || len < EXASOCK_TCP_HEADER_LEN) {
		errno = ENOBUFS;
		return -1;
	}
	if (getsockopt(fd, SOL_EXASOCK, SO_EXA_TCP_HEADER, buf, &optlen)) {
		errno = exa_tcp_errno(errno);
		return -1;
	}
	return optlen;
}

/* Where the IPv4 and TCP headers are in a frame, checked. */
struct exa_tcp_frame {
	uint8_t *ip;
	uint8_t *tcp;
	size_t ip_hlen;
	size_t tcp_hlen;
};

static int exa_tcp_parse(void *hdr, size_t hdr_len, struct exa_tcp_frame *f)
{
	uint8_t *p = hdr;
	size_t off = EXA_ETH_HLEN - 2;
	uint16_t proto;

	if (!p)
		return -1;
	/* the EtherType, after any 802.1Q / 802.1ad tags */
	for (;;) {
		if (hdr_len < off + 2)
			return -1;
		proto = (uint16_t)(p[off] << 8 | p[off + 1]);
		if (proto != EXA_ETH_P_8021Q && proto != EXA_ETH_P_8021AD)
			break;
		off += 4;
	}
	if (proto != EXA_ETH_P_IP)
		return -1;
	f->ip = p + off + 2;
	hdr_len -= off + 2;

	if (hdr_len < 20 || f->ip[0] >> 4 != 4 ||
	    f->ip[9] != EXA_IPPROTO_TCP)
		return -1;
	f->ip_hlen = (size_t)(f->ip[0] & 0xf) * 4;
	if (f->ip_hlen < 20 || hdr_len < f->ip_hlen + 20)
		return -1;
	f->tcp = f->ip + f->ip_hlen;
	f->tcp_hlen = (size_t)(f->tcp[12] >> 4) * 4;
	if (f->tcp_hlen < 20 || hdr_len < f->ip_hlen + f->tcp_hlen)
		return -1;
	return 0;
}

/* 32-bit one's complement partial sum of @len bytes, big-endian words */
static uint64_t exa_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		sum += ntohl(w);
	}
	if (len >= 2) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;	/* padded with a zero byte */
	return sum;
}

static uint16_t exa_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

EXA_EXT_EXPORT int exasock_tcp_set_length(void *hdr, size_t hdr_len,
					  size_t data_len)
{
	struct exa_tcp_frame f;
	size_t tot;
	uint16_t sum;

	if (exa_tcp_parse(hdr, hdr_len, &f)) {
		errno = EINVAL;
		return -1;
	}
	tot = f.ip_hlen + f.tcp_hlen + data_len;
	if (data_len > 0xffff || tot > 0xffff) {
		errno = EMSGSIZE;
		return -1;
	}
	f.ip[2] = (uint8_t)(tot >> 8);
	f.ip[3] = (uint8_t)tot;
	f.ip[10] = f.ip[11] = 0;
	sum = exa_csum_fold(exa_csum_add(0, f.ip, f.ip_hlen));
	f.ip[10] = (uint8_t)(sum >> 8);
	f.ip[11] = (uint8_t)sum;
	return 0;
}

EXA_EXT_EXPORT int exasock_tcp_calc_checksum(void *hdr, size_t hdr_len,
					     const void *data, size_t data_len)
{
	struct exa_tcp_frame f;
	uint64_t sum;
	size_t seg;
	uint16_t c;

	if (exa_tcp_parse(hdr, hdr_len, &f) || (data_len && !data)) {
		errno = EINVAL;
		return -1;
	}
	seg = f.tcp_hlen + data_len;
	if (data_len > 0xffff || seg > 0xffff - f.ip_hlen) {
		errno = EMSGSIZE;
		return -1;
	}
	/* pseudo-header: addresses, protocol, TCP length */
	sum = exa_csum_add(0, f.ip + 12, 8);
	sum += EXA_IPPROTO_TCP + seg;
	f.tcp[16] = f.tcp[17] = 0;
	/* The TCP header is a multiple of 4 bytes long, so the payload's
	 * words line up with the header's.
	 */
	sum = exa_csum_add(sum, f.tcp, f.tcp_hlen);
	sum = exa_csum_add(sum, data, data_len);
	c = exa_csum_fold(sum);
	f.tcp[16] = (uint8_t)(c >> 8);
	f.tcp[17] = (uint8_t)c;
	return 0;
}

EXA_EXT_EXPORT int exasock_tcp_send_advance(int fd, const void *data,
					    size_t data_len)
{
	const char *p = data;
	struct pollfd pfd;
	ssize_t n;

	int accelerated = exasock_is_accelerated(fd);

	/* A plain socket would send the bytes a second time: refuse. */
	if (accelerated != 1) {
		if (!accelerated)
			errno = EOPNOTSUPP;
		return -1;	/* else EBADF, ENOTSOCK from the check */
	}
	if (data_len && !data) {
		errno = EFAULT;
		return -1;
	}
	while (data_len) {
		n = send(fd, p, data_len, MSG_EXA_ADVANCE | MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			data_len -= (size_t)n;
			continue;
		}
		if (n == 0)
			errno = EAGAIN;		/* took nothing: wait */
		else if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* The send buffer is full: the bytes still have to be
		 * accounted, so wait for room.
		 */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}
