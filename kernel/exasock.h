/* SPDX-License-Identifier: GPL-2.0 */
/*
 * exasock.ko internal interfaces, one section per subsystem (file).
 */
#ifndef _EXASOCK_H
#define _EXASOCK_H

#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/sock.h>
#include <linux/exasock.h>

/* ---- stats.c: counters ------------------------------------------------ */

/* One array of EXASOCK_STAT_* counters per CPU. Used for the module-wide
 * counters and for each attached interface.
 */
struct exasock_counters {
	u64 __percpu *pcpu;
};

int exasock_counters_init(struct exasock_counters *c);
void exasock_counters_free(struct exasock_counters *c);
void exasock_counters_sum(const struct exasock_counters *c,
			  u64 out[__EXASOCK_STAT_MAX]);

static inline void exasock_count(struct exasock_counters *c, int stat)
{
	this_cpu_inc(c->pcpu[stat]);
}

static inline void exasock_count_add(struct exasock_counters *c, int stat,
				     u64 n)
{
	this_cpu_add(c->pcpu[stat], n);
}

extern struct exasock_counters exasock_stats;

/* ---- ring.c: per-socket receive ring ----------------------------------- */

/* Kernel-written part of the ring mapping. Producer and flags live on
 * separate cache lines from each other and from the process-written
 * consumer, which has a page (and mapping) of its own.
 */
struct exasock_ring_shared {
	u32 producer ____cacheline_aligned;
	atomic_t flags ____cacheline_aligned;	/* EXASOCK_RING_F_* */
};

struct exasock_ring_user {
	u32 consumer ____cacheline_aligned;
	u32 waiting ____cacheline_aligned;	/* stream: spinning readers */
};

struct exasock_ring {
	struct exasock_ring_shared *shared;	/* vmalloc: header+data, */
	struct exasock_ring_user *user;		/* then this page */
	u8 *data;
	u32 size;				/* power of two */
	u32 mask;
	bool stream;				/* TCP bytes, not records */
	size_t shared_len;
	spinlock_t producer_lock;		/* rx_handlers on many CPUs */
};

int exasock_ring_alloc(struct exasock_ring *ring, u32 size);
void exasock_ring_free(struct exasock_ring *ring);
int exasock_ring_put(struct exasock_ring *ring,
		     const struct exasock_rx_entry *hdr,
		     const struct sk_buff *skb, int offset, u64 *resets);
int exasock_ring_read(struct exasock_ring *ring, struct msghdr *msg,
		      size_t len, int flags, struct exasock_rx_entry *hdr,
		      u64 *resets);
bool exasock_ring_empty(struct exasock_ring *ring);
int exasock_ring_next_len(struct exasock_ring *ring);
u32 exasock_ring_payload(struct exasock_ring *ring);
void exasock_ring_fill_info(const struct exasock_ring *ring,
			    struct exasock_mmap_info *info);
int exasock_ring_mmap(struct exasock_ring *ring, struct vm_area_struct *vma);
u32 exasock_stream_room(struct exasock_ring *ring, u64 *resets);
void exasock_stream_put(struct exasock_ring *ring, const struct sk_buff *skb,
			int offset, u32 len);
int exasock_stream_read(struct exasock_ring *ring, struct msghdr *msg,
			size_t len, int flags, u64 *resets);
u32 exasock_stream_bytes(struct exasock_ring *ring);

/* ---- socket.c: the AF_EXASOCK family ---------------------------------- */

/* Cached frame headers for the fast send path (tx.c), valid for one
 * destination while the route, neighbour and socket options are unchanged.
 */
struct exasock_tx_cache {
	struct dst_entry *dst;		/* holds a reference, NULL if none */
	__be32 nexthop;			/* gateway, or daddr when on-link */
	__be32 saddr;
	__be32 daddr;
	__be16 dport;
	u32 opt_gen;			/* exasock_sock.opt_gen when built */
	int oif;			/* sk_bound_dev_if when built */
	u32 mtu;
};

struct exasock_sock {
	struct sock sk;			/* must be first */

	struct socket *twin;		/* the adopted AF_INET socket */
	struct sock *twin_sk;		/* twin->sk, for RCU readers */
	void (*twin_data_ready)(struct sock *sk);
	void (*twin_write_space)(struct sock *sk);
	void (*twin_error_report)(struct sock *sk);
	void (*twin_state_change)(struct sock *sk);

	u64 id;
	int twin_err;			/* TCP: the twin's error sk_err mirrors */
	atomic_t sleepers;		/* TCP: readers asleep in recvmsg */
	bool no_accel;
	bool accelerated;		/* set once, with release ordering */
	struct exasock_ring rx;

	/* Flow identity, network byte order; read by rx under RCU. */
	__be32 laddr;
	__be32 raddr;
	__be16 lport;
	__be16 rport;
	struct hlist_node hash_node;	/* exasock_udp_hash, RCU */
	struct list_head list_node;	/* exasock_socks, for dumps */

	struct exasock_tx_cache tx;
	u32 opt_gen;			/* bumped by every setsockopt */

	/* UDP: the last datagram the kernel's input routing let through
	 * to this socket, until the routes change (rx.c).
	 */
	seqlock_t rx_src_lock;
	__be32 rx_src_saddr, rx_src_daddr;
	u32 rx_src_mark;
	u8 rx_src_tos;
	int rx_src_ifindex;		/* 0: nothing yet */
	int rx_src_genid;		/* rt_genid_ipv4() then */
	int rx_src_rpf;			/* and the interface's rp_filter */

	/* TCP frames the program sends itself (tcp_raw.c). Written by the
	 * twin's owner, read by the receive path under its bh lock.
	 */
	bool raw_armed;			/* a header is out, not advanced */
	bool raw_rest_late;		/* next advance: a frame's rest */
	u32 raw_seq;			/* its sequence number */
	u32 raw_room;			/* bytes the windows let it carry */
	u64 raw_built_ns;		/* when (tcp_clock_ns()) */
	struct sk_buff_head raw_held;	/* peer segments held for it */
	u32 raw_held_bytes;		/* their truesize */

	atomic64_t stats[__EXASOCK_STAT_MAX];	/* per socket */
};

static inline struct exasock_sock *exasock_sk(const struct sock *sk)
{
	return (struct exasock_sock *)sk;
}

/*
 * Does @sk ask for a receive control message only the kernel's own
 * receive path can build (sock_recv_cmsgs(): SO_RXQ_OVFL, SO_RCVMARK,
 * SO_TIMESTAMPING reports)?
 */
static inline bool exasock_sock_cmsgs(const struct sock *sk)
{
	return sock_flag(sk, SOCK_RXQ_OVFL) || sock_flag(sk, SOCK_RCVMARK) ||
	       (READ_ONCE(sk->sk_tsflags) &
		(SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RAW_HARDWARE));
}

/* The ring exists once this is true. */
static inline bool exasock_accelerated(const struct exasock_sock *esk)
{
	return smp_load_acquire(&esk->accelerated); /* matches accelerate() */
}

static inline void exasock_sock_stat_add(struct exasock_sock *esk, int stat,
					 u64 n)
{
	atomic64_add(n, &esk->stats[stat]);
}

int exasock_sock_init(struct net *net, struct socket *sock, int kern);
void exasock_attach_twin(struct exasock_sock *esk, struct socket *twin,
			 struct exasock_sock *parent);
void exasock_update(struct exasock_sock *esk);

static inline bool exasock_is_tcp(const struct exasock_sock *esk)
{
	return esk->sk.sk_type == SOCK_STREAM;
}

int exasock_socket_init(int family);
void exasock_socket_exit(void);
struct exasock_sock *exasock_udp_lookup(struct net *net, __be32 saddr,
					__be16 sport, __be32 daddr,
					__be16 dport, int ifindex);
struct exasock_sock *exasock_twin_owner(struct sock *tsk);

/*
 * Does netfilter watch IPv4 at @hook in @net? The TCP short paths leave
 * such a namespace's segments to the kernel, so that conntrack and NAT see
 * every segment of a connection, not only those the short paths miss.
 */
static inline bool exasock_nf_hooked(const struct net *net, unsigned int hook)
{
#ifdef CONFIG_NETFILTER
	return rcu_access_pointer(net->nf.hooks_ipv4[hook]);
#else
	return false;
#endif
}
/*
 * The IPv4 MIB (nstat's Ip* counters) for packets the short paths take
 * from the kernel's IP layer, counted as ip_rcv_core() and
 * ip_protocol_deliver_rcu() count a delivered packet (softirq), and as
 * __ip_local_out() and ip_finish_output2() count a sent one.
 */
static inline void exasock_ip_in_stats(struct net *net,
				       const struct sk_buff *skb,
				       const struct iphdr *iph)
{
	__IP_UPD_PO_STATS(net, IPSTATS_MIB_IN, skb->len);
	__IP_ADD_STATS(net, IPSTATS_MIB_NOECTPKTS + (iph->tos & INET_ECN_MASK),
		       max_t(unsigned short, 1, skb_shinfo(skb)->gso_segs));
	__IP_INC_STATS(net, IPSTATS_MIB_INDELIVERS);
}

static inline void exasock_ip_out_stats(struct net *net, unsigned int len)
{
	exasock_ip_inc_out_requests(net);
	IP_UPD_PO_STATS(net, IPSTATS_MIB_OUT, len);
}

int exasock_udp_mc_members(struct net *net, const struct iphdr *iph,
			   const struct udphdr *uh, int ifindex,
			   struct exasock_sock **members, int max);
bool exasock_mc_member(struct sock *tsk, __be32 group, __be32 saddr,
		       int ifindex);
int exasock_sock_state(const struct exasock_sock *esk);
u32 exasock_sock_recv_q(struct exasock_sock *esk);
u32 exasock_sock_send_q(struct exasock_sock *esk);
void exasock_sock_stats(struct exasock_sock *esk, u64 out[__EXASOCK_STAT_MAX]);

/* Walk the accelerated sockets of @net in id order, from @from_id, until
 * @fn returns non-zero. Returns 0 when done, else the id to resume from.
 * Takes a mutex; @fn must not sleep on user memory.
 */
u64 exasock_for_each_sock(struct net *net, u64 from_id,
			  int (*fn)(struct exasock_sock *esk, void *arg),
			  void *arg);
void exasock_socket_gauges(u64 stats[__EXASOCK_STAT_MAX]);

extern atomic_t exasock_live_socks;

/* ---- tcp.c: accelerated TCP ------------------------------------------- */

void exasock_tcp_sync_flags(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_fill(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_data_ready(struct exasock_sock *esk, struct sock *tsk);
int exasock_tcp_recvmsg(struct exasock_sock *esk, struct socket *twin,
			struct msghdr *msg, size_t len, int flags);
void exasock_tcp_twin_lowat(struct sock *tsk);
bool exasock_tcp_wants_cmsgs(const struct exasock_sock *esk,
			     const struct sock *tsk);
__poll_t exasock_tcp_poll(struct exasock_sock *esk, struct sock *tsk,
			  __poll_t mask);
int exasock_tcp_inq(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_mirror_err(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_reconcile_err(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_release(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_accelerated(struct exasock_sock *esk);
int exasock_tcp_accept(struct socket *sock, struct socket *newsock,
		       struct exasock_accept_arg *arg);
u32 exasock_tcp_recv_q(struct exasock_sock *esk, struct sock *tsk);
u32 exasock_tcp_send_q(struct sock *tsk);
void exasock_tcp_stats(struct sock *tsk, u64 out[__EXASOCK_STAT_MAX]);
void exasock_tcp_gauges(u64 stats[__EXASOCK_STAT_MAX]);

/* Does the kernel sign the twin's segments (TCP-MD5, TCP-AO)? Then only
 * tcp_v4_rcv() checks, and only the kernel builds, its segments.
 */
static inline bool exasock_tcp_signed(const struct sock *tsk)
{
#ifdef CONFIG_TCP_MD5SIG
	if (rcu_access_pointer(tcp_sk(tsk)->md5sig_info))
		return true;
#endif
	return exasock_tcp_ao(tsk);
}

/* ---- tcp_raw.c: TCP frames the program sends itself ------------------- */

int exasock_tcp_raw_device(struct exasock_sock *esk, struct sock *tsk,
			   struct exasock_device_info *info);
int exasock_tcp_raw_header(struct exasock_sock *esk, struct sock *tsk,
			   u8 *buf);
int exasock_tcp_raw_advance(struct exasock_sock *esk, struct socket *twin,
			    struct msghdr *msg, size_t len);
void exasock_tcp_raw_cancel(struct exasock_sock *esk, struct sock *tsk);
void exasock_tcp_raw_close(struct exasock_sock *esk, struct sock *tsk);
bool exasock_tcp_raw_hold(struct sock *tsk, struct sk_buff *skb);

/* ---- tx.c: fast send path --------------------------------------------- */

int exasock_udp_sendmsg(struct exasock_sock *esk, struct msghdr *msg,
			size_t len);
void exasock_tx_cache_release(struct exasock_tx_cache *tx);
bool exasock_route_attached(struct net *net, __be32 daddr, __be32 saddr,
			    int oif);
int exasock_tx_init(void);
void exasock_tcp_tx_take(struct sock *tsk);
struct rtable;
bool exasock_tx_route_plain(const struct rtable *rt);
bool exasock_tx_filtered(struct sock *tsk);
bool exasock_tx_neigh_ha(struct net_device *dev, __be32 nexthop, u8 *ha,
			 struct sk_buff *skb);
void exasock_tcp_tx_give_back(struct sock *tsk);

/* ---- rx.c: receive demultiplexing --------------------------------------- */

rx_handler_result_t exasock_rx_handler(struct sk_buff **pskb);

/* ---- iface.c: attached interfaces -------------------------------------- */

struct exasock_iface {
	struct net_device *dev;
	struct list_head node;		/* exasock_ifaces, under RTNL */
	struct exasock_counters stats;
};

int exasock_iface_init(const char *names);
void exasock_iface_exit(void);
int exasock_iface_attach(struct net_device *dev,
			 struct netlink_ext_ack *extack);
int exasock_iface_detach(struct net_device *dev,
			 struct netlink_ext_ack *extack);

/* Under RCU or RTNL. */
static inline struct exasock_iface *exasock_iface_get(struct net_device *dev)
{
	if (rcu_access_pointer(dev->rx_handler) != exasock_rx_handler)
		return NULL;
	return rcu_dereference_rtnl(dev->rx_handler_data);
}

static inline bool exasock_dev_attached(const struct net_device *dev)
{
	return rcu_access_pointer(dev->rx_handler) == exasock_rx_handler;
}

bool exasock_net_has_iface(struct net *net);

/* Interfaces in @net, under RTNL. */
#define exasock_for_each_iface(ifc) \
	list_for_each_entry(ifc, &exasock_ifaces, node)
extern struct list_head exasock_ifaces;

/* ---- netlink.c ---------------------------------------------------------- */

int exasock_netlink_init(void);
void exasock_netlink_exit(void);

#endif /* _EXASOCK_H */
