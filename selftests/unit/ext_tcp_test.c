// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit test of libexasock_ext's TCP API (lib/ext/tcp.c): the
 * frame helpers exasock_tcp_set_length() and exasock_tcp_calc_checksum()
 * against an independent, byte-by-byte check of the sums, and the socket
 * calls' answers when the program does not run under exasock (they must
 * refuse, and send nothing). The socket calls under exasock are tested in
 * the VM by selftests/tcp_raw.sh. No module, no VM.
 *
 * Output is TAP 13; exit status 0 when every test passed, 1 otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <exasock/tcp.h>
#include "unit_tap.h"


#define FRAME_MAX	(18 + 60 + 60 + 2000)

/*
 * A frame as exasock_tcp_build_header() makes one: Ethernet (with @vlan
 * 802.1Q tags), IPv4 with @ip_opt option bytes, TCP with @tcp_opt option
 * bytes. Returns the header length.
 */
static size_t make_headers(uint8_t *f, int vlan, size_t ip_opt,
			   size_t tcp_opt)
{
	size_t off = 12, ihl = 20 + ip_opt, doff = 20 + tcp_opt, i;
	uint8_t *ip, *tcp;

	memset(f, 0, FRAME_MAX);
	for (i = 0; i < 12; i++)
		f[i] = (uint8_t)(0x10 + i);		/* MAC addresses */
	while (vlan--) {
		/* the outer one of two is 802.1ad (QinQ), else 802.1Q */
		f[off] = vlan ? 0x88 : 0x81;
		f[off + 1] = vlan ? 0xa8 : 0x00;
		f[off + 3] = 7;				/* VLAN id 7 */
		off += 4;
	}
	f[off] = 0x08;
	f[off + 1] = 0x00;
	ip = f + off + 2;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	ip[6] = 0x40;					/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, "\x0a\x4d\x00\x01\x0a\x4d\x00\x02", 8);
	for (i = 20; i < ihl; i++)
		ip[i] = 1;				/* NOP options */
	tcp = ip + ihl;
	memcpy(tcp, "\x9c\x40\x1b\x58", 4);		/* ports */
	memcpy(tcp + 4, "\x12\x34\x56\x78\x9a\xbc\xde\xf0", 8);
	tcp[12] = (uint8_t)(doff / 4 << 4);
	tcp[13] = 0x18;					/* ACK|PSH */
	tcp[14] = 0xff;
	tcp[15] = 0xf0;
	for (i = 20; i < doff; i++)
		tcp[i] = (uint8_t)(i == 20 ? 1 : 0xa0 + i);
	return (size_t)(tcp - f) + doff;
}

/* Byte by byte: the one's complement sum of @len bytes as 16-bit words. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static uint8_t *ip_of(uint8_t *f)
{
	size_t off = 12;

	while ((f[off] == 0x81 && f[off + 1] == 0x00) ||
	       (f[off] == 0x88 && f[off + 1] == 0xa8))
		off += 4;
	return f + off + 2;
}

/* Do the frame's IPv4 and TCP checksums verify, with @data_len bytes? */
static int sums_ok(uint8_t *f, size_t data_len)
{
	uint8_t *ip = ip_of(f), *tcp;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, seg;
	uint8_t pseudo[12];

	if (sum16(ip, ihl, 0) != 0xffff)
		return 0;
	tcp = ip + ihl;
	seg = (size_t)(ip[2] << 8 | ip[3]) - ihl;
	if (seg != (size_t)(tcp[12] >> 4) * 4 + data_len)
		return 0;
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = (uint8_t)(seg >> 8);
	pseudo[11] = (uint8_t)seg;
	return sum16(tcp, seg, sum16(pseudo, 12, 0)) == 0xffff;
}

static void fill_random(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rand();
}

/* One frame shape, every payload length that matters for the sum. */
static void check_shape(int vlan, size_t ip_opt, size_t tcp_opt)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 63, 64, 1459, 1460,
				       2000 };
	static uint8_t f[FRAME_MAX];
	size_t i, hlen, n;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = lens[i];
		hlen = make_headers(f, vlan, ip_opt, tcp_opt);
		fill_random(f + hlen, n, (unsigned int)(n + 7 * vlan));
		CHECK(!exasock_tcp_set_length(f, hlen, n), "len %zu: %s", n,
		      strerror(errno));
		/* The payload need not follow the headers in memory. */
		CHECK(!exasock_tcp_calc_checksum(f, hlen, f + hlen, n),
		      "len %zu: %s", n, strerror(errno));
		CHECK(sums_ok(f, n), "vlan %d ip_opt %zu tcp_opt %zu len %zu",
		      vlan, ip_opt, tcp_opt, n);
	}
}

static void test_plain_frames(void)
{
	uint8_t f[FRAME_MAX];

	CHECK(make_headers(f, 0, 0, 0) == EXASOCK_TCP_HEADER_LEN, "size");
	check_shape(0, 0, 0);
}

static void test_options_and_vlans(void)
{
	check_shape(0, 0, 12);		/* NOP NOP timestamps */
	check_shape(0, 4, 0);		/* an IPv4 option */
	check_shape(1, 0, 0);		/* one 802.1Q tag */
	check_shape(2, 8, 40);		/* 802.1ad QinQ, everything long */
}

/* A checksum already in the frame must not count in the new one. */
static void test_recompute(void)
{
	uint8_t f[FRAME_MAX], data[100];
	size_t hlen = make_headers(f, 0, 0, 0);

	fill_random(data, sizeof(data), 1);
	CHECK(!exasock_tcp_set_length(f, hlen, 50), "set_length");
	CHECK(!exasock_tcp_calc_checksum(f, hlen, data, 50), "sum");
	fill_random(data, sizeof(data), 2);
	CHECK(!exasock_tcp_set_length(f, hlen, sizeof(data)), "set_length");
	CHECK(!exasock_tcp_calc_checksum(f, hlen, data, sizeof(data)), "sum");
	memcpy(f + hlen, data, sizeof(data));
	CHECK(sums_ok(f, sizeof(data)), "second sum over the first");
}

#define EXPECT_ERR(call, err)						\
	do {								\
		errno = 0;						\
		CHECK((call) == -1 && errno == (err), "errno %d (%s)",	\
		      errno, strerror(errno));				\
	} while (0)

static void test_bad_frames(void)
{
	uint8_t f[FRAME_MAX], keep[FRAME_MAX];
	size_t hlen = make_headers(f, 0, 0, 0);
	uint8_t *ip = ip_of(f);

	memcpy(keep, f, sizeof(f));
	EXPECT_ERR(exasock_tcp_set_length(f, hlen - 1, 10), EINVAL);
	EXPECT_ERR(exasock_tcp_calc_checksum(f, hlen - 1, f, 0), EINVAL);
	EXPECT_ERR(exasock_tcp_set_length(NULL, hlen, 10), EINVAL);
	EXPECT_ERR(exasock_tcp_calc_checksum(f, hlen, NULL, 10), EINVAL);
	EXPECT_ERR(exasock_tcp_set_length(f, hlen, 65536), EMSGSIZE);
	EXPECT_ERR(exasock_tcp_set_length(f, hlen, 65535 - 40 + 1), EMSGSIZE);
	EXPECT_ERR(exasock_tcp_calc_checksum(f, hlen, f, 65535 - 40 + 1),
		   EMSGSIZE);
	CHECK(!memcmp(f, keep, sizeof(f)), "a refused call changed the frame");

	f[12] = 0x86;				/* IPv6 */
	f[13] = 0xdd;
	EXPECT_ERR(exasock_tcp_set_length(f, hlen, 10), EINVAL);
	memcpy(f, keep, sizeof(f));
	ip[9] = IPPROTO_UDP;
	EXPECT_ERR(exasock_tcp_calc_checksum(f, hlen, f, 0), EINVAL);
	memcpy(f, keep, sizeof(f));
	ip[0] = 0x44;				/* IHL below 5 */
	EXPECT_ERR(exasock_tcp_set_length(f, hlen, 10), EINVAL);
	memcpy(f, keep, sizeof(f));
	ip[20 + 12] = 0xf0;			/* doff 15: past the buffer */
	EXPECT_ERR(exasock_tcp_set_length(f, hlen, 10), EINVAL);
	ip[20 + 12] = 0x40;			/* doff 4: below the minimum */
	EXPECT_ERR(exasock_tcp_calc_checksum(f, hlen, f, 0), EINVAL);
}

/* A connected loopback pair of ordinary (not exasock) TCP sockets. */
static void tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*cli = *srv = -1;
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&sin, &len))
		goto out;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&sin, sizeof(sin)))
		goto out;
	*srv = accept(l, NULL, NULL);
out:
	if (l >= 0)
		close(l);
}

static void test_without_exasock(void)
{
	uint8_t f[FRAME_MAX], buf[16];
	char dev[16] = "unchanged";
	int cli, srv, port = 42, pipefd[2];

	tcp_pair(&cli, &srv);
	CHECK(cli >= 0 && srv >= 0, "loopback pair: %s", strerror(errno));
	if (cli < 0 || srv < 0)
		return;
	EXPECT_ERR(exasock_tcp_build_header(cli, f, sizeof(f), 0, 0),
		   EOPNOTSUPP);
	EXPECT_ERR(exasock_tcp_get_device(cli, dev, sizeof(dev), &port),
		   EOPNOTSUPP);
	CHECK(port == 42 && !strcmp(dev, "unchanged"), "outputs written");
	EXPECT_ERR(exasock_tcp_send_advance(cli, "abcdef", 6), EOPNOTSUPP);
	/* The bytes must not have been sent the ordinary way instead. */
	usleep(100000);
	EXPECT_ERR((int)recv(srv, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* Bad arguments are refused before anything else. */
	EXPECT_ERR(exasock_tcp_build_header(cli, f, sizeof(f), 0, 1), EINVAL);
	EXPECT_ERR(exasock_tcp_build_header(cli, f, sizeof(f), 4, 0), EINVAL);
	EXPECT_ERR(exasock_tcp_build_header(cli, f, 53, 0, 0), ENOBUFS);
	EXPECT_ERR(exasock_tcp_build_header(-1, f, sizeof(f), 0, 0), EBADF);
	EXPECT_ERR(exasock_tcp_send_advance(-1, "x", 1), EBADF);
	CHECK(!pipe(pipefd), "pipe");
	EXPECT_ERR(exasock_tcp_build_header(pipefd[0], f, sizeof(f), 0, 0),
		   ENOTSOCK);
	EXPECT_ERR(exasock_tcp_send_advance(pipefd[1], "x", 1), ENOTSOCK);
	close(pipefd[0]);
	close(pipefd[1]);
	close(cli);
	close(srv);
}

static const struct unit_test tests[] = {
	{ "frames without options: every payload length", test_plain_frames },
	{ "options and 802.1Q tags", test_options_and_vlans },
	{ "sums recomputed over old ones", test_recompute },
	{ "malformed frames refused, unchanged", test_bad_frames },
	{ "without exasock: refused, nothing sent", test_without_exasock },
};

int main(void)
{
	return unit_main(tests, sizeof(tests) / sizeof(tests[0]), 60);
}
