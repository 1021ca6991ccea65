// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_EXASOCK socket family.
 *
 * An exasock socket wraps the AF_INET UDP or TCP socket it was converted
 * from, its "twin". The twin owns the port in the kernel's tables, keeps every
 * option the fast path does not need and receives whatever does not come
 * through an attached interface. The exasock socket adds the receive ring
 * (filled by rx.c for UDP, by tcp.c for TCP), the fast send path (tx.c)
 * and its counters.
 *
 * Lifetime: the exasock socket holds a reference to the twin's file from
 * SO_EXA_ADOPT until release. The socket itself is freed after an RCU
 * grace period (SOCK_RCU_FREE), because rx_handlers and the twin's
 * callbacks find it under RCU.
 */
#include <linux/file.h>
#include <linux/filter.h>
#include <linux/hashtable.h>
#include <linux/igmp.h>
#include <linux/inetdevice.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <net/inet_sock.h>
#include <net/route.h>
#include <net/tcp.h>
#include <net/udp.h>
#include "exasock.h"

#define EXASOCK_RING_MIN	(64 * 1024)

static unsigned int ring_max_kb = 65536;
module_param(ring_max_kb, uint, 0644);
MODULE_PARM_DESC(ring_max_kb, "Largest receive ring in KiB (SO_RCVBUF sizes it)");

atomic_t exasock_live_socks = ATOMIC_INIT(0);
static atomic_t exasock_accel_socks = ATOMIC_INIT(0);
static u64 exasock_next_id;	/* under exasock_socks_lock */
static int exasock_family;

/* Accelerated sockets by local port, for rx demux. Writers take the lock. */
static DEFINE_HASHTABLE(exasock_udp_hash, 10);
static DEFINE_SPINLOCK(exasock_hash_lock);

/* Every socket in id order, for netlink dumps. */
static LIST_HEAD(exasock_socks);
static DEFINE_MUTEX(exasock_socks_lock);

static struct proto exasock_proto = {
	.name = "EXASOCK",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct exasock_sock),
};

static u32 exasock_hash_key(const struct net *net, __be16 port)
{
	return (__force u32)port ^ net_hash_mix(net);
}

/**
 * exasock_udp_lookup - find the accelerated socket for a datagram
 *
 * The best match wins, as in the kernel's UDP lookup: a connected socket
 * over a bound one, a bound address over the wildcard.
 *
 * Return: the socket or NULL. Under RCU; the socket stays valid until
 * rcu_read_unlock().
 */
struct exasock_sock *exasock_udp_lookup(struct net *net, __be32 saddr,
					__be16 sport, __be32 daddr,
					__be16 dport, int ifindex)
{
	struct exasock_sock *esk, *best = NULL;
	int score, best_score = -1, dif;
	__be32 laddr, raddr;

	hash_for_each_possible_rcu(exasock_udp_hash, esk, hash_node,
				   exasock_hash_key(net, dport)) {
		if (READ_ONCE(esk->lport) != dport ||
		    !net_eq(sock_net(&esk->sk), net))
			continue;
		score = 0;
		laddr = READ_ONCE(esk->laddr);
		if (laddr) {
			if (laddr != daddr)
				continue;
			score += 2;
		}
		raddr = READ_ONCE(esk->raddr);
		if (raddr) {
			if (raddr != saddr || READ_ONCE(esk->rport) != sport)
				continue;
			score += 4;
		}
		dif = READ_ONCE(esk->sk.sk_bound_dev_if); /* SO_BINDTODEVICE */
		if (dif) {
			if (dif != ifindex)
				continue;
			score += 1;
		}
		if (score > best_score) {
			best = esk;
			best_score = score;
		}
	}
	return best;
}

/**
 * exasock_mc_member - may the twin @tsk receive @group from @saddr on
 * @ifindex?
 *
 * As ip_mc_sf_allow(), with exasock's rule: only a membership taken on
 * the arrival interface counts (not IP_MULTICAST_ALL). Under RCU; the
 * twin is bound, so SOCK_RCU_FREE keeps it valid.
 */
bool exasock_mc_member(struct sock *tsk, __be32 group, __be32 saddr,
		       int ifindex)
{
	struct ip_mc_socklist *pmc;
	struct ip_sf_socklist *psl;
	unsigned int i;

	for (pmc = rcu_dereference(inet_sk(tsk)->mc_list); pmc;
	     pmc = rcu_dereference(pmc->next_rcu)) {
		if (pmc->multi.imr_multiaddr.s_addr == group &&
		    pmc->multi.imr_ifindex == ifindex)
			break;
	}
	if (!pmc)
		return false;
	psl = rcu_dereference(pmc->sflist);
	if (!psl)
		return pmc->sfmode == MCAST_EXCLUDE;
	for (i = 0; i < psl->sl_count; i++)
		if (psl->sl_addr[i] == saddr)
			return pmc->sfmode == MCAST_INCLUDE;
	return pmc->sfmode == MCAST_EXCLUDE;
}

/* Does the twin hold a membership on an attached interface? */
static bool exasock_mc_attached(struct sock *tsk)
{
	struct ip_mc_socklist *pmc;
	struct net_device *dev;
	bool found = false;

	rcu_read_lock();
	for (pmc = rcu_dereference(inet_sk(tsk)->mc_list); pmc && !found;
	     pmc = rcu_dereference(pmc->next_rcu)) {
		dev = dev_get_by_index_rcu(sock_net(tsk),
					   pmc->multi.imr_ifindex);
		found = dev && exasock_dev_attached(dev);
	}
	rcu_read_unlock();
	return found;
}

/**
 * exasock_udp_mc_members - the accelerated sockets that take this
 * multicast datagram, into @members (@max at most)
 *
 * One walk, so that the sockets the caller checks are the ones it
 * delivers to. Return: how many, or -E2BIG when there are more than
 * @max. Under RCU, which keeps them valid (SOCK_RCU_FREE).
 */
int exasock_udp_mc_members(struct net *net, const struct iphdr *iph,
			   const struct udphdr *uh, int ifindex,
			   struct exasock_sock **members, int max)
{
	struct exasock_sock *esk;
	__be32 laddr, raddr;
	struct sock *tsk;
	int n = 0, dif;

	hash_for_each_possible_rcu(exasock_udp_hash, esk, hash_node,
				   exasock_hash_key(net, uh->dest)) {
		if (READ_ONCE(esk->lport) != uh->dest ||
		    !net_eq(sock_net(&esk->sk), net))
			continue;
		laddr = READ_ONCE(esk->laddr);
		raddr = READ_ONCE(esk->raddr);
		if ((laddr && laddr != iph->daddr) ||
		    (raddr && (raddr != iph->saddr ||
			       READ_ONCE(esk->rport) != uh->source)))
			continue;
		dif = READ_ONCE(esk->sk.sk_bound_dev_if);
		if (dif && dif != ifindex)
			continue;
		tsk = READ_ONCE(esk->twin_sk);
		if (!tsk || !exasock_mc_member(tsk, iph->daddr, iph->saddr,
					       ifindex))
			continue;
		if (n == max)
			return -E2BIG;
		members[n++] = esk;
	}
	return n;
}

static void exasock_rehash(struct exasock_sock *esk)
{
	struct inet_sock *inet = inet_sk(esk->twin->sk);

	spin_lock_bh(&exasock_hash_lock);
	if (!hlist_unhashed(&esk->hash_node))
		hash_del_rcu(&esk->hash_node);
	WRITE_ONCE(esk->laddr, inet->inet_rcv_saddr);
	WRITE_ONCE(esk->lport, inet->inet_sport);
	WRITE_ONCE(esk->raddr, inet->inet_daddr);
	WRITE_ONCE(esk->rport, inet->inet_dport);
	/* TCP frames go to the twin: only datagrams are demultiplexed. */
	if (esk->lport && !exasock_is_tcp(esk))
		hash_add_rcu(exasock_udp_hash, &esk->hash_node,
			     exasock_hash_key(sock_net(&esk->sk), esk->lport));
	spin_unlock_bh(&exasock_hash_lock);
}

static void exasock_unhash(struct exasock_sock *esk)
{
	spin_lock_bh(&exasock_hash_lock);
	if (!hlist_unhashed(&esk->hash_node))
		hash_del_rcu(&esk->hash_node);
	spin_unlock_bh(&exasock_hash_lock);
}

int exasock_sock_state(const struct exasock_sock *esk)
{
	struct sock *tsk = READ_ONCE(esk->twin_sk);

	if (exasock_is_tcp(esk) && tsk)
		return EXASOCK_STATE_TCP_BASE + READ_ONCE(tsk->sk_state);
	if (READ_ONCE(esk->raddr))
		return EXASOCK_STATE_CONNECTED;
	if (READ_ONCE(esk->lport))
		return EXASOCK_STATE_BOUND;
	return EXASOCK_STATE_UNBOUND;
}

/* Payload bytes the program has not read yet (Recv-Q). */
u32 exasock_sock_recv_q(struct exasock_sock *esk)
{
	struct sock *tsk = READ_ONCE(esk->twin_sk);

	if (exasock_is_tcp(esk) && tsk)
		return exasock_tcp_recv_q(esk, tsk);
	return exasock_accelerated(esk) ? exasock_ring_payload(&esk->rx) : 0;
}

/* Bytes sent and not acknowledged (TCP) or not yet sent (UDP): Send-Q. */
u32 exasock_sock_send_q(struct exasock_sock *esk)
{
	struct sock *tsk = READ_ONCE(esk->twin_sk);

	if (exasock_is_tcp(esk) && tsk)
		return exasock_tcp_send_q(tsk);
	return sk_wmem_alloc_get(&esk->sk);
}

u64 exasock_for_each_sock(struct net *net, u64 from_id,
			  int (*fn)(struct exasock_sock *esk, void *arg),
			  void *arg)
{
	struct exasock_sock *esk;
	u64 resume = 0;

	mutex_lock(&exasock_socks_lock);
	list_for_each_entry(esk, &exasock_socks, list_node) {
		if (esk->id < from_id || !net_eq(sock_net(&esk->sk), net) ||
		    !exasock_accelerated(esk))
			continue;
		if (fn(esk, arg)) {
			resume = esk->id;
			break;
		}
	}
	mutex_unlock(&exasock_socks_lock);
	return resume;
}

/* ---- the twin's callbacks ------------------------------------------------
 *
 * Installed at SO_EXA_ADOPT, restored at release. They run in softirq or
 * process context with no lock of ours; esk is found under RCU. Each
 * calls the twin's own callback, then tells the exasock socket. While the
 * callbacks are being restored, sk_user_data reads NULL and the twin's
 * own callback (already put back) is called alone.
 */

/* Set ring flags, if the socket has a ring yet. */
static void exasock_twin_set_flags(struct exasock_sock *esk, u32 flags)
{
	if (exasock_accelerated(esk)) {
		smp_mb__before_atomic(); /* the state first, then its flag */
		atomic_or(flags, &esk->rx.shared->flags);
	}
}

/*
 * A datagram socket's error has been taken, or there was none: the flag
 * that sends the library to the kernel for it goes down, unless a newer
 * error has come (exasock_on_error_report() stores it, then the flag).
 */
static void exasock_error_seen(struct exasock_sock *esk)
{
	atomic_t *flags = &esk->rx.shared->flags;

	if (likely(!(atomic_read(flags) & EXASOCK_RING_F_ERROR)))
		return;
	atomic_andnot(EXASOCK_RING_F_ERROR, flags);
	smp_mb__after_atomic(); /* clear, then look */
	if (READ_ONCE(esk->sk.sk_err))
		atomic_or(EXASOCK_RING_F_ERROR, flags);
}

/* The twin's callbacks are being restored: call its own one. */
static void exasock_twin_call_restored(struct sock *tsk,
				       void (**cb)(struct sock *sk),
				       void (*self)(struct sock *sk))
{
	void (*orig)(struct sock *sk);

	smp_rmb(); /* matches smp_wmb() in exasock_twin_restore() */
	orig = READ_ONCE(*cb);
	if (orig != self)
		orig(tsk);
}

/*
 * The frame of every twin callback: run @action if the twin is still
 * ours, else the twin's own callback. Inlined into each callback, so that
 * @action is a direct call on the receive path.
 */
static __always_inline void
exasock_twin_event(struct sock *tsk, void (**cb)(struct sock *sk),
		   void (*self)(struct sock *sk),
		   void (*action)(struct exasock_sock *esk, struct sock *tsk))
{
	struct exasock_sock *esk;

	rcu_read_lock();
	esk = rcu_dereference_sk_user_data(tsk);
	if (likely(esk))
		action(esk, tsk);
	else
		exasock_twin_call_restored(tsk, cb, self);
	rcu_read_unlock();
}

static void exasock_on_data_ready(struct exasock_sock *esk, struct sock *tsk)
{
	esk->twin_data_ready(tsk);
	if (exasock_is_tcp(esk))
		exasock_tcp_data_ready(esk, tsk); /* the twin is locked */
	else
		exasock_twin_set_flags(esk, EXASOCK_RING_F_NATIVE_PENDING);
	esk->sk.sk_data_ready(&esk->sk);
}

static void exasock_on_write_space(struct exasock_sock *esk, struct sock *tsk)
{
	esk->twin_write_space(tsk);
	esk->sk.sk_write_space(&esk->sk);
}

static void exasock_on_state_change(struct exasock_sock *esk, struct sock *tsk)
{
	esk->twin_state_change(tsk);
	if (!exasock_is_tcp(esk))
		exasock_twin_set_flags(esk, EXASOCK_RING_F_NATIVE_PENDING);
	else if (exasock_accelerated(esk))
		exasock_tcp_sync_flags(esk, tsk);
	esk->sk.sk_state_change(&esk->sk);
}

/*
 * Errors move to the exasock socket, where SO_ERROR reads them: a UDP
 * twin's (ICMP) are taken from it; a TCP twin's are copied, because its
 * own connect() and sendmsg() report them too.
 */
static void exasock_on_error_report(struct exasock_sock *esk, struct sock *tsk)
{
	int err;

	esk->twin_error_report(tsk);
	if (exasock_is_tcp(esk)) {
		exasock_tcp_mirror_err(esk, tsk);
		err = -READ_ONCE(tsk->sk_err);
	} else {
		err = sock_error(tsk);
	}
	if (err) {
		WRITE_ONCE(esk->sk.sk_err, -err);
		exasock_twin_set_flags(esk, EXASOCK_RING_F_ERROR);
		sk_error_report(&esk->sk);
	} else if (!skb_queue_empty_lockless(&tsk->sk_error_queue)) {
		/* a transmit timestamp, or an error with IP_RECVERR: poll
		 * asks the twin, but sleeps on our queue
		 */
		sk_error_report(&esk->sk);
	}
}

static void exasock_twin_data_ready(struct sock *tsk)
{
	exasock_twin_event(tsk, &tsk->sk_data_ready, exasock_twin_data_ready,
			   exasock_on_data_ready);
}

static void exasock_twin_write_space(struct sock *tsk)
{
	exasock_twin_event(tsk, &tsk->sk_write_space, exasock_twin_write_space,
			   exasock_on_write_space);
}

static void exasock_twin_state_change(struct sock *tsk)
{
	exasock_twin_event(tsk, &tsk->sk_state_change,
			   exasock_twin_state_change, exasock_on_state_change);
}

static void exasock_twin_error_report(struct sock *tsk)
{
	exasock_twin_event(tsk, &tsk->sk_error_report,
			   exasock_twin_error_report, exasock_on_error_report);
}

/**
 * exasock_twin_owner - the accelerated exasock socket whose twin is @tsk,
 * or NULL. Under RCU.
 */
struct exasock_sock *exasock_twin_owner(struct sock *tsk)
{
	struct exasock_sock *esk;

	if (READ_ONCE(tsk->sk_data_ready) != exasock_twin_data_ready)
		return NULL;
	esk = rcu_dereference_sk_user_data(tsk);
	return esk && exasock_accelerated(esk) ? esk : NULL;
}

/*
 * Under the twin's sk_callback_lock. A TCP connection accepted from a
 * listening twin was cloned from it with our callbacks (but, thanks to
 * SK_USER_DATA_NOCOPY, no sk_user_data); its own are the listener's.
 */
static void exasock_twin_install(struct exasock_sock *esk, struct sock *tsk,
				 struct exasock_sock *parent)
{
	if (parent && tsk->sk_data_ready == exasock_twin_data_ready) {
		esk->twin_data_ready = parent->twin_data_ready;
		esk->twin_write_space = parent->twin_write_space;
		esk->twin_state_change = parent->twin_state_change;
		esk->twin_error_report = parent->twin_error_report;
	} else {
		esk->twin_data_ready = tsk->sk_data_ready;
		esk->twin_write_space = tsk->sk_write_space;
		esk->twin_state_change = tsk->sk_state_change;
		esk->twin_error_report = tsk->sk_error_report;
	}
	__rcu_assign_sk_user_data_with_flags(tsk, esk, SK_USER_DATA_NOCOPY);
	tsk->sk_data_ready = exasock_twin_data_ready;
	tsk->sk_write_space = exasock_twin_write_space;
	tsk->sk_state_change = exasock_twin_state_change;
	tsk->sk_error_report = exasock_twin_error_report;
}

static void exasock_twin_restore(struct exasock_sock *esk, struct sock *tsk)
{
	write_lock_bh(&tsk->sk_callback_lock);
	WRITE_ONCE(tsk->sk_data_ready, esk->twin_data_ready);
	WRITE_ONCE(tsk->sk_write_space, esk->twin_write_space);
	WRITE_ONCE(tsk->sk_state_change, esk->twin_state_change);
	WRITE_ONCE(tsk->sk_error_report, esk->twin_error_report);
	smp_wmb(); /* callbacks back before user_data goes */
	rcu_assign_sk_user_data(tsk, NULL);
	write_unlock_bh(&tsk->sk_callback_lock);
}

/*
 * Recompute the shared flags from the twin's state. Clear first, then
 * look: a twin event racing with us either sees its flag survive or is
 * seen by the look.
 */
static void exasock_sync_flags(struct exasock_sock *esk)
{
	struct socket *twin = esk->twin;
	atomic_t *flags = &esk->rx.shared->flags;
	u32 set = 0;

	if (exasock_is_tcp(esk)) {
		exasock_tcp_sync_flags(esk, twin->sk);
		return;
	}

	atomic_andnot(EXASOCK_RING_F_NATIVE_PENDING | EXASOCK_RING_F_ERROR |
		      EXASOCK_RING_F_SHUTDOWN, flags);
	smp_mb__after_atomic(); /* clear, then look */
	/* Datagrams only: the error queue is read with MSG_ERRQUEUE. */
	if (!skb_queue_empty_lockless(&twin->sk->sk_receive_queue) ||
	    !skb_queue_empty_lockless(&udp_sk(twin->sk)->reader_queue))
		set |= EXASOCK_RING_F_NATIVE_PENDING;
	if (READ_ONCE(esk->sk.sk_err))
		set |= EXASOCK_RING_F_ERROR;
	if (READ_ONCE(twin->sk->sk_shutdown) & RCV_SHUTDOWN)
		set |= EXASOCK_RING_F_SHUTDOWN;
	if (set)
		atomic_or(set, flags);
}

/* ---- acceleration ------------------------------------------------------ */

/* The acceleration rules of Documentation/architecture.rst. */
static bool exasock_should_accelerate(struct exasock_sock *esk)
{
	struct sock *tsk = esk->twin->sk;
	struct inet_sock *inet = inet_sk(tsk);
	struct net *net = sock_net(tsk);
	__be32 laddr = inet->inet_rcv_saddr;
	struct net_device *dev;
	bool ok;

	if (esk->no_accel || !inet->inet_sport)
		return false;
	if (inet->inet_daddr)
		return exasock_route_attached(net, inet->inet_daddr, laddr,
					      tsk->sk_bound_dev_if);
	if (exasock_mc_attached(tsk))
		return true;
	if (ipv4_is_multicast(laddr) || ipv4_is_lbcast(laddr))
		return false;

	rcu_read_lock();
	if (tsk->sk_bound_dev_if) {
		dev = dev_get_by_index_rcu(net, tsk->sk_bound_dev_if);
		ok = dev && exasock_dev_attached(dev);
		if (ok && laddr)
			ok = __ip_dev_find(net, laddr, false) == dev;
	} else if (laddr) {
		dev = __ip_dev_find(net, laddr, false);
		ok = dev && exasock_dev_attached(dev);
	} else {
		ok = exasock_net_has_iface(net);
	}
	rcu_read_unlock();
	return ok;
}

static int exasock_accelerate(struct exasock_sock *esk)
{
	u32 max = max_t(u32, EXASOCK_RING_MIN, READ_ONCE(ring_max_kb) * 1024);
	u32 size = clamp_t(u32, READ_ONCE(esk->twin->sk->sk_rcvbuf),
			   EXASOCK_RING_MIN, max);
	int err;

	size = min_t(u32, roundup_pow_of_two(size), rounddown_pow_of_two(max));
	err = exasock_ring_alloc(&esk->rx, size);
	if (err)
		return err;
	if (exasock_is_tcp(esk))
		exasock_tcp_accelerated(esk);
	/* Ring before flag: matches exasock_accelerated(). */
	smp_store_release(&esk->accelerated, true);
	atomic_inc(&exasock_accel_socks);
	exasock_sync_flags(esk);
	return 0;
}

/*
 * After a bind or connect of the twin: accelerate if the rules now say
 * so, and keep the demux identity in step with the twin's. The twin's
 * bind or connect has happened either way, so a ring that cannot be had
 * leaves the socket native (and counted) rather than failing the call.
 */
void exasock_update(struct exasock_sock *esk)
{
	struct sock *sk = &esk->sk;

	lock_sock(sk);
	if (!esk->accelerated && exasock_should_accelerate(esk) &&
	    exasock_accelerate(esk))
		exasock_count(&exasock_stats, EXASOCK_STAT_ACCEL_FAILED);
	if (esk->accelerated)
		exasock_rehash(esk);
	WRITE_ONCE(esk->opt_gen, esk->opt_gen + 1);
	release_sock(sk);
	if (exasock_is_tcp(esk) && esk->accelerated)
		exasock_tcp_tx_take(esk->twin->sk);
}

/* ---- proto_ops ----------------------------------------------------------- */

/* The twin, or NULL before SO_EXA_ADOPT. Stable once set: only release
 * clears it, and no other operation runs concurrently with release.
 */
static struct socket *exasock_twin(struct socket *sock)
{
	return READ_ONCE(exasock_sk(sock->sk)->twin);
}

/*
 * The SOL_SOCKET state the two sockets share. The kernel answers
 * SOL_SOCKET get/setsockopt from the exasock socket itself, so it takes
 * the twin's state at adoption, and the twin is brought up to date from
 * it before the twin acts (exasock_sync_twin).
 */
#define EXASOCK_BUF_LOCKS	(SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK)

/*
 * sk_reuse, sk_reuseport and sk_userlocks are bitfields sharing their
 * bytes with fields the twin's own bind() writes under its lock, so they
 * are only ever written with @to locked (or not yet visible to anyone).
 */
static bool exasock_sock_bits_differ(const struct sock *to,
				     const struct sock *from)
{
	return to->sk_reuse != from->sk_reuse ||
	       to->sk_reuseport != from->sk_reuseport ||
	       ((to->sk_userlocks ^ from->sk_userlocks) & EXASOCK_BUF_LOCKS);
}

static void exasock_copy_sock_bits(struct sock *to, const struct sock *from)
{
	to->sk_reuse = from->sk_reuse;
	to->sk_reuseport = from->sk_reuseport;
	to->sk_userlocks = (to->sk_userlocks & ~EXASOCK_BUF_LOCKS) |
			   (from->sk_userlocks & EXASOCK_BUF_LOCKS);
}

/*
 * The rest: whole words and atomic flag bits, safe to write unlocked.
 * Only what differs is written: this runs before every send, and the
 * twin's cache lines are the receive path's too.
 */
#define exasock_copy_word(to, from, field)				\
	do {								\
		typeof((from)->field) v__ = READ_ONCE((from)->field);	\
									\
		if (READ_ONCE((to)->field) != v__)			\
			WRITE_ONCE((to)->field, v__);			\
	} while (0)

static void exasock_copy_flag(struct sock *to, const struct sock *from,
			      enum sock_flags flag)
{
	bool on = sock_flag(from, flag);

	if (sock_flag(to, flag) != on)
		sock_valbool_flag(to, flag, on);
}

static void exasock_copy_sockopts(struct sock *to, const struct sock *from,
				  int rcvlowat)
{
	/* Sizes only once set: TCP tunes its own buffers until then. */
	if (from->sk_userlocks & SOCK_RCVBUF_LOCK)
		exasock_copy_word(to, from, sk_rcvbuf);
	if (from->sk_userlocks & SOCK_SNDBUF_LOCK)
		exasock_copy_word(to, from, sk_sndbuf);
	exasock_copy_word(to, from, sk_rcvtimeo);
	exasock_copy_word(to, from, sk_sndtimeo);
	if (READ_ONCE(to->sk_rcvlowat) != rcvlowat)
		WRITE_ONCE(to->sk_rcvlowat, rcvlowat);
	exasock_copy_word(to, from, sk_priority);
	exasock_copy_word(to, from, sk_mark);
	exasock_copy_flag(to, from, SOCK_BROADCAST);
	exasock_copy_flag(to, from, SOCK_URGINLINE);
	exasock_copy_flag(to, from, SOCK_LINGER);
	exasock_copy_flag(to, from, SOCK_RXQ_OVFL);
	exasock_copy_flag(to, from, SOCK_RCVMARK);
	exasock_copy_flag(to, from, SOCK_SELECT_ERR_QUEUE);
	exasock_copy_word(to, from, sk_lingertime);
	if (to->sk_bound_dev_if != READ_ONCE(from->sk_bound_dev_if)) {
		WRITE_ONCE(to->sk_bound_dev_if, from->sk_bound_dev_if);
		sk_dst_reset(to);
	}
}

/*
 * SO_TIMESTAMP(NS) for what the twin reads itself (a UDP twin the
 * datagrams the ring does not take, a TCP twin everything when the socket
 * asks for timestamps: exasock_tcp_wants_cmsgs()). The first time, the
 * kernel's receive timestamps are switched on for the twin, as
 * sock_enable_timestamp() does, so that its destructor's
 * net_disable_timestamp() is balanced.
 */
static void exasock_twin_tstamp(struct sock *tsk, const struct sock *sk)
{
	bool on = sock_flag(sk, SOCK_RCVTSTAMP);

	if (on == sock_flag(tsk, SOCK_RCVTSTAMP) &&
	    sock_flag(sk, SOCK_RCVTSTAMPNS) ==
	    sock_flag(tsk, SOCK_RCVTSTAMPNS) &&
	    sock_flag(sk, SOCK_TSTAMP_NEW) == sock_flag(tsk, SOCK_TSTAMP_NEW))
		return;
	lock_sock(tsk);
	if (on && !(tsk->sk_flags & SK_FLAGS_TIMESTAMP)) {
		sock_set_flag(tsk, SOCK_TIMESTAMP);
		net_enable_timestamp();
	}
	sock_valbool_flag(tsk, SOCK_RCVTSTAMP, on);
	sock_valbool_flag(tsk, SOCK_RCVTSTAMPNS,
			  sock_flag(sk, SOCK_RCVTSTAMPNS));
	sock_valbool_flag(tsk, SOCK_TSTAMP_NEW, sock_flag(sk, SOCK_TSTAMP_NEW));
	release_sock(tsk);
}

/*
 * SO_TIMESTAMPING, set the way sock_set_timestamping() sets it (which a
 * module cannot call), on the twin: it sends, so it records transmit
 * timestamps and counts SOF_TIMESTAMPING_OPT_ID keys, and its error queue
 * reports them (MSG_ERRQUEUE goes to it). Refused by the twin (OPT_ID on
 * a TCP socket not yet connected, as Linux refuses it), it is tried again
 * at the next sync.
 */
static void exasock_twin_timestamping(struct socket *twin,
				      const struct sock *sk)
{
	struct so_timestamping ts = {
		.flags = READ_ONCE(sk->sk_tsflags),
		.bind_phc = READ_ONCE(sk->sk_bind_phc),
	};
	struct sock *tsk = twin->sk;

	if (likely(ts.flags == READ_ONCE(tsk->sk_tsflags)) &&
	    (!(ts.flags & SOF_TIMESTAMPING_BIND_PHC) ||
	     ts.bind_phc == READ_ONCE(tsk->sk_bind_phc)))
		return;
	sock_setsockopt(twin, SOL_SOCKET, sock_flag(sk, SOCK_TSTAMP_NEW) ?
			SO_TIMESTAMPING_NEW : SO_TIMESTAMPING_OLD,
			KERNEL_SOCKPTR(&ts), sizeof(ts));
}

/*
 * At adoption, the timestamp options set before it (on the socket that
 * is now the twin). Only the flags that say what to report: the twin,
 * which receives, keeps the ones that switched timestamping on.
 */
static void exasock_adopt_timestamps(struct sock *sk, const struct sock *tsk)
{
	sock_valbool_flag(sk, SOCK_RCVTSTAMP, sock_flag(tsk, SOCK_RCVTSTAMP));
	sock_valbool_flag(sk, SOCK_RCVTSTAMPNS,
			  sock_flag(tsk, SOCK_RCVTSTAMPNS));
	sock_valbool_flag(sk, SOCK_TSTAMP_NEW, sock_flag(tsk, SOCK_TSTAMP_NEW));
	WRITE_ONCE(sk->sk_bind_phc, READ_ONCE(tsk->sk_bind_phc));
	WRITE_ONCE(sk->sk_tsflags, READ_ONCE(tsk->sk_tsflags));
}

/*
 * Before the twin binds, connects, sends or closes, and when the library
 * says a SOL_SOCKET option changed. Keepalive needs its timer armed, so
 * it goes through the protocol.
 */
static struct socket *exasock_sync_twin(struct socket *sock)
{
	struct exasock_sock *esk = exasock_sk(sock->sk);
	struct socket *twin = exasock_twin(sock);
	struct sock *tsk;
	bool ka;

	if (!twin)
		return NULL;
	tsk = twin->sk;
	if (exasock_sock_bits_differ(tsk, sock->sk)) {
		lock_sock(tsk);
		exasock_copy_sock_bits(tsk, sock->sk);
		release_sock(tsk);
	}
	/* an accelerated TCP twin keeps 1 (see exasock_tcp_twin_lowat())
	 * unless it does the reading
	 */
	exasock_copy_sockopts(tsk, sock->sk,
			      exasock_is_tcp(esk) && exasock_accelerated(esk) &&
			      !exasock_tcp_wants_cmsgs(esk, tsk) ? 1 :
			      READ_ONCE(sock->sk->sk_rcvlowat));
	exasock_twin_timestamping(twin, sock->sk);
	exasock_twin_tstamp(tsk, sock->sk);
	ka = sock_flag(sock->sk, SOCK_KEEPOPEN);
	if (exasock_is_tcp(exasock_sk(sock->sk)) &&
	    ka != sock_flag(tsk, SOCK_KEEPOPEN)) {
		lock_sock(tsk);
		if (tsk->sk_prot->keepalive)	/* tcp_set_keepalive() */
			tsk->sk_prot->keepalive(tsk, ka);
		sock_valbool_flag(tsk, SOCK_KEEPOPEN, ka);
		release_sock(tsk);
	}
	return twin;
}

static int exasock_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct exasock_sock *esk;
	struct socket *twin;

	if (!sk)
		return 0;
	esk = exasock_sk(sk);

	exasock_unhash(esk);
	mutex_lock(&exasock_socks_lock);
	list_del(&esk->list_node);
	mutex_unlock(&exasock_socks_lock);

	lock_sock(sk);
	exasock_tx_cache_release(&esk->tx);
	twin = esk->twin;
	WRITE_ONCE(esk->twin, NULL);
	sock_orphan(sk);
	release_sock(sk);

	if (twin) {
		if (exasock_is_tcp(esk)) {
			exasock_copy_sockopts(twin->sk, sk,	/* SO_LINGER */
					      1);
			exasock_tcp_release(esk, twin->sk);
		}
		exasock_twin_restore(esk, twin->sk);
		fput(twin->file);
	}
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static int exasock_bind(struct socket *sock, struct sockaddr *uaddr,
			int addr_len)
{
	struct socket *twin = exasock_sync_twin(sock);
	int err;

	if (!twin)
		return -EBADFD;
	err = twin->ops->bind(twin, uaddr, addr_len);
	if (!err)
		exasock_update(exasock_sk(sock->sk));
	return err;
}

static int exasock_connect(struct socket *sock, struct sockaddr *uaddr,
			   int addr_len, int flags)
{
	struct socket *twin = exasock_sync_twin(sock);
	int err;

	if (!twin)
		return -EBADFD;
	/* A header of the connection this one may replace is stale. */
	if (exasock_is_tcp(exasock_sk(sock->sk)) &&
	    READ_ONCE(exasock_sk(sock->sk)->raw_armed))
		exasock_tcp_raw_cancel(exasock_sk(sock->sk), twin->sk);
	err = twin->ops->connect(twin, uaddr, addr_len, flags);
	if (exasock_is_tcp(exasock_sk(sock->sk)))
		exasock_tcp_reconcile_err(exasock_sk(sock->sk), twin->sk);
	/* A TCP connect in progress has its addresses: accelerate now. */
	if (!err || (exasock_is_tcp(exasock_sk(sock->sk)) &&
		     (err == -EINPROGRESS || err == -EALREADY))) {
		exasock_update(exasock_sk(sock->sk));
		sock->state = twin->state;
	}
	return err;
}

static int exasock_getname(struct socket *sock, struct sockaddr *uaddr,
			   int peer)
{
	struct socket *twin = exasock_twin(sock);

	if (!twin)
		return -EBADFD;
	return twin->ops->getname(twin, uaddr, peer);
}

static bool exasock_readable(struct exasock_sock *esk)
{
	return !exasock_ring_empty(&esk->rx) || READ_ONCE(esk->sk.sk_err) ||
	       (atomic_read(&esk->rx.shared->flags) &
		(EXASOCK_RING_F_NATIVE_PENDING | EXASOCK_RING_F_ERROR |
		 EXASOCK_RING_F_SHUTDOWN));
}

/* Sleep until the ring or the twin has something. 0 or -errno. */
static int exasock_wait_data(struct exasock_sock *esk, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = &esk->sk;
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	for (;;) {
		/* Signals first: a flag that stays set must not trap us. */
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		if (exasock_readable(esk))
			break;
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/*
 * The control messages of a datagram read from the ring, as
 * udp_recvmsg() would give them: IP_PKTINFO and SO_TIMESTAMP(NS), the
 * ones a socket may ask for and still have its datagrams in the ring
 * (exasock_udp_sock_plain()).
 */
static void exasock_udp_put_cmsgs(struct exasock_sock *esk, struct sock *tsk,
				  struct msghdr *msg,
				  const struct exasock_rx_entry *hdr)
{
	struct sock *sk = &esk->sk;
	bool new_ts = sock_flag(sk, SOCK_TSTAMP_NEW);
	s64 sec = div_s64(hdr->tstamp_ns, NSEC_PER_SEC);
	long nsec = hdr->tstamp_ns % NSEC_PER_SEC;

	/* first the timestamp, as sock_recv_cmsgs() comes first */
	if (sock_flag(sk, SOCK_RCVTSTAMP) && sock_flag(sk, SOCK_RCVTSTAMPNS)) {
		struct __kernel_old_timespec ots = { sec, nsec };
		struct __kernel_timespec ts = { sec, nsec };

		if (new_ts)
			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMPNS_NEW,
				 sizeof(ts), &ts);
		else
			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMPNS_OLD,
				 sizeof(ots), &ots);
	} else if (sock_flag(sk, SOCK_RCVTSTAMP)) {
		struct __kernel_old_timeval otv = { sec, nsec / NSEC_PER_USEC };
		struct __kernel_sock_timeval tv = { sec, nsec / NSEC_PER_USEC };

		if (new_ts)
			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMP_NEW,
				 sizeof(tv), &tv);
		else
			put_cmsg(msg, SOL_SOCKET, SO_TIMESTAMP_OLD,
				 sizeof(otv), &otv);
	}
	if (exasock_inet_cmsg_flags(tsk) & IP_CMSG_PKTINFO) {
		struct in_pktinfo info = {
			.ipi_ifindex = hdr->ifindex,
			.ipi_spec_dst.s_addr = (__force __be32)hdr->dst_addr,
			.ipi_addr.s_addr = (__force __be32)hdr->dst_addr,
		};

		put_cmsg(msg, SOL_IP, IP_PKTINFO, sizeof(info), &info);
	}
}

static int exasock_recvmsg(struct socket *sock, struct msghdr *msg,
			   size_t len, int flags)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	struct exasock_rx_entry hdr;
	u64 resets = 0;
	long timeo;
	int err;

	if (!twin)
		return -EBADFD;
	if (!exasock_accelerated(esk) || (flags & MSG_ERRQUEUE))
		return twin->ops->recvmsg(twin, msg, len,
					  flags & ~MSG_EXA_CONTINUE);
	if (exasock_is_tcp(esk))
		return exasock_tcp_recvmsg(esk, twin, msg, len, flags);

	timeo = sock_rcvtimeo(&esk->sk, flags & MSG_DONTWAIT);
	for (;;) {
		/* Pending errors first, as udp_recvmsg() does. */
		err = sock_error(&esk->sk);
		exasock_error_seen(esk);
		if (err)
			break;
		err = exasock_ring_read(&esk->rx, msg, len, flags, &hdr,
					&resets);
		if (err >= 0)
			exasock_udp_put_cmsgs(esk, twin->sk, msg, &hdr);
		if (err != -EAGAIN)
			break;
		err = twin->ops->recvmsg(twin, msg, len, flags | MSG_DONTWAIT);
		exasock_sync_flags(esk);
		if (err != -EAGAIN) {
			if (err >= 0)
				exasock_sock_stat_add(esk,
						      EXASOCK_STAT_RX_NATIVE, 1);
			break;
		}
		/* Shut down and drained: end of file, as udp_recvmsg(). */
		if (READ_ONCE(twin->sk->sk_shutdown) & RCV_SHUTDOWN) {
			err = 0;
			break;
		}
		err = exasock_wait_data(esk, &timeo);
		if (err)
			break;
		cond_resched();
	}
	if (resets)
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_RESET, resets);
	return err;
}

static int exasock_sendmsg(struct socket *sock, struct msghdr *msg,
			   size_t len)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	bool accelerated;
	int err;

	if (!twin)
		return -EBADFD;
	if (exasock_is_tcp(esk)) {
		/* A stream has no "frame to drop": warming sends nothing. */
		if (msg->msg_flags & MSG_EXA_WARM) {
			exasock_sock_stat_add(esk, EXASOCK_STAT_TX_WARM, 1);
			return len;
		}
		exasock_sync_twin(sock);
		exasock_tcp_reconcile_err(esk, twin->sk);
		if (msg->msg_flags & MSG_EXA_ADVANCE) {
			err = exasock_tcp_raw_advance(esk, twin, msg, len);
		} else {
			/* any header built is stale after this send */
			if (unlikely(READ_ONCE(esk->raw_armed)))
				exasock_tcp_raw_cancel(esk, twin->sk);
			err = twin->ops->sendmsg(twin, msg, len);
		}
		exasock_tcp_reconcile_err(esk, twin->sk);
		return err;
	}
	/* Only a TCP stream has bytes to account as sent. */
	if (msg->msg_flags & MSG_EXA_ADVANCE)
		return -EOPNOTSUPP;
	accelerated = exasock_accelerated(esk);
	if (accelerated && READ_ONCE(esk->lport)) {
		err = exasock_udp_sendmsg(esk, msg, len);
		if (err != -ENOTSUPP)
			return err;
	}

	/* The kernel's own path: ARP, fragmentation, cmsgs, errors. */
	if (msg->msg_flags & MSG_EXA_WARM) {
		exasock_sock_stat_add(esk, EXASOCK_STAT_TX_WARM, 1);
		return len;
	}
	exasock_sync_twin(sock);
	err = twin->ops->sendmsg(twin, msg, len);
	if (accelerated) {
		exasock_sock_stat_add(esk, EXASOCK_STAT_TX_NATIVE, 1);
		exasock_count(&exasock_stats, EXASOCK_STAT_TX_SLOW);
		/* The send may have autobound the twin to a new port. */
		if (!READ_ONCE(esk->lport))
			exasock_update(esk);
	}
	return err;
}

static __poll_t exasock_poll(struct file *file, struct socket *sock,
			     poll_table *wait)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	struct sock *sk = sock->sk;
	__poll_t mask;

	sock_poll_wait(file, sock, wait);
	if (!twin)
		return EPOLLERR;
	if (exasock_is_tcp(esk))
		exasock_tcp_reconcile_err(esk, twin->sk);

	mask = twin->ops->poll(twin->file, twin, NULL);
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (exasock_accelerated(esk) && exasock_is_tcp(esk))
		mask = exasock_tcp_poll(esk, twin->sk, mask);
	else if (exasock_accelerated(esk) && !exasock_ring_empty(&esk->rx))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!sock_writeable(sk)) {
		mask &= ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
		sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
		set_bit(SOCK_NOSPACE, &sock->flags);
	}
	return mask;
}

static int exasock_ioctl(struct socket *sock, unsigned int cmd,
			 unsigned long arg)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	int len;

	if (!twin)
		return -EBADFD;
	if (cmd == SIOCINQ && exasock_accelerated(esk)) {
		len = exasock_is_tcp(esk) ? exasock_tcp_inq(esk, twin->sk) :
		      exasock_ring_next_len(&esk->rx);
		if (len >= 0)
			return put_user(len, (int __user *)arg);
	}
	/* The ring's bytes come before the twin's urgent mark. */
	if (cmd == SIOCATMARK && exasock_accelerated(esk) &&
	    exasock_is_tcp(esk) && !exasock_ring_empty(&esk->rx))
		return put_user(0, (int __user *)arg);
	return twin->ops->ioctl(twin, cmd, arg);
}

static int exasock_shutdown(struct socket *sock, int how)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	int err;

	if (!twin)
		return -EBADFD;
	err = twin->ops->shutdown(twin, how);
	if (exasock_accelerated(esk))
		exasock_sync_flags(esk);
	sock->sk->sk_state_change(sock->sk);
	return err;
}

static int exasock_mmap(struct file *file, struct socket *sock,
			struct vm_area_struct *vma)
{
	struct exasock_sock *esk = exasock_sk(sock->sk);

	if (!exasock_accelerated(esk))
		return -ENODEV;
	return exasock_ring_mmap(&esk->rx, vma);
}

static int exasock_adopt(struct exasock_sock *esk, int fd)
{
	struct sock *sk = &esk->sk;
	struct socket *twin;
	struct sock *tsk;
	int err;

	twin = sockfd_lookup(fd, &err);
	if (!twin)
		return err;
	tsk = twin->sk;

	err = -EPROTONOSUPPORT;
	if (!tsk || tsk->sk_family != AF_INET || twin->type != sk->sk_type ||
	    tsk->sk_protocol != sk->sk_protocol)
		goto put;
	/* A TCP twin must not have started: the ring follows it from the
	 * first byte, and a listener's children from their first.
	 */
	err = -EISCONN;
	if (exasock_is_tcp(esk) && tsk->sk_state != TCP_CLOSE)
		goto put;
	err = -EXDEV;
	if (!net_eq(sock_net(tsk), sock_net(sk)))
		goto put;

	lock_sock(sk);
	err = -EISCONN;
	if (esk->twin)
		goto unlock;
	write_lock_bh(&tsk->sk_callback_lock);
	err = -EBUSY;	/* adopted already, or in use by the kernel */
	if (!tsk->sk_user_data) {
		exasock_twin_install(esk, tsk, NULL);
		err = 0;
	}
	write_unlock_bh(&tsk->sk_callback_lock);
	if (err)
		goto unlock;
	exasock_copy_sock_bits(sk, tsk);	/* sk is locked */
	exasock_copy_sockopts(sk, tsk, READ_ONCE(tsk->sk_rcvlowat));
	exasock_adopt_timestamps(sk, tsk);
	sock_valbool_flag(sk, SOCK_KEEPOPEN, sock_flag(tsk, SOCK_KEEPOPEN));
	WRITE_ONCE(esk->twin_sk, tsk);
	WRITE_ONCE(esk->twin, twin);
	release_sock(sk);
	return 0;

unlock:
	release_sock(sk);
put:
	sockfd_put(twin);
	return err;
}

/**
 * exasock_attach_twin - make @twin, a connection just accepted by the
 * twin of @parent, the twin of @esk (a new socket, not yet visible)
 *
 * The reference to @twin's file passes to @esk.
 */
void exasock_attach_twin(struct exasock_sock *esk, struct socket *twin,
			 struct exasock_sock *parent)
{
	struct sock *tsk = twin->sk;

	write_lock_bh(&tsk->sk_callback_lock);
	exasock_twin_install(esk, tsk, parent);
	write_unlock_bh(&tsk->sk_callback_lock);
	exasock_copy_sock_bits(&esk->sk, tsk);	/* esk not yet visible */
	/* The listener's mark, which its accelerated twin (so this one's
	 * clone) does not keep: for the twin too, until acceleration says.
	 */
	WRITE_ONCE(tsk->sk_rcvlowat, READ_ONCE(parent->sk.sk_rcvlowat));
	exasock_copy_sockopts(&esk->sk, tsk,
			      READ_ONCE(parent->sk.sk_rcvlowat));
	exasock_adopt_timestamps(&esk->sk, tsk);
	sock_valbool_flag(&esk->sk, SOCK_KEEPOPEN,
			  sock_flag(tsk, SOCK_KEEPOPEN));
	esk->no_accel = parent->no_accel;
	WRITE_ONCE(esk->twin_sk, tsk);
	WRITE_ONCE(esk->twin, twin);
}

/* SO_EXA_TWIN_SOCKOPT: the SOL_SOCKET options that belong to the twin. */
static bool exasock_twin_sockopt(int optname)
{
	switch (optname) {
	case SO_ATTACH_FILTER:
	case SO_ATTACH_BPF:
	case SO_DETACH_FILTER:
	case SO_LOCK_FILTER:
		return true;
	default:
		return false;
	}
}

static int exasock_set_twin_sockopt(struct exasock_sock *esk,
				    sockptr_t optval, unsigned int optlen)
{
	struct socket *twin = READ_ONCE(esk->twin);
	struct exasock_sockopt o;

	if (optlen < sizeof(o))
		return -EINVAL;
	if (copy_from_sockptr(&o, optval, sizeof(o)))
		return -EFAULT;
	if (o.level != SOL_SOCKET || o.reserved)
		return -EINVAL;
	if (!exasock_twin_sockopt(o.optname))
		return -ENOPROTOOPT;
	if (!twin)
		return -EBADFD;
	if (sockptr_is_kernel(optval))
		return -EINVAL;		/* the inner pointer is a user one */
	return sock_setsockopt(twin, SOL_SOCKET, o.optname,
			       USER_SOCKPTR(u64_to_user_ptr(o.optval)),
			       o.optlen);
}

/*
 * getsockopt(SO_EXA_TWIN_SOCKOPT): SO_GET_FILTER, read from the twin, as
 * sk_get_filter() reads it (which is not exported). @o->optlen counts
 * instructions, in and out, as SO_GET_FILTER's length does: 0 asks for
 * the count. A filter given as an eBPF program cannot be read back
 * (EACCES).
 */
static int exasock_get_twin_filter(struct socket *twin,
				   struct exasock_sockopt *o)
{
	struct sock *tsk = twin->sk;
	struct sock_fprog_kern *fprog;
	struct sk_filter *filter;
	int ret = 0;

	lock_sock(tsk);
	filter = rcu_dereference_protected(tsk->sk_filter,
					   lockdep_sock_is_held(tsk));
	if (!filter)
		goto out;
	ret = -EACCES;
	fprog = filter->prog->orig_prog;
	if (!fprog)
		goto out;
	ret = fprog->len;
	if (!o->optlen)
		goto out;	/* asks for the count */
	ret = -EINVAL;
	if (o->optlen < fprog->len)
		goto out;
	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(o->optval), fprog->filter,
			 bpf_classic_proglen(fprog)))
		goto out;
	ret = fprog->len;
out:
	release_sock(tsk);
	if (ret >= 0)
		o->optlen = ret;
	return ret < 0 ? ret : 0;
}

static int exasock_getsockopt_twin(struct exasock_sock *esk,
				   char __user *optval, int __user *optlen,
				   int len)
{
	struct socket *twin = READ_ONCE(esk->twin);
	struct exasock_sockopt o;
	int err;

	if (len < (int)sizeof(o))
		return -EINVAL;
	if (copy_from_user(&o, optval, sizeof(o)))
		return -EFAULT;
	if (o.level != SOL_SOCKET || o.reserved)
		return -EINVAL;
	if (o.optname != SO_GET_FILTER)
		return -ENOPROTOOPT;
	if ((int)o.optlen < 0)
		return -EINVAL;		/* as sock_getsockopt() */
	if (!twin)
		return -EBADFD;
	err = exasock_get_twin_filter(twin, &o);
	if (err)
		return err;
	if (copy_to_user(optval, &o, sizeof(o)) ||
	    put_user((int)sizeof(o), optlen))
		return -EFAULT;
	return 0;
}

/*
 * recvmmsg() failed after it had something to return: keep the error
 * for the next call, as the kernel's recvmmsg stores it in sk_err. A
 * TCP socket's errors are its twin's (the mirror makes SO_ERROR see it).
 */
static int exasock_set_pending_error(struct exasock_sock *esk, int err)
{
	struct socket *twin = esk->twin;

	if (err <= 0 || err > MAX_ERRNO)
		return -EINVAL;
	if (!twin)
		return -EBADFD;
	if (exasock_is_tcp(esk)) {
		WRITE_ONCE(twin->sk->sk_err, err);
		exasock_tcp_mirror_err(esk, twin->sk);
		if (exasock_accelerated(esk))
			exasock_tcp_sync_flags(esk, twin->sk);
	} else {
		WRITE_ONCE(esk->sk.sk_err, err);
		exasock_twin_set_flags(esk, EXASOCK_RING_F_ERROR);
	}
	return 0;
}

static int exasock_setsockopt_exa(struct exasock_sock *esk, int optname,
				  sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = &esk->sk;
	int val, err = 0;

	if (optname == SO_EXA_TWIN_SOCKOPT)
		return exasock_set_twin_sockopt(esk, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	switch (optname) {
	case SO_EXA_ADOPT:
		return exasock_adopt(esk, val);
	case SO_EXA_PENDING_ERROR:
		return exasock_set_pending_error(esk, val);
	case SO_EXA_SYNC:
		if (!esk->twin)
			return -EBADFD;
		exasock_sync_twin(esk->sk.sk_socket);
		return 0;
	case SO_EXA_NO_ACCEL:
		lock_sock(sk);
		if (val && esk->accelerated)
			err = -EPERM;	/* too late to opt out */
		else if (!val && esk->no_accel)
			err = -EPERM;	/* opting out is permanent */
		else if (val)
			esk->no_accel = true;
		release_sock(sk);
		return err;
	default:
		return -ENOPROTOOPT;
	}
}

static bool exasock_is_mc_join(int optname)
{
	switch (optname) {
	case IP_ADD_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case MCAST_JOIN_GROUP:
	case MCAST_JOIN_SOURCE_GROUP:
		return true;
	default:
		return false;
	}
}

static int exasock_setsockopt(struct socket *sock, int level, int optname,
			      sockptr_t optval, unsigned int optlen)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	int err;

	if (level == SOL_EXASOCK)
		return exasock_setsockopt_exa(esk, optname, optval, optlen);
	if (!twin)
		return -EBADFD;

	/* SOL_SOCKET never arrives here: the kernel sets those on our
	 * sock, and exasock_sync_twin() carries them over (the socket
	 * filters come through SO_EXA_TWIN_SOCKOPT).
	 *
	 * An upper layer protocol (kernel TLS) would take over the twin's
	 * receive queue, which the ring is filled from: refused on an
	 * accelerated connection, so that TLS libraries keep to their own
	 * record layer.
	 */
	if (level == SOL_TCP && optname == TCP_ULP && exasock_is_tcp(esk) &&
	    exasock_accelerated(esk))
		return -EOPNOTSUPP;
	err = twin->ops->setsockopt(twin, level, optname, optval, optlen);
	/* TCP_INQ has the twin read (exasock_tcp_wants_cmsgs()) */
	if (!err && level == SOL_TCP && optname == TCP_INQ)
		exasock_sync_twin(sock);
	/* A group joined on an attached interface accelerates the socket. */
	if (!err && level == SOL_IP && exasock_is_mc_join(optname))
		exasock_update(esk);
	/* TTL, TOS, device binding...: rebuild cached headers. */
	WRITE_ONCE(esk->opt_gen, esk->opt_gen + 1);
	return err;
}

void exasock_sock_stats(struct exasock_sock *esk, u64 out[__EXASOCK_STAT_MAX])
{
	struct sock *tsk = READ_ONCE(esk->twin_sk);
	int i;

	for (i = 0; i < __EXASOCK_STAT_MAX; i++)
		out[i] = atomic64_read(&esk->stats[i]);
	if (exasock_is_tcp(esk) && tsk)
		exasock_tcp_stats(tsk, out);
}

static void exasock_fill_info(struct exasock_sock *esk,
			      struct exasock_sock_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = esk->id;
	info->accelerated = exasock_accelerated(esk);
	info->state = exasock_sock_state(esk);
	info->local_addr = (__force __u32)READ_ONCE(esk->laddr);
	info->peer_addr = (__force __u32)READ_ONCE(esk->raddr);
	info->local_port = (__force __u16)READ_ONCE(esk->lport);
	info->peer_port = (__force __u16)READ_ONCE(esk->rport);
	info->ifindex = READ_ONCE(esk->sk.sk_bound_dev_if);
	exasock_sock_stats(esk, info->stats);
}

/* SO_EXA_ROUTE: 1 if a connect to the sockaddr_in at @optval would be
 * accelerated, 0 if not, or -errno.
 */
static int exasock_route_query(struct exasock_sock *esk, char __user *optval,
			       int len)
{
	struct socket *twin = READ_ONCE(esk->twin);
	struct sockaddr_in sin;
	struct sock *tsk;

	if (!twin)
		return -EBADFD;
	if (len < (int)sizeof(sin))
		return -EINVAL;
	if (copy_from_user(&sin, optval, sizeof(sin)))
		return -EFAULT;
	if (sin.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	tsk = twin->sk;
	if (esk->no_accel)
		return 0;
	return exasock_route_attached(sock_net(tsk), sin.sin_addr.s_addr,
				      inet_sk(tsk)->inet_rcv_saddr,
				      READ_ONCE(tsk->sk_bound_dev_if));
}

static int exasock_getsockopt(struct socket *sock, int level, int optname,
			      char __user *optval, int __user *optlen)
{
	struct socket *twin = exasock_twin(sock);
	struct exasock_sock *esk = exasock_sk(sock->sk);
	union {
		int val;
		struct exasock_mmap_info mmap;
		struct exasock_sock_info info;
		struct exasock_device_info dev;
		u8 header[EXASOCK_TCP_HEADER_LEN];
	} u;
	int err;
	int len, size;

	if (level != SOL_EXASOCK) {
		if (!twin)
			return -EBADFD;
		return twin->ops->getsockopt(twin, level, optname, optval,
					     optlen);
	}

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case SO_EXA_TWIN_SOCKOPT:
		return exasock_getsockopt_twin(esk, optval, optlen, len);
	case SO_EXA_NO_ACCEL:
		u.val = READ_ONCE(esk->no_accel);
		size = sizeof(int);
		break;
	case SO_EXA_ACCELERATED:
		u.val = exasock_accelerated(esk);
		size = sizeof(int);
		break;
	case SO_EXA_MMAP_INFO:
		if (!exasock_accelerated(esk))
			return -ENODEV;
		exasock_ring_fill_info(&esk->rx, &u.mmap);
		size = sizeof(u.mmap);
		break;
	case SO_EXA_INFO:
		exasock_fill_info(esk, &u.info);
		size = sizeof(u.info);
		break;
	case SO_EXA_ROUTE:
		u.val = exasock_route_query(esk, optval, len);
		if (u.val < 0)
			return u.val;
		size = sizeof(int);
		break;
	case SO_EXA_DEVICE:
		if (!twin)
			return -EBADFD;
		err = exasock_tcp_raw_device(esk, twin->sk, &u.dev);
		if (err)
			return err;
		size = sizeof(u.dev);
		break;
	case SO_EXA_TCP_HEADER:
		/* All of it or nothing: a cut header arms for no frame. */
		if (len < (int)sizeof(u.header))
			return -EINVAL;
		if (!twin)
			return -EBADFD;
		err = exasock_tcp_raw_header(esk, twin->sk, u.header);
		if (err)
			return err;
		size = sizeof(u.header);
		break;
	default:
		return -ENOPROTOOPT;
	}

	len = min(len, size);
	if (copy_to_user(optval, &u, len) || put_user(len, optlen)) {
		/* no header reached the program: nothing is armed for it */
		if (optname == SO_EXA_TCP_HEADER)
			exasock_tcp_raw_cancel(esk, twin->sk);
		return -EFAULT;
	}
	return 0;
}

static int exasock_listen(struct socket *sock, int backlog)
{
	struct socket *twin = exasock_sync_twin(sock);
	int err;

	if (!twin)
		return -EBADFD;
	/* After a failed connect: children must not inherit our af_ops, or
	 * the backlog handler of a frame's header (tcp_raw.c).
	 */
	exasock_tcp_tx_give_back(twin->sk);
	lock_sock(twin->sk);
	exasock_tcp_raw_close(exasock_sk(sock->sk), twin->sk);
	release_sock(twin->sk);
	err = twin->ops->listen(twin, backlog);
	if (!err)
		exasock_update(exasock_sk(sock->sk));
	return err;
}

EXASOCK_DEFINE_ACCEPT(exasock_accept, exasock_tcp_accept)

/*
 * SO_RCVLOWAT of a TCP socket: capped as tcp_set_rcvlowat() caps it (half
 * the receive buffer, or half tcp_rmem[2] while TCP sizes it), so that
 * the window can hold that many bytes. The exasock socket keeps it.
 */
static int exasock_set_rcvlowat(struct sock *sk, int val)
{
	int cap;

	if (sk->sk_userlocks & SOCK_RCVBUF_LOCK)
		cap = READ_ONCE(sk->sk_rcvbuf) >> 1;
	else
		cap = READ_ONCE(sock_net(sk)->ipv4.sysctl_tcp_rmem[2]) >> 1;
	WRITE_ONCE(sk->sk_rcvlowat, min(val, cap) ? : 1);
	sk->sk_data_ready(sk);	/* perhaps readable now */
	return 0;
}

/* not const: .family is the module parameter's */
static struct proto_ops exasock_dgram_ops = {
	.owner		= THIS_MODULE,
	.release	= exasock_release,
	.bind		= exasock_bind,
	.connect	= exasock_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= exasock_getname,
	.poll		= exasock_poll,
	.ioctl		= exasock_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= exasock_shutdown,
	.setsockopt	= exasock_setsockopt,
	.getsockopt	= exasock_getsockopt,
	.sendmsg	= exasock_sendmsg,
	.recvmsg	= exasock_recvmsg,
	.mmap		= exasock_mmap,
};

static struct proto_ops exasock_stream_ops = {
	.owner		= THIS_MODULE,
	.release	= exasock_release,
	.bind		= exasock_bind,
	.connect	= exasock_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= exasock_accept,
	.getname	= exasock_getname,
	.poll		= exasock_poll,
	.ioctl		= exasock_ioctl,
	.listen		= exasock_listen,
	.shutdown	= exasock_shutdown,
	.setsockopt	= exasock_setsockopt,
	.getsockopt	= exasock_getsockopt,
	.sendmsg	= exasock_sendmsg,
	.recvmsg	= exasock_recvmsg,
	.mmap		= exasock_mmap,
	.set_rcvlowat	= exasock_set_rcvlowat,
};

/* After the RCU grace period (SOCK_RCU_FREE): nothing can see it now. */
static void exasock_sk_destruct(struct sock *sk)
{
	struct exasock_sock *esk = exasock_sk(sk);

	if (esk->accelerated)
		atomic_dec(&exasock_accel_socks);
	__skb_queue_purge(&esk->raw_held);	/* empty since release */
	exasock_ring_free(&esk->rx);
	atomic_dec(&exasock_live_socks);
}

/* A new exasock socket of sock->type on @sock (socket(2) or accept(2)). */
int exasock_sock_init(struct net *net, struct socket *sock, int kern)
{
	struct exasock_sock *esk;
	struct sock *sk;

	sk = sk_alloc(net, exasock_family, GFP_KERNEL, &exasock_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock_init_data(sock, sk);
	if (sock->type == SOCK_STREAM) {
		sock->ops = &exasock_stream_ops;
		sk->sk_protocol = IPPROTO_TCP;
	} else {
		sock->ops = &exasock_dgram_ops;
		sk->sk_protocol = IPPROTO_UDP;
	}
	sock->state = SS_UNCONNECTED;
	sk->sk_destruct = exasock_sk_destruct;
	sock_set_flag(sk, SOCK_RCU_FREE);

	esk = exasock_sk(sk);
	INIT_HLIST_NODE(&esk->hash_node);
	seqlock_init(&esk->rx_src_lock);
	__skb_queue_head_init(&esk->raw_held);
	atomic_inc(&exasock_live_socks);

	/* Ids in list order, so that a dump resuming by id misses none. */
	mutex_lock(&exasock_socks_lock);
	esk->id = ++exasock_next_id;
	list_add_tail(&esk->list_node, &exasock_socks);
	mutex_unlock(&exasock_socks_lock);
	return 0;
}

static int exasock_create(struct net *net, struct socket *sock, int protocol,
			  int kern)
{
	switch (sock->type) {
	case SOCK_DGRAM:
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
		break;
	case SOCK_STREAM:
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		break;
	default:
		return -ESOCKTNOSUPPORT;
	}
	return exasock_sock_init(net, sock, kern);
}

static struct net_proto_family exasock_family_ops = {
	.create	= exasock_create,
	.owner	= THIS_MODULE,
};

void exasock_socket_gauges(u64 stats[__EXASOCK_STAT_MAX])
{
	stats[EXASOCK_STAT_SOCKETS] = atomic_read(&exasock_live_socks);
	stats[EXASOCK_STAT_ACCEL_SOCKETS] = atomic_read(&exasock_accel_socks);
	exasock_tcp_gauges(stats);
}

/**
 * exasock_socket_init - register the socket family
 *
 * Return: 0, or the error of sock_register() (-EEXIST when another
 * module has the family number).
 */
int exasock_socket_init(int family)
{
	int err;

	if (family <= 0 || family >= NPROTO)
		return -EINVAL;
	exasock_family = family;
	exasock_family_ops.family = family;
	exasock_dgram_ops.family = family;
	exasock_stream_ops.family = family;

	err = proto_register(&exasock_proto, 1);
	if (err)
		return err;
	err = sock_register(&exasock_family_ops);
	if (err)
		proto_unregister(&exasock_proto);
	return err;
}

void exasock_socket_exit(void)
{
	sock_unregister(exasock_family);
	/* sk_destruct callbacks still queued run our code */
	rcu_barrier();
	proto_unregister(&exasock_proto);
}
