// SPDX-License-Identifier: GPL-2.0
/*
 * Accelerated TCP.
 *
 * An exasock TCP socket wraps the AF_INET TCP socket it was converted
 * from (or, for an accepted connection, the one the listener's twin
 * accepted). That twin runs the protocol: handshakes, ACKs, windows,
 * timers, retransmission, FIN and RST, keepalive, TIME_WAIT. It goes on
 * doing so after the program closes the socket or dies, until the
 * connection is over, so nothing here has to outlive the file.
 *
 * What exasock adds is the receive side. Each time the twin has new
 * in-order bytes (its data_ready callback, run under the twin's socket
 * lock) while a reader spins on the socket, they are moved into the
 * socket's stream ring, which the process has mapped and reads without
 * system calls. When nobody spins (the reader is busy, or copying a bulk
 * transfer) the bytes stay in the twin's receive queue, and the shared
 * flag EXASOCK_RING_F_NATIVE_PENDING sends the next read to recvmsg()
 * here, which copies them straight to the reader: one copy, on the
 * reader's CPU, as the kernel's own sockets do. Either way the bytes not
 * yet read count against the window the twin advertises, so a slow
 * reader closes the window exactly as with the kernel's own sockets.
 * The ring is bounded: what does not fit stays with the twin too.
 *
 * Sends go to the twin's tcp_sendmsg(): segmentation, congestion control
 * and retransmission need the kernel's send queue.
 *
 * The frames of an accelerated connection take exasock's short paths to
 * and from the twin: rx.c hands in-order segments straight to
 * tcp_v4_do_rcv(), and tx.c is the twin's IP output (its queue_xmit),
 * switched on when the connection is accelerated and back at close.
 */
#include <linux/file.h>
#include <linux/net.h>
#include <net/inet_connection_sock.h>
#include <net/tcp.h>
#include "exasock.h"

static atomic_t exasock_tcp_conns = ATOMIC_INIT(0);

/* Is the twin's next byte the urgent mark? Reads stop there (SIOCATMARK). */
static bool exasock_tcp_at_mark(const struct sock *tsk)
{
	const struct tcp_sock *tp = tcp_sk(tsk);

	return READ_ONCE(tp->urg_data) &&
	       READ_ONCE(tp->urg_seq) == READ_ONCE(tp->copied_seq);
}

/* Bytes the twin holds that are not in the ring yet. The urgent byte is
 * not one of them unless SO_OOBINLINE makes it data: a read steps over it
 * (exasock_tcp_skip_urg()), and with nothing after it there is nothing
 * to read, as tcp_poll() says.
 */
static u32 exasock_tcp_pending(const struct sock *tsk)
{
	const struct tcp_sock *tp = tcp_sk(tsk);
	u32 n = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);

	if (unlikely(n && exasock_tcp_at_mark(tsk)) &&
	    !sock_flag(tsk, SOCK_URGINLINE))
		n--;
	return n;
}

/*
 * Recompute the shared flags from the twin. Callers race (a listener's
 * callback runs without the twin's lock), so the look and the store are
 * done under the ring's producer_lock, which TCP does not otherwise use:
 * the last to store has looked last.
 */
void exasock_tcp_sync_flags(struct exasock_sock *esk, struct sock *tsk)
{
	atomic_t *flags = &esk->rx.shared->flags;
	u32 set = 0;
	bool pending;

	spin_lock_bh(&esk->rx.producer_lock);

	/* A listener's "bytes" are connections to accept: the flag sends
	 * the library's poll and accept to the kernel.
	 */
	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		pending = !reqsk_queue_empty(&inet_csk(tsk)->icsk_accept_queue);
	else
		pending = exasock_tcp_pending(tsk) != 0;

	if (pending)
		set |= EXASOCK_RING_F_NATIVE_PENDING;
	if (READ_ONCE(tsk->sk_err))
		set |= EXASOCK_RING_F_ERROR;
	/* End of stream only once everything before it is in the ring. */
	if ((READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN) && !pending)
		set |= EXASOCK_RING_F_SHUTDOWN;
	atomic_or(set, flags);
	atomic_andnot(~set & (EXASOCK_RING_F_NATIVE_PENDING |
			      EXASOCK_RING_F_ERROR | EXASOCK_RING_F_SHUTDOWN),
		      flags);
	spin_unlock_bh(&esk->rx.producer_lock);
}

static int exasock_tcp_actor(read_descriptor_t *desc, struct sk_buff *skb,
			     unsigned int offset, size_t len)
{
	struct exasock_ring *ring = desc->arg.data;
	u32 n = min_t(size_t, len, desc->count);

	if (!n)
		return 0;
	exasock_stream_put(ring, skb, offset, n);
	desc->count -= n;
	return n;
}

/*
 * Urgent data (MSG_OOB) stops tcp_read_sock() at the urgent byte, and a
 * read stops there too, as in tcp_recvmsg(), so that the bytes before and
 * after the mark never come in one read and SIOCATMARK can tell the
 * reader where it is. Only a reader at the mark (@step, with the ring
 * empty) goes past it: it steps over the byte, unless SO_OOBINLINE asked
 * for it in line (then it is ordinary data), whether or not recv(MSG_OOB)
 * read it already (TCP_URG_READ). Once the mark is behind, it is
 * forgotten.
 */
static void exasock_tcp_skip_urg(struct sock *tsk, bool step)
{
	struct tcp_sock *tp = tcp_sk(tsk);

	if (likely(!tp->urg_data))
		return;
	if (tp->urg_seq == tp->copied_seq) {
		/* nothing to step over until the byte has come */
		if (!step || !before(tp->copied_seq, tp->rcv_nxt))
			return;
		if (!sock_flag(tsk, SOCK_URGINLINE)) {
			WRITE_ONCE(tp->copied_seq, tp->copied_seq + 1);
			return;
		}
		WRITE_ONCE(tp->urg_data, 0);
	} else if (after(tp->copied_seq, tp->urg_seq)) {
		WRITE_ONCE(tp->urg_data, 0);
	}
}

/**
 * exasock_tcp_fill - move the twin's in-order bytes into the ring
 *
 * The caller owns the twin's socket lock (the twin's callbacks run in
 * softirq under bh_lock_sock(), or in process context from release_sock()
 * and under lock_sock()), which makes it the ring's only producer.
 */
void exasock_tcp_fill(struct exasock_sock *esk, struct sock *tsk)
{
	read_descriptor_t desc = { .arg.data = &esk->rx };
	u64 resets = 0;
	int n;

	if (!exasock_accelerated(esk))
		return;
	/* a new connection: runs without its lock; or the twin reads */
	if (tsk->sk_state == TCP_LISTEN || exasock_tcp_wants_cmsgs(esk, tsk))
		goto flags;
	exasock_tcp_skip_urg(tsk, false);
	desc.count = exasock_stream_room(&esk->rx, &resets);
	if (desc.count && exasock_tcp_pending(tsk)) {
		n = tcp_read_sock(tsk, &desc, exasock_tcp_actor);
		if (n > 0) {
			exasock_sock_stat_add(esk, EXASOCK_STAT_RX_BYTES, n);
			exasock_sock_stat_add(esk, EXASOCK_STAT_RX_PACKETS, 1);
		}
		exasock_tcp_skip_urg(tsk, false);
	}
	if (resets)
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_RESET, resets);
flags:
	exasock_tcp_sync_flags(esk, tsk);
}

/**
 * exasock_tcp_wants_cmsgs - does the socket ask for tcp_recvmsg()'s
 * control messages?
 * @esk: the socket, where SO_TIMESTAMP(NS) and SO_TIMESTAMPING are set
 * @tsk: its twin, where TCP_INQ is set
 *
 * tcp_recvmsg() gives receive timestamps for SO_TIMESTAMP(NS), and for
 * SO_TIMESTAMPING with a software or raw hardware report flag, and
 * TCP_INQ's count. Such a socket reads through the twin's own
 * tcp_recvmsg(): the ring is not filled (a byte stream in a ring keeps
 * no timestamps), and the twin keeps the socket's SO_RCVLOWAT.
 *
 * Return: true if it asks for any of them.
 */
bool exasock_tcp_wants_cmsgs(const struct exasock_sock *esk,
			     const struct sock *tsk)
{
	return unlikely(sock_flag(&esk->sk, SOCK_RCVTSTAMP) ||
			(READ_ONCE(esk->sk.sk_tsflags) &
			 (SOF_TIMESTAMPING_SOFTWARE |
			  SOF_TIMESTAMPING_RAW_HARDWARE)) ||
			tcp_sk(tsk)->recvmsg_inq);
}

/*
 * More bytes than this waiting in the twin is a bulk transfer: the reader
 * copies them straight from the twin (one copy, on its own CPU) rather
 * than through the ring (a copy in softirq, then a second one).
 */
#define EXASOCK_TCP_FILL_MAX	(16 * 1024)

/*
 * The twin's data_ready: fill the ring for a reader that spins on it;
 * otherwise (or for a bulk transfer) leave the bytes with the twin and
 * raise NATIVE_PENDING. Called with the twin locked (not for a listener:
 * see above).
 */
void exasock_tcp_data_ready(struct exasock_sock *esk, struct sock *tsk)
{
	if (!exasock_accelerated(esk))
		return;
	if (tsk->sk_state != TCP_LISTEN && !exasock_tcp_wants_cmsgs(esk, tsk) &&
	    (atomic_read(&esk->sleepers) ||
	     (READ_ONCE(esk->rx.user->waiting) &&
	      exasock_tcp_pending(tsk) <= EXASOCK_TCP_FILL_MAX)))
		exasock_tcp_fill(esk, tsk);
	else
		exasock_tcp_sync_flags(esk, tsk);
}

static int exasock_tcp_user_actor(read_descriptor_t *desc,
				  struct sk_buff *skb, unsigned int offset,
				  size_t len)
{
	struct msghdr *msg = desc->arg.data;
	size_t n = min_t(size_t, len, desc->count);

	if (!n)
		return 0;
	if (skb_copy_datagram_msg(skb, offset, msg, n))
		return -EFAULT;
	desc->count -= n;
	return n;
}

/* MSG_TRUNC: the bytes are read and dropped, as tcp_recvmsg() does. */
static int exasock_tcp_discard_actor(read_descriptor_t *desc,
				     struct sk_buff *skb, unsigned int offset,
				     size_t len)
{
	size_t n = min_t(size_t, len, desc->count);

	desc->count -= n;
	return n;
}

/*
 * The ring is empty and the twin holds bytes: copy them straight to the
 * caller. The ring is checked under the twin's lock, which keeps its
 * producer out, so no byte can slip into the ring ahead of ours. With
 * MSG_PEEK the bytes go to the ring instead, for the caller to peek at.
 * Return: bytes copied (0: look at the ring again), or -EFAULT.
 */
static int exasock_tcp_read_direct(struct exasock_sock *esk,
				   struct sock *tsk, struct msghdr *msg,
				   size_t len, int flags)
{
	read_descriptor_t desc = { .arg.data = msg, .count = len };
	int n = 0;

	lock_sock(tsk);
	if (flags & MSG_PEEK) {
		exasock_tcp_fill(esk, tsk);
	} else if (exasock_ring_empty(&esk->rx)) {
		exasock_tcp_skip_urg(tsk, true);
		n = tcp_read_sock(tsk, &desc, flags & MSG_TRUNC ?
				  exasock_tcp_discard_actor :
				  exasock_tcp_user_actor);
		exasock_tcp_skip_urg(tsk, false);
		exasock_tcp_sync_flags(esk, tsk);
	}
	release_sock(tsk);
	if (n > 0)
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_NATIVE, n);
	return n == -EFAULT ? -EFAULT : max(n, 0);
}

/* Process context: fill under the twin's lock. */
static void exasock_tcp_refill(struct exasock_sock *esk, struct sock *tsk)
{
	lock_sock(tsk);
	exasock_tcp_fill(esk, tsk);
	release_sock(tsk);
}

/* Readable for the kernel's own waits: more than @have bytes, or a
 * reason to look.
 */
static bool exasock_tcp_readable(struct exasock_sock *esk, struct sock *tsk,
				 u32 have)
{
	if (have ? exasock_stream_bytes(&esk->rx) + exasock_tcp_pending(tsk) >
		   have :
		   !exasock_ring_empty(&esk->rx) || exasock_tcp_pending(tsk))
		return true;
	return READ_ONCE(tsk->sk_err) ||
	       (READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN) ||
	       READ_ONCE(tsk->sk_state) == TCP_CLOSE;
}

static int exasock_tcp_wait(struct exasock_sock *esk, struct sock *tsk,
			    u32 have, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = &esk->sk;
	int err = 0;

	/* A sleeper, like a spinner, gets its bytes in the ring at once:
	 * woken, it only has to copy them out.
	 */
	atomic_inc(&esk->sleepers);
	add_wait_queue(sk_sleep(sk), &wait);
	while (!exasock_tcp_readable(esk, tsk, have)) {
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	atomic_dec(&esk->sleepers);
	return err;
}

/*
 * A TCP error lives in two places: on the twin, where its own connect()
 * and tcp_sendmsg() report (and clear) it, and on the exasock socket,
 * where SO_ERROR reads (and clears) it. Linux reports an error once, so
 * whichever side takes it, the other copy goes too.
 */

/* The twin's error callback: copy its error. */
void exasock_tcp_mirror_err(struct exasock_sock *esk, struct sock *tsk)
{
	int err = READ_ONCE(tsk->sk_err);

	WRITE_ONCE(esk->twin_err, err);
	WRITE_ONCE(esk->sk.sk_err, err);
}

/* Before and after each operation: drop the copy of an error taken on
 * the other side. Only the error mirrored is cleared, never a newer one.
 */
void exasock_tcp_reconcile_err(struct exasock_sock *esk, struct sock *tsk)
{
	int err = READ_ONCE(esk->twin_err);

	if (likely(!err))
		return;
	if (!READ_ONCE(esk->sk.sk_err))		/* SO_ERROR took it */
		cmpxchg(&tsk->sk_err, err, 0);
	else if (!READ_ONCE(tsk->sk_err))	/* connect/send took it */
		cmpxchg(&esk->sk.sk_err, err, 0);
	else
		return;
	cmpxchg(&esk->twin_err, err, 0);
	if (exasock_accelerated(esk))
		exasock_tcp_sync_flags(esk, tsk);
}

/* The twin's error, taken (as tcp_recvmsg() would) from both sockets. */
static int exasock_tcp_error(struct exasock_sock *esk, struct sock *tsk)
{
	int err;

	exasock_tcp_reconcile_err(esk, tsk);
	err = sock_error(tsk);
	if (err) {
		WRITE_ONCE(esk->twin_err, 0);
		WRITE_ONCE(esk->sk.sk_err, 0);
	}
	return err;
}

/*
 * MSG_PEEK short of its target (MSG_WAITALL, SO_RCVLOWAT) has seen @have
 * bytes, all the ring held: move the twin's next ones into the ring, or
 * wait for some. Return: 0 when there are more to look at; else the peek
 * ends with what it saw (the ring is full, the stream ends or fails, the
 * time is up, a signal).
 */
static int exasock_tcp_peek_more(struct exasock_sock *esk, struct sock *tsk,
				 u32 have, long *timeo)
{
	exasock_tcp_refill(esk, tsk);
	if (exasock_stream_bytes(&esk->rx) > have)
		return 0;
	if (exasock_tcp_pending(tsk))
		return -ENOBUFS;	/* all a peek can see */
	if (READ_ONCE(tsk->sk_err) || READ_ONCE(tsk->sk_state) == TCP_CLOSE ||
	    (READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN))
		return -EPIPE;
	return exasock_tcp_wait(esk, tsk, have, timeo);
}

/**
 * exasock_tcp_recvmsg - recvmsg() of an accelerated TCP socket
 *
 * The library reads the ring itself and comes here to wait, to learn
 * about errors and end of stream, and to have the twin's queued bytes
 * moved on (a zero-length read does only that). Semantics are
 * tcp_recvmsg()'s: SO_RCVLOWAT, MSG_WAITALL, MSG_PEEK, MSG_DONTWAIT,
 * SO_RCVTIMEO; data before errors; 0 at end of stream.
 */
int exasock_tcp_recvmsg(struct exasock_sock *esk, struct socket *twin,
			struct msghdr *msg, size_t len, int flags)
{
	bool more = flags & MSG_EXA_CONTINUE;	/* bytes before ours */
	struct sock *tsk = twin->sk;
	int target, copied = 0, n, err = 0;
	bool stuck = false;
	u64 resets = 0;
	long timeo;

	flags &= ~MSG_EXA_CONTINUE;
	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return twin->ops->recvmsg(twin, msg, len, flags);
	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		return -ENOTCONN;

	/* Control messages: the twin reads, once the ring has been read. */
	if (exasock_tcp_wants_cmsgs(esk, tsk) && exasock_ring_empty(&esk->rx)) {
		/* with bytes in hand, an error or the end waits */
		if (more && (READ_ONCE(tsk->sk_err) ||
			     (READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN)))
			return 0;
		exasock_tcp_reconcile_err(esk, tsk);
		n = twin->ops->recvmsg(twin, msg, len, flags);
		exasock_tcp_reconcile_err(esk, tsk);
		exasock_tcp_sync_flags(esk, tsk);
		return n;
	}

	timeo = sock_rcvtimeo(&esk->sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(&esk->sk, flags & MSG_WAITALL, len);
	if (!len) {
		exasock_tcp_refill(esk, tsk);	/* a nudge: fill the ring */
		return 0;
	}

	for (;;) {
		n = exasock_stream_read(&esk->rx, msg, len - copied, flags,
					&resets);
		if (n == -EFAULT) {
			err = copied ? 0 : -EFAULT;
			break;
		}
		if (n > 0) {
			copied += n;
			if (copied >= target)
				break;
			if (flags & MSG_PEEK) {
				/* A peek starts at the first unread byte
				 * each time: with more of them, look again.
				 */
				if (exasock_tcp_peek_more(esk, tsk, copied,
							  &timeo))
					break;
				if (!(flags & MSG_TRUNC))
					iov_iter_revert(&msg->msg_iter,
							copied);
				copied = 0;
			}
			continue;
		}

		/* The ring is empty: the twin's bytes come next, unless the
		 * urgent mark is in between.
		 */
		if ((copied || more) && exasock_tcp_at_mark(tsk))
			break;
		/* A peek at the mark looks past it and leaves it where it
		 * is: the twin's own peek does (the ring stops at the mark,
		 * so it stays empty meanwhile).
		 */
		if ((flags & MSG_PEEK) && exasock_tcp_at_mark(tsk) &&
		    exasock_tcp_pending(tsk)) {
			n = twin->ops->recvmsg(twin, msg, len, flags);
			exasock_tcp_reconcile_err(esk, tsk);
			return n;
		}
		if (exasock_tcp_pending(tsk)) {
			n = exasock_tcp_read_direct(esk, tsk, msg,
						    len - copied, flags);
			if (n < 0) {
				err = copied ? 0 : n;
				break;
			}
			copied += n;
			if (copied && (copied >= target || (flags & MSG_PEEK)))
				break;
			if (n || !exasock_ring_empty(&esk->rx))
				continue;
			stuck = true;	/* bytes the twin would not give */
		}
		if (copied || more) {
			if (READ_ONCE(tsk->sk_err) ||
			    READ_ONCE(tsk->sk_state) == TCP_CLOSE ||
			    (READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN) ||
			    !timeo || signal_pending(current))
				break;
		} else {
			if (sock_flag(tsk, SOCK_DONE))
				break;
			err = exasock_tcp_error(esk, tsk);
			if (err)
				break;
			if (READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN)
				break;
			if (READ_ONCE(tsk->sk_state) == TCP_CLOSE) {
				err = -ENOTCONN;
				break;
			}
		}
		err = exasock_tcp_wait(esk, tsk, 0, &timeo);
		/* The wait ends at once while the twin holds bytes. Should
		 * they be bytes it will not give (which the urgent byte's
		 * handling above is there to prevent), the call must still
		 * end by its timeout or a signal, and not burn the CPU.
		 */
		if (!err && stuck) {
			if (!timeo)
				err = -EAGAIN;
			else if (signal_pending(current))
				err = sock_intr_errno(timeo);
			else if (!schedule_timeout_interruptible(1) &&
				 timeo != MAX_SCHEDULE_TIMEOUT)
				timeo--;	/* a jiffy of SO_RCVTIMEO */
			stuck = false;
		}
		if (err) {
			if (copied || more)
				err = 0;
			break;
		}
		cond_resched();
	}
	if (resets)
		exasock_sock_stat_add(esk, EXASOCK_STAT_RX_RING_RESET, resets);
	return copied ? copied : err;
}

/*
 * SO_RCVLOWAT counts the bytes in the ring and the twin together, so the
 * exasock socket keeps it (exasock_tcp_poll(), exasock_tcp_recvmsg()).
 * The twin's stays 1: with its own, tcp_data_ready() would not call the
 * data_ready that fills the ring until that many bytes came after the
 * last ones the ring took.
 */
void exasock_tcp_twin_lowat(struct sock *tsk)
{
	if (READ_ONCE(tsk->sk_rcvlowat) != 1)
		WRITE_ONCE(tsk->sk_rcvlowat, 1);
}

/* poll() of an accelerated TCP socket, from the twin's tcp_poll() @mask. */
__poll_t exasock_tcp_poll(struct exasock_sock *esk, struct sock *tsk,
			  __poll_t mask)
{
	int lowat = max(READ_ONCE(esk->sk.sk_rcvlowat), 1);
	u32 avail;

	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		return mask;
	avail = exasock_stream_bytes(&esk->rx) + exasock_tcp_pending(tsk);
	if (lowat > 1 && !(READ_ONCE(tsk->sk_shutdown) & RCV_SHUTDOWN))
		mask &= ~(EPOLLIN | EPOLLRDNORM);
	/* At lowat 1 the twin's answer is right for its own bytes. Short
	 * of the mark, as tcp_epollin_ready(): readable all the same under
	 * memory pressure or once the window is nearly shut, since no more
	 * bytes may come.
	 */
	if (avail && (avail >= (u32)lowat || tcp_rmem_pressure(tsk) ||
		      tcp_receive_window(tcp_sk(tsk)) <=
		      inet_csk(tsk)->icsk_ack.rcv_mss) &&
	    (lowat > 1 || !exasock_ring_empty(&esk->rx)))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/*
 * SIOCINQ: bytes readable, in the ring and still in the twin, which
 * tcp_inq() counts as tcp_ioctl() does: up to the urgent mark, without
 * the FIN.
 */
int exasock_tcp_inq(struct exasock_sock *esk, struct sock *tsk)
{
	bool slow;
	int n;

	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		return -EINVAL;
	slow = lock_sock_fast(tsk);	/* also keeps the ring's producer out */
	n = exasock_stream_bytes(&esk->rx) + tcp_inq(tsk);
	unlock_sock_fast(tsk, slow);
	return n;
}

/**
 * exasock_tcp_release - before the twin is let go at close
 *
 * Closing with bytes the program never read resets the connection, as
 * tcp_close() does for its own receive queue (RFC 2525); the bytes in
 * the ring count as unread too. Called with the callbacks still ours.
 */
void exasock_tcp_release(struct exasock_sock *esk, struct sock *tsk)
{
	lock_sock(tsk);
	exasock_tcp_raw_close(esk, tsk);
	if (exasock_accelerated(esk) && !exasock_ring_empty(&esk->rx) &&
	    tsk->sk_state != TCP_LISTEN && tsk->sk_state != TCP_CLOSE) {
		sock_set_flag(tsk, SOCK_LINGER);
		WRITE_ONCE(tsk->sk_lingertime, 0);
		exasock_count(&exasock_stats, EXASOCK_STAT_TCP_UNREAD_RESETS);
	}
	release_sock(tsk);
	exasock_tcp_tx_give_back(tsk);
	if (exasock_accelerated(esk))
		atomic_dec(&exasock_tcp_conns);
}

void exasock_tcp_accelerated(struct exasock_sock *esk)
{
	esk->rx.stream = true;
	if (!exasock_tcp_wants_cmsgs(esk, esk->twin->sk))
		exasock_tcp_twin_lowat(esk->twin->sk);
	atomic_inc(&exasock_tcp_conns);
}

/**
 * exasock_tcp_accept - accept a connection on the listener's twin and
 * wrap it in @newsock, an exasock socket made here
 */
int exasock_tcp_accept(struct socket *sock, struct socket *newsock,
		       struct exasock_accept_arg *arg)
{
	struct exasock_sock *lesk = exasock_sk(sock->sk);
	struct socket *twin = READ_ONCE(lesk->twin), *ntwin;
	struct file *nfile;
	int err;

	if (!twin)
		return -EBADFD;
	err = sock_create_lite(AF_INET, SOCK_STREAM, IPPROTO_TCP, &ntwin);
	if (err)
		return err;
	ntwin->ops = twin->ops;
	__module_get(ntwin->ops->owner);
	err = exasock_twin_accept(twin, ntwin, arg);
	if (exasock_accelerated(lesk))
		exasock_tcp_sync_flags(lesk, twin->sk);	/* queue shorter */
	if (err) {
		sock_release(ntwin);
		return err;
	}
	nfile = sock_alloc_file(ntwin, 0, NULL);	/* releases on error */
	if (IS_ERR(nfile))
		return PTR_ERR(nfile);

	err = exasock_sock_init(sock_net(sock->sk), newsock, exasock_arg_kern(arg));
	if (err) {
		fput(nfile);
		return err;
	}
	exasock_attach_twin(exasock_sk(newsock->sk), ntwin, lesk);
	newsock->state = SS_CONNECTED;
	exasock_update(exasock_sk(newsock->sk));
	/* Bytes that came before the callbacks were ours. */
	exasock_tcp_refill(exasock_sk(newsock->sk), ntwin->sk);
	exasock_count(&exasock_stats, EXASOCK_STAT_TCP_ACCEPTED);
	return 0;
}

/* Recv-Q: unread bytes, or connections waiting to be accepted. */
u32 exasock_tcp_recv_q(struct exasock_sock *esk, struct sock *tsk)
{
	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		return READ_ONCE(tsk->sk_ack_backlog);
	return exasock_stream_bytes(&esk->rx) + exasock_tcp_pending(tsk);
}

/* Send-Q: bytes not yet acknowledged (0 for a listener). */
u32 exasock_tcp_send_q(struct sock *tsk)
{
	const struct tcp_sock *tp = tcp_sk(tsk);

	if (READ_ONCE(tsk->sk_state) == TCP_LISTEN)
		return 0;
	return max_t(int, READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una), 0);
}

/* The protocol's own figures, for exasock-stat -i. Racy reads: a
 * snapshot for people, not an atomic record.
 */
void exasock_tcp_stats(struct sock *tsk, u64 out[__EXASOCK_STAT_MAX])
{
	const struct inet_connection_sock *icsk = inet_csk(tsk);
	const struct tcp_sock *tp = tcp_sk(tsk);

	out[EXASOCK_STAT_TCP_BYTES_RECEIVED] = READ_ONCE(tp->bytes_received);
	/* into the ring, and straight from the twin */
	out[EXASOCK_STAT_TCP_BYTES_DELIVERED] = out[EXASOCK_STAT_RX_BYTES] +
						out[EXASOCK_STAT_RX_NATIVE];
	out[EXASOCK_STAT_TCP_BYTES_SENT] = READ_ONCE(tp->bytes_sent);
	out[EXASOCK_STAT_TCP_BYTES_ACKED] = READ_ONCE(tp->bytes_acked);
	out[EXASOCK_STAT_TCP_RETRANS_SEGS] = READ_ONCE(tp->total_retrans);
	out[EXASOCK_STAT_TCP_RETRANS_TIMEOUT] = exasock_tcp_rto_count(tp);
	out[EXASOCK_STAT_TCP_RETRANS_BYTES] = READ_ONCE(tp->bytes_retrans);
	out[EXASOCK_STAT_TCP_SND_WND] = READ_ONCE(tp->snd_wnd);
	out[EXASOCK_STAT_TCP_RCV_WND] = READ_ONCE(tp->rcv_wnd);
	out[EXASOCK_STAT_TCP_SND_WSCALE] = tp->rx_opt.snd_wscale;
	out[EXASOCK_STAT_TCP_RCV_WSCALE] = tp->rx_opt.rcv_wscale;
	out[EXASOCK_STAT_TCP_CWND] = tcp_snd_cwnd(tp);
	out[EXASOCK_STAT_TCP_SSTHRESH] = READ_ONCE(tp->snd_ssthresh);
	out[EXASOCK_STAT_TCP_MSS] = READ_ONCE(tp->mss_cache);
	out[EXASOCK_STAT_TCP_RTT_US] = READ_ONCE(tp->srtt_us) >> 3;
	out[EXASOCK_STAT_TCP_RTO_US] = jiffies_to_usecs(icsk->icsk_rto);
}

void exasock_tcp_gauges(u64 stats[__EXASOCK_STAT_MAX])
{
	stats[EXASOCK_STAT_TCP_CONNS] = atomic_read(&exasock_tcp_conns);
}
