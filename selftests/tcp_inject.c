// SPDX-License-Identifier: GPL-2.0
/*
 * tcp_inject: bad TCP segments, injected with an AF_PACKET socket into a
 * live connection and at a listener on the other end of a veth pair.
 *
 *   tcp_inject IFNAME DST_MAC SRC_IP DST_IP DST_PORT [FUZZ_COUNT [SYNS]]
 *
 * The program is itself the peer: a plain TCP socket connects to
 * DST_IP:DST_PORT, where an echo server (tcp_tool listen -x echo) runs,
 * and checks every byte that comes back against the stream pattern.
 * Between rounds of real traffic it reads its socket's sequence numbers
 * with TCP_REPAIR (so it knows the server's rcv_nxt and snd_nxt) and
 * forges segments on the same four-tuple:
 *
 *  - "bad" segments the kernel drops (bad checksums, data offset below 5
 *    or past the packet, truncated headers, no ACK flag, an ACK of unsent
 *    data, data outside the window or already received) carry garbage at
 *    the exact next sequence number: had one been taken, the echo of the
 *    next round would be corrupt or the connection stuck;
 *  - malformed options the kernel just stops parsing (zero length,
 *    length one, running past the header, bad lengths of known options)
 *    come as pure ACKs or as a resend of already received bytes, which
 *    are harmless if taken;
 *  - RFC 5961: RSTs out of the window and in the window but not exact,
 *    and an in-window SYN, must leave the connection alive; then an exact
 *    RST ends it (the server must see ECONNRESET);
 *  - SYNS SYNs from random source ports at the listener (its SYN-ACKs
 *    are reset by this host's stack), plus malformed SYNs, before the
 *    RST; after it a new connection must work.
 *
 * Run it in a namespace with net.ipv4.tcp_timestamps=0, so that forged
 * segments need no timestamp option.  Prints one line per case and per
 * round ("round N ok"), "injected N" and "csum_bad N" (segments with a
 * bad TCP checksum); exit status 0 when every round passed, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "frame_util.h"

#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW	29
#endif

struct frame {
	unsigned char buf[2048];
	size_t len;
	unsigned int ip_off, tcp_off, doff;	/* doff in bytes */
};

static struct {
	int pfd, fd;
	struct sockaddr_ll ll;
	unsigned char dst_mac[6], src_mac[6];
	struct in_addr src_ip, dst_ip;
	uint16_t dst_port, src_port;
	uint32_t snd_nxt, rcv_nxt;	/* ours, so the server's rcv_nxt, snd_nxt */
	uint16_t win;
	uint64_t tx, rx;		/* stream offsets */
	unsigned int injected, csum_bad;
	bool failed;
} g;

static unsigned char stream_byte(uint64_t i)
{
	return (unsigned char)(i % 251 + (i / 251) * 7);
}

static struct iphdr *ip_of(struct frame *f)
{
	return (struct iphdr *)(f->buf + f->ip_off);
}

static struct tcphdr *tcp_of(struct frame *f)
{
	return (struct tcphdr *)(f->buf + f->tcp_off);
}

static void ip_csum(struct frame *f)
{
	ip_hdr_csum(ip_of(f), 20);
}

/* The TCP checksum over what the IP total length says is TCP. */
static uint16_t tcp_csum_value(struct frame *f)
{
	struct iphdr *ip = ip_of(f);
	size_t len = ntohs(ip->tot_len) - 20;
	uint16_t saved = tcp_of(f)->check, c;

	if (len > f->len - f->tcp_off)
		len = f->len - f->tcp_off;
	tcp_of(f)->check = 0;
	c = l4_csum(ip, IPPROTO_TCP, ntohs(ip->tot_len) - 20, tcp_of(f), len);
	tcp_of(f)->check = saved;
	return htons(c);
}

static void tcp_csum(struct frame *f)
{
	tcp_of(f)->check = tcp_csum_value(f);
}

/*
 * A valid segment: @flags (TH_*), @opts of @optlen bytes (a multiple of
 * 4), @dlen bytes of @data.
 */
static void build(struct frame *f, uint16_t sport, uint32_t seq,
		  uint32_t ack, uint8_t flags, const void *opts,
		  size_t optlen, const void *data, size_t dlen)
{
	struct tcphdr *th;

	memset(f, 0, sizeof(*f));
	eth_hdr_fill(f->buf, g.dst_mac, g.src_mac);
	f->ip_off = sizeof(struct ether_header);
	f->tcp_off = f->ip_off + 20;
	f->doff = 20 + optlen;

	ip_hdr_fill(ip_of(f), 20, 20 + f->doff + dlen, g.injected + 1, IP_DF,
		    IPPROTO_TCP, g.src_ip.s_addr, g.dst_ip.s_addr);

	th = tcp_of(f);
	th->source = htons(sport);
	th->dest = htons(g.dst_port);
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = f->doff / 4;
	((uint8_t *)th)[13] = flags;
	th->window = htons(g.win);
	if (optlen)
		memcpy((unsigned char *)th + 20, opts, optlen);
	if (dlen)
		memcpy((unsigned char *)th + f->doff, data, dlen);
	f->len = f->tcp_off + f->doff + dlen;
	ip_csum(f);
	tcp_csum(f);
}

static void inject(struct frame *f)
{
	if (tcp_csum_value(f) != tcp_of(f)->check)
		g.csum_bad++;
	if (!packet_send(g.pfd, &g.ll, f->buf, f->len))
		perror("tcp_inject: sendto");
	g.injected++;
}

static void run_case(const char *name, struct frame *f)
{
	printf("case %s\n", name);
	inject(f);
}

/* Our socket's sequence numbers, with TCP_REPAIR; and its window. */
static void read_seqs(void)
{
	struct tcp_repair_window w;
	struct tcp_info ti;
	socklen_t len;
	int on = 1, off = 0, q;

	if (setsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)) < 0) {
		perror("tcp_inject: TCP_REPAIR");
		exit(1);
	}
	q = TCP_SEND_QUEUE;
	setsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q));
	len = sizeof(g.snd_nxt);
	getsockopt(g.fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &g.snd_nxt, &len);
	q = TCP_RECV_QUEUE;
	setsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q));
	len = sizeof(g.rcv_nxt);
	getsockopt(g.fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &g.rcv_nxt, &len);
	len = sizeof(w);
	memset(&w, 0, sizeof(w));
	getsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &len);
	q = TCP_NO_QUEUE;
	setsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q));
	setsockopt(g.fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof(off));

	len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	getsockopt(g.fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
	g.win = w.rcv_wnd >> ti.tcpi_rcv_wscale;
	if (!g.win)
		g.win = 1024;
	printf("seqs snd_nxt=%u rcv_nxt=%u win=%u (wscale %u)\n", g.snd_nxt,
	       g.rcv_nxt, g.win, ti.tcpi_rcv_wscale);
}

/* Send @len stream bytes, read the echo, check it. */
static bool round_trip(int fd, uint64_t *tx, uint64_t *rx, size_t len,
		       const char *name)
{
	unsigned char buf[16384];
	size_t i, done = 0;

	while (done < len) {
		size_t n = len - done > sizeof(buf) ? sizeof(buf) : len - done;

		for (i = 0; i < n; i++)
			buf[i] = stream_byte(*tx + i);
		if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n) {
			printf("%s send error %s\n", name,
			       strerrorname_np(errno));
			return false;
		}
		*tx += n;
		done += n;
	}
	done = 0;
	while (done < len) {
		ssize_t n = recv(fd, buf, len - done > sizeof(buf) ?
				 sizeof(buf) : len - done, 0);

		if (n <= 0) {
			printf("%s not ok: %s after %zu of %zu bytes\n", name,
			       n ? strerrorname_np(errno) : "eof", done, len);
			return false;
		}
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != stream_byte(*rx + i)) {
				printf("%s not ok: corrupt echo at offset %llu\n",
				       name,
				       (unsigned long long)(*rx + i));
				return false;
			}
		}
		*rx += n;
		done += n;
	}
	printf("%s ok\n", name);
	return true;
}

static int connect_server(void)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(g.dst_port),
		.sin_addr = g.dst_ip,
	};
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		printf("connect error %s\n", strerrorname_np(errno));
		exit(1);
	}
	return fd;
}

static void check_round(const char *name, size_t len)
{
	if (!round_trip(g.fd, &g.tx, &g.rx, len, name))
		g.failed = true;
}

#define ACK	TH_ACK
#define PSHACK	(TH_PUSH | TH_ACK)

static void bad_data_cases(void)
{
	static const unsigned char junk[200] = "JUNKJUNKJUNK";
	static const unsigned char nop4[4] = { 1, 1, 1, 1 };
	struct frame f;

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	tcp_of(&f)->check ^= htons(0x0101);
	run_case("bad_tcp_csum", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	tcp_of(&f)->check = tcp_of(&f)->check ? 0 : htons(1);
	run_case("bad_tcp_csum_zero", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	ip_of(&f)->check ^= htons(0x1234);
	run_case("bad_ip_csum", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	tcp_of(&f)->doff = 4;
	tcp_csum(&f);
	run_case("doff_4", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	tcp_of(&f)->doff = 0;
	tcp_csum(&f);
	run_case("doff_0", &f);

	/* a 60-byte header in a 30-byte segment */
	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 10);
	tcp_of(&f)->doff = 15;
	tcp_csum(&f);
	run_case("doff_beyond_packet", &f);

	/* the IP total length cuts the TCP header short */
	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	ip_of(&f)->tot_len = htons(20 + 12);
	ip_csum(&f);
	tcp_csum(&f);
	run_case("trunc_tcp_header", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	f.len = f.tcp_off + 10;
	run_case("trunc_frame", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk, 100);
	ip_of(&f)->tot_len = htons(ntohs(ip_of(&f)->tot_len) + 200);
	ip_csum(&f);
	run_case("totlen_beyond_frame", &f);

	/* options claim more than the header holds, and a bad checksum */
	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, nop4, 4, junk, 100);
	((unsigned char *)tcp_of(&f))[20] = 254;
	((unsigned char *)tcp_of(&f))[21] = 0;
	tcp_of(&f)->check ^= htons(0x4000);
	run_case("opt_zero_len_bad_csum", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, TH_PUSH, NULL, 0, junk, 100);
	run_case("no_ack_flag", &f);

	build(&f, g.src_port, g.snd_nxt, g.rcv_nxt + 100000, PSHACK, NULL, 0,
	      junk, 100);
	run_case("ack_of_unsent_data", &f);

	build(&f, g.src_port, g.snd_nxt + 0x40000000, g.rcv_nxt, PSHACK, NULL,
	      0, junk, 100);
	run_case("data_beyond_window", &f);

	build(&f, g.src_port, g.snd_nxt - 0x40000000, g.rcv_nxt, PSHACK, NULL,
	      0, junk, 100);
	run_case("data_before_window", &f);

	/* bytes the server already has, with other contents */
	build(&f, g.src_port, g.snd_nxt - 200, g.rcv_nxt, PSHACK, NULL, 0,
	      junk, 200);
	run_case("old_data_other_bytes", &f);

	/* wrong port: for no socket, answered with a RST */
	build(&f, g.src_port ^ 1, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0, junk,
	      100);
	run_case("other_four_tuple", &f);
}

/* Pure ACKs and resent old bytes with options Linux stops parsing. */
static void option_cases(void)
{
	static const struct {
		const char *name;
		unsigned char opt[12];
		size_t len;
	} o[] = {
		{ "opt_zero_len", { 254, 0, 1, 1 }, 4 },
		{ "opt_len_one", { 254, 1, 1, 1 }, 4 },
		{ "opt_past_header", { 254, 40, 1, 1 }, 4 },
		{ "opt_past_header_nop", { 1, 1, 1, 30 }, 4 },
		{ "opt_mss_len_3", { 2, 3, 1, 0 }, 4 },
		{ "opt_ts_len_4", { 8, 4, 1, 1 }, 4 },
		{ "opt_ts_len_0", { 8, 0, 1, 1 }, 4 },
		{ "opt_sack_len_10", { 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
		{ "opt_sack_len_255", { 1, 1, 5, 255, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
		{ "opt_wscale_len_2", { 3, 2, 1, 1 }, 4 },
		{ "opt_eol_garbage", { 0, 99, 98, 97 }, 4 },
	};
	unsigned char old[100];
	struct frame f;
	size_t i, j;
	char name[64];

	for (j = 0; j < sizeof(old); j++)
		old[j] = stream_byte(g.tx - sizeof(old) + j);
	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, ACK, o[i].opt,
		      o[i].len, NULL, 0);
		run_case(o[i].name, &f);
		build(&f, g.src_port, g.snd_nxt - sizeof(old), g.rcv_nxt,
		      PSHACK, o[i].opt, o[i].len, old, sizeof(old));
		snprintf(name, sizeof(name), "%s_resend", o[i].name);
		run_case(name, &f);
	}
	/* SACK blocks far outside anything sent */
	{
		unsigned char sack[12] = { 1, 1, 5, 10 };
		uint32_t l = htonl(g.rcv_nxt + 0x10000000), r =
			htonl(g.rcv_nxt + 0x10001000);

		memcpy(sack + 4, &l, 4);
		memcpy(sack + 8, &r, 4);
		build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, ACK, sack, 12,
		      NULL, 0);
		run_case("sack_block_unsent", &f);
	}
	/* New bytes signed with TCP-MD5 (RFC 2385), on a connection with no
	 * key: TCP drops them, whatever the digest says.
	 */
	{
		static const unsigned char junk[100] = "MD5 MD5 MD5";
		unsigned char md5[20] = { 19, 18 };

		md5[18] = md5[19] = 1;		/* NOP NOP */
		build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, md5,
		      sizeof(md5), junk, sizeof(junk));
		run_case("md5_option_new_data", &f);
	}
}

/* Random damage to garbage segments whose checksum is then made wrong. */
static void fuzz(unsigned int count)
{
	static const unsigned char junk[64] = "FUZZFUZZFUZZ";
	unsigned int i, j;
	struct frame f;

	srandom(4242);
	for (i = 0; i < count; i++) {
		unsigned int at;

		build(&f, g.src_port, g.snd_nxt, g.rcv_nxt, PSHACK, NULL, 0,
		      junk, sizeof(junk));
		for (j = 1 + random() % 4; j; j--) {
			at = f.ip_off + random() % (f.tcp_off + 20 - f.ip_off);
			f.buf[at] ^= 1 << (random() % 8);
		}
		/* whatever the flips did, the checksum must be wrong */
		if (ntohs(ip_of(&f)->tot_len) >= 40 &&
		    tcp_csum_value(&f) == tcp_of(&f)->check)
			tcp_of(&f)->check ^= htons(0x0800);
		inject(&f);
	}
	printf("fuzzed %u\n", count);
}

static void rst_cases(void)
{
	struct frame f;

	build(&f, g.src_port, g.snd_nxt + 0x40000000, 0, TH_RST, NULL, 0,
	      NULL, 0);
	run_case("rst_out_of_window", &f);
	build(&f, g.src_port, g.snd_nxt - 0x40000000, g.rcv_nxt,
	      TH_RST | TH_ACK, NULL, 0, NULL, 0);
	run_case("rst_ack_before_window", &f);
	build(&f, g.src_port, g.snd_nxt + 1, 0, TH_RST, NULL, 0, NULL, 0);
	run_case("rst_in_window_not_exact", &f);
	/* the challenge ACKs are rate limited per socket (500 ms) */
	usleep(600000);
	build(&f, g.src_port, g.snd_nxt + 1, 0, TH_SYN, NULL, 0, NULL, 0);
	run_case("syn_in_window", &f);
	usleep(600000);
	build(&f, g.src_port, g.snd_nxt + 1000, g.rcv_nxt, TH_RST | TH_ACK,
	      NULL, 0, NULL, 0);
	run_case("rst_ack_in_window_not_exact", &f);
}

static void listener_cases(unsigned int syns)
{
	static const unsigned char mss_bad[4] = { 2, 2, 0, 0 };
	static const unsigned char ws_past[4] = { 1, 1, 3, 20 };
	static const unsigned char zero[4] = { 254, 0, 0, 0 };
	static const unsigned char junk[50] = "SYNDATA";
	struct frame f;
	unsigned int i;

	srandom(777);
	build(&f, 40001, random(), 0, TH_SYN, mss_bad, 4, NULL, 0);
	run_case("syn_mss_len_2", &f);
	build(&f, 40002, random(), 0, TH_SYN, ws_past, 4, NULL, 0);
	run_case("syn_wscale_past_header", &f);
	build(&f, 40003, random(), 0, TH_SYN, zero, 4, NULL, 0);
	run_case("syn_opt_zero_len", &f);
	build(&f, 40004, random(), 0, TH_SYN | TH_FIN, NULL, 0, NULL, 0);
	run_case("syn_fin", &f);
	build(&f, 40005, random(), 0, TH_SYN | TH_RST, NULL, 0, NULL, 0);
	run_case("syn_rst", &f);
	build(&f, 40006, random(), 0, TH_SYN, NULL, 0, junk, sizeof(junk));
	run_case("syn_with_data", &f);
	build(&f, 40007, random(), 0, TH_SYN, NULL, 0, NULL, 0);
	tcp_of(&f)->doff = 3;
	tcp_csum(&f);
	run_case("syn_doff_3", &f);
	build(&f, 40008, random(), 0, TH_SYN, NULL, 0, NULL, 0);
	tcp_of(&f)->check ^= htons(0x0101);
	run_case("syn_bad_csum", &f);
	build(&f, 40009, random(), random(), TH_ACK, NULL, 0, NULL, 0);
	run_case("ack_bogus_cookie", &f);
	build(&f, 40010, random(), 0, 0, NULL, 0, NULL, 0);
	run_case("no_flags", &f);

	for (i = 0; i < syns; i++) {
		uint16_t port = 20000 + random() % 40000;

		if (port == g.src_port)
			port++;
		build(&f, port, random(), 0, TH_SYN, NULL, 0, NULL, 0);
		inject(&f);
	}
	printf("syn flood %u\n", syns);
}

int main(int argc, char **argv)
{
	unsigned int fuzz_count = 200, syns = 2000;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	uint64_t tx2 = 0, rx2 = 0;
	int fd2;

	if (argc < 6 || parse_mac(argv[2], g.dst_mac) ||
	    inet_pton(AF_INET, argv[3], &g.src_ip) != 1 ||
	    inet_pton(AF_INET, argv[4], &g.dst_ip) != 1) {
		fprintf(stderr,
			"usage: tcp_inject IFNAME DST_MAC SRC_IP DST_IP DST_PORT [FUZZ_COUNT [SYNS]]\n");
		return 2;
	}
	g.dst_port = atoi(argv[5]);
	if (argc > 6)
		fuzz_count = atoi(argv[6]);
	if (argc > 7)
		syns = atoi(argv[7]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	g.pfd = packet_open("tcp_inject", argv[1], g.dst_mac, g.src_mac,
			    &g.ll);
	if (g.pfd < 0)
		return 1;

	g.fd = connect_server();
	getsockname(g.fd, (struct sockaddr *)&sin, &slen);
	g.src_port = ntohs(sin.sin_port);
	printf("connected from port %u\n", g.src_port);
	check_round("round 1 (before)", 3000);

	read_seqs();
	bad_data_cases();
	option_cases();
	fuzz(fuzz_count);
	check_round("round 2 (after bad segments)", 20000);

	read_seqs();
	rst_cases();
	check_round("round 3 (after RFC 5961 cases)", 5000);

	listener_cases(syns);
	check_round("round 4 (after the SYN flood)", 5000);

	/* the exact RST, which must end the connection */
	read_seqs();
	{
		struct frame f;

		build(&f, g.src_port, g.snd_nxt, 0, TH_RST, NULL, 0, NULL, 0);
		run_case("rst_exact", &f);
	}

	/* the server takes the next connection once the first one is reset */
	fd2 = connect_server();
	if (!round_trip(fd2, &tx2, &rx2, 5000, "round 5 (new connection)"))
		g.failed = true;
	close(fd2);
	printf("injected %u\n", g.injected);
	printf("csum_bad %u\n", g.csum_bad);
	return g.failed;
}
