#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kill -9 in the middle of traffic frees everything: the module's socket
# counts and ring memory go back to where they were, and no socket of the
# dead process is left in the dump.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock udp_tool ping (flood) ---->  udp_tool echo (plain)
#   exasock udp_tool recv (ring full of unread datagrams)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 7
setup_pair
attach_a || tap_fail "attach exa0"

socks0=$(stat_of sockets)
accel0=$(stat_of accel_sockets)
ring0=$(stat_of ring_bytes)
tap_diag "start: sockets=$socks0 accel_sockets=$accel0 ring_bytes=$ring0"

bg echo in_b "$TOOL" echo -b "$IP_B:5800" -n 0
wait_ready echo

# a ping-pong that would run for minutes, and a receiver sitting on a
# ring of unread datagrams
bg ping in_a "$EXA" "$TOOL" ping -t "$IP_B:5800" -n 1000000 -s 200 -W 300
bg_stdin full "$TMPD/never" in_a "$EXA" "$TOOL" recv -b "$IP_A:5801" -w -a -W 300
exec {never}>"$TMPD/never"  # held open: the receiver waits on it
: "$never"
wait_ready full
in_b "$TOOL" send -t "$IP_A:5801" -n 50 -s 1000 >/dev/null

tx_moving() {
	local a b

	a=$(stat_of tx_fast)
	sleep 0.2
	b=$(stat_of tx_fast)
	((b > a))
}
more_sockets() {
	(($(stat_of accel_sockets) >= accel0 + 2))
}
if busywait 10000 more_sockets && busywait 10000 tx_moving; then
	tap_ok "two accelerated sockets live, traffic flowing"
else
	tap_fail "two accelerated sockets live, traffic flowing"
fi
in_a "$CTL" sockets | sed 's/^/# /'

kill -KILL "${BG_PID[ping]}" "${BG_PID[full]}"
bg_wait ping 10
check "ping killed by SIGKILL" test $? = 137
bg_wait full 10
check "receiver killed by SIGKILL" test $? = 137

back_to_start() {
	[[ $(stat_of sockets) = "$socks0" && $(stat_of accel_sockets) = "$accel0" ]]
}
check "socket counts back to start" busywait 10000 back_to_start
ring_freed() {
	[[ $(stat_of ring_bytes) = "$ring0" ]]
}
check "ring memory freed (ring_bytes back to $ring0)" busywait 10000 ring_freed
tap_diag "end: sockets=$(stat_of sockets) accel_sockets=$(stat_of accel_sockets) ring_bytes=$(stat_of ring_bytes)"
left=$(in_a "$CTL" sockets | tail -n +2)
check "no socket left in the namespace's dump" test -z "$left"
check "kernel log clean" kernel_log_clean
tap_finish
