// SPDX-License-Identifier: GPL-2.0
/*
 * TCP frames the program sends itself (libexasock_ext's TCP API).
 *
 * A program that wants a TCP segment on the wire sooner than send() can
 * put it there builds the frame ahead of time and sends it by its own
 * means: a packet socket, a NIC's own API, an FPGA. Three steps keep the
 * connection whole:
 *
 *  1. getsockopt(SO_EXA_TCP_HEADER): the Ethernet, IPv4 and TCP headers
 *     of the next segment, from the twin's state (sequence number,
 *     acknowledgement, window, route and neighbour). It also arms the
 *     socket (below).
 *  2. The program adds its payload, lengths and checksums, and sends.
 *  3. sendmsg(MSG_EXA_ADVANCE) with the same payload: the bytes join the
 *     twin's send queue as a send() would, but their first transmission
 *     is accounted, not made. This is TCP repair's send queue mode
 *     (tcp_write_xmit() moves the segments to the retransmit queue and
 *     advances snd_nxt without sending them), switched on for the one
 *     call. From then on the kernel owns the bytes: RTO, fast retransmit
 *     and the peer's window work on them as on any others.
 *
 * Between steps 2 and 3 the peer may already acknowledge the frame, or
 * answer it. The twin would drop such a segment (it acknowledges bytes
 * it has not sent, RFC 9293 3.10.7.4), so while the socket is armed the
 * receive path holds it, and everything after it, in arrival order,
 * until the advance makes it valid. A plain send, a new header, close,
 * or too many held segments let them go to the twin as they are.
 *
 * The header carries no TCP options, timestamps included: a timestamp
 * taken when the header is built is old by the time a prebuilt frame
 * goes out, and a peer's PAWS check would drop it once the kernel has
 * sent anything newer. Linux and other stacks accept segments without
 * the option on a connection that negotiated it.
 */
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/random.h>
#include <net/route.h>
#include <net/tcp.h>
#include "exasock.h"

/* Held segments, at most: beyond this, or the twin's receive buffer, the
 * program is not going to advance soon.
 */
#define EXASOCK_TCP_RAW_HELD_MAX	64

/* Let the held segments go to the twin, oldest first: all of them, or
 * (@all false) those the twin now accepts. The twin is owned by us
 * (process context) or locked in softirq, as for its backlog.
 */
static void exasock_tcp_raw_release(struct exasock_sock *esk,
				    struct sock *tsk, bool all)
{
	struct sk_buff *skb;

	while ((skb = skb_peek(&esk->raw_held))) {
		if (!all && after(TCP_SKB_CB(skb)->ack_seq,
				  READ_ONCE(tcp_sk(tsk)->snd_nxt)))
			break;
		__skb_unlink(skb, &esk->raw_held);
		esk->raw_held_bytes -= skb->truesize;
		tcp_v4_do_rcv(tsk, skb);
	}
}

static void exasock_tcp_raw_disarm(struct exasock_sock *esk,
				   struct sock *tsk)
{
	esk->raw_armed = false;
	esk->raw_rest_late = false;
	exasock_tcp_raw_release(esk, tsk, true);
}

/**
 * exasock_tcp_raw_hold - keep @skb from the twin until the advance?
 *
 * Called by the receive path for a segment of a twin that is not owned
 * by a process, under bh_lock_sock() and RCU, just before
 * tcp_v4_do_rcv(), and for the twin's backlog by its lock's owner.
 * Returns true when the segment is held.
 */
bool exasock_tcp_raw_hold(struct sock *tsk, struct sk_buff *skb)
{
	struct exasock_sock *esk = rcu_dereference_sk_user_data(tsk);

	if (likely(!esk || !esk->raw_armed))
		return false;
	/* Nothing held yet, and the twin takes this one (or is past the
	 * state a header is built in): no reason. Once one is held, all
	 * after it are, whatever they carry, so that none overtakes it.
	 */
	if (skb_queue_empty(&esk->raw_held) &&
	    (tsk->sk_state != TCP_ESTABLISHED ||
	     !after(TCP_SKB_CB(skb)->ack_seq, tcp_sk(tsk)->snd_nxt)))
		return false;
	if (skb_queue_len(&esk->raw_held) >= EXASOCK_TCP_RAW_HELD_MAX ||
	    esk->raw_held_bytes + skb->truesize >
	    (u32)READ_ONCE(tsk->sk_rcvbuf)) {
		/* No advance is coming soon: the twin decides, in order. */
		exasock_tcp_raw_disarm(esk, tsk);
		return false;
	}
	__skb_queue_tail(&esk->raw_held, skb);
	esk->raw_held_bytes += skb->truesize;
	exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_HELD, 1);
	return true;
}

/* Where the twin's segments go: a plain unicast route through an
 * attached Ethernet interface. Under rcu_read_lock() and the twin's lock.
 */
static struct rtable *exasock_tcp_raw_route(struct sock *tsk, int *err)
{
	struct rtable *rt = (struct rtable *)__sk_dst_check(tsk, 0);

	if (!rt) {
		/* The route went stale: look it up again, as a send would. */
		if (inet_csk(tsk)->icsk_af_ops->rebuild_header(tsk)) {
			*err = -EHOSTUNREACH;
			return NULL;
		}
		rt = (struct rtable *)__sk_dst_get(tsk);
	}
	if (!rt || !exasock_tx_route_plain(rt) ||
	    rt->dst.dev->type != ARPHRD_ETHER) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	return rt;
}

/**
 * exasock_tcp_raw_device - SO_EXA_DEVICE: the interface the connection
 * leaves by
 */
int exasock_tcp_raw_device(struct exasock_sock *esk, struct sock *tsk,
			   struct exasock_device_info *info)
{
	struct net_device *dev;
	struct rtable *rt;
	int err = 0;

	if (!exasock_is_tcp(esk) || !exasock_accelerated(esk))
		return -EOPNOTSUPP;
	memset(info, 0, sizeof(*info));
	lock_sock(tsk);
	rcu_read_lock();
	if (tsk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out;
	}
	rt = exasock_tcp_raw_route(tsk, &err);
	if (!rt)
		goto out;
	dev = rt->dst.dev;
	info->ifindex = dev->ifindex;
	info->port = READ_ONCE(dev->dev_port);
	BUILD_BUG_ON(sizeof(info->name) != IFNAMSIZ);
	strscpy(info->name, dev->name, sizeof(info->name));
out:
	rcu_read_unlock();
	release_sock(tsk);
	return err;
}

/* The headers of the twin's next segment, with no payload yet. */
static void exasock_tcp_raw_fill(struct sock *tsk, struct rtable *rt,
				 const u8 *ha, u8 *buf)
{
	const struct inet_sock *inet = inet_sk(tsk);
	const struct tcp_sock *tp = tcp_sk(tsk);
	struct net_device *dev = rt->dst.dev;
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct iphdr *iph = (struct iphdr *)(eth + 1);
	struct tcphdr *th = (struct tcphdr *)(iph + 1);
	int ttl = READ_ONCE(inet->uc_ttl);
	u32 win;

	memset(buf, 0, EXASOCK_TCP_HEADER_LEN);
	ether_addr_copy(eth->h_dest, ha);
	ether_addr_copy(eth->h_source, dev->dev_addr);
	eth->h_proto = htons(ETH_P_IP);

	iph->version = 4;
	iph->ihl = 5;
	iph->tos = inet->tos;
	/* A data segment of an ECN connection is ECT(0), as tcp_ecn_send()
	 * makes it.
	 */
	if (tp->ecn_flags & TCP_ECN_OK)
		iph->tos = (iph->tos & ~INET_ECN_MASK) | INET_ECN_ECT_0;
	iph->tot_len = htons(sizeof(*iph) + sizeof(*th));
	if (ip_dont_fragment(tsk, &rt->dst))
		iph->frag_off = htons(IP_DF);	/* atomic: any id (RFC 6864) */
	else
		iph->id = (__force __be16)get_random_u16();
	iph->ttl = ttl < 0 ? ip4_dst_hoplimit(&rt->dst) : ttl;
	iph->protocol = IPPROTO_TCP;
	iph->saddr = inet->inet_saddr;
	iph->daddr = inet->inet_daddr;
	ip_send_check(iph);

	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(tp->write_seq);
	th->ack_seq = htonl(tp->rcv_nxt);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	th->psh = 1;
	/* Congestion the peer must hear about, or has to be told we heard */
	th->ece = !!(tp->ecn_flags & TCP_ECN_DEMAND_CWR);
	th->cwr = !!(tp->ecn_flags & TCP_ECN_QUEUE_CWR);
	/* The right edge the twin advertised last, rounded up to the scale
	 * as tcp_select_window() rounds it, so that it never shrinks.
	 */
	win = DIV_ROUND_UP(tcp_receive_window(tp),
			   1U << tp->rx_opt.rcv_wscale);
	th->window = htons(min_t(u32, win, U16_MAX));
}

/*
 * The twin's backlog, processed by whoever releases its lock: segments
 * that came while a thread held it are held like the receive path's.
 */
static int exasock_tcp_backlog_rcv(struct sock *tsk, struct sk_buff *skb)
{
	bool held;

	rcu_read_lock();
	held = exasock_tcp_raw_hold(tsk, skb);
	rcu_read_unlock();
	return held ? 0 : tcp_v4_do_rcv(tsk, skb);
}

/* Connections the kernel signs or transforms, which a frame from the
 * program cannot be: TCP-MD5, TCP-AO, an upper layer protocol (kTLS);
 * and those whose segments netfilter or a cgroup egress program must see
 * (conntrack would find the peer acknowledging bytes it never saw).
 */
static bool exasock_tcp_raw_unsupported(struct sock *tsk)
{
	return inet_csk(tsk)->icsk_ulp_ops || exasock_tcp_signed(tsk) ||
	       exasock_tx_filtered(tsk);
}

/* Room for the frame: the peer's window, the congestion window, and a
 * bound that keeps the repair-mode send to a few skbs.
 */
static u32 exasock_tcp_raw_room(const struct tcp_sock *tp)
{
	u32 cwnd = tcp_snd_cwnd(tp), inflight = tcp_packets_in_flight(tp);
	u32 rwnd = tcp_wnd_end(tp) - tp->write_seq;

	if (inflight >= cwnd || after(tp->write_seq, tcp_wnd_end(tp)))
		return 0;
	return min3(rwnd, (cwnd - inflight) * tp->mss_cache,
		    8 * tp->mss_cache);
}

/**
 * exasock_tcp_raw_header - SO_EXA_TCP_HEADER: build the next segment's
 * headers into @buf (EXASOCK_TCP_HEADER_LEN bytes) and arm the socket
 */
int exasock_tcp_raw_header(struct exasock_sock *esk, struct sock *tsk,
			   u8 *buf)
{
	const struct tcp_sock *tp = tcp_sk(tsk);
	u8 ha[MAX_ADDR_LEN];
	struct rtable *rt;
	int err = 0;
	u32 room;

	if (!exasock_is_tcp(esk) || !exasock_accelerated(esk))
		return -EOPNOTSUPP;
	lock_sock(tsk);
	/* A header built before this one and never advanced is stale now. */
	exasock_tcp_raw_disarm(esk, tsk);
	rcu_read_lock();
	if (tsk->sk_state != TCP_ESTABLISHED) {
		err = -ENOTCONN;
		goto out;
	}
	if (exasock_tcp_raw_unsupported(tsk)) {
		err = -EOPNOTSUPP;
		goto out;
	}
	/* Bytes queued and not sent yet come first: a header now would
	 * overtake them.
	 */
	if (tp->snd_nxt != tp->write_seq) {
		err = -EAGAIN;
		goto out;
	}
	/* A frame must keep to the peer's window and the congestion window,
	 * as tcp_write_xmit() keeps the twin's segments to them.
	 */
	room = exasock_tcp_raw_room(tp);
	if (room < tp->mss_cache) {
		err = -EAGAIN;
		goto out;
	}
	rt = exasock_tcp_raw_route(tsk, &err);
	if (!rt)
		goto out;
	/* An unresolved neighbour: resolution has been started. */
	if (!exasock_tx_neigh_ha(rt->dst.dev,
				 rt_nexthop(rt, inet_sk(tsk)->inet_daddr),
				 ha, NULL)) {
		exasock_count(&exasock_stats, EXASOCK_STAT_TX_UNRESOLVED);
		err = -EAGAIN;
		goto out;
	}
	exasock_tcp_raw_fill(tsk, rt, ha, buf);
	esk->raw_seq = tp->write_seq;
	esk->raw_room = room;
	esk->raw_built_ns = tcp_clock_ns();
	esk->raw_armed = true;
	/* Restored at close, before the twin can outlive the module. */
	if (tsk->sk_backlog_rcv == tcp_v4_do_rcv)
		WRITE_ONCE(tsk->sk_backlog_rcv, exasock_tcp_backlog_rcv);
	exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_HEADERS, 1);
out:
	rcu_read_unlock();
	release_sock(tsk);
	return err;
}

/*
 * Segments queued by a repair-mode send carry TCPCB_REPAIRED ("never
 * timed"), which would keep their acknowledgement from giving an RTT
 * sample. These were really sent: take the mark off, and say when. The
 * repair-mode send stamped them with the time of the advance, a moment
 * after the frame left; but if the peer's answer is already held, that
 * would make the round trip look shorter than the time the frame has
 * been out, so they get the header's time instead: an upper bound, and
 * a round trip too long is the safe error (a short one makes RACK and
 * loss detection fire early).
 */
static void exasock_tcp_raw_timed(struct sock *tsk, u32 from_seq,
				  u64 sent_ns)
{
	struct sk_buff *skb = tcp_rtx_queue_tail(tsk);

	for (; skb && !before(TCP_SKB_CB(skb)->seq, from_seq);
	     skb = skb_rb_prev(skb)) {
		TCP_SKB_CB(skb)->sacked &= ~TCPCB_REPAIRED;
		if (sent_ns)
			skb->skb_mstamp_ns = sent_ns;
	}
}

/*
 * Queue @len bytes of @msg as already sent, once. Under the twin's lock.
 * Never sleeps: it would let the twin go with repair mode on.
 */
static int exasock_tcp_raw_queue_sent(struct exasock_sock *esk,
				      struct sock *tsk, struct msghdr *msg,
				      size_t len)
{
	struct tcp_sock *tp = tcp_sk(tsk);
	size_t total = iov_iter_count(&msg->msg_iter);
	u32 from = tp->write_seq;
	int n, sndbuf, room;

	/* MSG_EOR keeps autocorking (which would leave the segment for a
	 * later, real transmission) away, and later sends out of the skb.
	 */
	msg->msg_flags = (msg->msg_flags & MSG_NOSIGNAL) | MSG_DONTWAIT |
			 MSG_EOR;
	/* The bytes are on the wire already: the send buffer makes room
	 * for them (a few segments: the header's room is bounded).
	 */
	sndbuf = READ_ONCE(tsk->sk_sndbuf);
	room = READ_ONCE(tsk->sk_wmem_queued) + 2 * len + 64 * 1024;
	if (room > sndbuf)
		WRITE_ONCE(tsk->sk_sndbuf, room);
	iov_iter_truncate(&msg->msg_iter, len);
	tp->repair = 1;
	tp->repair_queue = TCP_SEND_QUEUE;
	n = tcp_sendmsg_locked(tsk, msg, len);
	tp->repair_queue = TCP_NO_QUEUE;
	tp->repair = 0;
	iov_iter_reexpand(&msg->msg_iter, total - max(n, 0));
	if (room > sndbuf && READ_ONCE(tsk->sk_sndbuf) == room)
		WRITE_ONCE(tsk->sk_sndbuf, sndbuf);
	/* An answer held, or waiting in the backlog: it came already. */
	if (n > 0)
		exasock_tcp_raw_timed(tsk, from,
				      skb_queue_empty(&esk->raw_held) &&
				      !READ_ONCE(tsk->sk_backlog.tail) ?
				      0 : esk->raw_built_ns);
	return n;
}

/**
 * exasock_tcp_raw_advance - sendmsg(MSG_EXA_ADVANCE): @len bytes the
 * program has sent itself, with the header SO_EXA_TCP_HEADER gave it
 *
 * Return: bytes taken, or -errno. Fewer than @len when the send buffer
 * is full (the caller advances the rest once the socket is writable), or
 * when the frame carried more than the windows let the header offer: the
 * rest, advanced again, is then sent the kernel's way (the peer takes it
 * twice at worst, which TCP allows). If the header was stale (another
 * send came between), the bytes are sent as by send(): their sequence
 * numbers were not the ones the header had.
 */
int exasock_tcp_raw_advance(struct exasock_sock *esk, struct socket *twin,
			    struct msghdr *msg, size_t len)
{
	struct sock *tsk = twin->sk;
	struct tcp_sock *tp = tcp_sk(tsk);
	int n;

	if (msg->msg_controllen)
		return -EINVAL;		/* nothing to say to bytes sent */
	lock_sock(tsk);
	if (!esk->raw_armed && esk->raw_rest_late) {
		/* the rest of a frame an advance could not take whole */
		esk->raw_rest_late = false;
		goto plain;
	}
	if (!esk->raw_armed || tp->write_seq != esk->raw_seq ||
	    tp->snd_nxt != tp->write_seq ||
	    tsk->sk_state != TCP_ESTABLISHED ||
	    exasock_tcp_raw_unsupported(tsk)) {
		exasock_tcp_raw_disarm(esk, tsk);
		exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_STALE, 1);
		goto plain;
	}
	if (!esk->raw_room) {
		exasock_tcp_raw_disarm(esk, tsk);
		exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_LATE, len);
		goto plain;
	}

	n = exasock_tcp_raw_queue_sent(esk, tsk, msg,
				       min_t(size_t, len, esk->raw_room));
	if (n > 0) {
		esk->raw_seq += n;
		esk->raw_room -= n;
		exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_ADVANCES, 1);
		exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_BYTES, n);
		/* Not moved to the retransmit queue at once (an MTU probe
		 * wanted to wait): the kernel will send these bytes itself.
		 */
		if (tp->snd_nxt != tp->write_seq)
			exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_LATE,
					      tp->write_seq - tp->snd_nxt);
	}
	if (n == (int)len) {
		exasock_tcp_raw_disarm(esk, tsk);	/* the frame is done */
	} else if (n > 0 && !esk->raw_room) {
		/* More than the room: the rest goes late, next advance. */
		exasock_tcp_raw_release(esk, tsk, false);
	} else {
		/*
		 * Short of memory (or the connection broke). Waiting for room
		 * with segments held would hold the ACKs that make it: let
		 * them all go, and send the rest the kernel's way at the next
		 * advance.
		 */
		exasock_tcp_raw_disarm(esk, tsk);
		if (n > 0 || n == -EAGAIN) {
			esk->raw_rest_late = true;
			exasock_sock_stat_add(esk, EXASOCK_STAT_TCP_RAW_LATE,
					      len - max(n, 0));
		}
	}
	release_sock(tsk);
	return n;

plain:
	release_sock(tsk);
	msg->msg_flags &= ~MSG_EXA_ADVANCE;
	return twin->ops->sendmsg(twin, msg, len);
}

/* A header the program will not get (its copy failed), one a plain send
 * made stale, or a connection that goes (connect() again): forget it.
 * Process context.
 */
void exasock_tcp_raw_cancel(struct exasock_sock *esk, struct sock *tsk)
{
	lock_sock(tsk);
	exasock_tcp_raw_disarm(esk, tsk);
	release_sock(tsk);
}

/* At close (and before the twin listens: its children would inherit
 * the handler), under the twin's lock, with its callbacks still ours: the
 * held segments go to the twin, which is still there to take them, and
 * its backlog is the kernel's again.
 */
void exasock_tcp_raw_close(struct exasock_sock *esk, struct sock *tsk)
{
	exasock_tcp_raw_disarm(esk, tsk);
	if (tsk->sk_backlog_rcv == exasock_tcp_backlog_rcv)
		WRITE_ONCE(tsk->sk_backlog_rcv, tcp_v4_do_rcv);
}
