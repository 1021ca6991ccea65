/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * <exasock/socket.h>: per-socket control of exasock acceleration.
 *
 * The socket option itself, from <linux/exasock.h>:
 *
 *   int one = 1;
 *   setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &one, sizeof(one));
 *
 * opts a socket out of acceleration. It must be set before the socket is
 * accelerated (before the bind(), connect() or IP_ADD_MEMBERSHIP that
 * would accelerate it); on an accelerated socket it fails with EPERM.
 * Opting out is permanent: setting it back to 0 fails with EPERM. Under
 * "exasock --no-auto" sockets start opted out and setting 0 before bind
 * or connect opts them in.
 *
 * Without libexasock.so preloaded, the kernel rejects SOL_EXASOCK on an
 * ordinary AF_INET socket with ENOPROTOOPT; the helpers below hide that.
 */
#ifndef EXASOCK_SOCKET_H
#define EXASOCK_SOCKET_H

#include <linux/exasock.h>	/* SOL_EXASOCK, SO_EXA_NO_ACCEL, ... */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * exasock_disable_acceleration - opt @fd out of acceleration for good
 *
 * Return: 0 on success, including on a socket exasock would never
 * accelerate (TCP, UNIX, ...) and on any socket when libexasock.so is not
 * preloaded (nothing would accelerate it then, so there is nothing to
 * do). -1 with errno set otherwise: EPERM when @fd is already
 * accelerated, EBADF or ENOTSOCK when @fd is not a socket.
 */
int exasock_disable_acceleration(int fd);

/*
 * exasock_is_accelerated - is @fd an accelerated exasock socket?
 *
 * Return: 1 if it is, 0 if not (also when libexasock.so is not preloaded
 * and @fd is an ordinary socket), -1 with errno EBADF or ENOTSOCK when
 * @fd is not a socket.
 */
int exasock_is_accelerated(int fd);

#ifdef __cplusplus
}
#endif

#endif /* EXASOCK_SOCKET_H */
