/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * <exasock/exasock.h>: the exasock extension library, libexasock_ext.
 *
 * Link with libexasock_ext (pkg-config --cflags --libs libexasock_ext).
 * Every function works whether or not the program runs under exasock
 * (the exasock launcher, i.e. libexasock.so preloaded); when it does not,
 * each behaves as documented below, so one binary serves both cases.
 */
#ifndef EXASOCK_EXASOCK_H
#define EXASOCK_EXASOCK_H

#include <linux/exasock.h>	/* EXASOCK_VERSION(), EXASOCK_VERSION_CODE */
#include <exasock/socket.h>
#include <exasock/tcp.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * exasock_version_code - version of exasock the program runs under
 *
 * Return: EXASOCK_VERSION(major, minor, patch) of the preloaded library,
 * comparable with EXASOCK_VERSION(), or 0 when libexasock.so is not
 * preloaded. Running under exasock does not mean that the kernel module is
 * loaded or that any socket is accelerated: see exasock_is_accelerated().
 */
int exasock_version_code(void);

/*
 * exasock_version_text - the same as a string
 *
 * Return: a static string such as "3.0.0", or NULL when libexasock.so is
 * not preloaded.
 */
const char *exasock_version_text(void);

#ifdef __cplusplus
}
#endif

#endif /* EXASOCK_EXASOCK_H */
