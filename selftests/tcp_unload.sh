#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rmmod exasock while connections it accelerated are still finishing in
# the kernel.  While accelerated, a twin's segments leave through
# exasock's IP output (its queue_xmit); at close the module gives the
# kernel's back, so a FIN retransmitted after rmmod must go through
# ip_queue_xmit and not into unloaded code (an oops panics the guest).
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_tool hold ------------->  tcp_tool listen :7400
#                :7401  <---------------  tcp_tool connect
#
# Both connections carry 1000 bytes from A, then B's link goes down, the
# holder is killed (A's FINs are lost, both twins stay in FIN-WAIT-1),
# the module is unloaded, the kernel retransmits the FINs, the module is
# loaded again, B's link comes back and both peers read the bytes and EOF.
# Run last: it leaves the module loaded again but with nothing attached.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_tcp
require_cmd ss
[[ -n ${EXASOCK_KO:-} && -f $EXASOCK_KO ]] ||
	tap_skip_all "EXASOCK_KO not set: run under selftests/run-vm"
tap_plan 9
setup_pair
attach_a || tap_fail "attach exa0"
kernel_log_mark

bg lis in_b "$TCPT" listen -b "$IP_B:7400" -n 1 -W 90 -x eof
wait_ready lis
tx0=$(stat_of tx_fast)
bg hold in_a "$EXA" "$TCPT" hold -b "$IP_A:7401" -m 1 -c "$IP_B:7400" -W 90
wait_ready hold
bg cli in_b "$TCPT" connect -c "$IP_A:7401" -W 90 -x eof

# B has every byte A sent: nothing is left in A's send queues.
a_sent_all() {
	[[ -z $(in_a ss -Htn state established | awk '$2 != 0') ]]
}
if wait_out hold '^holding 2' 20000 && busywait 10000 a_sent_all; then
	tap_ok "2 connections held, 1000 bytes sent on each"
else
	show hold
	tap_fail "2 connections held, 1000 bytes sent on each"
fi
check_accel "both of the holder's connections accelerated" hold
tx=$(($(stat_of tx_fast) - tx0))
check "their segments left through exasock's IP output (tx_fast +$tx)" \
	test "$tx" -ge 2

# fin_wait1 COUNT: A has COUNT connections in FIN-WAIT-1.
fin_wait1() {
	[[ $(in_a ss -Htn state fin-wait-1 | wc -l) = "$1" ]]
}
# retrans: FIN retransmissions of A's FIN-WAIT-1 connections, summed.
retrans() {
	in_a ss -Htni state fin-wait-1 |
		grep -o 'retrans:[0-9]*/[0-9]*' |
		awk -F/ '{ n += $2 } END { print n + 0 }'
}

in_b ip link set "$DEV_B" down
kill -KILL "${BG_PID[hold]}"
bg_wait hold 10
check "holder killed; its 2 connections wait in FIN-WAIT-1 for a peer that is gone" \
	busywait 5000 fin_wait1 2

try_rmmod() {
	rmmod exasock 2>/dev/null
}
if busywait 15000 try_rmmod; then
	tap_ok "rmmod exasock with its connections still in FIN-WAIT-1"
else
	rmmod exasock 2>&1 | sed 's/^/# /'
	tap_fail "rmmod exasock with its connections still in FIN-WAIT-1"
fi

r0=$(retrans)
retransmitted() {
	(($(retrans) > r0))
}
busywait 10000 retransmitted
check "the kernel retransmits their FINs after rmmod (retrans $r0 -> $(retrans))" \
	retransmitted

read -ra args <<<"${EXASOCK_INSMOD_ARGS:-}"
check "insmod exasock.ko again" insmod "$EXASOCK_KO" "${args[@]}"

in_b ip link set "$DEV_B" up
peers_done() {
	bg_wait lis 30 && bg_wait cli 30 &&
		out_has lis '^eof after 1000 bytes' &&
		out_has cli '^eof after 1000 bytes'
}
if peers_done; then
	tap_ok "link back: both peers read the 1000 bytes, then EOF"
else
	show lis
	show cli
	tap_fail "link back: both peers read the 1000 bytes, then EOF"
fi

check "kernel log clean" kernel_log_clean
tap_finish
