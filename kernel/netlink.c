// SPDX-License-Identifier: GPL-2.0
/*
 * The "exasock" generic netlink family: attach and detach interfaces,
 * list them, dump sockets, read module counters. The attribute trees are
 * drawn at the top of uapi/linux/exasock.h.
 *
 * Dumps fill kernel skbs under our locks; the copy to user memory happens
 * later, in netlink_recvmsg(), with no lock of ours held.
 */
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/sock.h>
#include "exasock.h"

static const struct nla_policy exasock_policy[EXASOCK_A_MAX + 1] = {
	[EXASOCK_A_IF_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),
	[EXASOCK_A_IF_NAME]	= { .type = NLA_NUL_STRING,
				    .len = IFNAMSIZ - 1 },
};

static struct genl_family exasock_genl_family;

static int exasock_put_stats(struct sk_buff *skb, int attr,
			     const u64 stats[__EXASOCK_STAT_MAX])
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(skb, attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = EXASOCK_STAT_UNSPEC + 1; i < __EXASOCK_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, stats[i], EXASOCK_STAT_UNSPEC))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* The device named by the request, with a reference; or NULL and extack. */
static struct net_device *exasock_nl_dev(struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nlattr **attrs = info->attrs;
	struct net_device *dev;

	if (!!attrs[EXASOCK_A_IF_IFINDEX] == !!attrs[EXASOCK_A_IF_NAME]) {
		GENL_SET_ERR_MSG(info, "give exactly one of ifindex and name");
		return ERR_PTR(-EINVAL);
	}
	if (attrs[EXASOCK_A_IF_IFINDEX])
		dev = dev_get_by_index(net,
				       nla_get_u32(attrs[EXASOCK_A_IF_IFINDEX]));
	else
		dev = dev_get_by_name(net, nla_data(attrs[EXASOCK_A_IF_NAME]));
	if (!dev) {
		GENL_SET_ERR_MSG(info, "no such interface in this namespace");
		return ERR_PTR(-ENODEV);
	}
	return dev;
}

static int exasock_nl_if_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev = exasock_nl_dev(info);
	int err;

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	rtnl_lock();
	/* found before RTNL: it may have moved to another namespace since */
	if (!net_eq(dev_net(dev), genl_info_net(info))) {
		NL_SET_ERR_MSG(info->extack, "interface left the namespace");
		err = -ENODEV;
	} else {
		err = exasock_iface_attach(dev, info->extack);
	}
	rtnl_unlock();
	dev_put(dev);
	return err;
}

static int exasock_nl_if_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct net_device *dev = exasock_nl_dev(info);
	int err;

	if (IS_ERR(dev))
		return PTR_ERR(dev);
	rtnl_lock();
	err = exasock_iface_detach(dev, info->extack);
	rtnl_unlock();
	dev_put(dev);
	return err;
}

static int exasock_nl_if_fill(struct sk_buff *skb, struct netlink_callback *cb,
			      struct exasock_iface *ifc)
{
	u64 stats[__EXASOCK_STAT_MAX];
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &exasock_genl_family, NLM_F_MULTI, EXASOCK_CMD_IF_GET);
	if (!hdr)
		return -EMSGSIZE;
	exasock_counters_sum(&ifc->stats, stats);
	if (nla_put_u32(skb, EXASOCK_A_IF_IFINDEX, ifc->dev->ifindex) ||
	    nla_put_string(skb, EXASOCK_A_IF_NAME, ifc->dev->name) ||
	    exasock_put_stats(skb, EXASOCK_A_IF_STATS, stats)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: how many of this namespace's interfaces were sent. */
static int exasock_nl_if_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	struct exasock_iface *ifc;
	long idx = 0;

	rtnl_lock();
	exasock_for_each_iface(ifc) {
		if (!net_eq(dev_net(ifc->dev), net))
			continue;
		if (idx++ < cb->args[0])
			continue;
		if (exasock_nl_if_fill(skb, cb, ifc)) {
			idx--;
			break;
		}
	}
	rtnl_unlock();
	cb->args[0] = idx;
	return skb->len;
}

struct exasock_sock_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int exasock_nl_sock_fill(struct exasock_sock *esk, void *arg)
{
	struct exasock_sock_dump *d = arg;
	u64 stats[__EXASOCK_STAT_MAX];
	struct sk_buff *skb = d->skb;
	struct sock *sk = &esk->sk;
	void *hdr;

	exasock_sock_stats(esk, stats);
	hdr = genlmsg_put(skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &exasock_genl_family,
			  NLM_F_MULTI, EXASOCK_CMD_SOCK_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, EXASOCK_A_SOCK_ID, esk->id, EXASOCK_A_PAD) ||
	    nla_put_u8(skb, EXASOCK_A_SOCK_PROTO, sk->sk_protocol) ||
	    nla_put_u8(skb, EXASOCK_A_SOCK_STATE, exasock_sock_state(esk)) ||
	    nla_put_in_addr(skb, EXASOCK_A_SOCK_LOCAL_ADDR,
			    READ_ONCE(esk->laddr)) ||
	    nla_put_be16(skb, EXASOCK_A_SOCK_LOCAL_PORT,
			 READ_ONCE(esk->lport)) ||
	    nla_put_in_addr(skb, EXASOCK_A_SOCK_PEER_ADDR,
			    READ_ONCE(esk->raddr)) ||
	    nla_put_be16(skb, EXASOCK_A_SOCK_PEER_PORT,
			 READ_ONCE(esk->rport)) ||
	    nla_put_u32(skb, EXASOCK_A_SOCK_RECV_Q, exasock_sock_recv_q(esk)) ||
	    nla_put_u32(skb, EXASOCK_A_SOCK_SEND_Q, exasock_sock_send_q(esk)) ||
	    nla_put_u32(skb, EXASOCK_A_SOCK_UID,
			from_kuid_munged(sk_user_ns(NETLINK_CB(d->cb->skb).sk),
					 sock_i_uid(sk))) ||
	    nla_put_u64_64bit(skb, EXASOCK_A_SOCK_INODE, sock_i_ino(sk),
			      EXASOCK_A_PAD) ||
	    exasock_put_stats(skb, EXASOCK_A_SOCK_STATS, stats)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: the socket id to resume from; cb->args[1]: finished. */
static int exasock_nl_sock_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct exasock_sock_dump d = { .skb = skb, .cb = cb };
	u64 resume;

	if (cb->args[1])
		return 0;
	resume = exasock_for_each_sock(sock_net(cb->skb->sk), cb->args[0],
				       exasock_nl_sock_fill, &d);
	if (resume)
		cb->args[0] = resume;
	else
		cb->args[1] = 1;
	return skb->len;
}

static int exasock_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	u64 stats[__EXASOCK_STAT_MAX];
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &exasock_genl_family, 0,
				EXASOCK_CMD_STATS_GET);
	if (!hdr)
		goto nospace;

	exasock_counters_sum(&exasock_stats, stats);
	exasock_socket_gauges(stats);
	if (nla_put_u32(msg, EXASOCK_A_VERSION, EXASOCK_VERSION_CODE) ||
	    nla_put_u64_64bit(msg, EXASOCK_A_FEATURES, EXASOCK_FEATURES_ALL,
			      EXASOCK_A_PAD) ||
	    exasock_put_stats(msg, EXASOCK_A_STATS, stats))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_small_ops exasock_genl_ops[] = {
	{
		.cmd	= EXASOCK_CMD_IF_ATTACH,
		.doit	= exasock_nl_if_attach,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= EXASOCK_CMD_IF_DETACH,
		.doit	= exasock_nl_if_detach,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= EXASOCK_CMD_IF_GET,
		.dumpit	= exasock_nl_if_dump,
	},
	{
		.cmd	= EXASOCK_CMD_SOCK_GET,
		.dumpit	= exasock_nl_sock_dump,
	},
	{
		.cmd	= EXASOCK_CMD_STATS_GET,
		.doit	= exasock_nl_stats_get,
	},
};

static struct genl_family exasock_genl_family __ro_after_init = {
	.name		= EXASOCK_GENL_NAME,
	.version	= EXASOCK_GENL_VERSION,
	.maxattr	= EXASOCK_A_MAX,
	.policy		= exasock_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= exasock_genl_ops,
	.n_small_ops	= ARRAY_SIZE(exasock_genl_ops),
	.resv_start_op	= EXASOCK_CMD_MAX + 1,
};

int exasock_netlink_init(void)
{
	return genl_register_family(&exasock_genl_family);
}

void exasock_netlink_exit(void)
{
	genl_unregister_family(&exasock_genl_family);
}
