// SPDX-License-Identifier: GPL-2.0
/*
 * Attached interfaces: the devices whose received frames exasock looks
 * at. Attaching registers exasock_rx_handler on the device; a device
 * leaves when detached, when it is unregistered or moves namespace.
 *
 * The list is changed and walked under RTNL. The rx path finds the
 * exasock_iface through dev->rx_handler_data under RCU;
 * netdev_rx_handler_unregister() waits for those readers before we free.
 */
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/string.h>
#include "exasock.h"

LIST_HEAD(exasock_ifaces);

/* From the "interfaces=" parameter: names to attach as they come up. */
static char exasock_auto_names[256];

static bool exasock_auto_wanted(const char *name)
{
	const char *p = exasock_auto_names;
	size_t n = strlen(name);

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, name, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* Is any interface attached in @net? Takes RCU; any context. */
bool exasock_net_has_iface(struct net *net)
{
	struct net_device *dev;
	bool found = false;

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (exasock_dev_attached(dev)) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * exasock_iface_attach - start accelerating sockets on @dev
 *
 * Return: 0, -ENODEV for a device being unregistered, -EEXIST when
 * attached already, -EOPNOTSUPP for a device that is not Ethernet,
 * -EBUSY when another rx_handler (bridge, bond, macvlan...) owns it,
 * -ENOMEM. Under RTNL.
 */
int exasock_iface_attach(struct net_device *dev,
			 struct netlink_ext_ack *extack)
{
	struct exasock_iface *ifc;
	int err;

	ASSERT_RTNL();
	/* Being unregistered (its NETDEV_UNREGISTER may have passed before
	 * RTNL was ours): the reference taken here would never be dropped.
	 */
	if (dev->reg_state != NETREG_REGISTERED) {
		NL_SET_ERR_MSG(extack, "interface is going away");
		return -ENODEV;
	}
	if (exasock_dev_attached(dev)) {
		NL_SET_ERR_MSG(extack, "interface is attached already");
		return -EEXIST;
	}
	if (dev->type != ARPHRD_ETHER || (dev->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG(extack, "only Ethernet interfaces can be attached");
		return -EOPNOTSUPP;
	}

	ifc = kzalloc(sizeof(*ifc), GFP_KERNEL);
	if (!ifc)
		return -ENOMEM;
	err = exasock_counters_init(&ifc->stats);
	if (err)
		goto free_ifc;
	ifc->dev = dev;
	dev_hold(dev);

	err = netdev_rx_handler_register(dev, exasock_rx_handler, ifc);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "interface has another rx_handler (bridge, bond, macvlan?)");
		goto put_dev;
	}
	list_add_tail(&ifc->node, &exasock_ifaces);
	netdev_info(dev, "exasock: attached\n");
	return 0;

put_dev:
	dev_put(dev);
	exasock_counters_free(&ifc->stats);
free_ifc:
	kfree(ifc);
	return err;
}

static void exasock_iface_free(struct exasock_iface *ifc)
{
	struct net_device *dev = ifc->dev;

	/* waits for rx_handlers in flight */
	netdev_rx_handler_unregister(dev);
	list_del(&ifc->node);
	exasock_counters_free(&ifc->stats);
	kfree(ifc);
	netdev_info(dev, "exasock: detached\n");
	dev_put(dev);
}

/**
 * exasock_iface_detach - stop accelerating on @dev
 *
 * Sockets accelerated through it keep working: their traffic now comes
 * through the twin and the kernel's send path. Return: 0 or -ENOENT.
 * Under RTNL.
 */
int exasock_iface_detach(struct net_device *dev,
			 struct netlink_ext_ack *extack)
{
	struct exasock_iface *ifc;

	ASSERT_RTNL();
	ifc = exasock_iface_get(dev);
	if (!ifc) {
		NL_SET_ERR_MSG(extack, "interface is not attached");
		return -ENOENT;
	}
	exasock_iface_free(ifc);
	return 0;
}

static int exasock_netdev_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct exasock_iface *ifc;

	switch (event) {
	case NETDEV_UP:
		if (!exasock_dev_attached(dev) &&
		    exasock_auto_wanted(dev->name) &&
		    !exasock_iface_attach(dev, NULL))
			netdev_info(dev, "exasock: attached by interfaces=\n");
		break;
	case NETDEV_UNREGISTER:
		ifc = exasock_iface_get(dev);
		if (ifc)
			exasock_iface_free(ifc);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block exasock_netdev_nb = {
	.notifier_call = exasock_netdev_event,
};

/**
 * exasock_iface_init - watch devices; attach those named in @names
 * (comma separated) as they come up, including ones already up now.
 */
int exasock_iface_init(const char *names)
{
	if (names && strscpy(exasock_auto_names, names,
			     sizeof(exasock_auto_names)) < 0)
		return -E2BIG;
	/* Replays NETDEV_UP for devices already up. */
	return register_netdevice_notifier(&exasock_netdev_nb);
}

void exasock_iface_exit(void)
{
	struct exasock_iface *ifc, *tmp;

	/* Replays NETDEV_UNREGISTER, which detaches every device... */
	unregister_netdevice_notifier(&exasock_netdev_nb);
	/* ...so this finds none, unless that ever changes. */
	rtnl_lock();
	list_for_each_entry_safe(ifc, tmp, &exasock_ifaces, node)
		exasock_iface_free(ifc);
	rtnl_unlock();
}
