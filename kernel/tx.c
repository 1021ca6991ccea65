// SPDX-License-Identifier: GPL-2.0
/*
 * The fast send path: build Ethernet/IPv4/UDP headers from a per-socket
 * cache of route and neighbour, copy the payload once, hand the frame to
 * the device. Anything unusual goes back to the caller as -ENOTSUPP and
 * is sent by the twin, through the kernel's own UDP output, which owns
 * ARP, fragmentation, control messages and error reporting.
 */
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/arp.h>
#include <net/ip.h>
#include <net/route.h>
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
	if (rt->rt_type != RTN_UNICAST || !exasock_dev_attached(rt->dst.dev) ||
	    rt->rt_gw_family == AF_INET6) {
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
static bool exasock_tx_neigh_ha(struct net_device *dev, __be32 nexthop,
				u8 *ha)
{
	struct neighbour *neigh;
	bool ok = false;

	rcu_read_lock_bh();
	neigh = __ipv4_neigh_lookup_noref(dev, (__force u32)nexthop);
	if (neigh && ((READ_ONCE(neigh->nud_state) & NUD_CONNECTED) ||
		      !neigh_event_send(neigh, NULL))) {
		neigh_ha_snapshot(ha, neigh, dev);
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

	if (msg->msg_controllen || (msg->msg_flags & ~EXASOCK_TX_FLAGS))
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

	if (!exasock_tx_neigh_ha(esk->tx.dst->dev, esk->tx.nexthop, ha)) {
		exasock_count(&exasock_stats, EXASOCK_STAT_TX_UNRESOLVED);
		goto out;
	}

	skb = exasock_tx_build(esk, msg, len, ha, &err);
	if (!skb)
		goto out_err;

	if (unlikely(msg->msg_flags & MSG_EXA_WARM)) {
		kfree_skb(skb);
		exasock_sock_stat_add(esk, EXASOCK_STAT_TX_WARM, 1);
		err = len;
		goto out;
	}

	err = dev_queue_xmit(skb);
	if (err > 0)
		err = net_xmit_errno(err);	/* NET_XMIT_CN is no error */
	if (err < 0)
		goto out_err;
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
