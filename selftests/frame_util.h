/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the frame injectors (inject_frames, tcp_inject): the
 * Ethernet and IPv4 headers of hand-made frames, the Internet checksum,
 * and the send-only AF_PACKET socket the frames go out of.
 */
#ifndef EXASOCK_SELFTESTS_FRAME_UTIL_H
#define EXASOCK_SELFTESTS_FRAME_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* "aa:bb:cc:dd:ee:ff" into @mac; 0 or -1. */
static inline int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

/* The one's complement of the 16-bit folded @sum. */
static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* @sum plus @len bytes of @data as big-endian 16-bit words. */
static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* An Ethernet header for IPv4 at the start of @buf. */
static inline void eth_hdr_fill(void *buf, const unsigned char *dst_mac,
				const unsigned char *src_mac)
{
	struct ether_header *eth = buf;

	memcpy(eth->ether_dhost, dst_mac, 6);
	memcpy(eth->ether_shost, src_mac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
}

/*
 * The fixed 20 bytes of an IPv4 header, on a zeroed buffer: @ihl (bytes,
 * options included), @tot_len, @id and @frag_off in host order, TTL 64,
 * no checksum (see ip_hdr_csum()).
 */
static inline void ip_hdr_fill(struct iphdr *ip, unsigned int ihl,
			       uint16_t tot_len, uint16_t id,
			       uint16_t frag_off, uint8_t protocol,
			       in_addr_t saddr, in_addr_t daddr)
{
	ip->version = 4;
	ip->ihl = ihl / 4;
	ip->tot_len = htons(tot_len);
	ip->id = htons(id);
	ip->frag_off = htons(frag_off);
	ip->ttl = 64;
	ip->protocol = protocol;
	ip->saddr = saddr;
	ip->daddr = daddr;
}

/* The IPv4 header checksum over @ihl bytes (whatever ip->ihl says). */
static inline void ip_hdr_csum(struct iphdr *ip, unsigned int ihl)
{
	ip->check = 0;
	ip->check = htons(csum_fold(csum_add(0, ip, ihl)));
}

/*
 * The UDP or TCP checksum, folded, in host order: the pseudo header of
 * @ip's addresses, @protocol and @pseudo_len, then @len bytes at @l4,
 * whose checksum field the caller has zeroed.
 */
static inline uint16_t l4_csum(const struct iphdr *ip, uint8_t protocol,
			       uint32_t pseudo_len, const void *l4,
			       size_t len)
{
	uint32_t sum = 0;

	sum = csum_add(sum, &ip->saddr, 4);
	sum = csum_add(sum, &ip->daddr, 4);
	sum += protocol;
	sum += pseudo_len;
	sum = csum_add(sum, l4, len);
	return csum_fold(sum);
}

/*
 * A send-only AF_PACKET socket on @ifname: fills @src_mac with the
 * interface's address and @ll with where to send (to @dst_mac). Returns
 * the fd, or -1 after a "@prog: ..." message on stderr.
 */
static inline int packet_open(const char *prog, const char *ifname,
			      const unsigned char *dst_mac,
			      unsigned char *src_mac, struct sockaddr_ll *ll)
{
	const char *what;
	struct ifreq ifr;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* send only */
	if (fd < 0) {
		what = "AF_PACKET socket";
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		what = "SIOCGIFHWADDR";
		goto fail;
	}
	memcpy(src_mac, ifr.ifr_hwaddr.sa_data, 6);

	memset(ll, 0, sizeof(*ll));
	ll->sll_family = AF_PACKET;
	ll->sll_ifindex = if_nametoindex(ifname);
	ll->sll_halen = 6;
	memcpy(ll->sll_addr, dst_mac, 6);
	if (!ll->sll_ifindex) {
		what = "if_nametoindex";
		goto fail;
	}
	return fd;

fail:
	/* as perror("@prog: @what") */
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Sends @len bytes of @buf; true if all of it went out. */
static inline bool packet_send(int fd, const struct sockaddr_ll *ll,
			       const void *buf, size_t len)
{
	ssize_t n = sendto(fd, buf, len, 0, (const struct sockaddr *)ll,
			   sizeof(*ll));

	return n == (ssize_t)len;
}

#endif /* EXASOCK_SELFTESTS_FRAME_UTIL_H */
