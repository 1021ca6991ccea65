// SPDX-License-Identifier: GPL-2.0
/*
 * exasock-ctl: attach and detach accelerated interfaces, show them, the
 * accelerated sockets and the module counters, over the "exasock"
 * generic netlink family (uapi/linux/exasock.h). The netlink client,
 * attribute validation and extack reporting are in exanl.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "exanl.h"

#define PROG			"exasock-ctl"

static bool json;

#define BIT(n)	EXANL_BIT(n)

/* Counters a text listing shows even when they are zero. */
#define IF_ALWAYS	(BIT(EXASOCK_STAT_RX_FRAMES) | BIT(EXASOCK_STAT_RX_ACCEL) | \
			 BIT(EXASOCK_STAT_RX_PASS) | BIT(EXASOCK_STAT_RX_DROPPED) | \
			 BIT(EXASOCK_STAT_TX_FAST) | BIT(EXASOCK_STAT_TX_SLOW))
#define SOCK_ALWAYS	(BIT(EXASOCK_STAT_RX_PACKETS) | \
			 BIT(EXASOCK_STAT_RX_RING_FULL) | \
			 BIT(EXASOCK_STAT_TX_PACKETS))
/* TCP sends go through the kernel's TCP: no tx_* ring counters. */
#define TCP_ALWAYS	(BIT(EXASOCK_STAT_RX_BYTES) | \
			 BIT(EXASOCK_STAT_TCP_BYTES_RECEIVED) | \
			 BIT(EXASOCK_STAT_TCP_BYTES_SENT) | \
			 BIT(EXASOCK_STAT_TCP_RETRANS_SEGS))

/*
 * attach / detach
 * ---------------
 */

static int cmd_if(uint8_t cmd, const char *verb, const char *ifname)
{
	static char what[64];
	struct nlmsghdr *nlh;

	snprintf(what, sizeof(what), "%s %s", verb, ifname);
	nlh = exanl_msg(NLM_F_ACK, cmd, what);
	mnl_attr_put_strz(nlh, EXASOCK_A_IF_NAME, ifname);
	return exanl_run(nlh, NULL, NULL);
}

/*
 * show: the attached interfaces of this network namespace
 * --------------------------------------------------------
 */

struct if_row {
	char name[64];
	uint32_t ifindex;
	struct exanl_counters stats;
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

	if (exanl_parse(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[EXASOCK_A_IF_IFINDEX] && !tb[EXASOCK_A_IF_NAME])
		return MNL_CB_OK;

	row = exanl_table_add((void **)&t->rows, &t->n, &t->cap,
			      sizeof(*row));
	if (!row)
		return MNL_CB_ERROR;
	if (tb[EXASOCK_A_IF_NAME])
		snprintf(row->name, sizeof(row->name), "%s",
			 mnl_attr_get_str(tb[EXASOCK_A_IF_NAME]));
	if (tb[EXASOCK_A_IF_IFINDEX])
		row->ifindex = mnl_attr_get_u32(tb[EXASOCK_A_IF_IFINDEX]);
	if (exanl_parse_counters(tb[EXASOCK_A_IF_STATS], &row->stats) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static int num_width(uint64_t v)
{
	char tmp[32];

	return snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
}

static void show_text(const struct if_table *t)
{
	int name_w = strlen("Interface"), w[EXANL_STAT_SLOTS];
	uint64_t present = 0;
	unsigned int i;
	char tmp[32];
	size_t r;

	/* the usual counters, and any other that is not zero somewhere */
	for (r = 0; r < t->n; r++) {
		const struct exanl_counters *c = &t->rows[r].stats;

		for (i = 0; i < EXANL_STAT_SLOTS; i++)
			if ((c->present & BIT(i)) &&
			    (c->v[i] || (IF_ALWAYS & BIT(i))))
				present |= BIT(i);
		if ((int)strlen(t->rows[r].name) > name_w)
			name_w = strlen(t->rows[r].name);
	}
	for (i = 0; i < EXANL_STAT_SLOTS; i++) {
		if (!(present & (1ULL << i)))
			continue;
		w[i] = strlen(exanl_stat_name(i, tmp, sizeof(tmp)));
		for (r = 0; r < t->n; r++)
			if (num_width(t->rows[r].stats.v[i]) > w[i])
				w[i] = num_width(t->rows[r].stats.v[i]);
	}

	printf("%-*s %7s", name_w, "Interface", "Ifindex");
	for (i = 0; i < EXANL_STAT_SLOTS; i++)
		if (present & (1ULL << i))
			printf(" %*s", w[i], exanl_stat_name(i, tmp, sizeof(tmp)));
	putchar('\n');

	for (r = 0; r < t->n; r++) {
		const struct if_row *row = &t->rows[r];

		printf("%-*s %7u", name_w, row->name, row->ifindex);
		for (i = 0; i < EXANL_STAT_SLOTS; i++)
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
		exanl_json_str(t->rows[r].name);
		printf(", \"ifindex\": %u, \"stats\": ", t->rows[r].ifindex);
		exanl_print_counters(&t->rows[r].stats, 0, json);
		putchar('}');
	}
	printf("]\n");
}

static int cmd_show(void)
{
	struct if_table t = {};
	struct nlmsghdr *nlh;
	int ret;

	nlh = exanl_msg(NLM_F_DUMP, EXASOCK_CMD_IF_GET, "show");
	ret = exanl_run(nlh, if_cb, &t);
	if (ret == 0) {
		if (json)
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

struct sock_dump {
	unsigned int n;
};

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	char local[32], peer[32], t1[16], t2[16];
	struct sock_dump *d = data;
	struct exanl_counters stats;
	uint8_t proto, state;

	if (exanl_parse(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (exanl_parse_counters(tb[EXASOCK_A_SOCK_STATS], &stats) < 0)
		return MNL_CB_ERROR;

	proto = exanl_u8(tb[EXASOCK_A_SOCK_PROTO]);
	state = exanl_u8(tb[EXASOCK_A_SOCK_STATE]);
	exanl_endpoint(local, sizeof(local), tb[EXASOCK_A_SOCK_LOCAL_ADDR],
		       tb[EXASOCK_A_SOCK_LOCAL_PORT]);
	exanl_endpoint(peer, sizeof(peer), tb[EXASOCK_A_SOCK_PEER_ADDR],
		       tb[EXASOCK_A_SOCK_PEER_PORT]);

	if (json) {
		printf("%s{\"id\": %" PRIu64 ", \"proto\": \"%s\"",
		       d->n ? ", " : "", exanl_u64(tb[EXASOCK_A_SOCK_ID]),
		       exanl_proto_name(proto, t1, sizeof(t1)));
		printf(", \"state\": \"%s\", \"local\": \"%s\", \"peer\": \"%s\"",
		       exanl_state_name(state, t2, sizeof(t2)), local, peer);
		printf(", \"recv_q\": %" PRIu32 ", \"send_q\": %" PRIu32,
		       exanl_u32(tb[EXASOCK_A_SOCK_RECV_Q]),
		       exanl_u32(tb[EXASOCK_A_SOCK_SEND_Q]));
		printf(", \"uid\": %" PRIu32 ", \"inode\": %" PRIu64,
		       exanl_u32(tb[EXASOCK_A_SOCK_UID]),
		       exanl_u64(tb[EXASOCK_A_SOCK_INODE]));
		printf(", \"stats\": ");
		exanl_print_counters(&stats, 0, json);
		putchar('}');
	} else {
		printf("%-5s %-11s %7" PRIu32 " %7" PRIu32 " %-21s %-21s %6" PRIu32 "  ",
		       exanl_proto_name(proto, t1, sizeof(t1)),
		       exanl_state_name(state, t2, sizeof(t2)),
		       exanl_u32(tb[EXASOCK_A_SOCK_RECV_Q]),
		       exanl_u32(tb[EXASOCK_A_SOCK_SEND_Q]),
		       local, peer, exanl_u32(tb[EXASOCK_A_SOCK_UID]));
		exanl_print_counters(&stats, proto == IPPROTO_TCP ?
				     TCP_ALWAYS : SOCK_ALWAYS, json);
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

	if (json)
		putchar('[');
	else
		printf("%-5s %-11s %7s %7s %-21s %-21s %6s  %s\n", "Proto",
		       "State", "Recv-Q", "Send-Q", "Local", "Peer", "Uid",
		       "Counters");
	nlh = exanl_msg(NLM_F_DUMP, EXASOCK_CMD_SOCK_GET, "sockets");
	ret = exanl_run(nlh, sock_cb, &d);
	if (json)
		printf("]\n");
	return ret;
}

/*
 * stats: module version, features and counters
 * ---------------------------------------------
 */

static int cmd_stats(const char *only)
{
	struct exanl_module s;
	unsigned int i;
	char tmp[32];

	if (exanl_get_module(&s) < 0)
		return -1;

	/* "exasock-ctl stats NAME" prints the bare value, for scripts. */
	if (only) {
		for (i = 0; i < EXANL_STAT_SLOTS; i++) {
			if ((s.stats.present & (1ULL << i)) &&
			    !strcmp(only,
				    exanl_stat_name(i, tmp, sizeof(tmp)))) {
				printf("%" PRIu64 "\n", s.stats.v[i]);
				return 0;
			}
		}
		fprintf(stderr, PROG ": stats: no counter named '%s'\n", only);
		return -1;
	}

	if (json) {
		printf("{\"version\": \"%u.%u.%u\", \"version_code\": %u",
		       s.version >> 16, (s.version >> 8) & 0xff,
		       s.version & 0xff, s.version);
		printf(", \"features\": [");
		exanl_print_features(s.features, true);
		printf("], \"stats\": ");
		exanl_print_counters(&s.stats, 0, json);
		printf("}\n");
		return 0;
	}

	if (s.have_version)
		printf("version %u.%u.%u\n", s.version >> 16,
		       (s.version >> 8) & 0xff, s.version & 0xff);
	if (s.have_features) {
		printf("features ");
		exanl_print_features(s.features, false);
		putchar('\n');
	}
	/* per-socket counters are 0 here: only the module's own */
	for (i = 0; i < EXANL_STAT_SLOTS; i++)
		if ((s.stats.present & (1ULL << i)) &&
		    (s.stats.v[i] || !(EXANL_SOCK_STATS & BIT(i))))
			printf("%s %" PRIu64 "\n",
			       exanl_stat_name(i, tmp, sizeof(tmp)),
			       s.stats.v[i]);
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
		"                  line: proto, state, queues, addresses, uid,\n"
		"                  counters (TCP: the protocol's own, tcp_*)\n"
		"  stats [NAME]    module version, features and module-wide\n"
		"                  counters (tcp_conns, ...), one 'name value' a\n"
		"                  line; with NAME, that counter's value alone\n"
		"\n"
		"Options:\n"
		"  -j, --json      print JSON (show, sockets, stats)\n"
		"  -h, --help      print this help\n"
		"\n"
		"Exit status is 0 on success and 1 on any error, with the\n"
		"kernel's reason printed on stderr.\n");
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
			json = true;
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

	exanl_prog = PROG;
	if (exanl_open() < 0)
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

	exanl_close();
	return ret < 0 ? 1 : 0;
}
