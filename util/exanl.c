// SPDX-License-Identifier: GPL-2.0
/*
 * exanl: generic netlink client of the "exasock" family, shared by
 * exasock-ctl and exasock-stat (see exanl.h).
 *
 * Every reply attribute is validated before use and unknown attributes
 * are skipped, one callback per nesting level, as libmnl's examples and
 * iproute2 do. NETLINK_EXT_ACK is on so the kernel's reason for an error
 * reaches the user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "exanl.h"

/* Large enough for any netlink dump skb (the kernel caps those at 32 KiB). */
#define EXANL_BUF_SIZE		65536

const char *exanl_prog = "exasock";

/*
 * One request at a time; the NLMSG_ERROR and NLMSG_DONE callbacks find
 * the request's name here, the data callbacks get their own state.
 */
static struct {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	bool quiet;		/* do not print errors (family probe) */
	const char *what;	/* names the request in error messages */
	char *buf;
} st;

static const char *const stat_names[] = {
	[EXASOCK_STAT_RX_PACKETS]	= "rx_packets",
	[EXASOCK_STAT_RX_BYTES]		= "rx_bytes",
	[EXASOCK_STAT_RX_RING_FULL]	= "rx_ring_full",
	[EXASOCK_STAT_RX_NATIVE]	= "rx_native",
	[EXASOCK_STAT_TX_PACKETS]	= "tx_packets",
	[EXASOCK_STAT_TX_BYTES]		= "tx_bytes",
	[EXASOCK_STAT_TX_NATIVE]	= "tx_native",
	[EXASOCK_STAT_TX_WARM]		= "tx_warm",
	[EXASOCK_STAT_TX_ERRORS]	= "tx_errors",
	[EXASOCK_STAT_RX_RING_RESET]	= "rx_ring_reset",
	[EXASOCK_STAT_SOCKETS]		= "sockets",
	[EXASOCK_STAT_ACCEL_SOCKETS]	= "accel_sockets",
	[EXASOCK_STAT_RX_FRAMES]	= "rx_frames",
	[EXASOCK_STAT_RX_ACCEL]		= "rx_accel",
	[EXASOCK_STAT_RX_PASS]		= "rx_pass",
	[EXASOCK_STAT_RX_MALFORMED]	= "rx_malformed",
	[EXASOCK_STAT_RX_BAD_CSUM]	= "rx_bad_csum",
	[EXASOCK_STAT_RX_DROPPED]	= "rx_dropped",
	[EXASOCK_STAT_TX_FAST]		= "tx_fast",
	[EXASOCK_STAT_TX_SLOW]		= "tx_slow",
	[EXASOCK_STAT_TX_UNRESOLVED]	= "tx_unresolved",
	[EXASOCK_STAT_RING_BYTES]	= "ring_bytes",
	[EXASOCK_STAT_ACCEL_FAILED]	= "accel_failed",
	[EXASOCK_STAT_TCP_BYTES_RECEIVED]	= "tcp_bytes_received",
	[EXASOCK_STAT_TCP_BYTES_DELIVERED]	= "tcp_bytes_delivered",
	[EXASOCK_STAT_TCP_BYTES_SENT]		= "tcp_bytes_sent",
	[EXASOCK_STAT_TCP_BYTES_ACKED]		= "tcp_bytes_acked",
	[EXASOCK_STAT_TCP_RETRANS_SEGS]		= "tcp_retrans_segs",
	[EXASOCK_STAT_TCP_RETRANS_TIMEOUT]	= "tcp_retrans_timeout",
	[EXASOCK_STAT_TCP_RETRANS_BYTES]	= "tcp_retrans_bytes",
	[EXASOCK_STAT_TCP_SND_WND]		= "tcp_snd_wnd",
	[EXASOCK_STAT_TCP_RCV_WND]		= "tcp_rcv_wnd",
	[EXASOCK_STAT_TCP_SND_WSCALE]		= "tcp_snd_wscale",
	[EXASOCK_STAT_TCP_RCV_WSCALE]		= "tcp_rcv_wscale",
	[EXASOCK_STAT_TCP_CWND]			= "tcp_cwnd",
	[EXASOCK_STAT_TCP_SSTHRESH]		= "tcp_ssthresh",
	[EXASOCK_STAT_TCP_MSS]			= "tcp_mss",
	[EXASOCK_STAT_TCP_RTT_US]		= "tcp_rtt_us",
	[EXASOCK_STAT_TCP_RTO_US]		= "tcp_rto_us",
	[EXASOCK_STAT_TCP_CONNS]		= "tcp_conns",
	[EXASOCK_STAT_TCP_ACCEPTED]		= "tcp_accepted",
	[EXASOCK_STAT_TCP_UNREAD_RESETS]	= "tcp_unread_resets",
	[EXASOCK_STAT_TCP_RAW_HEADERS]		= "tcp_raw_headers",
	[EXASOCK_STAT_TCP_RAW_ADVANCES]		= "tcp_raw_advances",
	[EXASOCK_STAT_TCP_RAW_BYTES]		= "tcp_raw_bytes",
	[EXASOCK_STAT_TCP_RAW_HELD]		= "tcp_raw_held",
	[EXASOCK_STAT_TCP_RAW_STALE]		= "tcp_raw_stale",
	[EXASOCK_STAT_TCP_RAW_LATE]		= "tcp_raw_late",
	[EXASOCK_STAT_RX_BAD_SOURCE]		= "rx_bad_source",
};

static const char *const feature_names[] = {
	"udp",		/* EXASOCK_FEATURE_UDP */
	"native_twin",	/* EXASOCK_FEATURE_NATIVE_TWIN */
	"msg_warm",	/* EXASOCK_FEATURE_MSG_WARM */
	"tcp",		/* EXASOCK_FEATURE_TCP */
	"tcp_raw",	/* EXASOCK_FEATURE_TCP_RAW */
};

static const char *const state_names[] = {
	[EXASOCK_STATE_UNBOUND]		= "unbound",
	[EXASOCK_STATE_BOUND]		= "bound",
	[EXASOCK_STATE_CONNECTED]	= "connected",
	/* TCP: netstat's names, in lower case */
	[EXASOCK_STATE_TCP_ESTABLISHED]	= "established",
	[EXASOCK_STATE_TCP_SYN_SENT]	= "syn_sent",
	[EXASOCK_STATE_TCP_SYN_RECV]	= "syn_recv",
	[EXASOCK_STATE_TCP_FIN_WAIT1]	= "fin_wait1",
	[EXASOCK_STATE_TCP_FIN_WAIT2]	= "fin_wait2",
	[EXASOCK_STATE_TCP_TIME_WAIT]	= "time_wait",
	[EXASOCK_STATE_TCP_CLOSE]	= "close",
	[EXASOCK_STATE_TCP_CLOSE_WAIT]	= "close_wait",
	[EXASOCK_STATE_TCP_LAST_ACK]	= "last_ack",
	[EXASOCK_STATE_TCP_LISTEN]	= "listen",
	[EXASOCK_STATE_TCP_CLOSING]	= "closing",
};

/* A counter the kernel has and we cannot name is a bug here. */
_Static_assert(EXANL_ARRAY_SIZE(stat_names) == __EXASOCK_STAT_MAX,
	       "every EXASOCK_STAT_* needs a name in stat_names[]");
_Static_assert(__EXASOCK_STAT_MAX <= EXANL_STAT_SLOTS,
	       "more counters than EXANL_STAT_SLOTS");
_Static_assert(EXANL_ARRAY_SIZE(state_names) == __EXASOCK_STATE_MAX,
	       "every exasock_sock_state needs a name in state_names[]");

const char *exanl_stat_name(unsigned int type, char *tmp, size_t len)
{
	if (type < EXANL_ARRAY_SIZE(stat_names) && stat_names[type])
		return stat_names[type];
	snprintf(tmp, len, "stat_%u", type);
	return tmp;
}

const char *exanl_proto_name(uint8_t proto, char *tmp, size_t len)
{
	if (proto == IPPROTO_UDP)
		return "udp";
	if (proto == IPPROTO_TCP)
		return "tcp";
	snprintf(tmp, len, "proto_%u", proto);
	return tmp;
}

const char *exanl_state_name(uint8_t state, char *tmp, size_t len)
{
	if (state < EXANL_ARRAY_SIZE(state_names) && state_names[state])
		return state_names[state];
	snprintf(tmp, len, "state_%u", state);
	return tmp;
}

/*
 * Attribute parsing
 * -----------------
 */

/* Attribute types of the top level of every exasock reply. */
static const enum mnl_attr_data_type exa_attr_types[EXASOCK_A_MAX + 1] = {
	[EXASOCK_A_IF_IFINDEX]		= MNL_TYPE_U32,
	[EXASOCK_A_IF_NAME]		= MNL_TYPE_NUL_STRING,
	[EXASOCK_A_IF_STATS]		= MNL_TYPE_NESTED,
	[EXASOCK_A_SOCK_ID]		= MNL_TYPE_U64,
	[EXASOCK_A_SOCK_PROTO]		= MNL_TYPE_U8,
	[EXASOCK_A_SOCK_STATE]		= MNL_TYPE_U8,
	[EXASOCK_A_SOCK_LOCAL_ADDR]	= MNL_TYPE_U32,
	[EXASOCK_A_SOCK_LOCAL_PORT]	= MNL_TYPE_U16,
	[EXASOCK_A_SOCK_PEER_ADDR]	= MNL_TYPE_U32,
	[EXASOCK_A_SOCK_PEER_PORT]	= MNL_TYPE_U16,
	[EXASOCK_A_SOCK_RECV_Q]		= MNL_TYPE_U32,
	[EXASOCK_A_SOCK_SEND_Q]		= MNL_TYPE_U32,
	[EXASOCK_A_SOCK_UID]		= MNL_TYPE_U32,
	[EXASOCK_A_SOCK_INODE]		= MNL_TYPE_U64,
	[EXASOCK_A_SOCK_STATS]		= MNL_TYPE_NESTED,
	[EXASOCK_A_VERSION]		= MNL_TYPE_U32,
	[EXASOCK_A_FEATURES]		= MNL_TYPE_U64,
	[EXASOCK_A_STATS]		= MNL_TYPE_NESTED,
	[EXASOCK_A_PAD]			= MNL_TYPE_UNSPEC,
};

/* Level 1: the attributes of an exasock message. */
static int exa_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, EXASOCK_A_MAX) < 0 ||
	    type == EXASOCK_A_PAD)
		return MNL_CB_OK;	/* newer kernel: skip */

	if (exa_attr_types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(attr, exa_attr_types[type]) < 0) {
		fprintf(stderr, "%s: malformed attribute %u in reply: %s\n",
			exanl_prog, type, strerror(errno));
		return MNL_CB_ERROR;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

int exanl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), exa_attr_cb, tb);
}

/* Level 2: the EXASOCK_A_STAT_* counters inside a *_STATS nest. */
static int stat_attr_cb(const struct nlattr *attr, void *data)
{
	struct exanl_counters *c = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type == EXASOCK_STAT_UNSPEC || type >= EXANL_STAT_SLOTS)
		return MNL_CB_OK;

	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0) {
		fprintf(stderr, "%s: malformed counter %u in reply: %s\n",
			exanl_prog, type, strerror(errno));
		return MNL_CB_ERROR;
	}
	c->v[type] = mnl_attr_get_u64(attr);
	c->present |= EXANL_BIT(type);
	return MNL_CB_OK;
}

int exanl_parse_counters(const struct nlattr *nest, struct exanl_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (!nest)
		return MNL_CB_OK;
	return mnl_attr_parse_nested(nest, stat_attr_cb, c);
}

/* Only called on attributes exanl_parse() validated. */
uint8_t exanl_u8(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u8(attr) : 0;
}

uint32_t exanl_u32(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u32(attr) : 0;
}

uint64_t exanl_u64(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u64(attr) : 0;
}

void exanl_endpoint(char *out, size_t len, const struct nlattr *addr,
		    const struct nlattr *port)
{
	char a[INET_ADDRSTRLEN] = "*", p[8] = "*";
	struct in_addr in;

	if (addr && mnl_attr_get_u32(addr)) {
		in.s_addr = mnl_attr_get_u32(addr);
		inet_ntop(AF_INET, &in, a, sizeof(a));
	}
	if (port && mnl_attr_get_u16(port))
		snprintf(p, sizeof(p), "%u", ntohs(mnl_attr_get_u16(port)));
	snprintf(out, len, "%s:%s", a, p);
}

/*
 * Errors and extended acks
 * ------------------------
 */

struct ext_ack {
	const char *msg;
	bool have_miss;
	uint32_t miss_type;
};

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct ext_ack *ea = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			ea->msg = mnl_attr_get_str(attr);
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			ea->miss_type = mnl_attr_get_u32(attr);
			ea->have_miss = true;
		}
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/*
 * Parse the TLVs that follow an nlmsgerr (or the int of an NLMSG_DONE),
 * "hlen" bytes into the payload.
 */
static void parse_extack(const struct nlmsghdr *nlh, size_t hlen,
			 struct ext_ack *ea)
{
	memset(ea, 0, sizeof(*ea));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (mnl_nlmsg_get_payload_len(nlh) < hlen)
		return;
	mnl_attr_parse(nlh, hlen, extack_attr_cb, ea);
}

static void report_error(int err, const struct ext_ack *ea)
{
	if (st.quiet)
		return;
	if (ea->msg && *ea->msg)
		fprintf(stderr, "%s: %s: %s (%s)\n", exanl_prog, st.what,
			ea->msg, strerror(err));
	else if (err == EPERM)
		fprintf(stderr, "%s: %s: %s (needs CAP_NET_ADMIN)\n",
			exanl_prog, st.what, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", exanl_prog, st.what,
			strerror(err));
	if (ea->have_miss)
		fprintf(stderr, "%s: %s: missing attribute %u\n", exanl_prog,
			st.what, ea->miss_type);
}

/* NLMSG_ERROR: an ack (error 0) or a failure, either with extack TLVs. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct ext_ack ea;
	size_t hlen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		if (!st.quiet)
			fprintf(stderr, "%s: %s: truncated error message\n",
				exanl_prog, st.what);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}

	/* Unless capped, the request is echoed before the TLVs. */
	hlen = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	parse_extack(nlh, hlen, &ea);

	if (err->error == 0) {
		if (ea.msg && *ea.msg && !st.quiet)
			fprintf(stderr, "%s: %s: warning: %s\n", exanl_prog,
				st.what, ea.msg);
		return MNL_CB_STOP;
	}
	report_error(-err->error, &ea);
	errno = -err->error;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE ends a dump; its int is negative if the dump failed. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ext_ack ea;
	int err;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err >= 0)
		return MNL_CB_STOP;
	parse_extack(nlh, sizeof(int), &ea);
	report_error(-err, &ea);
	errno = -err;
	return MNL_CB_ERROR;
}

static const mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= error_cb,
	[NLMSG_DONE]	= done_cb,
};

/*
 * Requests
 * --------
 */

static struct nlmsghdr *put_msg(uint16_t type, uint16_t flags, uint8_t cmd,
				uint8_t version, const char *what)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(st.buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++st.seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	st.what = what;
	return nlh;
}

struct nlmsghdr *exanl_msg(uint16_t flags, uint8_t cmd, const char *what)
{
	return put_msg(st.family, flags, cmd, EXASOCK_GENL_VERSION, what);
}

int exanl_run(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(st.nl, nlh, nlh->nlmsg_len) < 0) {
		if (!st.quiet)
			fprintf(stderr, "%s: %s: send: %s\n", exanl_prog,
				st.what, strerror(errno));
		return -1;
	}
	for (;;) {
		n = mnl_socket_recvfrom(st.nl, st.buf, EXANL_BUF_SIZE);
		if (n < 0) {
			if (!st.quiet)
				fprintf(stderr, "%s: %s: receive: %s\n",
					exanl_prog, st.what, strerror(errno));
			return -1;
		}
		ret = mnl_cb_run2(st.buf, n, seq, st.portid, cb, data,
				  (mnl_cb_t *)ctl_cbs, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return -1;
	}
}

static int module_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	struct exanl_module *m = data;

	if (exanl_parse(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (tb[EXASOCK_A_VERSION]) {
		m->version = mnl_attr_get_u32(tb[EXASOCK_A_VERSION]);
		m->have_version = true;
	}
	if (tb[EXASOCK_A_FEATURES]) {
		m->features = mnl_attr_get_u64(tb[EXASOCK_A_FEATURES]);
		m->have_features = true;
	}
	return exanl_parse_counters(tb[EXASOCK_A_STATS], &m->stats);
}

int exanl_get_module(struct exanl_module *m)
{
	struct nlmsghdr *nlh;

	memset(m, 0, sizeof(*m));
	nlh = exanl_msg(NLM_F_ACK, EXASOCK_CMD_STATS_GET, "stats");
	return exanl_run(nlh, module_cb, m);
}

/*
 * Socket and family resolution
 * ----------------------------
 */

static int ctrl_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, CTRL_ATTR_MAX) < 0)
		return MNL_CB_OK;
	if (type == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
		return MNL_CB_ERROR;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MAX + 1] = {};
	uint16_t *family = data;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), ctrl_attr_cb,
			   tb) < 0)
		return MNL_CB_ERROR;
	if (tb[CTRL_ATTR_FAMILY_ID])
		*family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	return MNL_CB_OK;
}

/* Returns 0, 1 if the family is not registered, -1 on other errors. */
static int resolve_family(void)
{
	struct nlmsghdr *nlh;
	int ret;

	nlh = put_msg(GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1,
		      "resolve family " EXASOCK_GENL_NAME);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, EXASOCK_GENL_NAME);

	/* ENOENT is the expected answer without the module: stay quiet. */
	st.quiet = true;
	ret = exanl_run(nlh, family_cb, &st.family);
	st.quiet = false;
	if (ret < 0 && errno == ENOENT)
		return 1;
	if (ret < 0) {
		fprintf(stderr, "%s: %s: %s\n", exanl_prog, st.what,
			strerror(errno));
		return -1;
	}
	return st.family ? 0 : 1;
}

static int open_socket(void)
{
	int one = 1;

	st.nl = mnl_socket_open(NETLINK_GENERIC);
	if (!st.nl) {
		fprintf(stderr, "%s: netlink socket: %s\n", exanl_prog,
			strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(st.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "%s: netlink bind: %s\n", exanl_prog,
			strerror(errno));
		return -1;
	}
	st.portid = mnl_socket_get_portid(st.nl);

	/* Best effort: older kernels simply give plain errors. */
	mnl_socket_setsockopt(st.nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(st.nl, NETLINK_CAP_ACK, &one, sizeof(one));

	st.seq = time(NULL);
	return 0;
}

int exanl_open(void)
{
	int ret;

	st.buf = malloc(EXANL_BUF_SIZE);
	if (!st.buf) {
		fprintf(stderr, "%s: out of memory\n", exanl_prog);
		errno = ENOMEM;
		return -1;
	}
	if (open_socket() < 0)
		goto err_free;

	ret = resolve_family();
	if (ret > 0) {
		fprintf(stderr, "exasock: kernel module not loaded\n");
		errno = ENOENT;
	}
	if (ret)
		goto err_close;
	return 0;

err_close:
	if (st.nl)
		mnl_socket_close(st.nl);
	st.nl = NULL;
err_free:
	free(st.buf);
	st.buf = NULL;
	return -1;
}

void exanl_close(void)
{
	if (st.nl)
		mnl_socket_close(st.nl);
	st.nl = NULL;
	free(st.buf);
	st.buf = NULL;
}

/*
 * Output helpers
 * --------------
 */

/* Control and non-ASCII bytes as \u00XX: valid JSON whatever the input. */
void exanl_json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

int exanl_print_some(const struct exanl_counters *c, uint64_t only,
		     uint64_t always)
{
	unsigned int i;
	char tmp[32];
	int n = 0;

	for (i = 0; i < EXANL_STAT_SLOTS; i++) {
		if (!(c->present & only & EXANL_BIT(i)))
			continue;
		if (!c->v[i] && !(always & EXANL_BIT(i)))
			continue;
		printf("%s%s=%" PRIu64, n++ ? " " : "",
		       exanl_stat_name(i, tmp, sizeof(tmp)), c->v[i]);
	}
	return n;
}

void exanl_print_counters(const struct exanl_counters *c, uint64_t always,
			  bool json)
{
	const char *sep = "";
	unsigned int i;
	char tmp[32];

	if (!json) {
		exanl_print_some(c, ~0ULL, always);
		return;
	}
	putchar('{');
	for (i = 0; i < EXANL_STAT_SLOTS; i++) {
		if (!(c->present & EXANL_BIT(i)))
			continue;
		printf("%s", sep);
		exanl_json_str(exanl_stat_name(i, tmp, sizeof(tmp)));
		printf(": %" PRIu64, c->v[i]);
		sep = ", ";
	}
	putchar('}');
}

void exanl_print_features(uint64_t features, bool json)
{
	const char *sep = "";
	unsigned int i;

	for (i = 0; i < 64; i++) {
		if (!(features & EXANL_BIT(i)))
			continue;
		printf("%s", sep);
		if (json)
			putchar('"');
		if (i < EXANL_ARRAY_SIZE(feature_names))
			printf("%s", feature_names[i]);
		else
			printf("0x%llx", 1ULL << i);
		if (json)
			putchar('"');
		sep = json ? ", " : ",";
	}
	if (!features && !json)
		printf("none");
}

void *exanl_table_add(void **rows, size_t *n, size_t *cap, size_t size)
{
	char *row;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nrows = realloc(*rows, ncap * size);

		if (!nrows) {
			errno = ENOMEM;
			return NULL;
		}
		*rows = nrows;
		*cap = ncap;
	}
	row = (char *)*rows + (*n)++ * size;
	memset(row, 0, size);
	return row;
}
