/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference lives here. Force-included by Kbuild
 * into each object, so the code elsewhere is written against one API.
 */
#ifndef _EXASOCK_COMPAT_H
#define _EXASOCK_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_clear(struct vm_area_struct *vma,
				  unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* 6.12 dropped RT_CONN_FLAGS: the route scope comes from the socket. */
#include <net/route.h>
#ifndef RT_CONN_FLAGS
#define RT_CONN_FLAGS(sk)	ip_sock_rt_tos(sk)
#endif

#endif /* _EXASOCK_COMPAT_H */
