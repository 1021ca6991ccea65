/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exanl: the generic netlink client shared by exasock-ctl and
 * exasock-stat, over libmnl and the "exasock" family
 * (uapi/linux/exasock.h).
 *
 * One request at a time on one socket:
 *
 *   exanl_prog = "exasock-stat";          prefix of every message
 *   if (exanl_open() < 0) exit(1);         socket, family, or "not loaded"
 *   nlh = exanl_msg(NLM_F_DUMP, EXASOCK_CMD_SOCK_GET, "sockets");
 *   exanl_run(nlh, my_cb, &my_state);      my_cb once per reply message
 *   exanl_close();
 *
 * A reply callback parses its message with exanl_parse() (level 1,
 * validated against the attribute types, unknown attributes skipped) and
 * a counter nest with exanl_parse_counters() (level 2).
 *
 * Functions returning int return 0 on success and -1 on failure with
 * errno set and the failure already reported on stderr.
 */
#ifndef EXASOCK_UTIL_EXANL_H
#define EXASOCK_UTIL_EXANL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <netinet/in.h>

#include <linux/exasock.h>

/* Counter slots: the known EXASOCK_STAT_* plus room for newer kernels. */
#define EXANL_STAT_SLOTS	64

#define EXANL_BIT(n)		(1ULL << (n))
#define EXANL_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* Counters a..b (b < 63) as a mask. */
#define EXANL_RANGE(a, b)	((EXANL_BIT((b) + 1) - 1) & ~(EXANL_BIT(a) - 1))

/*
 * Where each counter means something. The kernel sends the whole
 * EXASOCK_STAT_* set in every nest; the others are zero there.
 */
#define EXANL_TCP_SOCK_STATS	EXANL_RANGE(EXASOCK_STAT_TCP_BYTES_RECEIVED, \
					    EXASOCK_STAT_TCP_RTO_US)
#define EXANL_SOCK_STATS	(EXANL_RANGE(EXASOCK_STAT_RX_PACKETS, \
					     EXASOCK_STAT_RX_RING_RESET) | \
				 EXANL_TCP_SOCK_STATS)
#define EXANL_MODULE_STATS	(EXANL_RANGE(EXASOCK_STAT_SOCKETS, \
					     EXASOCK_STAT_ACCEL_FAILED) | \
				 EXANL_RANGE(EXASOCK_STAT_TCP_CONNS, \
					     EXASOCK_STAT_TCP_UNREAD_RESETS))

/* Program name that starts every message; set before exanl_open(). */
extern const char *exanl_prog;

struct exanl_counters {
	uint64_t present;	/* bit n set: v[n] was reported */
	uint64_t v[EXANL_STAT_SLOTS];
};

/*
 * Allocate the receive buffer, open and bind the netlink socket with
 * extended acks, and resolve the "exasock" family. When the family is not
 * registered prints "exasock: kernel module not loaded" and returns -1
 * with errno ENOENT.
 */
int exanl_open(void);
void exanl_close(void);

/*
 * Start a request of the exasock family (EXASOCK_GENL_VERSION) in the
 * shared buffer. @what names it in error messages and must stay valid
 * until exanl_run() returns.
 */
struct nlmsghdr *exanl_msg(uint16_t flags, uint8_t cmd, const char *what);

/*
 * Send @nlh and run @cb (may be NULL) on every reply until the ack or the
 * end of the dump. Kernel errors are reported with their extack message.
 */
int exanl_run(struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* The reply of EXASOCK_CMD_STATS_GET. */
struct exanl_module {
	bool have_version;
	uint32_t version;	/* EXASOCK_VERSION_CODE of the module */
	bool have_features;
	uint64_t features;	/* EXASOCK_FEATURE_* */
	struct exanl_counters stats;
};

/* EXASOCK_CMD_STATS_GET, named "stats" in error messages. */
int exanl_get_module(struct exanl_module *m);

/*
 * Level 1: fill @tb (EXASOCK_A_MAX + 1 entries, zeroed by the caller)
 * from the attributes of an exasock reply. Returns MNL_CB_OK or
 * MNL_CB_ERROR (malformed attribute, reported).
 */
int exanl_parse(const struct nlmsghdr *nlh, const struct nlattr **tb);

/* Level 2: the EXASOCK_A_STAT_* counters of a *_STATS nest (may be NULL). */
int exanl_parse_counters(const struct nlattr *nest, struct exanl_counters *c);

/* Names of counters, protocols, socket states; unknown values get
 * "stat_N", "proto_N", "state_N" in @tmp.
 */
const char *exanl_stat_name(unsigned int type, char *tmp, size_t len);
const char *exanl_proto_name(uint8_t proto, char *tmp, size_t len);
const char *exanl_state_name(uint8_t state, char *tmp, size_t len);

/* Attribute values, 0 when the attribute is absent. */
uint8_t exanl_u8(const struct nlattr *attr);
uint32_t exanl_u32(const struct nlattr *attr);
uint64_t exanl_u64(const struct nlattr *attr);

/*
 * "addr:port" of an address and port attribute pair (network byte order),
 * with "*" for a wildcard or absent address or port.
 */
void exanl_endpoint(char *out, size_t len, const struct nlattr *addr,
		    const struct nlattr *port);

/* Output on stdout. */
void exanl_json_str(const char *s);

/*
 * Make room for one more row in a growing table of *@n rows of @size
 * bytes: returns the new row, zeroed, with *@n counted, or NULL with
 * errno set.
 */
void *exanl_table_add(void **rows, size_t *n, size_t *cap, size_t size);

/*
 * Counters as "name=value ..." (text) or {"name": value, ...} (JSON).
 * Text shows those in @always and any other that is not zero; JSON shows
 * every counter reported.
 */
void exanl_print_counters(const struct exanl_counters *c, uint64_t always,
			  bool json);

/*
 * Text only: those of the counters in @only that are in @always or not
 * zero, as "name=value" one space apart. Returns how many were printed.
 */
int exanl_print_some(const struct exanl_counters *c, uint64_t only,
		     uint64_t always);

/* A TCP state (enum exasock_sock_state) is LISTEN. */
static inline bool exanl_tcp_listening(uint8_t proto, uint8_t state)
{
	return proto == IPPROTO_TCP && state == EXASOCK_STATE_TCP_LISTEN;
}

/* Feature names, "," apart (text: "none" for no feature) or as JSON
 * strings ", " apart; unknown bits as 0x hex.
 */
void exanl_print_features(uint64_t features, bool json);

#endif /* EXASOCK_UTIL_EXANL_H */
