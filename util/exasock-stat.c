// SPDX-License-Identifier: GPL-2.0
/*
 * exasock-stat: the accelerated sockets of this network namespace, as a
 * netstat-like table, over the "exasock" generic netlink family
 * (EXASOCK_CMD_SOCK_GET, EXASOCK_CMD_STATS_GET; client in exanl.c).
 *
 * The kernel knows each socket's inode but not who holds it: -e finds the
 * holders the way ss and netstat do, by reading the /proc/PID/fd links
 * ("socket:[INODE]"). Processes we may not look at are not shown.
 *
 * A TCP socket "listens" in the LISTEN state and is "connected" in any
 * other (SYN_SENT, TIME_WAIT, ...: it has, or had, a peer); a UDP socket
 * listens when it has no peer. TCP states are shown by name, as netstat
 * names them; UDP shows "-", its state being told by the Foreign Address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "exanl.h"

#define PROG		"exasock-stat"

#define HEADING \
	"Active SmartNIC Sockets accelerated connections (servers and established):"

/*
 * Text output (-i) shows these even when zero, and any other counter that
 * is not: the kernel reports the whole EXASOCK_STAT_* set in each nest,
 * most of it meaningless at the other level. JSON has every counter.
 *
 * A TCP socket has a second line for the protocol's own figures; its
 * sends go through the kernel's TCP, so the tx_* ring counters stay 0.
 * tcp_retrans_timeout only when not zero: kernels before 6.7 do not
 * count RTO expiries, and report 0.
 */
#define UDP_COUNTERS	EXANL_RANGE(EXASOCK_STAT_RX_PACKETS, \
				    EXASOCK_STAT_RX_RING_RESET)
#define TCP_RING_COUNTERS (EXANL_BIT(EXASOCK_STAT_RX_PACKETS) | \
			   EXANL_BIT(EXASOCK_STAT_RX_BYTES))
#define TCP_COUNTERS	(EXANL_TCP_SOCK_STATS & \
			 ~EXANL_BIT(EXASOCK_STAT_TCP_RETRANS_TIMEOUT))

struct holder {
	pid_t pid;
	int fd;
	char comm[32];		/* TASK_COMM_LEN is 16 */
};

struct sock_row {
	uint64_t id;
	uint64_t inode;
	uint8_t proto;
	uint8_t state;
	char local[32];		/* "addr:port", "*" for a wildcard */
	char peer[32];
	uint32_t laddr, paddr;	/* network byte order */
	uint16_t lport, pport;	/* host byte order */
	uint32_t recv_q;
	uint32_t send_q;
	uint32_t uid;
	struct exanl_counters stats;
	bool shown;		/* passed the filters */
	struct holder *holders;
	size_t n_holders, cap_holders;
};

struct sock_table {
	struct sock_row *rows;
	size_t n, cap;
};

static struct {
	bool extend;
	bool connected;
	bool listening;
	bool tcp;
	bool udp;
	bool internal;
	bool json;
	bool numeric;
	bool one;		/* -s PID:FD */
	pid_t one_pid;
	int one_fd;
	uint64_t one_inode;
} opt;

/*
 * The dump
 * --------
 */

static int sock_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[EXASOCK_A_MAX + 1] = {};
	struct sock_table *t = data;
	struct sock_row *row;

	if (exanl_parse(nlh, tb) < 0)
		return MNL_CB_ERROR;
	if (!tb[EXASOCK_A_SOCK_ID])
		return MNL_CB_OK;

	row = exanl_table_add((void **)&t->rows, &t->n, &t->cap,
			      sizeof(*row));
	if (!row)
		return MNL_CB_ERROR;
	row->id = exanl_u64(tb[EXASOCK_A_SOCK_ID]);
	row->inode = exanl_u64(tb[EXASOCK_A_SOCK_INODE]);
	row->proto = exanl_u8(tb[EXASOCK_A_SOCK_PROTO]);
	row->state = exanl_u8(tb[EXASOCK_A_SOCK_STATE]);
	row->laddr = exanl_u32(tb[EXASOCK_A_SOCK_LOCAL_ADDR]);
	row->paddr = exanl_u32(tb[EXASOCK_A_SOCK_PEER_ADDR]);
	if (tb[EXASOCK_A_SOCK_LOCAL_PORT])
		row->lport = ntohs(mnl_attr_get_u16(tb[EXASOCK_A_SOCK_LOCAL_PORT]));
	if (tb[EXASOCK_A_SOCK_PEER_PORT])
		row->pport = ntohs(mnl_attr_get_u16(tb[EXASOCK_A_SOCK_PEER_PORT]));
	exanl_endpoint(row->local, sizeof(row->local),
		       tb[EXASOCK_A_SOCK_LOCAL_ADDR],
		       tb[EXASOCK_A_SOCK_LOCAL_PORT]);
	exanl_endpoint(row->peer, sizeof(row->peer),
		       tb[EXASOCK_A_SOCK_PEER_ADDR],
		       tb[EXASOCK_A_SOCK_PEER_PORT]);
	row->recv_q = exanl_u32(tb[EXASOCK_A_SOCK_RECV_Q]);
	row->send_q = exanl_u32(tb[EXASOCK_A_SOCK_SEND_Q]);
	row->uid = exanl_u32(tb[EXASOCK_A_SOCK_UID]);
	if (exanl_parse_counters(tb[EXASOCK_A_SOCK_STATS], &row->stats) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

/* -l: a TCP listener, or a UDP socket without a peer; -c: the others. */
static bool is_listening(const struct sock_row *row)
{
	if (row->proto == IPPROTO_TCP)
		return exanl_tcp_listening(row->proto, row->state);
	return !row->paddr && !row->pport;
}

static bool passes_filters(const struct sock_row *row)
{
	bool want_tcp = opt.tcp || !opt.udp;
	bool want_udp = opt.udp || !opt.tcp;

	if (opt.one && row->inode != opt.one_inode)
		return false;
	if (row->proto == IPPROTO_TCP && !want_tcp)
		return false;
	if (row->proto == IPPROTO_UDP && !want_udp)
		return false;
	/* other protocols only when no protocol was asked for */
	if (row->proto != IPPROTO_TCP && row->proto != IPPROTO_UDP &&
	    (opt.tcp || opt.udp))
		return false;
	if (opt.connected != opt.listening &&
	    is_listening(row) == opt.connected)
		return false;
	return true;
}

/*
 * Holders: /proc/PID/fd links to "socket:[INODE]"
 * ------------------------------------------------
 */

static int cmp_row_inode(const void *a, const void *b)
{
	const struct sock_row *x = *(struct sock_row *const *)a;
	const struct sock_row *y = *(struct sock_row *const *)b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* 0 and the inode if @link names a socket, else -1. */
static int socket_inode(const char *link, uint64_t *inode)
{
	unsigned long long ino;
	char end;

	if (sscanf(link, "socket:[%llu%c", &ino, &end) != 2 || end != ']')
		return -1;
	*inode = ino;
	return 0;
}

static void read_comm(pid_t pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(out, len, "-");
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, len, f))
		out[strcspn(out, "\n")] = '\0';
	else
		snprintf(out, len, "-");
	fclose(f);
}

static int add_holder(struct sock_row *row, pid_t pid, int fd,
		      const char *comm)
{
	struct holder *h;

	if (row->n_holders == row->cap_holders) {
		size_t cap = row->cap_holders ? row->cap_holders * 2 : 2;

		h = realloc(row->holders, cap * sizeof(*h));
		if (!h)
			return -1;
		row->holders = h;
		row->cap_holders = cap;
	}
	h = &row->holders[row->n_holders++];
	h->pid = pid;
	h->fd = fd;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
	return 0;
}

/* Scan one process's descriptors for the sockets in @idx (sorted). */
static int scan_pid(pid_t pid, struct sock_row **idx, size_t n)
{
	char path[64], link[64], comm[32] = "";
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;	/* gone, or not ours to look at */
	while ((de = readdir(dir))) {
		struct sock_row key, *kp = &key, **hit;
		char *end;
		ssize_t len;
		long fd;

		fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name)
			continue;
		len = readlinkat(dirfd(dir), de->d_name, link,
				 sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (socket_inode(link, &key.inode) < 0)
			continue;
		hit = bsearch(&kp, idx, n, sizeof(*idx), cmp_row_inode);
		if (!hit)
			continue;
		if (!*comm)
			read_comm(pid, comm, sizeof(comm));
		if (add_holder(*hit, pid, fd, comm) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int find_holders(struct sock_table *t)
{
	struct sock_row **idx;
	struct dirent *de;
	size_t i, n = 0;
	DIR *proc;
	int ret = 0;

	idx = calloc(t->n ? t->n : 1, sizeof(*idx));
	if (!idx)
		goto err_nomem;
	for (i = 0; i < t->n; i++)
		if (t->rows[i].shown)
			idx[n++] = &t->rows[i];
	qsort(idx, n, sizeof(*idx), cmp_row_inode);

	proc = opendir("/proc");
	if (!proc) {
		fprintf(stderr, PROG ": /proc: %s\n", strerror(errno));
		free(idx);
		return -1;
	}
	while (n && (de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || pid <= 0)
			continue;
		if (scan_pid(pid, idx, n) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(proc);
	free(idx);
	if (ret < 0)
		goto err_nomem;
	return 0;

err_nomem:
	fprintf(stderr, PROG ": out of memory\n");
	return -1;
}

/* -s PID:FD: the inode of that descriptor, which must be a socket. */
static int resolve_one(void)
{
	char path[64], link[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)opt.one_pid,
		 opt.one_fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0) {
		if (errno == ENOENT)
			fprintf(stderr,
				PROG ": %d:%d: no such process or file descriptor\n",
				(int)opt.one_pid, opt.one_fd);
		else
			fprintf(stderr, PROG ": %d:%d: %s\n", (int)opt.one_pid,
				opt.one_fd, strerror(errno));
		return -1;
	}
	link[len] = '\0';
	if (socket_inode(link, &opt.one_inode) < 0) {
		fprintf(stderr, PROG ": %d:%d: not a socket (%s)\n",
			(int)opt.one_pid, opt.one_fd, link);
		return -1;
	}
	return 0;
}

static int parse_pid_fd(const char *s)
{
	char *end;
	long pid, fd;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || end == s || *end != ':' || pid <= 0 || pid > INT_MAX)
		return -1;
	s = end + 1;
	fd = strtol(s, &end, 10);
	if (errno || end == s || *end || fd < 0 || fd > INT_MAX)
		return -1;
	opt.one_pid = pid;
	opt.one_fd = fd;
	return 0;
}

/*
 * Output
 * ------
 */

static const char *proto_upper(uint8_t proto, char *buf, size_t len)
{
	char tmp[16];
	size_t i;

	snprintf(buf, len, "%s", exanl_proto_name(proto, tmp, sizeof(tmp)));
	for (i = 0; buf[i]; i++)
		buf[i] = toupper((unsigned char)buf[i]);
	return buf;
}

/* UDP has no state worth a column; TCP's by name, upper case. */
static const char *state_text(const struct sock_row *row, char *buf,
			      size_t len)
{
	char tmp[16];
	size_t i;

	if (row->proto == IPPROTO_UDP)
		return "-";
	snprintf(buf, len, "%s", exanl_state_name(row->state, tmp,
						  sizeof(tmp)));
	for (i = 0; buf[i]; i++)
		buf[i] = toupper((unsigned char)buf[i]);
	return buf;
}

/*
 * getpwuid() reads the user database each time: with thousands of
 * sockets, of a few owners, remember the last few answers.
 */
static const char *user_text(uint32_t uid, char *buf, size_t len)
{
	static struct {
		uint32_t uid;
		char name[64];
	} cache[8];
	static unsigned int n_cache, next;
	struct passwd *pw;
	unsigned int i;

	for (i = 0; i < n_cache; i++) {
		if (cache[i].uid == uid) {
			snprintf(buf, len, "%s", cache[i].name);
			return buf;
		}
	}
	pw = opt.numeric ? NULL : getpwuid(uid);
	if (pw && pw->pw_name)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%" PRIu32, uid);

	i = next++ % EXANL_ARRAY_SIZE(cache);
	cache[i].uid = uid;
	snprintf(cache[i].name, sizeof(cache[i].name), "%s", buf);
	if (n_cache < EXANL_ARRAY_SIZE(cache))
		n_cache++;
	return buf;
}

static void print_header(void)
{
	printf("%s\n", HEADING);
	printf("  %-5s | %-8s | %-8s | %-24s | %-18s | ", "Proto", "Recv-Q",
	       "Send-Q", "Local Address", "Foreign Address");
	if (opt.extend)
		printf("%-11s | %-10s | %-13s | %s\n", "State", "User",
		       "PID/FD", "Program");
	else
		printf("State\n");
}

static void print_row(const struct sock_row *row)
{
	char proto[16], sbuf[16], user[64], sendq[16], pidfd[32];
	const char *state;
	size_t i;

	/* a listener sends nothing: its Send-Q means nothing */
	if (exanl_tcp_listening(row->proto, row->state))
		snprintf(sendq, sizeof(sendq), "N/A");
	else
		snprintf(sendq, sizeof(sendq), "%" PRIu32, row->send_q);

	proto_upper(row->proto, proto, sizeof(proto));
	state = state_text(row, sbuf, sizeof(sbuf));
	if (!opt.extend) {
		printf("  %-5s | %-8" PRIu32 " | %-8s | %-24s | %-18s | %s\n",
		       proto, row->recv_q, sendq, row->local, row->peer,
		       state);
		return;
	}

	user_text(row->uid, user, sizeof(user));
	/* one line per descriptor holding the socket, or one with "-" */
	for (i = 0; i < row->n_holders || (i == 0 && !row->n_holders); i++) {
		const struct holder *h = row->n_holders ? &row->holders[i] :
					 NULL;

		if (h)
			snprintf(pidfd, sizeof(pidfd), "%d/%d", (int)h->pid,
				 h->fd);
		else
			snprintf(pidfd, sizeof(pidfd), "-");
		printf("  %-5s | %-8" PRIu32 " | %-8s | %-24s | %-18s | %-11s | %-10s | %-13s | %s\n",
		       proto, row->recv_q, sendq, row->local, row->peer,
		       state, user, pidfd, h ? h->comm : "-");
	}
}

static void print_module_text(const struct exanl_module *m)
{
	unsigned int i;
	char tmp[32];

	printf("\nModule-wide counters");
	if (m->have_version)
		printf(" (exasock %u.%u.%u", m->version >> 16,
		       (m->version >> 8) & 0xff, m->version & 0xff);
	if (m->have_features) {
		printf("%s features ", m->have_version ? ";" : " (");
		exanl_print_features(m->features, false);
	}
	if (m->have_version || m->have_features)
		putchar(')');
	printf(":\n");
	for (i = 0; i < EXANL_STAT_SLOTS; i++)
		if ((m->stats.present & EXANL_BIT(i)) &&
		    (m->stats.v[i] || (EXANL_MODULE_STATS & EXANL_BIT(i))))
			printf("  %-17s %" PRIu64 "\n",
			       exanl_stat_name(i, tmp, sizeof(tmp)),
			       m->stats.v[i]);
}

static void print_row_counters(const struct sock_row *row)
{
	printf("        ");
	if (row->proto != IPPROTO_TCP) {
		exanl_print_some(&row->stats, ~0ULL, UDP_COUNTERS);
		putchar('\n');
		return;
	}
	exanl_print_some(&row->stats, ~EXANL_TCP_SOCK_STATS,
			 TCP_RING_COUNTERS);
	printf("\n        ");
	exanl_print_some(&row->stats, EXANL_TCP_SOCK_STATS, TCP_COUNTERS);
	putchar('\n');
}

static void print_text(const struct sock_table *t,
		       const struct exanl_module *m)
{
	size_t i;

	print_header();
	for (i = 0; i < t->n; i++) {
		const struct sock_row *row = &t->rows[i];

		if (!row->shown)
			continue;
		print_row(row);
		if (opt.internal)
			print_row_counters(row);
	}
	if (opt.internal)
		print_module_text(m);
}

static void print_json_addr(const char *key, uint32_t addr, uint16_t port,
			    const char *both)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = addr };

	inet_ntop(AF_INET, &in, a, sizeof(a));
	printf(", \"%s\": ", key);
	exanl_json_str(both);
	printf(", \"%s_address\": \"%s\", \"%s_port\": %u", key, a, key,
	       port);
}

static void print_json_row(const struct sock_row *row)
{
	char proto[16], state[16], user[64];
	size_t i;

	printf("{\"id\": %" PRIu64 ", \"proto\": ", row->id);
	exanl_json_str(exanl_proto_name(row->proto, proto, sizeof(proto)));
	printf(", \"state\": ");
	exanl_json_str(exanl_state_name(row->state, state, sizeof(state)));
	printf(", \"state_code\": %u, \"connected\": %s, \"listening\": %s",
	       row->state, is_listening(row) ? "false" : "true",
	       is_listening(row) ? "true" : "false");
	print_json_addr("local", row->laddr, row->lport, row->local);
	print_json_addr("foreign", row->paddr, row->pport, row->peer);
	printf(", \"recv_q\": %" PRIu32 ", \"send_q\": %" PRIu32
	       ", \"uid\": %" PRIu32 ", \"inode\": %" PRIu64,
	       row->recv_q, row->send_q, row->uid, row->inode);
	if (opt.extend) {
		printf(", \"user\": ");
		exanl_json_str(user_text(row->uid, user, sizeof(user)));
		printf(", \"processes\": [");
		for (i = 0; i < row->n_holders; i++) {
			printf("%s{\"pid\": %d, \"fd\": %d, \"program\": ",
			       i ? ", " : "", (int)row->holders[i].pid,
			       row->holders[i].fd);
			exanl_json_str(row->holders[i].comm);
			putchar('}');
		}
		putchar(']');
	}
	printf(", \"stats\": ");
	exanl_print_counters(&row->stats, 0, true);
	putchar('}');
}

static void print_json(const struct sock_table *t,
		       const struct exanl_module *m)
{
	const char *sep = "";
	size_t i;

	printf("{\"sockets\": [");
	for (i = 0; i < t->n; i++) {
		if (!t->rows[i].shown)
			continue;
		printf("%s", sep);
		print_json_row(&t->rows[i]);
		sep = ", ";
	}
	printf("], \"module\": {\"version\": \"%u.%u.%u\", \"version_code\": %u",
	       m->version >> 16, (m->version >> 8) & 0xff, m->version & 0xff,
	       m->version);
	printf(", \"features\": [");
	exanl_print_features(m->features, true);
	printf("], \"stats\": ");
	exanl_print_counters(&m->stats, 0, true);
	printf("}}\n");
}

/*
 * main
 * ----
 */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [OPTIONS]\n"
		"\n"
		"Show the sockets exasock accelerates in this network namespace:\n"
		"every UDP and TCP socket, listening and connected, one a line.\n"
		"\n"
		"Columns:\n"
		"  Proto            UDP or TCP\n"
		"  Recv-Q           payload bytes received and not yet read by the\n"
		"                   program; for a listening TCP socket, connections\n"
		"                   waiting to be accepted\n"
		"  Send-Q           bytes not yet sent (UDP) or not yet acknowledged\n"
		"                   by the peer (TCP); N/A for a listening TCP socket\n"
		"  Local Address    local address and port, '*' for a wildcard\n"
		"  Foreign Address  peer address and port, '*:*' when there is none\n"
		"  State            TCP state as netstat names it (LISTEN,\n"
		"                   ESTABLISHED, SYN_SENT, TIME_WAIT, ...); '-' for UDP\n"
		"\n"
		"Options:\n"
		"  -e, --extend        add User (name, or UID), PID/FD and Program:\n"
		"                      one line per process descriptor holding the\n"
		"                      socket ('-' when none can be seen)\n"
		"  -c, --connected     only connected sockets: TCP in any state but\n"
		"                      LISTEN, UDP with a peer\n"
		"  -l, --listening     only listening sockets: TCP in LISTEN, UDP\n"
		"                      without a peer\n"
		"  -t, --tcp           only TCP sockets\n"
		"  -u, --udp           only UDP sockets\n"
		"  -s, --socket PID:FD only the socket open as FD in process PID\n"
		"  -i, --internal      each socket's counters under its line (TCP:\n"
		"                      a second line with the protocol's own: bytes,\n"
		"                      retransmissions, windows, cwnd, MSS, RTT, RTO),\n"
		"                      and the module-wide counters at the end\n"
		"  -j, --json          print JSON: the sockets with all their\n"
		"                      counters, and the module's version, features\n"
		"                      and counters\n"
		"  -n, --numeric       show user IDs, never names (addresses and\n"
		"                      ports are always numeric)\n"
		"  -h, --help          print this help\n"
		"\n"
		"-c and -l together, or -t and -u together, are the same as\n"
		"neither. PIDs and programs are found in /proc; processes this\n"
		"user may not inspect are not shown.\n"
		"\n"
		"Exit status is 0 on success and 1 on any error, with the\n"
		"kernel's reason printed on stderr.\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "extend", no_argument, NULL, 'e' },
		{ "connected", no_argument, NULL, 'c' },
		{ "listening", no_argument, NULL, 'l' },
		{ "tcp", no_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "socket", required_argument, NULL, 's' },
		{ "internal", no_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "numeric", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "eclts:uijnh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			opt.extend = true;
			break;
		case 'c':
			opt.connected = true;
			break;
		case 'l':
			opt.listening = true;
			break;
		case 't':
			opt.tcp = true;
			break;
		case 'u':
			opt.udp = true;
			break;
		case 's':
			if (parse_pid_fd(optarg) < 0) {
				fprintf(stderr,
					PROG ": --socket wants PID:FD, not '%s'\n",
					optarg);
				return -1;
			}
			opt.one = true;
			break;
		case 'i':
			opt.internal = true;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'n':
			opt.numeric = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

static void free_table(struct sock_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->rows[i].holders);
	free(t->rows);
}

int main(int argc, char **argv)
{
	struct sock_table t = {};
	struct exanl_module m = {};
	struct nlmsghdr *nlh;
	bool found = false;
	int ret = 1;
	size_t i;

	if (parse_args(argc, argv) < 0)
		return 1;

	exanl_prog = PROG;
	if (exanl_open() < 0)
		return 1;
	if (opt.one && resolve_one() < 0)
		goto out;

	nlh = exanl_msg(NLM_F_DUMP, EXASOCK_CMD_SOCK_GET, "sockets");
	if (exanl_run(nlh, sock_cb, &t) < 0)
		goto out;
	if ((opt.internal || opt.json) && exanl_get_module(&m) < 0)
		goto out;

	for (i = 0; i < t.n; i++) {
		t.rows[i].shown = passes_filters(&t.rows[i]);
		if (opt.one && t.rows[i].inode == opt.one_inode)
			found = true;
	}
	if (opt.one && !found) {
		fprintf(stderr,
			PROG ": %d:%d: not an accelerated socket in this network namespace\n",
			(int)opt.one_pid, opt.one_fd);
		goto out;
	}
	if (opt.extend && find_holders(&t) < 0)
		goto out;

	if (opt.json)
		print_json(&t, &m);
	else
		print_text(&t, &m);
	ret = fflush(stdout) ? 1 : 0;
out:
	free_table(&t);
	exanl_close();
	return ret;
}
