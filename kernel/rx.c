// SPDX-License-Identifier: GPL-2.0
/*
 * Receive demultiplexing. The rx_handler of each attached interface sees
 * every frame before the IP stack. A UDP datagram for an accelerated
 * socket that passes the checks ip_rcv() and udp_rcv() would make is
 * copied into the socket's ring and the frame consumed; everything else
 * is passed on untouched, so the kernel handles (and counts) it exactly
 * as without exasock.
 *
 * The skb is never modified: headers are read with skb_header_pointer()
 * and the payload with skb_copy_bits(), so shared and non-linear skbs
 * need no special care.
 */
#include <linux/if_vlan.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include "exasock.h"

static bool exasock_udp_csum_ok(struct sk_buff *skb, const struct iphdr *iph,
				const struct udphdr *uh, int ulen)
{
	__wsum csum;

	if (!uh->check || skb_csum_unnecessary(skb))
		return true;
	csum = skb_checksum(skb, sizeof(*iph), ulen, 0);
	return !csum_tcpudp_magic(iph->saddr, iph->daddr, ulen, IPPROTO_UDP,
				  csum);
}

struct exasock_rx_ctx {
	struct exasock_iface *ifc;
	struct sk_buff *skb;
	struct exasock_rx_entry hdr;
};

/* Copy the datagram into @esk's ring. 0, or -errno when dropped. */
static int exasock_rx_deliver(struct exasock_sock *esk, void *arg)
{
	struct exasock_rx_ctx *ctx = arg;
	int err;

	err = exasock_ring_put(&esk->rx, &ctx->hdr, ctx->skb,
			       sizeof(struct iphdr) + sizeof(struct udphdr));
	if (err) {
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_FULL, 1);
		exasock_count(&ctx->ifc->stats, EXASOCK_STAT_RX_DROPPED);
		exasock_count(&exasock_stats, EXASOCK_STAT_RX_DROPPED);
		return err;
	}
	exasock_sock_stat_add(esk, EXASOCK_STAT_RX_PACKETS, 1);
	exasock_sock_stat_add(esk, EXASOCK_STAT_RX_BYTES, ctx->hdr.len);
	esk->sk.sk_data_ready(&esk->sk);
	return 0;
}

/*
 * Returns true when the frame was consumed (delivered or dropped), false
 * when the kernel should have it. Counts which, in @ifc and the module.
 */
static bool exasock_udp_rx(struct exasock_iface *ifc, struct sk_buff *skb)
{
	struct exasock_rx_ctx ctx = { .ifc = ifc, .skb = skb };
	struct net *net = dev_net(skb->dev);
	struct exasock_sock *esk = NULL;
	const struct udphdr *uh;
	const struct iphdr *iph;
	struct udphdr _uh;
	struct iphdr _iph;
	int tot_len, ulen;
	bool multicast;

	iph = skb_header_pointer(skb, 0, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5)
		goto malformed;
	tot_len = ntohs(iph->tot_len);
	if (tot_len > skb->len || tot_len < iph->ihl * 4)
		goto malformed;
	/* Options, fragments, other protocols: the kernel's business. */
	if (iph->ihl != 5)
		return false;
	if (ip_fast_csum(iph, iph->ihl))
		goto malformed;
	if (ip_is_fragment(iph) || iph->protocol != IPPROTO_UDP ||
	    ipv4_is_lbcast(iph->daddr))
		return false;
	multicast = ipv4_is_multicast(iph->daddr);

	uh = skb_header_pointer(skb, sizeof(*iph), sizeof(_uh), &_uh);
	if (!uh)
		goto malformed;
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > tot_len - sizeof(*iph))
		goto malformed;

	if (!multicast) {
		esk = exasock_udp_lookup(net, iph->saddr, uh->source,
					 iph->daddr, uh->dest,
					 skb->dev->ifindex);
		if (!esk)
			return false;
		/* A wildcard socket takes only what is addressed to us. */
		if (!READ_ONCE(esk->laddr) &&
		    !__ip_dev_find(net, iph->daddr, false))
			return false;
	}

	if (!exasock_udp_csum_ok(skb, iph, uh, ulen)) {
		/* Let udp_rcv() drop it, so the kernel's counters agree. */
		exasock_count(&ifc->stats, EXASOCK_STAT_RX_BAD_CSUM);
		exasock_count(&exasock_stats, EXASOCK_STAT_RX_BAD_CSUM);
		return false;
	}

	ctx.hdr.len = ulen - sizeof(*uh);
	ctx.hdr.flags = 0;
	ctx.hdr.src_addr = (__force __u32)iph->saddr;
	ctx.hdr.dst_addr = (__force __u32)iph->daddr;
	ctx.hdr.src_port = (__force __u16)uh->source;
	ctx.hdr.dst_port = (__force __u16)uh->dest;
	ctx.hdr.ifindex = skb->dev->ifindex;
	ctx.hdr.tstamp_ns = skb->tstamp ? ktime_to_ns(skb->tstamp) :
					  ktime_get_real_ns();

	if (multicast) {
		/* Every member socket gets a copy, as from the kernel. */
		if (!exasock_udp_deliver_mc(net, iph, uh, skb->dev->ifindex,
					    exasock_rx_deliver, &ctx))
			return false;
	} else if (exasock_rx_deliver(esk, &ctx)) {
		kfree_skb(skb);
		return true;
	}
	exasock_count(&ifc->stats, EXASOCK_STAT_RX_ACCEL);
	exasock_count(&exasock_stats, EXASOCK_STAT_RX_ACCEL);
	consume_skb(skb);
	return true;

malformed:
	exasock_count(&ifc->stats, EXASOCK_STAT_RX_MALFORMED);
	exasock_count(&exasock_stats, EXASOCK_STAT_RX_MALFORMED);
	return false;
}

/**
 * exasock_rx_handler - the rx_handler of attached interfaces
 *
 * Softirq (or BH-disabled) context, under RCU.
 */
rx_handler_result_t exasock_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct exasock_iface *ifc = rcu_dereference(skb->dev->rx_handler_data);

	exasock_count(&ifc->stats, EXASOCK_STAT_RX_FRAMES);
	exasock_count(&exasock_stats, EXASOCK_STAT_RX_FRAMES);

	if (skb->protocol == htons(ETH_P_IP) &&
	    (skb->pkt_type == PACKET_HOST ||
	     skb->pkt_type == PACKET_MULTICAST) &&
	    !skb_vlan_tag_present(skb) &&
	    exasock_udp_rx(ifc, skb))
		return RX_HANDLER_CONSUMED;

	exasock_count(&ifc->stats, EXASOCK_STAT_RX_PASS);
	exasock_count(&exasock_stats, EXASOCK_STAT_RX_PASS);
	return RX_HANDLER_PASS;
}
