// SPDX-License-Identifier: GPL-2.0
/*
 * The fast send paths.
 *
 * UDP: build Ethernet/IPv4/UDP headers from a per-socket cache of route
 * and neighbour, copy the payload once, hand the frame to the device.
 * Anything unusual goes back to the caller as -ENOTSUPP and is sent by
 * the twin, through the kernel's own UDP output, which owns ARP,
 * fragmentation, control messages and error reporting; so does a socket
 * whose packets netfilter (LOCAL_OUT, POST_ROUTING) or a cgroup egress
 * program must see.
 *
 * TCP: the twin's TCP builds each segment; its IP output is exasock's
 * (the queue_xmit of the twin's inet_connection_sock_af_ops), which adds
 * IPv4 and Ethernet headers from the socket's cached route and the
 * neighbour and hands the frame to the device: no route or neighbour
 * output functions. IP options, netfilter at LOCAL_OUT or POST_ROUTING
 * (conntrack, NAT) or cgroup egress programs in the way, a route that is
 * not an attached interface's, an unresolved neighbour or a segment that
 * needs fragments take the kernel's ip_queue_xmit().
 */
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/arp.h>
#include <net/inet_connection_sock.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/udp.h>
#include "exasock.h"

/* Flags the fast path implements; any other sends through the twin. */
#define EXASOCK_TX_FLAGS	(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_EXA_WARM)

/**
 * exasock_route_attached - does the route to @daddr leave through an
 * attached interface?
 *
 * Process context, no locks required.
 */
bool exasock_route_attached(struct net *net, __be32 daddr, __be32 saddr,
			    int oif)
{
	struct flowi4 fl4;
	struct rtable *rt;
	bool attached;

	rt = ip_route_output_ports(net, &fl4, NULL, daddr, saddr, 0, 0,
				   IPPROTO_UDP, 0, oif);
	if (IS_ERR(rt))
		return false;
	attached = rt->rt_type == RTN_UNICAST &&
		   exasock_dev_attached(rt->dst.dev);
	ip_rt_put(rt);
	return attached;
}

/*
 * A route the fast paths can send on by themselves: unicast out of an
 * attached interface, to an IPv4 next hop, with no IPsec transform and no
 * lightweight-tunnel encapsulation (ip_output() would apply those).
 */
bool exasock_tx_route_plain(const struct rtable *rt)
{
	return rt->rt_type == RTN_UNICAST && rt->rt_gw_family != AF_INET6 &&
	       exasock_dev_attached(rt->dst.dev) && !dst_xfrm(&rt->dst) &&
	       !rt->dst.lwtstate;
}

void exasock_tx_cache_release(struct exasock_tx_cache *tx)
{
	dst_release(tx->dst);
	tx->dst = NULL;
}

/* Still good for @daddr:@dport? Under lock_sock. */
static bool exasock_tx_cache_valid(struct exasock_sock *esk, __be32 daddr,
				   __be16 dport)
{
	struct exasock_tx_cache *tx = &esk->tx;
	struct dst_entry *dst = tx->dst;

	if (!dst || tx->daddr != daddr || tx->dport != dport ||
	    tx->opt_gen != READ_ONCE(esk->opt_gen) ||
	    tx->oif != READ_ONCE(esk->sk.sk_bound_dev_if))
		return false;
	if (dst->obsolete && !dst->ops->check(dst, 0))
		return false;
	return exasock_dev_attached(dst->dev);
}

/*
 * Look up the route to @daddr:@dport. Returns 0, or
 * -ENOTSUPP when the fast path cannot send there (yet).
 */
static int exasock_tx_cache_build(struct exasock_sock *esk, __be32 daddr,
				  __be16 dport)
{
	struct exasock_tx_cache *tx = &esk->tx;
	struct sock *tsk = esk->twin->sk;
	struct inet_sock *inet = inet_sk(tsk);
	struct flowi4 fl4;
	struct rtable *rt;

	exasock_tx_cache_release(tx);

	rt = ip_route_output_ports(sock_net(tsk), &fl4, tsk, daddr,
				   inet->inet_saddr, dport, inet->inet_sport,
				   IPPROTO_UDP, RT_CONN_FLAGS(tsk),
				   esk->sk.sk_bound_dev_if);
	if (IS_ERR(rt))
		return -ENOTSUPP;	/* the twin reports the error */
	if (!exasock_tx_route_plain(rt)) {
		ip_rt_put(rt);
		return -ENOTSUPP;
	}

	/* The neighbour is looked up at each send, never held: a held
	 * neighbour would keep its device from unregistering.
	 */
	tx->dst = &rt->dst;
	tx->nexthop = rt->rt_gw_family == AF_INET ? rt->rt_gw4 : daddr;
	tx->saddr = fl4.saddr;
	tx->daddr = daddr;
	tx->dport = dport;
	tx->mtu = dst_mtu(&rt->dst);
	tx->opt_gen = READ_ONCE(esk->opt_gen);
	tx->oif = esk->sk.sk_bound_dev_if;
	return 0;
}

/*
 * The link-layer address of @nexthop, as neigh_resolve_output() would use
 * it: a stale entry still has one and is re-confirmed in the background;
 * an incomplete or missing one makes us send through the kernel, which
 * creates the entry and queues the packet behind ARP. Returns false then.
 */
bool exasock_tx_neigh_ha(struct net_device *dev, __be32 nexthop, u8 *ha,
			 struct sk_buff *skb)
{
	struct neighbour *neigh;
	bool ok = false;

	rcu_read_lock_bh();
	neigh = __ipv4_neigh_lookup_noref(dev, (__force u32)nexthop);
	if (neigh && ((READ_ONCE(neigh->nud_state) & NUD_CONNECTED) ||
		      !neigh_event_send(neigh, NULL))) {
		neigh_ha_snapshot(ha, neigh, dev);
		/* TCP's ACKs confirm the neighbour, as ip_finish_output2() */
		if (skb)
			sock_confirm_neigh(skb, neigh);
		ok = true;
	}
	rcu_read_unlock_bh();
	return ok;
}

/* Where to: the explicit address, or the connected peer. */
static int exasock_tx_dest(struct exasock_sock *esk, struct msghdr *msg,
			   __be32 *daddr, __be16 *dport)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, msg->msg_name);

	if (sin) {
		if (msg->msg_namelen < sizeof(*sin) ||
		    sin->sin_family != AF_INET || !sin->sin_port)
			return -ENOTSUPP;	/* the twin says what's wrong */
		*daddr = sin->sin_addr.s_addr;
		*dport = sin->sin_port;
	} else {
		*daddr = READ_ONCE(esk->raddr);
		*dport = READ_ONCE(esk->rport);
		if (!*daddr)
			return -ENOTSUPP;
	}
	if (ipv4_is_multicast(*daddr) || ipv4_is_lbcast(*daddr) ||
	    ipv4_is_zeronet(*daddr))
		return -ENOTSUPP;
	return 0;
}

static struct sk_buff *exasock_tx_build(struct exasock_sock *esk,
					struct msghdr *msg, size_t len,
					const u8 *ha, int *err)
{
	struct exasock_tx_cache *tx = &esk->tx;
	struct sock *tsk = esk->twin->sk;
	struct net_device *dev = tx->dst->dev;
	struct inet_sock *inet = inet_sk(tsk);
	int hlen = LL_RESERVED_SPACE(dev);
	int ulen = sizeof(struct udphdr) + len;
	struct sk_buff *skb;
	struct udphdr *uh;
	struct iphdr *iph;

	skb = sock_alloc_send_skb(&esk->sk, hlen + sizeof(*iph) + ulen +
				  dev->needed_tailroom,
				  msg->msg_flags & MSG_DONTWAIT, err);
	if (!skb)
		return NULL;
	skb_reserve(skb, hlen);

	skb_reset_network_header(skb);
	iph = skb_put(skb, sizeof(*iph));
	skb_set_transport_header(skb, sizeof(*iph));
	uh = skb_put(skb, sizeof(*uh));
	if (!copy_from_iter_full(skb_put(skb, len), len, &msg->msg_iter)) {
		kfree_skb(skb);
		*err = -EFAULT;
		return NULL;
	}

	uh->source = inet->inet_sport;
	uh->dest = tx->dport;
	uh->len = htons(ulen);
	/* The device, or validate_xmit_skb() for it, finishes the sum. */
	uh->check = ~csum_tcpudp_magic(tx->saddr, tx->daddr, ulen,
				       IPPROTO_UDP, 0);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct udphdr, check);

	iph->version = 4;
	iph->ihl = 5;
	iph->tos = inet->tos;
	iph->tot_len = htons(skb->len);
	iph->frag_off = ip_dont_fragment(tsk, tx->dst) ? htons(IP_DF) : 0;
	iph->ttl = inet->uc_ttl < 0 ? ip4_dst_hoplimit(tx->dst) : inet->uc_ttl;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = tx->saddr;
	iph->daddr = tx->daddr;
	ip_select_ident(sock_net(tsk), skb, tsk);
	ip_send_check(iph);

	skb->protocol = htons(ETH_P_IP);
	skb->dev = dev;
	skb->priority = READ_ONCE(esk->sk.sk_priority);
	skb->mark = READ_ONCE(esk->sk.sk_mark);
	if (dev_hard_header(skb, dev, ETH_P_IP, ha, NULL, skb->len) < 0) {
		kfree_skb(skb);
		*err = -EINVAL;
		return NULL;
	}
	return skb;
}

/* Does a cgroup BPF egress program watch @tsk? As ip_finish_output(). */
static bool exasock_tx_cgroup_egress(struct sock *tsk)
{
#ifdef CONFIG_CGROUP_BPF
	return cgroup_bpf_enabled(CGROUP_INET_EGRESS) &&
	       cgroup_bpf_sock_enabled(tsk, CGROUP_INET_EGRESS);
#else
	return false;
#endif
}

/*
 * Does anything but AppArmor hook IPv4 at POST_ROUTING in @net? AppArmor
 * registers its secmark check there in every namespace (Debian enables
 * it); the check passes any packet without a secmark, and only netfilter
 * rules set one (the SECMARK target, nft's "meta secmark set"), which
 * are hooks of their own. Its hook is the one of AppArmor's priority that
 * nf_tables did not register.
 */
static bool exasock_nf_post_routing(const struct net *net)
{
#ifdef CONFIG_NETFILTER
	const struct nf_hook_entries *e;
	struct nf_hook_ops **ops;
	bool hooked = false;
	unsigned int i;

	if (!exasock_nf_hooked(net, NF_INET_POST_ROUTING))
		return false;
	rcu_read_lock();
	e = rcu_dereference(net->nf.hooks_ipv4[NF_INET_POST_ROUTING]);
	if (e) {
		ops = nf_hook_entries_get_hook_ops(e);
		for (i = 0; i < e->num_hook_entries && !hooked; i++)
			hooked = ops[i]->priority != NF_IP_PRI_SELINUX_FIRST ||
				 ops[i]->hook_ops_type != NF_HOOK_OP_UNDEFINED;
	}
	rcu_read_unlock();
	return hooked;
#else
	return false;
#endif
}

/*
 * What ip_local_out() and ip_output() would do to a packet of @tsk that
 * the fast paths cannot: netfilter at LOCAL_OUT and POST_ROUTING (a
 * firewall or a counter; conntrack and NAT hook both, and the receive
 * side's PRE_ROUTING/LOCAL_IN test covers their other half) and cgroup
 * egress programs.
 */
bool exasock_tx_filtered(struct sock *tsk)
{
	const struct net *net = sock_net(tsk);

	return exasock_nf_hooked(net, NF_INET_LOCAL_OUT) ||
	       exasock_nf_post_routing(net) ||
	       exasock_tx_cgroup_egress(tsk);
}

/*
 * What the twin's udp_sendmsg() must do itself: append to a datagram
 * being corked (UDP_CORK, or an earlier MSG_MORE), cut the payload into
 * segments (UDP_SEGMENT), record transmit timestamps (SO_TIMESTAMPING,
 * reported on the twin's error queue), or run the cgroup's sendmsg4
 * program, which may rewrite the destination (socket-based load
 * balancing does).
 */
static bool exasock_udp_twin_only(const struct sock *sk, struct sock *tsk)
{
	const struct udp_sock *up = udp_sk(tsk);

	if (udp_test_bit(CORK, tsk) || READ_ONCE(up->pending) ||
	    READ_ONCE(up->gso_size))
		return true;
	if (READ_ONCE(sk->sk_tsflags) & SOF_TIMESTAMPING_TX_RECORD_MASK)
		return true;
#ifdef CONFIG_CGROUP_BPF
	if (cgroup_bpf_enabled(CGROUP_UDP4_SENDMSG) &&
	    cgroup_bpf_sock_enabled(tsk, CGROUP_UDP4_SENDMSG))
		return true;
#endif
	return false;
}

/**
 * exasock_udp_sendmsg - send one datagram on the fast path
 *
 * Return: bytes sent or -errno; -ENOTSUPP asks the caller to send it
 * through the twin instead. Process context; takes lock_sock.
 */
int exasock_udp_sendmsg(struct exasock_sock *esk, struct msghdr *msg,
			size_t len)
{
	struct sock *sk = &esk->sk;
	u8 ha[MAX_ADDR_LEN];
	struct sk_buff *skb;
	__be16 dport;
	__be32 daddr;
	int err;

	if (msg->msg_controllen || (msg->msg_flags & ~EXASOCK_TX_FLAGS) ||
	    exasock_udp_twin_only(sk, esk->twin->sk) ||
	    exasock_tx_filtered(esk->twin->sk))
		return -ENOTSUPP;
	err = exasock_tx_dest(esk, msg, &daddr, &dport);
	if (err)
		return err;

	lock_sock(sk);
	if (!exasock_tx_cache_valid(esk, daddr, dport)) {
		err = exasock_tx_cache_build(esk, daddr, dport);
		if (err)
			goto out;
	}
	err = -ENOTSUPP;
	if (sizeof(struct iphdr) + sizeof(struct udphdr) + len > esk->tx.mtu)
		goto out;	/* needs fragments */

	if (!exasock_tx_neigh_ha(esk->tx.dst->dev, esk->tx.nexthop, ha, NULL)) {
		exasock_count(&exasock_stats, EXASOCK_STAT_TX_UNRESOLVED);
		goto out;
	}

	skb = exasock_tx_build(esk, msg, len, ha, &err);
	if (!skb) {
		/* As udp_sendmsg() counts a send buffer it found full. */
		if (err == -ENOBUFS ||
		    test_bit(SOCK_NOSPACE, &sk->sk_socket->flags))
			UDP_INC_STATS(sock_net(sk), UDP_MIB_SNDBUFERRORS, 0);
		goto out_err;
	}

	if (unlikely(msg->msg_flags & MSG_EXA_WARM)) {
		kfree_skb(skb);
		exasock_sock_stat_add(esk, EXASOCK_STAT_TX_WARM, 1);
		err = len;
		goto out;
	}

	exasock_ip_out_stats(sock_net(sk), skb->len - skb_network_offset(skb));
	err = dev_queue_xmit(skb);
	if (err > 0)
		err = net_xmit_errno(err);	/* NET_XMIT_CN is no error */
	if (err < 0) {
		/* The qdisc or the device dropped it: counted as
		 * ip_send_skb() and udp_send_skb() count it, and, as there,
		 * an error only for a socket that asked with IP_RECVERR.
		 */
		IP_INC_STATS(sock_net(sk), IPSTATS_MIB_OUTDISCARDS);
		if (err == -ENOBUFS) {
			UDP_INC_STATS(sock_net(sk), UDP_MIB_SNDBUFERRORS, 0);
			if (!exasock_ip_recverr(esk->twin->sk))
				err = len;
		}
		exasock_sock_stat_add(esk, EXASOCK_STAT_TX_ERRORS, 1);
		goto out;
	}
	UDP_INC_STATS(sock_net(sk), UDP_MIB_OUTDATAGRAMS, 0);
	exasock_sock_stat_add(esk, EXASOCK_STAT_TX_PACKETS, 1);
	exasock_sock_stat_add(esk, EXASOCK_STAT_TX_BYTES, len);
	exasock_count(&exasock_stats, EXASOCK_STAT_TX_FAST);
	err = len;
	goto out;

out_err:
	exasock_sock_stat_add(esk, EXASOCK_STAT_TX_ERRORS, 1);
out:
	release_sock(sk);
	return err;
}

/* ---- TCP: the twins' IP output ----------------------------------------- */

/* The kernel's IPv4 TCP af_ops (ipv4_specific), and our copy of them. */
static const struct inet_connection_sock_af_ops *exasock_ipv4_af_ops;
static struct inet_connection_sock_af_ops exasock_tcp_af_ops;

/*
 * __ip_queue_xmit() for a connected socket without IP options, then
 * what ip_finish_output2() does for a resolved neighbour. Under the
 * twin's socket lock (owner or softirq), like every queue_xmit.
 */
static int exasock_tcp_queue_xmit(struct sock *tsk, struct sk_buff *skb,
				  struct flowi *fl)
{
	struct inet_sock *inet = inet_sk(tsk);
	struct flowi4 *fl4 = &fl->u.ip4;
	u8 ha[MAX_ADDR_LEN];
	struct net_device *dev;
	struct rtable *rt;
	struct iphdr *iph;
	unsigned int len;
	int ttl, err;

	/* IP options, netfilter or cgroup egress programs in the way, and
	 * BIG TCP lengths (over 64 KiB) are for ip_queue_xmit().
	 */
	if (rcu_access_pointer(inet->inet_opt) || skb_rtable(skb) ||
	    exasock_tx_filtered(tsk) || skb->len + sizeof(*iph) > IP_MAX_MTU)
		goto slow;

	rcu_read_lock();
	rt = (struct rtable *)__sk_dst_check(tsk, 0);
	if (!rt || !exasock_tx_route_plain(rt))
		goto slow_unlock;
	dev = rt->dst.dev;
	len = sizeof(*iph) + (skb_is_gso(skb) ?
			      tcp_hdrlen(skb) + skb_shinfo(skb)->gso_size :
			      skb->len);
	if (len > dst_mtu(&rt->dst) ||
	    skb_headroom(skb) < sizeof(*iph) + LL_RESERVED_SPACE(dev))
		goto slow_unlock;
	if (!exasock_tx_neigh_ha(dev, rt_nexthop(rt, fl4->daddr), ha, skb)) {
		exasock_count(&exasock_stats, EXASOCK_STAT_TX_UNRESOLVED);
		goto slow_unlock;
	}
	skb_dst_set_noref(skb, &rt->dst);

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	*((__be16 *)iph) = htons((4 << 12) | (5 << 8) | (inet->tos & 0xff));
	iph->tot_len = htons(skb->len);
	iph->frag_off = ip_dont_fragment(tsk, &rt->dst) && !skb->ignore_df ?
			htons(IP_DF) : 0;
	ttl = READ_ONCE(inet->uc_ttl);
	iph->ttl = ttl < 0 ? ip4_dst_hoplimit(&rt->dst) : ttl;
	iph->protocol = IPPROTO_TCP;
	iph->saddr = fl4->saddr;
	iph->daddr = fl4->daddr;
	ip_select_ident_segs(sock_net(tsk), skb, tsk,
			     skb_shinfo(skb)->gso_segs ?: 1);
	ip_send_check(iph);

	skb->priority = READ_ONCE(tsk->sk_priority);
	skb->mark = READ_ONCE(tsk->sk_mark);
	skb->protocol = htons(ETH_P_IP);
	skb->dev = dev;
	exasock_ip_out_stats(sock_net(tsk), skb->len);
	if (dev_hard_header(skb, dev, ETH_P_IP, ha, NULL, skb->len) < 0) {
		rcu_read_unlock();
		kfree_skb(skb);
		return -EINVAL;
	}
	exasock_count(&exasock_stats, EXASOCK_STAT_TX_FAST);
	err = dev_queue_xmit(skb);	/* NET_XMIT_* as ip_local_out() */
	rcu_read_unlock();
	return err;

slow_unlock:
	rcu_read_unlock();
slow:
	exasock_count(&exasock_stats, EXASOCK_STAT_TX_SLOW);
	return exasock_ipv4_af_ops->queue_xmit(tsk, skb, fl);
}

/**
 * exasock_tcp_tx_take - send @tsk's segments through exasock's IP output
 *
 * For a connected twin only: a listener's children would inherit the
 * af_ops, and could outlive the module. Process context.
 */
void exasock_tcp_tx_take(struct sock *tsk)
{
	struct inet_connection_sock *icsk = inet_csk(tsk);

	lock_sock(tsk);
	if (icsk->icsk_af_ops == exasock_ipv4_af_ops &&
	    tsk->sk_state != TCP_LISTEN && tsk->sk_state != TCP_CLOSE)
		WRITE_ONCE(icsk->icsk_af_ops, &exasock_tcp_af_ops);
	release_sock(tsk);
}

/**
 * exasock_tcp_tx_give_back - the kernel's IP output again, before the twin
 * is let go or listens. Every queue_xmit runs under the socket lock, so
 * none is left in ours once this returns. Process context.
 */
void exasock_tcp_tx_give_back(struct sock *tsk)
{
	struct inet_connection_sock *icsk = inet_csk(tsk);

	lock_sock(tsk);
	if (icsk->icsk_af_ops == &exasock_tcp_af_ops)
		WRITE_ONCE(icsk->icsk_af_ops, exasock_ipv4_af_ops);
	release_sock(tsk);
}

/*
 * ipv4_specific is not exported by every kernel: take it from a TCP
 * socket of our own.
 */
int exasock_tx_init(void)
{
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	exasock_ipv4_af_ops = inet_csk(sock->sk)->icsk_af_ops;
	sock_release(sock);
	exasock_tcp_af_ops = *exasock_ipv4_af_ops;
	exasock_tcp_af_ops.queue_xmit = exasock_tcp_queue_xmit;
	return 0;
}
