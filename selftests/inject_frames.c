// SPDX-License-Identifier: GPL-2.0
/*
 * inject_frames: send hand-made Ethernet/IPv4/UDP frames, good and bad,
 * out of an interface with an AF_PACKET socket, at a UDP port on the
 * other end of a veth pair.
 *
 *   inject_frames IFNAME DST_MAC SRC_IP DST_IP DST_PORT [FUZZ_COUNT]
 *
 * Among the bad ones are martian sources (loopback, multicast,
 * broadcast, 0.0.0.0, the receiver's own address), which input routing
 * refuses. Each frame's payload starts with a tag: "OK:<case>;" for frames the
 * kernel itself would deliver (so the receiver must get them, through
 * the ring or through the native twin), "BAD:<case>;" for frames the
 * kernel would drop (the receiver must never see them) and
 * "FUZZ:<n>;" for randomly damaged frames (may or may not arrive; must
 * not crash anything). The script checks what the receiver got.
 *
 * Prints one line per case, "case NAME ok|bad sent|refused", and a
 * final "injected N" line. Exit status 0 unless the socket cannot be
 * opened.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_util.h"

#define SRC_PORT	40000
#define PAYLOAD_LEN	48

struct frame {
	unsigned char buf[2048];
	size_t len;
	unsigned int ip_off;	/* start of the IPv4 header */
	unsigned int ihl;	/* bytes */
	unsigned int udp_off;
};

static struct {
	int fd;
	struct sockaddr_ll ll;
	unsigned char dst_mac[6], src_mac[6];
	struct in_addr src_ip, dst_ip;
	uint16_t dst_port;
	unsigned int injected;
} g;

static struct iphdr *ip_of(struct frame *f)
{
	return (struct iphdr *)(f->buf + f->ip_off);
}

static struct udphdr *udp_of(struct frame *f)
{
	return (struct udphdr *)(f->buf + f->udp_off);
}

static void ip_csum(struct frame *f)
{
	ip_hdr_csum(ip_of(f), f->ihl);
}

/* UDP checksum over the pseudo header and @len bytes of UDP. */
static void udp_csum(struct frame *f, size_t len)
{
	struct udphdr *udp = udp_of(f);
	uint16_t c;

	udp->check = 0;
	c = l4_csum(ip_of(f), IPPROTO_UDP, len, udp, len);
	udp->check = htons(c ? c : 0xffff);
}

/*
 * A valid frame with @opt_len bytes of IP options (NOPs then EOL) and a
 * payload starting with @tag.
 */
static void build(struct frame *f, const char *tag, unsigned int opt_len)
{
	struct udphdr *udp;
	unsigned char *payload;
	size_t i, ulen;

	memset(f, 0, sizeof(*f));
	eth_hdr_fill(f->buf, g.dst_mac, g.src_mac);

	f->ip_off = sizeof(struct ether_header);
	f->ihl = 20 + opt_len;
	f->udp_off = f->ip_off + f->ihl;
	ulen = sizeof(*udp) + PAYLOAD_LEN;

	ip_hdr_fill(ip_of(f), f->ihl, f->ihl + ulen, g.injected + 1, 0,
		    IPPROTO_UDP, g.src_ip.s_addr, g.dst_ip.s_addr);
	for (i = 0; i < opt_len; i++)
		f->buf[f->ip_off + 20 + i] = i + 1 < opt_len ? 1 : 0;

	udp = udp_of(f);
	udp->source = htons(SRC_PORT);
	udp->dest = htons(g.dst_port);
	udp->len = htons(ulen);
	payload = f->buf + f->udp_off + sizeof(*udp);
	for (i = 0; i < PAYLOAD_LEN; i++)
		payload[i] = 'a' + i % 26;
	memcpy(payload, tag, strlen(tag) < PAYLOAD_LEN ? strlen(tag) :
	       PAYLOAD_LEN);

	f->len = f->udp_off + ulen;
	ip_csum(f);
	udp_csum(f, ulen);
}

/* Returns true if the frame went out. */
static bool inject(const struct frame *f)
{
	bool sent = packet_send(g.fd, &g.ll, f->buf, f->len);

	g.injected++;
	return sent;
}

static void run_case(const char *name, bool ok, struct frame *f)
{
	const char *only = getenv("INJECT_ONLY");

	/* INJECT_ONLY=name sends just that case, for debugging */
	if (only && *only && strcmp(only, name))
		return;
	printf("case %s %s %s\n", name, ok ? "ok" : "bad",
	       inject(f) ? "sent" : "refused");
}

static void tagged(struct frame *f, const char *name, bool ok,
		   unsigned int opt_len)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "%s:%s;", ok ? "OK" : "BAD", name);
	build(f, tag, opt_len);
}

/* A valid datagram but from @saddr, which the kernel would drop. */
static void martian(struct frame *f, const char *name, in_addr_t saddr)
{
	tagged(f, name, false, 0);
	ip_of(f)->saddr = saddr;
	ip_csum(f);
	udp_csum(f, sizeof(struct udphdr) + PAYLOAD_LEN);
	run_case(name, false, f);
}

static void cases(void)
{
	struct frame f;
	size_t ulen = sizeof(struct udphdr) + PAYLOAD_LEN;

	/* -- frames the kernel delivers -- */
	tagged(&f, "valid", true, 0);
	run_case("valid", true, &f);

	tagged(&f, "eth_padding", true, 0);
	memset(f.buf + f.len, 0, 40);
	f.len += 40;		/* IP total length shorter than the frame */
	run_case("eth_padding", true, &f);

	tagged(&f, "udp_csum_zero", true, 0);
	udp_of(&f)->check = 0;	/* no checksum: legal in IPv4 */
	run_case("udp_csum_zero", true, &f);

	tagged(&f, "ip_options", true, 4);
	run_case("ip_options", true, &f);

	tagged(&f, "ip_options_max", true, 40);
	run_case("ip_options_max", true, &f);

	/* -- truncated headers -- */
	tagged(&f, "trunc_eth_only", false, 0);
	f.len = sizeof(struct ether_header);
	run_case("trunc_eth_only", false, &f);

	tagged(&f, "trunc_ip", false, 0);
	f.len = f.ip_off + 12;
	run_case("trunc_ip", false, &f);

	tagged(&f, "trunc_udp", false, 0);
	ip_of(&f)->tot_len = htons(20 + 4);
	ip_csum(&f);
	f.len = f.udp_off + 4;
	run_case("trunc_udp", false, &f);

	tagged(&f, "trunc_udp_padded", false, 0);
	ip_of(&f)->tot_len = htons(20 + 4);	/* frame still carries it all */
	ip_csum(&f);
	run_case("trunc_udp_padded", false, &f);

	/* -- bad IP header length -- */
	tagged(&f, "ihl_small", false, 0);
	ip_of(&f)->ihl = 4;
	ip_csum(&f);
	run_case("ihl_small", false, &f);

	tagged(&f, "ihl_zero", false, 0);
	ip_of(&f)->ihl = 0;
	run_case("ihl_zero", false, &f);

	tagged(&f, "ihl_beyond_frame", false, 0);
	ip_of(&f)->ihl = 15;
	f.len = f.ip_off + 40;
	run_case("ihl_beyond_frame", false, &f);

	tagged(&f, "ihl_beyond_totlen", false, 0);
	ip_of(&f)->ihl = 15;
	ip_of(&f)->tot_len = htons(40);	/* total length below the header */
	f.ihl = 60;
	ip_csum(&f);
	run_case("ihl_beyond_totlen", false, &f);

	tagged(&f, "bad_version", false, 0);
	ip_of(&f)->version = 6;
	ip_csum(&f);
	run_case("bad_version", false, &f);

	/* -- checksums -- */
	tagged(&f, "bad_ip_csum", false, 0);
	ip_of(&f)->check ^= htons(0x1234);
	run_case("bad_ip_csum", false, &f);

	tagged(&f, "bad_udp_csum", false, 0);
	udp_of(&f)->check ^= htons(0x0101);
	run_case("bad_udp_csum", false, &f);

	tagged(&f, "bad_udp_csum_ffff", false, 0);
	udp_of(&f)->check = udp_of(&f)->check == 0xffff ? htons(1) : 0xffff;
	run_case("bad_udp_csum_ffff", false, &f);

	/* -- length fields larger (or smaller) than the frame -- */
	tagged(&f, "totlen_beyond_frame", false, 0);
	ip_of(&f)->tot_len = htons(ntohs(ip_of(&f)->tot_len) + 100);
	ip_csum(&f);
	run_case("totlen_beyond_frame", false, &f);

	tagged(&f, "totlen_huge", false, 0);
	ip_of(&f)->tot_len = htons(65535);
	ip_csum(&f);
	run_case("totlen_huge", false, &f);

	tagged(&f, "totlen_below_ihl", false, 0);
	ip_of(&f)->tot_len = htons(16);
	ip_csum(&f);
	run_case("totlen_below_ihl", false, &f);

	tagged(&f, "udp_len_beyond_ip", false, 0);
	udp_of(&f)->len = htons(ulen + 50);
	udp_csum(&f, ulen);
	run_case("udp_len_beyond_ip", false, &f);

	tagged(&f, "udp_len_huge", false, 0);
	udp_of(&f)->len = htons(65535);
	udp_csum(&f, ulen);
	run_case("udp_len_huge", false, &f);

	tagged(&f, "udp_len_below_header", false, 0);
	udp_of(&f)->len = htons(4);
	udp_csum(&f, ulen);
	run_case("udp_len_below_header", false, &f);

	tagged(&f, "udp_len_zero", false, 0);
	udp_of(&f)->len = 0;
	udp_csum(&f, ulen);
	run_case("udp_len_zero", false, &f);

	/* -- fragments: never complete, so never delivered -- */
	tagged(&f, "frag_first", false, 0);
	ip_of(&f)->frag_off = htons(IP_MF);
	ip_csum(&f);
	run_case("frag_first", false, &f);

	tagged(&f, "frag_middle", false, 0);
	ip_of(&f)->frag_off = htons(IP_MF | 185);
	ip_csum(&f);
	run_case("frag_middle", false, &f);

	tagged(&f, "frag_last", false, 0);
	ip_of(&f)->frag_off = htons(100);
	ip_csum(&f);
	run_case("frag_last", false, &f);

	/* -- not for this host -- */
	tagged(&f, "wrong_dst_mac", false, 0);
	memcpy(f.buf, "\x02\x00\x00\x00\x00\x99", 6);
	run_case("wrong_dst_mac", false, &f);

	tagged(&f, "wrong_dst_ip", false, 0);
	ip_of(&f)->daddr = htonl(ntohl(g.dst_ip.s_addr) + 98);
	ip_csum(&f);
	udp_csum(&f, ulen);
	run_case("wrong_dst_ip", false, &f);

	tagged(&f, "not_udp", false, 0);
	ip_of(&f)->protocol = 253;	/* experimental: nobody listens */
	ip_csum(&f);
	run_case("not_udp", false, &f);

	/* -- martian sources, which input routing refuses -- */
	martian(&f, "src_loopback", htonl(INADDR_LOOPBACK));
	martian(&f, "src_multicast", htonl(0xe0000009));	/* 224.0.0.9 */
	martian(&f, "src_broadcast", htonl(INADDR_BROADCAST));
	/* 0.0.0.0 only: the rest of 0/8 is a valid source since 5.3 */
	martian(&f, "src_zeronet", htonl(INADDR_ANY));
	martian(&f, "src_ours", g.dst_ip.s_addr);
}

/* Random damage to the headers of valid frames; fixed seed. */
static void fuzz(unsigned int count)
{
	struct frame f;
	unsigned int i, j, flips;
	char tag[32];

	srandom(12345);
	for (i = 0; i < count; i++) {
		snprintf(tag, sizeof(tag), "FUZZ:%u;", i);
		build(&f, tag, (random() % 4) * 4);
		flips = 1 + random() % 4;
		for (j = 0; j < flips; j++) {
			unsigned int at = f.ip_off +
					  random() % (f.udp_off + 8 - f.ip_off);

			f.buf[at] ^= 1 << (random() % 8);
		}
		if (random() % 4 == 0)
			f.len = f.ip_off + random() % (f.len - f.ip_off);
		inject(&f);
	}
	printf("fuzzed %u\n", count);
}

int main(int argc, char **argv)
{
	unsigned int fuzz_count = 0;

	if (argc < 6 || parse_mac(argv[2], g.dst_mac) ||
	    inet_pton(AF_INET, argv[3], &g.src_ip) != 1 ||
	    inet_pton(AF_INET, argv[4], &g.dst_ip) != 1) {
		fprintf(stderr,
			"usage: inject_frames IFNAME DST_MAC SRC_IP DST_IP DST_PORT [FUZZ_COUNT]\n");
		return 2;
	}
	g.dst_port = atoi(argv[5]);
	if (argc > 6)
		fuzz_count = atoi(argv[6]);

	g.fd = packet_open("inject_frames", argv[1], g.dst_mac, g.src_mac,
			   &g.ll);
	if (g.fd < 0)
		return 1;

	cases();
	if (fuzz_count)
		fuzz(fuzz_count);

	/* and a good one last, which must arrive */
	{
		struct frame f;

		build(&f, "OK:final;", 0);
		run_case("final", true, &f);
	}
	printf("injected %u\n", g.injected);
	return 0;
}
