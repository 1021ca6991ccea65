// SPDX-License-Identifier: GPL-2.0
/*
 * exasock.ko: module init and exit only. See Documentation/architecture.rst.
 */
#include <linux/module.h>
#include "exasock.h"

static int family = AF_EXASOCK;
module_param(family, int, 0444);
MODULE_PARM_DESC(family, "Socket family number to register (default 25)");

static char *interfaces;
module_param(interfaces, charp, 0444);
MODULE_PARM_DESC(interfaces, "Comma-separated interface names to attach when they come up");

static int __init exasock_init(void)
{
	int err;

	err = exasock_counters_init(&exasock_stats);
	if (err)
		return err;
	err = exasock_tx_init();
	if (err)
		goto free_counters;
	err = exasock_socket_init(family);
	if (err) {
		pr_err("exasock: cannot register socket family %d: %d\n",
		       family, err);
		goto free_counters;
	}
	err = exasock_netlink_init();
	if (err)
		goto unregister_socket;
	err = exasock_iface_init(interfaces);
	if (err)
		goto unregister_netlink;

	pr_info("exasock: version %d.%d.%d, socket family %d\n",
		EXASOCK_VERSION_CODE >> 16, (EXASOCK_VERSION_CODE >> 8) & 0xff,
		EXASOCK_VERSION_CODE & 0xff, family);
	return 0;

unregister_netlink:
	exasock_netlink_exit();
unregister_socket:
	exasock_socket_exit();
free_counters:
	exasock_counters_free(&exasock_stats);
	return err;
}

static void __exit exasock_exit(void)
{
	exasock_iface_exit();
	exasock_netlink_exit();
	exasock_socket_exit();
	exasock_counters_free(&exasock_stats);
}

module_init(exasock_init);
module_exit(exasock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("exasock: socket acceleration on any Ethernet interface");
MODULE_AUTHOR("The exasock authors");
MODULE_VERSION("3.0.0");
