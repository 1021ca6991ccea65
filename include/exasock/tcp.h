/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * <exasock/tcp.h>: TCP frames the program sends itself.
 *
 * For the lowest send latency a program can build a TCP segment ahead of
 * time and put it on the wire by its own means (a packet socket, a NIC's
 * own API, an FPGA) instead of send(). The kernel still runs the
 * connection: it is told about the bytes afterwards, keeps them for
 * retransmission and moves its sequence numbers on.
 *
 *   char frame[EXASOCK_TCP_HEADER_LEN + MAX_PAYLOAD];
 *   ssize_t hlen = exasock_tcp_build_header(fd, frame, sizeof(frame), 0, 0);
 *   memcpy(frame + hlen, payload, n);
 *   exasock_tcp_set_length(frame, hlen, n);
 *   exasock_tcp_calc_checksum(frame, hlen, frame + hlen, n);
 *   ... send the hlen + n bytes on the interface exasock_tcp_get_device()
 *       names ...
 *   exasock_tcp_send_advance(fd, payload, n);
 *
 * Rules:
 * - The frame must be the next thing sent on the connection: a send(),
 *   write() or another header after the build makes the header stale,
 *   and a stale frame must not be sent (the peer would get two different
 *   sets of bytes for the same sequence numbers). An advance on a stale
 *   header sends its bytes the ordinary way. Once the frame is sent,
 *   advance before any other send, shutdown() or close().
 * - Keep the payload within the connection's MSS (getsockopt TCP_MAXSEG)
 *   and the frame within the interface's MTU.
 * - Do not change the frame between exasock_tcp_calc_checksum() and the
 *   advance, and advance exactly the bytes that were sent.
 * - The header has the acknowledgement and window of the moment it was
 *   built; build it shortly before sending. It carries no TCP options.
 *
 * All functions return 0 (build_header: the header length) on success and
 * -1 with errno set on error. Without libexasock.so preloaded, or on a
 * socket that is not an accelerated TCP connection, the socket functions
 * fail with EOPNOTSUPP and send nothing.
 */
#ifndef EXASOCK_TCP_H
#define EXASOCK_TCP_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/exasock.h>	/* EXASOCK_TCP_HEADER_LEN */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * exasock_tcp_get_device - the interface @fd's connection leaves by
 * @dev: receives its name (NUL-terminated), @dev_len bytes at most
 * @port_num: receives the device's port number on a multi-port NIC
 *	(dev_port; 0 on a one-port device); may be NULL
 *
 * Errors: EOPNOTSUPP (not an accelerated TCP socket), ENOTCONN, ENOBUFS
 * (@dev_len too short for the name), EHOSTUNREACH (no route any more),
 * EBADF, ENOTSOCK.
 */
int exasock_tcp_get_device(int fd, char *dev, size_t dev_len, int *port_num);

/*
 * exasock_tcp_build_header - Ethernet, IPv4 and TCP headers of the next
 * segment of @fd's connection, at the start of @buf (@len bytes)
 * @offset, @flags: must be 0
 *
 * The IPv4 length is that of a segment without payload: set it with
 * exasock_tcp_set_length(). The TCP checksum is left 0.
 *
 * Return: the header length (EXASOCK_TCP_HEADER_LEN), or -1. Errors:
 * EOPNOTSUPP (also for connections the kernel signs or transforms:
 * TCP-MD5, TCP-AO, kTLS), ENOTCONN (not established), EAGAIN (try again soon: the
 * kernel still has unsent bytes, the peer's window or the congestion
 * window has no room for a full segment, or the next hop's address is
 * being resolved),
 * ENOBUFS (@len too short), EINVAL (@offset or @flags not 0),
 * EHOSTUNREACH, EBADF, ENOTSOCK.
 */
ssize_t exasock_tcp_build_header(int fd, void *buf, size_t len, size_t offset,
				 int flags);

/*
 * exasock_tcp_set_length - set the IPv4 total length for @data_len bytes
 * of payload and recompute the IPv4 header checksum
 * @hdr: the frame's headers, @hdr_len bytes of them
 *
 * Errors: EINVAL (not an IPv4 TCP frame, or headers cut short),
 * EMSGSIZE (the datagram would be longer than 65535 bytes).
 */
int exasock_tcp_set_length(void *hdr, size_t hdr_len, size_t data_len);

/*
 * exasock_tcp_calc_checksum - compute and store the TCP checksum of the
 * segment whose headers are @hdr (@hdr_len bytes) and payload @data
 * (@data_len bytes)
 *
 * Errors: EINVAL, EMSGSIZE as for exasock_tcp_set_length().
 */
int exasock_tcp_calc_checksum(void *hdr, size_t hdr_len, const void *data,
			      size_t data_len);

/*
 * exasock_tcp_send_advance - tell the kernel that @data_len bytes at
 * @data went out in a frame built on the last header
 *
 * The kernel keeps the bytes for retransmission and moves the
 * connection's sequence numbers past them. Bytes beyond what the peer's
 * window and the congestion window allowed when the header was built are
 * sent again the kernel's way (the peer may get them twice; TCP allows
 * that). Waits for room in the send
 * buffer if needed, even on a non-blocking socket: the bytes are on the
 * wire already and must be accounted. Raises no SIGPIPE.
 *
 * Errors: EOPNOTSUPP (nothing sent), EPIPE, ECONNRESET and the like (the
 * connection is gone; some of the bytes may have been accounted before),
 * EBADF, ENOTSOCK.
 */
int exasock_tcp_send_advance(int fd, const void *data, size_t data_len);

#ifdef __cplusplus
}
#endif

#endif /* EXASOCK_TCP_H */
