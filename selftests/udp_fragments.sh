#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Datagrams larger than the MTU (1500) travel as IP fragments. The receive
# path leaves fragments to the kernel, which reassembles them and delivers
# to the native twin; the send path hands them to the kernel's output path.
# Both ways they must arrive whole.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2 (plain)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 6
setup_pair
attach_a || tap_fail "attach exa0"

bg rcv in_a "$EXA" "$TOOL" recv -b "$IP_A:5700" -n 6 -a
if wait_ready rcv; then
	in_b "$TOOL" send -t "$IP_A:5700" -n 3 -s 4000 >/dev/null
	in_b "$TOOL" send -t "$IP_A:5700" -n 3 -S 3 -s 20000 >/dev/null
	bg_wait rcv 20
	rc=$?
	show rcv
	check "plain B -> accelerated A: 3 x 4000 and 3 x 20000 bytes, intact" \
		test "$rc" = 0
else
	tap_fail "plain B -> accelerated A: fragmented datagrams"
fi

bg rcv2 in_b "$TOOL" recv -b "$IP_B:5701" -n 3
wait_ready rcv2
tap_run "accelerated A -> plain B: 3 x 4000 bytes" \
	in_a "$EXA" "$TOOL" send -b "$IP_A:0" -t "$IP_B:5701" -n 3 -s 4000 -a
bg_wait rcv2 20
rc=$?
show rcv2
check "plain B received them intact" test "$rc" = 0

bg echo in_a "$EXA" "$TOOL" echo -b "$IP_A:5702" -n 0 -a
wait_ready echo
tap_run "ping-pong of 8000-byte datagrams with an accelerated echo" \
	in_b "$TOOL" ping -t "$IP_A:5702" -n 5 -s 8000

in_a "$CTL" sockets | sed 's/^/# /'
native=$(sock_stat "$NS_A" "$IP_A:5702" rx_native)
check "reassembled datagrams came through the twin (rx_native=$native >= 5)" \
	test "${native:-0}" -ge 5
check "kernel log clean" kernel_log_clean
tap_finish
