/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * exasock: socket acceleration for unmodified Linux programs.
 *
 * This header is the whole ABI between exasock.ko and user space: the
 * socket family, its socket options, the shared-memory ring layout and
 * the "exasock" generic netlink family.
 *
 * Generic netlink commands and their attribute trees
 * --------------------------------------------------
 *
 * EXASOCK_CMD_IF_ATTACH (CAP_NET_ADMIN in the socket's network namespace)
 * EXASOCK_CMD_IF_DETACH (CAP_NET_ADMIN)
 *   EXASOCK_A_IF_IFINDEX: NLA_U32    \ exactly one of these
 *   EXASOCK_A_IF_NAME: NLA_NUL_STRING / names the interface
 *
 * EXASOCK_CMD_IF_GET (dump; reply one message per attached interface)
 *   EXASOCK_A_IF_IFINDEX: NLA_U32
 *   EXASOCK_A_IF_NAME: NLA_NUL_STRING
 *   EXASOCK_A_IF_STATS: NLA_NESTED
 *     EXASOCK_A_STAT_*: NLA_U64 each (interface counters)
 *
 * EXASOCK_CMD_SOCK_GET (dump; one message per accelerated socket in the
 *                       requester's network namespace)
 *   EXASOCK_A_SOCK_ID: NLA_U64             unique socket id
 *   EXASOCK_A_SOCK_PROTO: NLA_U8           IPPROTO_UDP or IPPROTO_TCP
 *   EXASOCK_A_SOCK_STATE: NLA_U8           enum exasock_sock_state
 *   EXASOCK_A_SOCK_LOCAL_ADDR: NLA_BE32
 *   EXASOCK_A_SOCK_LOCAL_PORT: NLA_BE16
 *   EXASOCK_A_SOCK_PEER_ADDR: NLA_BE32
 *   EXASOCK_A_SOCK_PEER_PORT: NLA_BE16
 *   EXASOCK_A_SOCK_RECV_Q: NLA_U32         bytes not yet read
 *   EXASOCK_A_SOCK_SEND_Q: NLA_U32         bytes not yet sent/acked
 *   EXASOCK_A_SOCK_UID: NLA_U32
 *   EXASOCK_A_SOCK_INODE: NLA_U64          inode of the socket file
 *   EXASOCK_A_SOCK_STATS: NLA_NESTED
 *     EXASOCK_A_STAT_*: NLA_U64 each (per-socket counters)
 *
 * EXASOCK_CMD_STATS_GET (do; module-wide, all namespaces)
 *   EXASOCK_A_VERSION: NLA_U32             EXASOCK_VERSION_CODE
 *   EXASOCK_A_FEATURES: NLA_U64            EXASOCK_FEATURE_* mask
 *   EXASOCK_A_STATS: NLA_NESTED
 *     EXASOCK_A_STAT_*: NLA_U64 each (module counters)
 */
#ifndef _UAPI_LINUX_EXASOCK_H
#define _UAPI_LINUX_EXASOCK_H

#include <linux/types.h>

#define EXASOCK_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + (c))
#define EXASOCK_VERSION_CODE		EXASOCK_VERSION(3, 0, 0)

/*
 * Socket family. 25 was AF_WANPIPE, which no kernel registers; the module
 * parameter "family" moves it if another module has taken it.
 */
#define AF_EXASOCK			25
#define PF_EXASOCK			AF_EXASOCK

/* Socket option level of the family (also accepted on AF_INET sockets
 * by libexasock, before conversion).
 */
#define SOL_EXASOCK			0x4558	/* "EX" */

/* int: non-zero opts the socket out of acceleration. Setting it on an
 * accelerated socket fails with EPERM; so does clearing it once set.
 */
#define SO_EXA_NO_ACCEL			1
/* int (write only): take over the AF_INET socket open at this fd number
 * as the native twin. Only before bind/connect on the exasock socket.
 */
#define SO_EXA_ADOPT			2
/* struct exasock_mmap_info (read only): where the rings are. */
#define SO_EXA_MMAP_INFO		3
/* int (read only): 1 once the socket is accelerated. */
#define SO_EXA_ACCELERATED		4
/* struct exasock_sock_info (read only): identity and counters. */
#define SO_EXA_INFO			5
/* int (write only, value ignored): a SOL_SOCKET option of the socket
 * changed; pass it on to the native twin now (the library does this
 * after such setsockopt calls; otherwise it happens at the next bind,
 * connect, send or close).
 */
#define SO_EXA_SYNC			6
/* (read) in: struct sockaddr_in, out: int. Would connecting the socket
 * to that address accelerate it (a route through an attached interface)?
 * Needs the twin; the library asks before a TCP connect.
 */
#define SO_EXA_ROUTE			7
/* struct exasock_device_info (read only): the interface an accelerated
 * TCP connection leaves by.
 */
#define SO_EXA_DEVICE			8
/* (read only) the Ethernet, IPv4 and TCP headers of the connection's next
 * segment, EXASOCK_TCP_HEADER_LEN bytes, for a frame the program sends
 * itself (exasock_tcp_build_header()). Fails with EAGAIN while the
 * kernel still has unsent data, the peer's window or the congestion
 * window has no room for a full segment, or the neighbour is being
 * resolved; ENOTCONN outside ESTABLISHED; EOPNOTSUPP on a socket that is
 * not accelerated TCP, or whose segments the kernel signs or transforms
 * (TCP-MD5, TCP-AO, kTLS). See "Frames the program sends itself".
 */
#define SO_EXA_TCP_HEADER		9
/* struct exasock_sockopt: a SOL_SOCKET option that has to act on the
 * native twin rather than on the exasock socket: the socket filters,
 * which the receive paths run on the twin. The kernel keeps every other
 * SOL_SOCKET option on the exasock socket, so the library sends these
 * calls here. setsockopt: SO_ATTACH_FILTER, SO_ATTACH_BPF,
 * SO_DETACH_FILTER, SO_LOCK_FILTER. getsockopt, the struct in and out:
 * SO_GET_FILTER, whose optlen counts instructions as SO_GET_FILTER's
 * does (0 asks for the count) and comes back as the count.
 */
#define SO_EXA_TWIN_SOCKOPT		10
/* int (write only): an error, a positive errno, that recvmmsg() met after
 * it had datagrams (or bytes) to return. The socket keeps it as its
 * pending error, for SO_ERROR, poll's POLLERR and the next receive, as
 * the kernel's own recvmmsg keeps it. EINVAL outside 1..4095.
 */
#define SO_EXA_PENDING_ERROR		11

struct exasock_sockopt {
	__u32 level;		/* SOL_SOCKET */
	__u32 optname;
	__u64 optval;		/* user pointer to the option's value */
	__u32 optlen;
	__u32 reserved;		/* 0 */
};

/* sendmsg() flag: run the whole send path but drop the frame just before
 * it would reach the device, to warm caches.
 */
#define MSG_EXA_WARM			0x800000	/* unused by Linux */

/* recvmsg() flag on a TCP socket: the call goes on from bytes the library
 * already read from the ring, so an error or the end of the stream is
 * left for the next call, as tcp_recvmsg() leaves it once it has copied.
 */
#define MSG_EXA_CONTINUE		0x200000	/* unused by Linux */

/*
 * Frames the program sends itself
 * -------------------------------
 *
 * getsockopt(SO_EXA_TCP_HEADER) returns the headers of the next segment
 * (sequence number, acknowledgement and window as of the call; no TCP
 * options) and arms the socket. The program completes the frame with
 * its payload, sends it on the interface SO_EXA_DEVICE names (a packet
 * socket, a NIC's own API, an FPGA), and then passes the same payload to
 * sendmsg() with MSG_EXA_ADVANCE. The kernel then queues the bytes for
 * retransmission exactly as a send() would, but does not put their first
 * transmission on the wire again. Until that sendmsg() the kernel holds
 * the peer's segments that acknowledge bytes it has not sent yet, instead
 * of dropping them. An ordinary send in between disarms the socket: the
 * header is stale, and the MSG_EXA_ADVANCE bytes are then simply sent.
 */
#define MSG_EXA_ADVANCE			0x400000	/* unused by Linux */

#define EXASOCK_TCP_HEADER_LEN		(14 + 20 + 20)	/* Eth, IPv4, TCP */

struct exasock_device_info {
	__u32 ifindex;
	__u32 port;		/* the device's dev_port (0 on one-port NICs) */
	char name[16];		/* IFNAMSIZ, NUL-terminated */
};

#define EXASOCK_FEATURE_UDP		(1ULL << 0)
#define EXASOCK_FEATURE_NATIVE_TWIN	(1ULL << 1)
#define EXASOCK_FEATURE_MSG_WARM	(1ULL << 2)
#define EXASOCK_FEATURE_TCP		(1ULL << 3)
#define EXASOCK_FEATURE_TCP_RAW		(1ULL << 4)	/* SO_EXA_TCP_HEADER */
#define EXASOCK_FEATURES_ALL		(EXASOCK_FEATURE_UDP | \
					 EXASOCK_FEATURE_NATIVE_TWIN | \
					 EXASOCK_FEATURE_MSG_WARM | \
					 EXASOCK_FEATURE_TCP | \
					 EXASOCK_FEATURE_TCP_RAW)

/*
 * Receive ring
 * ------------
 *
 * Each accelerated socket has one receive ring. It is exported as two
 * mappings, both obtained with mmap() on the socket at fixed page offsets:
 *
 *   EXASOCK_MMAP_RX_RING   read-only: kernel-written header and data
 *   EXASOCK_MMAP_RX_USER   read-write: the consumer index
 *
 * The byte offsets of each field inside those mappings come from
 * getsockopt(SOL_EXASOCK, SO_EXA_MMAP_INFO); never hard-code them.
 *
 * The data area is a power-of-two sized byte ring. Producer and consumer
 * are free-running __u32 byte counts; (index & (size - 1)) is the offset.
 * A record is a struct exasock_rx_entry followed by its payload, padded to
 * EXASOCK_RX_ALIGN. A record never wraps: when the tail of the ring is too
 * short, the kernel writes an entry with EXASOCK_RX_F_PAD covering it.
 *
 *   kernel (producer)                   process (consumer)
 *   -----------------                   ------------------
 *   c = READ_ONCE(consumer)             p = load_acquire(producer)  (C)
 *   if (room(p, c) < rec) drop, count   if (c == p) empty
 *   write record at p                   copy record at c
 *   store_release(producer, p + rec)(A) cas(consumer, c, c + rec)   (B)
 *
 * (A) publishes the record before the new producer index (matches C).
 * (B) is a compare-and-swap so that several consumers (threads, forked
 *     processes, and the kernel's own recvmsg) may share one ring: a
 *     consumer copies first and keeps its copy only if the swap succeeds;
 *     the producer never writes over [consumer, consumer + size), so a
 *     successful swap proves the copy was intact.
 *
 * A TCP socket's ring (rx_kind EXASOCK_RING_STREAM) is the same, without
 * records: the bytes between consumer and producer are the next bytes of
 * the stream, in order, wrapping at the end of the data area
 * (rx_align is 1). A consumer may take any number of them.
 */
#define EXASOCK_MMAP_RX_RING		0x000000000ULL
#define EXASOCK_MMAP_RX_USER		0x100000000ULL

#define EXASOCK_RX_ALIGN		64
#define EXASOCK_RX_F_PAD		(1U << 0)	/* skip, no datagram */

struct exasock_rx_entry {
	__u32 len;		/* payload bytes following this header */
	__u32 flags;		/* EXASOCK_RX_F_* */
	__u32 src_addr;		/* IPv4, network byte order */
	__u32 dst_addr;		/* IPv4, network byte order */
	__u16 src_port;		/* network byte order */
	__u16 dst_port;		/* network byte order */
	__u32 ifindex;		/* arrival interface */
	__u64 tstamp_ns;	/* arrival time, CLOCK_REALTIME */
};

/* bits of the kernel-written "flags" word */
#define EXASOCK_RING_F_NATIVE_PENDING	(1U << 0) /* twin has data queued */
#define EXASOCK_RING_F_ERROR		(1U << 1) /* so_error is set */
#define EXASOCK_RING_F_SHUTDOWN		(1U << 2) /* no more data will come */

/*
 * The user map also holds "waiting", which consumers raise (an atomic
 * count) while they spin on an empty stream ring. It is a hint: while
 * it is zero the kernel leaves a TCP socket's new bytes with the twin
 * (NATIVE_PENDING), for the next recvmsg() to copy straight to the
 * reader, one copy on the reader's CPU; while it is not, it copies them
 * into the ring as they arrive.
 */

/* struct exasock_mmap_info.rx_kind */
#define EXASOCK_RING_DGRAM		0	/* records, one per datagram */
#define EXASOCK_RING_STREAM		1	/* the bytes of a TCP stream */

struct exasock_mmap_info {
	__u32 rx_size;		/* data area bytes, a power of two */
	__u32 rx_align;		/* record alignment, EXASOCK_RX_ALIGN */
	__u64 rx_ring_len;	/* length to map at EXASOCK_MMAP_RX_RING */
	__u64 rx_user_len;	/* length to map at EXASOCK_MMAP_RX_USER */
	__u64 rx_producer;	/* offset of __u32 producer in the ring map */
	__u64 rx_flags;		/* offset of __u32 flags in the ring map */
	__u64 rx_data;		/* offset of the data area in the ring map */
	__u64 rx_consumer;	/* offset of __u32 consumer in the user map */
	__u32 rx_kind;		/* EXASOCK_RING_DGRAM or EXASOCK_RING_STREAM */
	__u32 rx_reserved;
	__u64 rx_waiting;	/* offset of __u32 waiting in the user map */
};

/*
 * Socket states. UDP sockets use the first three; a TCP socket reports
 * EXASOCK_STATE_TCP_BASE + the TCP state (Linux's TCP_ESTABLISHED == 1
 * ... TCP_CLOSING == 11 numbering, as in /proc/net/tcp).
 */
enum exasock_sock_state {
	EXASOCK_STATE_UNBOUND,
	EXASOCK_STATE_BOUND,		/* UDP bound, not connected */
	EXASOCK_STATE_CONNECTED,	/* UDP connected */
	EXASOCK_STATE_TCP_BASE = 16,
	EXASOCK_STATE_TCP_ESTABLISHED = EXASOCK_STATE_TCP_BASE + 1,
	EXASOCK_STATE_TCP_SYN_SENT,
	EXASOCK_STATE_TCP_SYN_RECV,
	EXASOCK_STATE_TCP_FIN_WAIT1,
	EXASOCK_STATE_TCP_FIN_WAIT2,
	EXASOCK_STATE_TCP_TIME_WAIT,
	EXASOCK_STATE_TCP_CLOSE,
	EXASOCK_STATE_TCP_CLOSE_WAIT,
	EXASOCK_STATE_TCP_LAST_ACK,
	EXASOCK_STATE_TCP_LISTEN,
	EXASOCK_STATE_TCP_CLOSING,
	__EXASOCK_STATE_MAX,
};

/* Per-socket counters (struct exasock_sock_info.stats[] index and
 * EXASOCK_A_STAT_* attribute type share these numbers).
 */
enum {
	EXASOCK_STAT_UNSPEC,
	EXASOCK_STAT_RX_PACKETS,	/* datagrams put in the ring */
	EXASOCK_STAT_RX_BYTES,
	EXASOCK_STAT_RX_RING_FULL,	/* dropped: no room in the ring */
	EXASOCK_STAT_RX_NATIVE,		/* datagrams read from the twin */
	EXASOCK_STAT_TX_PACKETS,	/* frames sent by the fast path */
	EXASOCK_STAT_TX_BYTES,
	EXASOCK_STAT_TX_NATIVE,		/* sends handed to the twin */
	EXASOCK_STAT_TX_WARM,		/* MSG_EXA_WARM sends */
	EXASOCK_STAT_TX_ERRORS,		/* fast-path sends that failed */
	EXASOCK_STAT_RX_RING_RESET,	/* consumer index found invalid */
	/* module and interface counters */
	EXASOCK_STAT_SOCKETS,		/* live exasock sockets */
	EXASOCK_STAT_ACCEL_SOCKETS,	/* of which accelerated */
	EXASOCK_STAT_RX_FRAMES,		/* frames seen on attached ifs */
	EXASOCK_STAT_RX_ACCEL,		/* UDP into a ring, TCP to the twin */
	EXASOCK_STAT_RX_PASS,		/* frames left to the kernel */
	EXASOCK_STAT_RX_MALFORMED,	/* of which malformed */
	EXASOCK_STAT_RX_BAD_CSUM,	/* bad UDP/TCP sum, left to kernel */
	EXASOCK_STAT_RX_DROPPED,	/* ring full, no memory, filtered */
	EXASOCK_STAT_TX_FAST,		/* frames sent by the fast path */
	EXASOCK_STAT_TX_SLOW,		/* sends handed to the kernel */
	EXASOCK_STAT_TX_UNRESOLVED,	/* of which: neighbour unresolved */
	EXASOCK_STAT_RING_BYTES,	/* ring memory allocated */
	EXASOCK_STAT_ACCEL_FAILED,	/* no ring: left native */
	/* TCP, per socket (from the protocol's own state) */
	EXASOCK_STAT_TCP_BYTES_RECEIVED,	/* payload bytes received */
	EXASOCK_STAT_TCP_BYTES_DELIVERED,	/* of which put in the ring */
	EXASOCK_STAT_TCP_BYTES_SENT,		/* payload bytes sent */
	EXASOCK_STAT_TCP_BYTES_ACKED,		/* of which acknowledged */
	EXASOCK_STAT_TCP_RETRANS_SEGS,		/* segments retransmitted */
	EXASOCK_STAT_TCP_RETRANS_TIMEOUT,	/* of which RTO expiries (>= 6.7) */
	EXASOCK_STAT_TCP_RETRANS_BYTES,		/* bytes retransmitted */
	EXASOCK_STAT_TCP_SND_WND,		/* peer's window, bytes */
	EXASOCK_STAT_TCP_RCV_WND,		/* our window, bytes */
	EXASOCK_STAT_TCP_SND_WSCALE,
	EXASOCK_STAT_TCP_RCV_WSCALE,
	EXASOCK_STAT_TCP_CWND,			/* segments */
	EXASOCK_STAT_TCP_SSTHRESH,		/* segments */
	EXASOCK_STAT_TCP_MSS,			/* bytes, sending MSS */
	EXASOCK_STAT_TCP_RTT_US,		/* smoothed RTT */
	EXASOCK_STAT_TCP_RTO_US,
	/* TCP, module-wide */
	EXASOCK_STAT_TCP_CONNS,			/* live accelerated TCP sockets */
	EXASOCK_STAT_TCP_ACCEPTED,		/* connections accepted */
	EXASOCK_STAT_TCP_UNREAD_RESETS,		/* closed with unread data */
	/* TCP frames the program sent itself, per socket */
	EXASOCK_STAT_TCP_RAW_HEADERS,		/* SO_EXA_TCP_HEADER built */
	EXASOCK_STAT_TCP_RAW_ADVANCES,		/* MSG_EXA_ADVANCE sends */
	EXASOCK_STAT_TCP_RAW_BYTES,		/* bytes they accounted */
	EXASOCK_STAT_TCP_RAW_HELD,		/* peer segments held */
	EXASOCK_STAT_TCP_RAW_STALE,		/* advances with a stale header */
	EXASOCK_STAT_TCP_RAW_LATE,		/* bytes the kernel could not
						 * count as sent at once
						 */
	/* module and interface: datagrams whose source input routing
	 * refused (martian, rp_filter), left to the kernel to drop
	 */
	EXASOCK_STAT_RX_BAD_SOURCE,
	__EXASOCK_STAT_MAX,
};
#define EXASOCK_STAT_MAX (__EXASOCK_STAT_MAX - 1)

struct exasock_sock_info {
	__u64 id;		/* same as EXASOCK_A_SOCK_ID */
	__u32 accelerated;	/* 0 or 1 */
	__u32 state;		/* enum exasock_sock_state */
	__u32 local_addr;	/* network byte order */
	__u32 peer_addr;
	__u16 local_port;
	__u16 peer_port;
	__u32 ifindex;		/* attached interface, 0 for any */
	__u64 stats[__EXASOCK_STAT_MAX];
};

/* Generic netlink */
#define EXASOCK_GENL_NAME		"exasock"
#define EXASOCK_GENL_VERSION		1

enum exasock_cmd {
	EXASOCK_CMD_UNSPEC,
	EXASOCK_CMD_IF_ATTACH,
	EXASOCK_CMD_IF_DETACH,
	EXASOCK_CMD_IF_GET,
	EXASOCK_CMD_SOCK_GET,
	EXASOCK_CMD_STATS_GET,
	__EXASOCK_CMD_MAX,
};
#define EXASOCK_CMD_MAX (__EXASOCK_CMD_MAX - 1)

enum exasock_attr {
	EXASOCK_A_UNSPEC,
	EXASOCK_A_IF_IFINDEX,
	EXASOCK_A_IF_NAME,
	EXASOCK_A_IF_STATS,
	EXASOCK_A_SOCK_ID,
	EXASOCK_A_SOCK_PROTO,
	EXASOCK_A_SOCK_STATE,
	EXASOCK_A_SOCK_LOCAL_ADDR,
	EXASOCK_A_SOCK_LOCAL_PORT,
	EXASOCK_A_SOCK_PEER_ADDR,
	EXASOCK_A_SOCK_PEER_PORT,
	EXASOCK_A_SOCK_RECV_Q,
	EXASOCK_A_SOCK_SEND_Q,
	EXASOCK_A_SOCK_UID,
	EXASOCK_A_SOCK_INODE,
	EXASOCK_A_SOCK_STATS,
	EXASOCK_A_VERSION,
	EXASOCK_A_FEATURES,
	EXASOCK_A_STATS,
	EXASOCK_A_PAD,
	__EXASOCK_A_MAX,
};
#define EXASOCK_A_MAX (__EXASOCK_A_MAX - 1)

#endif /* _UAPI_LINUX_EXASOCK_H */
