// SPDX-License-Identifier: GPL-2.0
/*
 * Receive demultiplexing. The rx_handler of each attached interface sees
 * every frame before the IP stack and takes two kinds:
 *
 * - A UDP datagram for an accelerated socket that passes the checks
 *   ip_rcv() and udp_rcv() would make is copied into the socket's ring,
 *   unless netfilter, IPsec or a filter of the socket's (BPF, cgroup)
 *   must see it: those are the kernel's path, through the twin.
 *   Its data is never modified: headers are read with skb_header_pointer()
 *   and the payload with skb_copy_bits(); only input routing, which
 *   checks a new source, sets a route on it (an skb of our own) and
 *   drops it again.
 * - A TCP segment of an accelerated connection goes straight to the
 *   twin's protocol code (tcp_v4_do_rcv(), or its backlog) after the
 *   checks ip_rcv() and tcp_v4_rcv() would make; routing and the second
 *   socket lookup are skipped. Where netfilter, IPsec or a TCP signature
 *   has a say, the kernel's path is taken, for every segment of the
 *   connection alike. See Documentation/tcp.rst.
 *
 * Everything else is passed on untouched, so the kernel handles (and
 * counts) it exactly as without exasock.
 */
#include <linux/if_vlan.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/l3mdev.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/tcp.h>
#include <net/udp.h>
#include <net/xfrm.h>
#include "exasock.h"

static void exasock_rx_count(struct exasock_iface *ifc, int stat)
{
	exasock_count(&ifc->stats, stat);
	exasock_count(&exasock_stats, stat);
}

/*
 * The IPv4 header of @skb, if exasock may take the packet: NULL when it
 * is the kernel's business (options, fragments), ERR_PTR(-EINVAL) when
 * malformed (ip_rcv() drops and counts it).
 */
static const struct iphdr *exasock_rx_iph(struct sk_buff *skb,
					  struct iphdr *buf)
{
	const struct iphdr *iph;
	int tot_len;

	iph = skb_header_pointer(skb, 0, sizeof(*buf), buf);
	if (!iph || iph->version != 4 || iph->ihl < 5)
		return ERR_PTR(-EINVAL);
	tot_len = ntohs(iph->tot_len);
	if (tot_len > skb->len || tot_len < iph->ihl * 4)
		return ERR_PTR(-EINVAL);
	if (iph->ihl != 5)
		return NULL;
	if (ip_fast_csum(iph, iph->ihl))
		return ERR_PTR(-EINVAL);
	if (ip_is_fragment(iph) || ipv4_is_lbcast(iph->daddr))
		return NULL;
	return iph;
}

/*
 * Where the kernel's path must see every packet: netfilter hooks on the
 * way in (a firewall, conntrack), any inbound IPsec (a policy, a default
 * that is not "accept", a packet that was decapsulated).
 */
static bool exasock_rx_net_plain(const struct net *net,
				 const struct sk_buff *skb)
{
	if (exasock_nf_hooked(net, NF_INET_PRE_ROUTING) ||
	    exasock_nf_hooked(net, NF_INET_LOCAL_IN))
		return false;
#ifdef CONFIG_XFRM
	if (READ_ONCE(net->xfrm.policy_count[XFRM_POLICY_IN]) ||
	    READ_ONCE(net->xfrm.policy_default[XFRM_POLICY_IN]) !=
	    XFRM_USERPOLICY_ACCEPT || secpath_exists(skb))
		return false;
#endif
	return true;
}

/* Has the socket an IPsec policy of its own for what it receives? */
static bool exasock_sk_xfrm_in(const struct sock *tsk)
{
#ifdef CONFIG_XFRM
	return rcu_access_pointer(tsk->sk_policy[XFRM_POLICY_IN]);
#else
	return false;
#endif
}

/*
 * A UDP socket whose datagrams the kernel must filter: a socket BPF
 * filter on the twin (it expects the data at the UDP header, which a
 * frame in the rx_handler is not), a cgroup ingress or recvmsg4 program,
 * an IPsec policy of its own; or one that asks for control messages a
 * ring record cannot carry: IP ones (TTL, TOS, IP options, the original
 * destination...: IP_PKTINFO it can), SO_TIMESTAMPING's, SO_RXQ_OVFL's
 * drop count, SO_RCVMARK's mark. The SOL_SOCKET ones are set on the
 * exasock socket and reach the twin at its next sync, so both are asked.
 */
static bool exasock_udp_sock_plain(struct exasock_sock *esk)
{
	struct sock *tsk = READ_ONCE(esk->twin_sk);
	struct sock *sk = &esk->sk;

	if (!tsk)
		return false;
	if (rcu_access_pointer(tsk->sk_filter) ||
	    (exasock_inet_cmsg_flags(tsk) & ~IP_CMSG_PKTINFO))
		return false;
	if (unlikely(exasock_sock_cmsgs(sk) || exasock_sock_cmsgs(tsk)))
		return false;
#ifdef CONFIG_CGROUP_BPF
	if (cgroup_bpf_enabled(CGROUP_INET_INGRESS) &&
	    cgroup_bpf_sock_enabled(tsk, CGROUP_INET_INGRESS))
		return false;
	/* recvmsg4 may rewrite the source address a reader is given */
	if (cgroup_bpf_enabled(CGROUP_UDP4_RECVMSG) &&
	    cgroup_bpf_sock_enabled(tsk, CGROUP_UDP4_RECVMSG))
		return false;
#endif
	return !exasock_sk_xfrm_in(tsk);
}

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

/*
 * Accelerated members of one group and port a datagram goes to from the
 * rx_handler; a larger fan-out takes the kernel's path (the twins).
 */
#define EXASOCK_MC_MEMBERS_MAX	32

/* A datagram a socket could not take, counted as udp_queue_rcv_one_skb()
 * counts its drops. Returns @err.
 */
static int exasock_rx_drop(struct exasock_rx_ctx *ctx, struct net *net,
			   struct sock *tsk, int err)
{
	__UDP_INC_STATS(net, UDP_MIB_INERRORS, 0);
	if (tsk)
		atomic_inc(&tsk->sk_drops);
	exasock_rx_count(ctx->ifc, EXASOCK_STAT_RX_DROPPED);
	return err;
}

/*
 * Copy the datagram into @esk's ring. 0, or -errno when dropped. The
 * LSM has its say first, as sk_filter() gives it in udp_queue_rcv_skb().
 */
static int exasock_rx_deliver(struct exasock_sock *esk,
			      struct exasock_rx_ctx *ctx)
{
	struct net *net = sock_net(&esk->sk);
	struct sock *tsk = READ_ONCE(esk->twin_sk);
	u64 resets = 0;
	int err;

	err = tsk ? security_sock_rcv_skb(tsk, ctx->skb) : 0;
	if (err)
		return exasock_rx_drop(ctx, net, tsk, err);
	err = exasock_ring_put(&esk->rx, &ctx->hdr, ctx->skb,
			       sizeof(struct iphdr) + sizeof(struct udphdr),
			       &resets);
	if (unlikely(resets))
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_RESET, resets);
	if (err) {
		/* As __udp_queue_rcv_skb() counts a full receive buffer. */
		__UDP_INC_STATS(net, UDP_MIB_RCVBUFERRORS, 0);
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_FULL, 1);
		return exasock_rx_drop(ctx, net, tsk, err);
	}
	__UDP_INC_STATS(net, UDP_MIB_INDATAGRAMS, 0);
	exasock_sock_stat_add(esk, EXASOCK_STAT_RX_PACKETS, 1);
	exasock_sock_stat_add(esk, EXASOCK_STAT_RX_BYTES, ctx->hdr.len);
	esk->sk.sk_data_ready(&esk->sk);
	return 0;
}

/*
 * The group's accelerated members, if every one of them may take the
 * datagram from its ring: a copy each, or none (the kernel's path, so
 * that a member with a filter is filtered). Return: how many, 0 for none.
 */
static int exasock_rx_mc_members(struct net *net, const struct iphdr *iph,
				 const struct udphdr *uh, int ifindex,
				 struct exasock_sock **members)
{
	int n, i;

	n = exasock_udp_mc_members(net, iph, uh, ifindex, members,
				   EXASOCK_MC_MEMBERS_MAX);
	for (i = 0; i < n; i++) {
		if (!exasock_udp_sock_plain(members[i]))
			return 0;
	}
	return max(n, 0);
}

/*
 * A port shared (SO_REUSEADDR, SO_REUSEPORT) with native sockets or other
 * exasock ones: the kernel's own lookup says whose the datagram is, a
 * reuseport group choosing by the same hash as udp_rcv(). Returns that
 * socket if it is an accelerated one, NULL when the kernel must deliver.
 * Under RCU.
 */
static struct exasock_sock *exasock_udp_shared_port(struct net *net,
						    const struct iphdr *iph,
						    const struct udphdr *uh,
						    int dif)
{
	struct sock_reuseport *reuse;
	struct sock *sk;

	sk = __udp4_lib_lookup(net, iph->saddr, uh->source, iph->daddr,
			       uh->dest, dif, 0, exasock_udp_table(net), NULL);
	if (!sk)
		return NULL;
	/* A group's BPF program reads the datagram from its UDP header,
	 * which this frame does not start at: udp_rcv() runs it.
	 */
	reuse = rcu_dereference(sk->sk_reuseport_cb);
	if (reuse && rcu_access_pointer(reuse->prog))
		return NULL;
	return exasock_twin_owner(sk);
}

/*
 * What ip_route_input() checks before a datagram reaches any socket: a
 * martian source (multicast, broadcast, zeronet, loopback, an address of
 * our own), and with rp_filter on the arrival interface a source that
 * does not route back through it. The kernel's own input routing decides,
 * once per source, destination, TOS, mark and interface for @esk, until
 * the routes change (as early demux keeps a connected socket's input
 * route). Under RCU. Return: false when the kernel's path must have the
 * datagram: it drops a refused one, which is counted in @ifc's
 * rx_bad_source, and counts it as it does; or it checks one this cannot.
 */
static bool exasock_udp_source_ok(struct exasock_iface *ifc,
				  struct exasock_sock *esk,
				  struct sk_buff *skb, const struct iphdr *iph)
{
	struct net_device *dev = skb->dev;
	struct in_device *in_dev = __in_dev_get_rcu(dev);
	int genid = rt_genid_ipv4(dev_net(dev));
	bool known, local;
	struct rtable *rt;
	unsigned int seq;
	int rpf;

	if (!in_dev)
		return false;
	/* a change of rp_filter does not change the routes' generation */
	rpf = IN_DEV_RPFILTER(in_dev);
	do {
		seq = read_seqbegin(&esk->rx_src_lock);
		known = esk->rx_src_ifindex == dev->ifindex &&
			esk->rx_src_saddr == iph->saddr &&
			esk->rx_src_daddr == iph->daddr &&
			esk->rx_src_tos == iph->tos &&
			esk->rx_src_mark == skb->mark &&
			esk->rx_src_genid == genid && esk->rx_src_rpf == rpf;
	} while (read_seqretry(&esk->rx_src_lock, seq));
	if (likely(known))
		return true;

	/* the route is set on the skb and dropped again: only on one of
	 * our own, which carries no metadata dst (a tunnel's) to lose
	 */
	if (skb_shared(skb) || skb_dst(skb))
		return false;
	if (ip_route_input_noref(skb, iph->daddr, iph->saddr, iph->tos,
				 dev)) {
		local = false;
	} else {
		/* delivered here, not an unreachable or prohibit route's */
		rt = skb_rtable(skb);
		local = (rt->rt_flags & RTCF_LOCAL) &&
			(rt->rt_type == RTN_LOCAL ||
			 rt->rt_type == RTN_BROADCAST ||
			 rt->rt_type == RTN_MULTICAST);
		skb_dst_drop(skb);
	}
	if (!local) {
		exasock_rx_count(ifc, EXASOCK_STAT_RX_BAD_SOURCE);
		return false;
	}
	write_seqlock(&esk->rx_src_lock);
	esk->rx_src_ifindex = dev->ifindex;
	esk->rx_src_saddr = iph->saddr;
	esk->rx_src_daddr = iph->daddr;
	esk->rx_src_tos = iph->tos;
	esk->rx_src_mark = skb->mark;
	esk->rx_src_genid = genid;
	esk->rx_src_rpf = rpf;
	write_sequnlock(&esk->rx_src_lock);
	return true;
}

/*
 * Returns true when the frame was consumed (delivered or dropped), false
 * when the kernel should have it. Counts which, in @ifc and the module.
 */
static bool exasock_udp_rx(struct exasock_iface *ifc, struct sk_buff *skb,
			   const struct iphdr *iph)
{
	struct exasock_sock *members[EXASOCK_MC_MEMBERS_MAX];
	struct exasock_rx_ctx ctx = { .ifc = ifc, .skb = skb };
	struct net *net = dev_net(skb->dev);
	int tot_len = ntohs(iph->tot_len);
	struct exasock_sock *esk = NULL;
	bool multicast = ipv4_is_multicast(iph->daddr);
	struct sock *tsk;
	const struct udphdr *uh;
	struct udphdr _uh;
	int ulen, nmembers = 0, i, n;

	uh = skb_header_pointer(skb, sizeof(*iph), sizeof(_uh), &_uh);
	if (!uh)
		goto malformed;
	ulen = ntohs(uh->len);
	if (ulen < sizeof(*uh) || ulen > tot_len - sizeof(*iph))
		goto malformed;
	/* A VRF's slave: its sockets are the VRF's, as udp_rcv() finds. */
	if (!exasock_rx_net_plain(net, skb) || netif_is_l3_slave(skb->dev))
		return false;

	if (!multicast) {
		esk = exasock_udp_lookup(net, iph->saddr, uh->source,
					 iph->daddr, uh->dest,
					 skb->dev->ifindex);
		if (!esk)
			return false;
		tsk = READ_ONCE(esk->twin_sk);
		if (tsk && (tsk->sk_reuse || tsk->sk_reuseport)) {
			esk = exasock_udp_shared_port(net, iph, uh,
						      skb->dev->ifindex);
			if (!esk)
				return false;
		}
		/* A wildcard socket takes only what is addressed to us. */
		if (!READ_ONCE(esk->laddr) &&
		    !__ip_dev_find(net, iph->daddr, false))
			return false;
		if (!exasock_udp_sock_plain(esk))
			return false;
	} else {
		/* Every member takes it from its ring, or none does. */
		nmembers = exasock_rx_mc_members(net, iph, uh,
						 skb->dev->ifindex, members);
		if (!nmembers)
			return false;
	}
	if (!exasock_udp_source_ok(ifc, multicast ? members[0] : esk, skb,
				   iph))
		return false;

	if (!exasock_udp_csum_ok(skb, iph, uh, ulen)) {
		/* Let udp_rcv() drop it, so the kernel's counters agree. */
		exasock_rx_count(ifc, EXASOCK_STAT_RX_BAD_CSUM);
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
		exasock_ip_in_stats(net, skb, iph);
		__IP_UPD_PO_STATS(net, IPSTATS_MIB_INMCAST, tot_len);
		for (i = 0, n = 0; i < nmembers; i++)
			n += !exasock_rx_deliver(members[i], &ctx);
		if (!n) {	/* every member dropped it, counted */
			kfree_skb(skb);
			return true;
		}
	} else {
		exasock_ip_in_stats(net, skb, iph);
		if (exasock_rx_deliver(esk, &ctx)) {
			kfree_skb(skb);
			return true;
		}
	}
	exasock_rx_count(ifc, EXASOCK_STAT_RX_ACCEL);
	consume_skb(skb);
	return true;

malformed:
	exasock_rx_count(ifc, EXASOCK_STAT_RX_MALFORMED);
	return false;
}

/* TCP-AO's option kind (RFC 5925), for kernels that predate it. */
#ifndef TCPOPT_AO
#define TCPOPT_AO	29
#endif

/*
 * Options are tcp_rcv_established()'s to parse, on either path: SACK
 * blocks, window scale, unknown kinds alike. The one check tcp_v4_rcv()
 * makes on them first is the signature: a segment carrying a TCP-MD5 or
 * TCP-AO option is checked against the socket's keys, and dropped (and
 * counted) on a socket without any. Such a
 * segment takes the kernel's path, and so does one whose option list is
 * malformed: 6.7's tcp_inbound_hash() drops some of those outright.
 */
static bool exasock_tcp_options_unsigned(struct sk_buff *skb, int off,
					 const struct tcphdr *th)
{
	int len = th->doff * 4 - sizeof(*th);
	u8 _opt[MAX_TCP_OPTION_SPACE];
	const u8 *opt;

	if (len == 0)
		return true;
	opt = skb_header_pointer(skb, off + sizeof(*th), len, _opt);
	if (!opt)
		return false;
	/* Header prediction's layout, the aligned timestamp alone: no walk. */
	if (len == TCPOLEN_TSTAMP_ALIGNED &&
	    get_unaligned((const __be32 *)opt) ==
	    htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
		  (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP))
		return true;
	while (len > 0) {
		u8 kind = *opt, size;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			opt++;
			len--;
			continue;
		}
		if (len < 2)
			return false;
		size = opt[1];
		if (size < 2 || size > len)
			return false;
		if (kind == TCPOPT_MD5SIG || kind == TCPOPT_AO)
			return false;
		opt += size;
		len -= size;
	}
	return true;
}

/*
 * Features whose checks live in ip_rcv() and tcp_v4_rcv(): a segment or
 * connection that meets one is left to them. That is netfilter hooks on
 * the way in, any IPsec (policies, a default that is not "accept", a
 * segment that was decapsulated), a minimum TTL and TCP-MD5.
 */
static bool exasock_tcp_plain_sock(struct net *net, struct sock *tsk,
				   const struct sk_buff *skb,
				   const struct iphdr *iph)
{
	if (!exasock_rx_net_plain(net, skb) ||
	    iph->ttl < READ_ONCE(inet_sk(tsk)->min_ttl) ||
	    exasock_tcp_signed(tsk))
		return false;
	return !exasock_sk_xfrm_in(tsk);
}

static bool exasock_tcp_csum_ok(struct sk_buff *skb, const struct iphdr *iph,
				int len)
{
	__wsum csum;

	if (skb_csum_unnecessary(skb))
		return true;
	csum = skb_checksum(skb, sizeof(*iph), len, 0);
	if (csum_tcpudp_magic(iph->saddr, iph->daddr, len, IPPROTO_TCP, csum))
		return false;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	return true;
}

/*
 * Make @skb what tcp_v4_rcv() gives its socket filter: trimmed to the IP
 * length, owned by no socket, data at the TCP header (as ip_rcv_core()
 * and ip_local_deliver_finish() do). Returns false if the skb could not
 * be made so (no memory).
 */
static bool exasock_tcp_skb_prepare(struct sk_buff *skb, int tot_len)
{
	const struct tcphdr *th;
	const struct iphdr *iph;

	if (pskb_trim_rcsum(skb, tot_len) ||
	    !pskb_may_pull(skb, sizeof(*iph) + sizeof(*th)))
		return false;
	skb_orphan(skb);	/* as ip_rcv_core(); prefetched ones passed */
	th = (const struct tcphdr *)(skb->data + sizeof(*iph));
	if (!pskb_may_pull(skb, sizeof(*iph) + th->doff * 4))
		return false;
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*iph));
	skb_clear_delivery_time(skb);
	__skb_pull(skb, sizeof(*iph));
	return true;
}

/*
 * TCP_SKB_CB as tcp_v4_fill_cb() fills it, once the socket filter has had
 * its say (it may trim the skb).
 */
static void exasock_tcp_fill_cb(struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);

	memset(&TCP_SKB_CB(skb)->header.h4, 0, sizeof(struct inet_skb_parm));
	TCP_SKB_CB(skb)->header.h4.iif = skb->skb_iif;
	TCP_SKB_CB(skb)->seq = ntohl(th->seq);
	TCP_SKB_CB(skb)->end_seq = TCP_SKB_CB(skb)->seq + th->syn + th->fin +
				   skb->len - th->doff * 4;
	TCP_SKB_CB(skb)->ack_seq = ntohl(th->ack_seq);
	TCP_SKB_CB(skb)->tcp_flags = tcp_flag_byte(th);
	TCP_SKB_CB(skb)->tcp_tw_isn = 0;
	TCP_SKB_CB(skb)->ip_dsfield = ipv4_get_dsfield(iph);
	TCP_SKB_CB(skb)->sacked = 0;
	TCP_SKB_CB(skb)->has_rxtstamp =
		skb->tstamp || skb_hwtstamps(skb)->hwtstamp;
	skb->dev = NULL;	/* TCP uses the space (rbnode) */
}

/*
 * tcp_add_backlog(), for a segment that came while a process owns the
 * twin: it waits in the twin's backlog for release_sock(), keeping its
 * place in the stream, as on the kernel's path. Where the kernel's own is
 * not exported, its bound without its coalescing. Under bh_lock_sock().
 * Returns true when the backlog is full: TCPBacklogDrop is counted and,
 * as tcp_add_backlog() leaves it, the twin unlocked.
 */
static bool exasock_tcp_add_backlog(struct sock *tsk, struct sk_buff *skb)
{
#ifdef EXASOCK_HAVE_TCP_ADD_BACKLOG
	enum skb_drop_reason reason;

	return tcp_add_backlog(tsk, skb, &reason);
#else
	u64 limit = ((u64)READ_ONCE(tsk->sk_rcvbuf) << 1) +
		    ((u32)READ_ONCE(tsk->sk_sndbuf) >> 1) + 64 * 1024;

	skb_condense(skb);
	skb_dst_drop(skb);		/* tcp_cleanup_skb() */
	secpath_reset(skb);
	if (unlikely(sk_add_backlog(tsk, skb, min_t(u64, limit, UINT_MAX)))) {
		bh_unlock_sock(tsk);
		__NET_INC_STATS(sock_net(tsk), LINUX_MIB_TCPBACKLOGDROP);
		return true;
	}
	return false;
#endif
}

/*
 * A segment of an accelerated TCP connection. Returns true when consumed
 * (processed or dropped), false when the kernel should have it; *@pskb
 * may have been replaced by an unshared copy.
 */
static bool exasock_tcp_rx(struct exasock_iface *ifc, struct sk_buff **pskb,
			   const struct iphdr *iph)
{
	struct sk_buff *skb = *pskb;
	struct net *net = dev_net(skb->dev);
	int tot_len = ntohs(iph->tot_len);
	const struct tcphdr *th;
	struct tcphdr _th;
	struct sock *tsk;

	if (skb->pkt_type != PACKET_HOST || netif_is_l3_slave(skb->dev))
		return false;
	th = skb_header_pointer(skb, sizeof(*iph), sizeof(_th), &_th);
	if (!th || th->doff * 4 < sizeof(*th) ||
	    th->doff * 4 > tot_len - sizeof(*iph) ||
	    !exasock_tcp_options_unsigned(skb, sizeof(*iph), th))
		return false;

	tsk = __inet_lookup_established(net, net->ipv4.tcp_death_row.hashinfo,
					iph->saddr, th->source, iph->daddr,
					ntohs(th->dest), skb->skb_iif, 0);
	if (!tsk)
		return false;
	if (!sk_fullsock(tsk) || !exasock_twin_owner(tsk) ||
	    !exasock_tcp_plain_sock(net, tsk, skb, iph) ||
	    skb_sk_is_prefetched(skb))
		goto pass;

	skb = skb_share_check(skb, GFP_ATOMIC);
	*pskb = skb;
	if (!skb)
		goto dropped;
	if (!exasock_tcp_csum_ok(skb, iph, tot_len - sizeof(*iph))) {
		exasock_rx_count(ifc, EXASOCK_STAT_RX_BAD_CSUM);
		goto pass;	/* tcp_v4_rcv() drops and counts it */
	}

	/* In any state: the twin's protocol code takes it from here, as
	 * from tcp_v4_rcv(), so that no segment of the connection overtakes
	 * another by taking the other path.
	 */
	bh_lock_sock_nested(tsk);
	exasock_ip_in_stats(net, skb, iph);
	if (!exasock_tcp_skb_prepare(skb, tot_len)) {
		bh_unlock_sock(tsk);
		kfree_skb(skb);
		goto dropped;
	}
	nf_reset_ct(skb);
	__TCP_INC_STATS(net, TCP_MIB_INSEGS);	/* even if it is dropped */
	/* tcp_filter(): the socket's BPF filter, cgroup ingress programs,
	 * the LSM, and no pfmemalloc skb for a socket without SOCK_MEMALLOC.
	 * Run here, where the segment is ours for good, so that no segment
	 * meets them twice.
	 */
	if (sk_filter_trim_cap(tsk, skb, tcp_hdrlen(skb))) {
		bh_unlock_sock(tsk);
		atomic_inc(&tsk->sk_drops);
		kfree_skb(skb);
		goto dropped;
	}
	exasock_tcp_fill_cb(skb);
	sk_incoming_cpu_update(tsk);
	tcp_segs_in(tcp_sk(tsk), skb);
	if (unlikely(sock_owned_by_user(tsk))) {
		/* The program holds the twin: its backlog, as tcp_v4_rcv()
		 * does, so that the segment keeps its place in the stream.
		 */
		if (exasock_tcp_add_backlog(tsk, skb)) {
			/* (the twin is unlocked) */
			sk_drops_add(tsk, skb);
			kfree_skb(skb);
			goto dropped;
		}
	} else if (likely(!exasock_tcp_raw_hold(tsk, skb))) {
		/* (It may acknowledge a frame the program sent itself.) */
		tcp_v4_do_rcv(tsk, skb);
	}
	bh_unlock_sock(tsk);
	sock_put(tsk);
	exasock_rx_count(ifc, EXASOCK_STAT_RX_ACCEL);
	return true;

dropped:
	sock_put(tsk);
	exasock_rx_count(ifc, EXASOCK_STAT_RX_DROPPED);
	return true;
pass:
	sock_gen_put(tsk);
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
	const struct iphdr *iph;
	struct iphdr _iph;
	bool taken = false;

	exasock_rx_count(ifc, EXASOCK_STAT_RX_FRAMES);

	if (skb->protocol == htons(ETH_P_IP) &&
	    (skb->pkt_type == PACKET_HOST ||
	     skb->pkt_type == PACKET_MULTICAST) &&
	    !skb_vlan_tag_present(skb)) {
		iph = exasock_rx_iph(skb, &_iph);
		if (IS_ERR(iph))
			exasock_rx_count(ifc, EXASOCK_STAT_RX_MALFORMED);
		else if (iph && iph->protocol == IPPROTO_UDP)
			taken = exasock_udp_rx(ifc, skb, iph);
		else if (iph && iph->protocol == IPPROTO_TCP)
			taken = exasock_tcp_rx(ifc, pskb, iph);
	}
	if (taken)
		return RX_HANDLER_CONSUMED;

	exasock_rx_count(ifc, EXASOCK_STAT_RX_PASS);
	return RX_HANDLER_PASS;
}
