// SPDX-License-Identifier: GPL-2.0
/*
 * exasock-ctl: attach and detach accelerated interfaces, show them, the
 * accelerated sockets and the module counters, over the "exasock"
 * generic netlink family (uapi/linux/exasock.h).
 *
 * Every reply attribute is validated before use and unknown attributes
 * are skipped, one callback per nesting level, as libmnl's examples and
 * iproute2 do. NETLINK_EXT_ACK is on so the kernel's reason for an error
 * reaches the user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <linux/exasock.h>

#define PROG			"exasock-ctl"

/* Large enough for any netlink dump skb (the kernel caps those at 32 KiB). */
#define CTL_BUF_SIZE		65536

/* Counter slots: the known EXASOCK_STAT_* plus room for newer kernels. */
#define CTL_STAT_SLOTS		64

/*
 * One request at a time; the NLMSG_ERROR and NLMSG_DONE callbacks find
 * the request's name here, the data callbacks get their own state.
 */
static struct ctl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	bool json;
	bool quiet;		/* do not print errors (family probe) */
	const char *what;	/* names the request in error messages */
	char *buf;
} ctl;

struct counters {
	uint64_t present;	/* bit n set: v[n] was reported */
	uint64_t v[CTL_STAT_SLOTS];
};

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
};

static const char *const feature_names[] = {
	"udp",		/* EXASOCK_FEATURE_UDP */
	"native_twin",	/* EXASOCK_FEATURE_NATIVE_TWIN */
	"msg_warm",	/* EXASOCK_FEATURE_MSG_WARM */
};

static const char *const state_names[] = {
	[EXASOCK_STATE_UNBOUND]		= "unbound",
	[EXASOCK_STATE_BOUND]		= "bound",
	[EXASOCK_STATE_CONNECTED]	= "connected",
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *stat_name(unsigned int type, char *tmp, size_t len)
{
	if (type < ARRAY_SIZE(stat_names) && stat_names[type])
		return stat_names[type];
	snprintf(tmp, len, "stat_%u", type);
	return tmp;
}

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
		fprintf(stderr, PROG ": malformed attribute %u in reply: %s\n",
			type, strerror(errno));
		return MNL_CB_ERROR;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Level 2: the EXASOCK_A_STAT_* counters inside a *_STATS nest. */
static int stat_attr_cb(const struct nlattr *attr, void *data)
{
	struct counters *c = data;
	unsigned int type = mnl_attr_get_type(attr);

	if (type == EXASOCK_STAT_UNSPEC || type >= CTL_STAT_SLOTS)
		return MNL_CB_OK;

	if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0) {
		fprintf(stderr, PROG ": malformed counter %u in reply: %s\n",
			type, strerror(errno));
		return MNL_CB_ERROR;
	}
	c->v[type] = mnl_attr_get_u64(attr);
	c->present |= 1ULL << type;
	return MNL_CB_OK;
}

static int parse_counters(const struct nlattr *nest, struct counters *c)
{
	memset(c, 0, sizeof(*c));
	if (!nest)
		return MNL_CB_OK;
	return mnl_attr_parse_nested(nest, stat_attr_cb, c);
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
	if (ctl.quiet)
		return;
	if (ea->msg && *ea->msg)
		fprintf(stderr, PROG ": %s: %s (%s)\n", ctl.what, ea->msg,
			strerror(err));
	else if (err == EPERM)
		fprintf(stderr, PROG ": %s: %s (needs CAP_NET_ADMIN)\n",
			ctl.what, strerror(err));
	else
		fprintf(stderr, PROG ": %s: %s\n", ctl.what, strerror(err));
	if (ea->have_miss)
		fprintf(stderr, PROG ": %s: missing attribute %u\n", ctl.what,
			ea->miss_type);
}

/* NLMSG_ERROR: an ack (error 0) or a failure, either with extack TLVs. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct ext_ack ea;
	size_t hlen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		if (!ctl.quiet)
			fprintf(stderr, PROG ": %s: truncated error message\n",
				ctl.what);
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}

	/* Unless capped, the request is echoed before the TLVs. */
	hlen = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	parse_extack(nlh, hlen, &ea);

	if (err->error == 0) {
		if (ea.msg && *ea.msg && !ctl.quiet)
			fprintf(stderr, PROG ": %s: warning: %s\n", ctl.what,
				ea.msg);
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

static struct nlmsghdr *ctl_msg(uint16_t type, uint16_t flags, uint8_t cmd,
				uint8_t version, const char *what)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(ctl.buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++ctl.seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	ctl.what = what;
	return nlh;
}

/*
 * Send one request and run "cb" on every reply until the ack or the end
 * of the dump. Returns 0, or -1 with errno set and the error reported.
 */
static int ctl_run(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	if (mnl_socket_sendto(ctl.nl, nlh, nlh->nlmsg_len) < 0) {
		if (!ctl.quiet)
			fprintf(stderr, PROG ": %s: send: %s\n", ctl.what,
				strerror(errno));
		return -1;
	}
	for (;;) {
		n = mnl_socket_recvfrom(ctl.nl, ctl.buf, CTL_BUF_SIZE);
		if (n < 0) {
			if (!ctl.quiet)
				fprintf(stderr, PROG ": %s: receive: %s\n",
					ctl.what, strerror(errno));
			return -1;
		}
		ret = mnl_cb_run2(ctl.buf, n, seq, ctl.portid, cb, data,
				  (mnl_cb_t *)ctl_cbs, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return -1;
	}
}

/*
 * Family resolution
 * -----------------
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

	nlh = ctl_msg(GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1,
		      "resolve family " EXASOCK_GENL_NAME);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, EXASOCK_GENL_NAME);

	/* ENOENT is the expected answer without the module: stay quiet. */
	ctl.quiet = true;
	ret = ctl_run(nlh, family_cb, &ctl.family);
	ctl.quiet = false;
	if (ret < 0 && errno == ENOENT)
		return 1;
	if (ret < 0) {
		fprintf(stderr, PROG ": %s: %s\n", ctl.what, strerror(errno));
		return -1;
	}
	return ctl.family ? 0 : 1;
}

static struct nlmsghdr *exa_msg(uint16_t flags, uint8_t cmd, const char *what)
{
	return ctl_msg(ctl.family, flags, cmd, EXASOCK_GENL_VERSION, what);
}

/*
 * Output helpers
 * --------------
 */

static void json_str(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/*
 * Counters as "name=value ..." (text) or "{"name": value, ...}" (JSON).
 * Text shows the counters in @always and any other that is not zero;
 * JSON shows them all.
 */
static void print_counters(const struct counters *c, uint64_t always)
{
	const char *sep = "";
	unsigned int i;
	char tmp[32];

	if (ctl.json)
		putchar('{');
	for (i = 0; i < CTL_STAT_SLOTS; i++) {
		if (!(c->present & (1ULL << i)))
			continue;
		if (ctl.json) {
			printf("%s", sep);
			json_str(stat_name(i, tmp, sizeof(tmp)));
			printf(": %" PRIu64, c->v[i]);
			sep = ", ";
		} else if (c->v[i] || (always & (1ULL << i))) {
			printf("%s%s=%" PRIu64, sep,
			       stat_name(i, tmp, sizeof(tmp)), c->v[i]);
			sep = " ";
		}
	}
	if (ctl.json)
		putchar('}');
}

#define BIT(n)	(1ULL << (n))

/* Counters a text listing shows even when they are zero. */
#define IF_ALWAYS	(BIT(EXASOCK_STAT_RX_FRAMES) | BIT(EXASOCK_STAT_RX_ACCEL) | \
			 BIT(EXASOCK_STAT_RX_PASS) | BIT(EXASOCK_STAT_RX_DROPPED) | \
			 BIT(EXASOCK_STAT_TX_FAST) | BIT(EXASOCK_STAT_TX_SLOW))
#define SOCK_ALWAYS	(BIT(EXASOCK_STAT_RX_PACKETS) | \
			 BIT(EXASOCK_STAT_RX_RING_FULL) | \
			 BIT(EXASOCK_STAT_TX_PACKETS))

/*
 * attach / detach
 * ---------------
 */

static int cmd_if(uint8_t cmd, const char *verb, const char *ifname)
{
	static char what[64];
	struct nlmsghdr *nlh;

	snprintf(what, sizeof(what), "%s %s", verb, ifname);
	nlh = exa_msg(NLM_F_ACK, cmd, what);
	mnl_attr_put_strz(nlh, EXASOCK_A_IF_NAME, ifname);
	return ctl_run(nlh, NULL, NULL);
}

/*
 * show: the attached interfaces of this network namespace
 * --------------------------------------------------------
 */

struct if_row {
	char name[64];
	uint32_t ifindex;
	struct counters stats;
};

struct if_table {
	struct if_row *rows;
	size_t n, cap;
};

static int if_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	struct if_table *t = data;
	struct if_row *row;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), exa_attr_cb,
			   tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[EXASOCK_A_IF_IFINDEX] && !tb[EXASOCK_A_IF_NAME])
		return MNL_CB_OK;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct if_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		t->rows = rows;
		t->cap = cap;
	}
	row = &t->rows[t->n];
	memset(row, 0, sizeof(*row));
	if (tb[EXASOCK_A_IF_NAME])
		snprintf(row->name, sizeof(row->name), "%s",
			 mnl_attr_get_str(tb[EXASOCK_A_IF_NAME]));
	if (tb[EXASOCK_A_IF_IFINDEX])
		row->ifindex = mnl_attr_get_u32(tb[EXASOCK_A_IF_IFINDEX]);
	if (parse_counters(tb[EXASOCK_A_IF_STATS], &row->stats) < 0)
		return MNL_CB_ERROR;
	t->n++;
	return MNL_CB_OK;
}

static int num_width(uint64_t v)
{
	char tmp[32];

	return snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
}

static void show_text(const struct if_table *t)
{
	int name_w = strlen("Interface"), w[CTL_STAT_SLOTS];
	uint64_t present = 0;
	unsigned int i;
	char tmp[32];
	size_t r;

	/* the usual counters, and any other that is not zero somewhere */
	for (r = 0; r < t->n; r++) {
		const struct counters *c = &t->rows[r].stats;

		for (i = 0; i < CTL_STAT_SLOTS; i++)
			if ((c->present & BIT(i)) &&
			    (c->v[i] || (IF_ALWAYS & BIT(i))))
				present |= BIT(i);
		if ((int)strlen(t->rows[r].name) > name_w)
			name_w = strlen(t->rows[r].name);
	}
	for (i = 0; i < CTL_STAT_SLOTS; i++) {
		if (!(present & (1ULL << i)))
			continue;
		w[i] = strlen(stat_name(i, tmp, sizeof(tmp)));
		for (r = 0; r < t->n; r++)
			if (num_width(t->rows[r].stats.v[i]) > w[i])
				w[i] = num_width(t->rows[r].stats.v[i]);
	}

	printf("%-*s %7s", name_w, "Interface", "Ifindex");
	for (i = 0; i < CTL_STAT_SLOTS; i++)
		if (present & (1ULL << i))
			printf(" %*s", w[i], stat_name(i, tmp, sizeof(tmp)));
	putchar('\n');

	for (r = 0; r < t->n; r++) {
		const struct if_row *row = &t->rows[r];

		printf("%-*s %7u", name_w, row->name, row->ifindex);
		for (i = 0; i < CTL_STAT_SLOTS; i++)
			if (present & (1ULL << i))
				printf(" %*" PRIu64, w[i], row->stats.v[i]);
		putchar('\n');
	}
	if (!t->n)
		printf("(no interface attached in this network namespace)\n");
}

static void show_json(const struct if_table *t)
{
	size_t r;

	putchar('[');
	for (r = 0; r < t->n; r++) {
		printf("%s{\"name\": ", r ? ", " : "");
		json_str(t->rows[r].name);
		printf(", \"ifindex\": %u, \"stats\": ", t->rows[r].ifindex);
		print_counters(&t->rows[r].stats, 0);
		putchar('}');
	}
	printf("]\n");
}

static int cmd_show(void)
{
	struct if_table t = {};
	struct nlmsghdr *nlh;
	int ret;

	nlh = exa_msg(NLM_F_DUMP, EXASOCK_CMD_IF_GET, "show");
	ret = ctl_run(nlh, if_cb, &t);
	if (ret == 0) {
		if (ctl.json)
			show_json(&t);
		else
			show_text(&t);
	}
	free(t.rows);
	return ret;
}

/*
 * sockets: the accelerated sockets of this network namespace
 * -----------------------------------------------------------
 */

static const char *proto_name(uint8_t proto, char *tmp, size_t len)
{
	if (proto == IPPROTO_UDP)
		return "udp";
	if (proto == IPPROTO_TCP)
		return "tcp";
	snprintf(tmp, len, "proto_%u", proto);
	return tmp;
}

static const char *state_name(uint8_t state, char *tmp, size_t len)
{
	if (state < ARRAY_SIZE(state_names) && state_names[state])
		return state_names[state];
	snprintf(tmp, len, "state_%u", state);
	return tmp;
}

/* "addr:port" with "*" for the wildcard address or port. */
static void fmt_endpoint(char *out, size_t len, const struct nlattr *addr,
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

static uint64_t attr_u32_or0(const struct nlattr *attr)
{
	return attr ? mnl_attr_get_u32(attr) : 0;
}

struct sock_dump {
	unsigned int n;
};

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	char local[32], peer[32], t1[16], t2[16];
	struct sock_dump *d = data;
	struct counters stats;
	uint8_t proto, state;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), exa_attr_cb,
			   tb) < 0)
		return MNL_CB_ERROR;
	if (parse_counters(tb[EXASOCK_A_SOCK_STATS], &stats) < 0)
		return MNL_CB_ERROR;

	proto = tb[EXASOCK_A_SOCK_PROTO] ?
		mnl_attr_get_u8(tb[EXASOCK_A_SOCK_PROTO]) : 0;
	state = tb[EXASOCK_A_SOCK_STATE] ?
		mnl_attr_get_u8(tb[EXASOCK_A_SOCK_STATE]) : 0;
	fmt_endpoint(local, sizeof(local), tb[EXASOCK_A_SOCK_LOCAL_ADDR],
		     tb[EXASOCK_A_SOCK_LOCAL_PORT]);
	fmt_endpoint(peer, sizeof(peer), tb[EXASOCK_A_SOCK_PEER_ADDR],
		     tb[EXASOCK_A_SOCK_PEER_PORT]);

	if (ctl.json) {
		printf("%s{\"id\": %" PRIu64 ", \"proto\": \"%s\"",
		       d->n ? ", " : "",
		       tb[EXASOCK_A_SOCK_ID] ?
		       mnl_attr_get_u64(tb[EXASOCK_A_SOCK_ID]) : 0,
		       proto_name(proto, t1, sizeof(t1)));
		printf(", \"state\": \"%s\", \"local\": \"%s\", \"peer\": \"%s\"",
		       state_name(state, t2, sizeof(t2)), local, peer);
		printf(", \"recv_q\": %" PRIu64 ", \"send_q\": %" PRIu64,
		       attr_u32_or0(tb[EXASOCK_A_SOCK_RECV_Q]),
		       attr_u32_or0(tb[EXASOCK_A_SOCK_SEND_Q]));
		printf(", \"uid\": %" PRIu64 ", \"inode\": %" PRIu64,
		       attr_u32_or0(tb[EXASOCK_A_SOCK_UID]),
		       tb[EXASOCK_A_SOCK_INODE] ?
		       mnl_attr_get_u64(tb[EXASOCK_A_SOCK_INODE]) : 0);
		printf(", \"stats\": ");
		print_counters(&stats, 0);
		putchar('}');
	} else {
		printf("%-5s %-9s %7" PRIu64 " %7" PRIu64 " %-21s %-21s %6" PRIu64 "  ",
		       proto_name(proto, t1, sizeof(t1)),
		       state_name(state, t2, sizeof(t2)),
		       attr_u32_or0(tb[EXASOCK_A_SOCK_RECV_Q]),
		       attr_u32_or0(tb[EXASOCK_A_SOCK_SEND_Q]),
		       local, peer, attr_u32_or0(tb[EXASOCK_A_SOCK_UID]));
		print_counters(&stats, SOCK_ALWAYS);
		putchar('\n');
	}
	d->n++;
	return MNL_CB_OK;
}

static int cmd_sockets(void)
{
	struct sock_dump d = {};
	struct nlmsghdr *nlh;
	int ret;

	if (ctl.json)
		putchar('[');
	else
		printf("%-5s %-9s %7s %7s %-21s %-21s %6s  %s\n", "Proto",
		       "State", "Recv-Q", "Send-Q", "Local", "Peer", "Uid",
		       "Counters");
	nlh = exa_msg(NLM_F_DUMP, EXASOCK_CMD_SOCK_GET, "sockets");
	ret = ctl_run(nlh, sock_cb, &d);
	if (ctl.json)
		printf("]\n");
	return ret;
}

/*
 * stats: module version, features and counters
 * ---------------------------------------------
 */

struct stats_reply {
	bool have_version;
	uint32_t version;
	bool have_features;
	uint64_t features;
	struct counters stats;
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	struct stats_reply *s = data;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), exa_attr_cb,
			   tb) < 0)
		return MNL_CB_ERROR;
	if (tb[EXASOCK_A_VERSION]) {
		s->version = mnl_attr_get_u32(tb[EXASOCK_A_VERSION]);
		s->have_version = true;
	}
	if (tb[EXASOCK_A_FEATURES]) {
		s->features = mnl_attr_get_u64(tb[EXASOCK_A_FEATURES]);
		s->have_features = true;
	}
	return parse_counters(tb[EXASOCK_A_STATS], &s->stats);
}

/* Feature names separated by "sep", unknown bits as 0x hex. */
static void print_features(uint64_t features, bool json)
{
	const char *sep = "";
	unsigned int i;

	for (i = 0; i < 64; i++) {
		if (!(features & (1ULL << i)))
			continue;
		printf("%s", sep);
		if (json)
			putchar('"');
		if (i < ARRAY_SIZE(feature_names))
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

static int cmd_stats(const char *only)
{
	struct stats_reply s = {};
	struct nlmsghdr *nlh;
	unsigned int i;
	char tmp[32];

	nlh = exa_msg(NLM_F_ACK, EXASOCK_CMD_STATS_GET, "stats");
	if (ctl_run(nlh, stats_cb, &s) < 0)
		return -1;

	/* "exasock-ctl stats NAME" prints the bare value, for scripts. */
	if (only) {
		for (i = 0; i < CTL_STAT_SLOTS; i++) {
			if ((s.stats.present & (1ULL << i)) &&
			    !strcmp(only, stat_name(i, tmp, sizeof(tmp)))) {
				printf("%" PRIu64 "\n", s.stats.v[i]);
				return 0;
			}
		}
		fprintf(stderr, PROG ": stats: no counter named '%s'\n", only);
		return -1;
	}

	if (ctl.json) {
		printf("{\"version\": \"%u.%u.%u\", \"version_code\": %u",
		       s.version >> 16, (s.version >> 8) & 0xff,
		       s.version & 0xff, s.version);
		printf(", \"features\": [");
		print_features(s.features, true);
		printf("], \"stats\": ");
		print_counters(&s.stats, 0);
		printf("}\n");
		return 0;
	}

	if (s.have_version)
		printf("version %u.%u.%u\n", s.version >> 16,
		       (s.version >> 8) & 0xff, s.version & 0xff);
	if (s.have_features) {
		printf("features ");
		print_features(s.features, false);
		putchar('\n');
	}
	for (i = 0; i < CTL_STAT_SLOTS; i++)
		if (s.stats.present & (1ULL << i))
			printf("%s %" PRIu64 "\n",
			       stat_name(i, tmp, sizeof(tmp)), s.stats.v[i]);
	return 0;
}

/*
 * main
 * ----
 */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [--json] COMMAND [ARGS]\n"
		"\n"
		"Control the exasock kernel module over generic netlink.\n"
		"\n"
		"Commands:\n"
		"  attach IFNAME   accelerate IFNAME in this network namespace\n"
		"                  (needs CAP_NET_ADMIN)\n"
		"  detach IFNAME   stop accelerating IFNAME (needs CAP_NET_ADMIN)\n"
		"  show            attached interfaces of this namespace and\n"
		"                  their counters\n"
		"  sockets         accelerated sockets of this namespace, one a\n"
		"                  line: proto, state, queues, addresses,\n"
		"                  counters\n"
		"  stats [NAME]    module version, features and counters, one\n"
		"                  'name value' a line; with NAME, that\n"
		"                  counter's value alone\n"
		"\n"
		"Options:\n"
		"  -j, --json      print JSON (show, sockets, stats)\n"
		"  -h, --help      print this help\n"
		"\n"
		"Exit status is 0 on success and 1 on any error, with the\n"
		"kernel's reason printed on stderr.\n");
}

static int open_socket(void)
{
	int one = 1;

	ctl.nl = mnl_socket_open(NETLINK_GENERIC);
	if (!ctl.nl) {
		fprintf(stderr, PROG ": netlink socket: %s\n", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(ctl.nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, PROG ": netlink bind: %s\n", strerror(errno));
		return -1;
	}
	ctl.portid = mnl_socket_get_portid(ctl.nl);

	/* Best effort: older kernels simply give plain errors. */
	mnl_socket_setsockopt(ctl.nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(ctl.nl, NETLINK_CAP_ACK, &one, sizeof(one));

	ctl.seq = time(NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd, *arg = NULL;
	int c, nargs, ret;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (nargs > 0)
		arg = argv[optind + 1];

	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "attach") || !strcmp(cmd, "detach")) {
		if (nargs != 1) {
			fprintf(stderr, PROG ": usage: " PROG " %s IFNAME\n",
				cmd);
			return 1;
		}
	} else if (!strcmp(cmd, "stats")) {
		if (nargs > 1) {
			fprintf(stderr, PROG ": usage: " PROG " stats [NAME]\n");
			return 1;
		}
	} else if (!strcmp(cmd, "show") || !strcmp(cmd, "sockets")) {
		if (nargs != 0) {
			fprintf(stderr, PROG ": usage: " PROG " %s\n", cmd);
			return 1;
		}
	} else {
		fprintf(stderr, PROG ": unknown command '%s' (try --help)\n",
			cmd);
		return 1;
	}

	ctl.buf = malloc(CTL_BUF_SIZE);
	if (!ctl.buf) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	if (open_socket() < 0)
		return 1;

	ret = resolve_family();
	if (ret > 0)
		fprintf(stderr, "exasock: kernel module not loaded\n");
	if (ret)
		return 1;

	if (!strcmp(cmd, "attach"))
		ret = cmd_if(EXASOCK_CMD_IF_ATTACH, "attach", arg);
	else if (!strcmp(cmd, "detach"))
		ret = cmd_if(EXASOCK_CMD_IF_DETACH, "detach", arg);
	else if (!strcmp(cmd, "show"))
		ret = cmd_show();
	else if (!strcmp(cmd, "sockets"))
		ret = cmd_sockets();
	else
		ret = cmd_stats(arg);

	mnl_socket_close(ctl.nl);
	free(ctl.buf);
	return ret < 0 ? 1 : 0;
}
