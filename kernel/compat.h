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

static inline void vm_flags_set(struct vm_area_struct *vma,
				unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

/* 6.12 dropped RT_CONN_FLAGS: the route scope comes from the socket. */
#include <net/route.h>
#ifndef RT_CONN_FLAGS
#define RT_CONN_FLAGS(sk)	ip_sock_rt_tos(sk)
#endif

/* 6.10 passes accept() its flags in a struct proto_accept_arg. */
struct socket;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define exasock_accept_arg proto_accept_arg
#define exasock_twin_accept(twin, ntwin, arg)	(twin)->ops->accept(twin, ntwin, arg)
#define EXASOCK_DEFINE_ACCEPT(name, impl)				\
static int name(struct socket *sock, struct socket *newsock,		\
		struct proto_accept_arg *arg)				\
{									\
	return impl(sock, newsock, arg);				\
}
#else
struct exasock_accept_arg {
	int flags;
	bool kern;
};
#define exasock_twin_accept(twin, ntwin, arg)				\
	(twin)->ops->accept(twin, ntwin, (arg)->flags, (arg)->kern)
#define EXASOCK_DEFINE_ACCEPT(name, impl)				\
static int name(struct socket *sock, struct socket *newsock, int flags,	\
		bool kern)						\
{									\
	struct exasock_accept_arg arg = { .flags = flags, .kern = kern };	\
									\
	return impl(sock, newsock, &arg);				\
}
#endif
#define exasock_arg_kern(arg)	((arg)->kern)

/* 6.7 counts RTO expiries per socket. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define exasock_tcp_rto_count(tp)	READ_ONCE((tp)->total_rto)
#else
#define exasock_tcp_rto_count(tp)	0
#endif

/* 6.3 split OutRequests (counted by __ip_local_out()) from OutTransmits
 * (the old OUTPKTS, counted by ip_finish_output2()).
 */
#include <net/ip.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define exasock_ip_inc_out_requests(net) IP_INC_STATS(net, IPSTATS_MIB_OUTREQUESTS)
#else
#define exasock_ip_inc_out_requests(net) do { } while (0)
#endif

/* 6.7 added TCP-AO. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0) && defined(CONFIG_TCP_AO)
#define exasock_tcp_ao(sk)	(rcu_access_pointer(tcp_sk(sk)->ao_info) != NULL)
#else
#define exasock_tcp_ao(sk)	false
#endif

/* 6.6 moved the inet_sock bit fields into inet->inet_flags. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define exasock_ip_recverr(sk)	inet_test_bit(RECVERR, sk)
#else
#define exasock_ip_recverr(sk)	(inet_sk(sk)->recverr)
#endif

/* The IP_CMSG_* a socket asks for, moved into inet_flags in 6.6. */
#ifdef IP_CMSG_ALL
#define exasock_inet_cmsg_flags(sk)	inet_cmsg_flags(inet_sk(sk))
#else
#define exasock_inet_cmsg_flags(sk)	READ_ONCE(inet_sk(sk)->cmsg_flags)
#endif

/* The UDP socket table, per namespace since 6.2. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define exasock_udp_table(net)	((net)->ipv4.udp_table)
#else
#define exasock_udp_table(net)	(&udp_table)
#endif

/* A twin's backlog (rx.c): Debian's 6.1 exports tcp_add_backlog() but
 * not skb_condense(), its 6.12 the other way round.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define EXASOCK_HAVE_TCP_ADD_BACKLOG	1
#endif

#endif /* _EXASOCK_COMPAT_H */
