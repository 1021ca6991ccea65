#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Same-host traffic, which never crosses an attached interface: a plain
# socket in A sends to the accelerated socket in A through 10.77.0.1 and
# 127.0.0.1 (the loopback path, delivered by the native twin), and the
# accelerated socket sends back (handed to the kernel's output path).
#
#   netns A: exa0 10.77.0.1 (attached), lo
#     exasock udp_tool echo 0.0.0.0:5400  <--lo-->  udp_tool ping (plain)
#     exasock udp_tool ping               <--lo-->  udp_tool echo (plain)
#     exasock udp_tool ping               <--lo-->  exasock udp_tool echo

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 7
setup_pair
attach_a || tap_fail "attach exa0"

bg srv in_a "$EXA" "$TOOL" echo -b 0.0.0.0:5400 -n 0 -a
if wait_ready srv; then
	tap_run "plain A -> accelerated A via $IP_A, and back" \
		in_a "$TOOL" ping -t "$IP_A:5400" -n 10 -s 300
	tap_run "plain A -> accelerated A via 127.0.0.1, and back" \
		in_a "$TOOL" ping -t 127.0.0.1:5400 -n 10 -s 300
	tap_run "plain A -> accelerated A, connected, 4000 bytes" \
		in_a "$TOOL" ping -c "$IP_A:5400" -n 3 -s 4000
	tap_run "accelerated A -> accelerated A via $IP_A" \
		in_a "$EXA" "$TOOL" ping -b "$IP_A:0" -t "$IP_A:5400" -n 10 -a
else
	for i in 1 2 3 4; do tap_fail "same-host echo $i"; done
fi

bg plain in_a "$TOOL" echo -b "$IP_A:5401" -n 0
wait_ready plain
tap_run "accelerated A -> plain A via $IP_A" \
	in_a "$EXA" "$TOOL" ping -b "$IP_A:0" -t "$IP_A:5401" -n 10 -a

in_a "$CTL" sockets | sed 's/^/# /'
native=$(sock_stat "$NS_A" "*:5400" rx_native)
check "twin deliveries counted on the socket (rx_native=$native >= 30)" \
	test "${native:-0}" -ge 30
check "kernel log clean" kernel_log_clean
tap_finish
