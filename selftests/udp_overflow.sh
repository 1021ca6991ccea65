#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A receive ring that fills up drops new datagrams and counts them; what
# it kept, and everything after, arrives intact and in order.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock udp_tool recv      <-------  udp_tool send: 600 x 1000 B,
#   (does not read until told)           then 100 more once drained
#
# The socket asks for SO_RCVBUF 64 KiB, so its ring is the smallest the
# module makes (128 KiB at most): about a hundred 1000-byte datagrams.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 10
setup_pair
attach_a || tap_fail "attach exa0"

N=600
LATER=100
LOCAL=$IP_A:5500
dropped0=$(stat_of rx_dropped)

bg_stdin rcv "$TMPD/go" in_a "$EXA" "$TOOL" recv -b "$LOCAL" -R 65536 \
	-n 0 -T 8000 -w -l -a
exec {go}>"$TMPD/go"
if ! wait_ready rcv; then
	tap_fail "accelerated receiver started"
	tap_finish
fi
tap_ok "accelerated receiver started"

# paced, so no other queue (the veth backlog) drops anything
tap_run "sent $N numbered datagrams without reading" \
	in_b "$TOOL" send -t "$LOCAL" -n "$N" -s 1000 -p 200

accounted() {
	local p f

	p=$(sock_stat "$NS_A" "$LOCAL" rx_packets)
	f=$(sock_stat "$NS_A" "$LOCAL" rx_ring_full)
	[[ -n $p && -n $f ]] && ((p + f >= N))
}
busywait 10000 accounted
in_a "$CTL" sockets | sed 's/^/# /'
kept=$(sock_stat "$NS_A" "$LOCAL" rx_packets)
full=$(sock_stat "$NS_A" "$LOCAL" rx_ring_full)
check "ring full: drops counted on the socket (rx_ring_full=$full)" \
	test "${full:-0}" -gt 0
check "every datagram kept or counted (rx_packets $kept + rx_ring_full $full = $N)" \
	test $((${kept:-0} + ${full:-0})) -eq "$N"
dropped1=$(stat_of rx_dropped)
check "module rx_dropped grew by rx_ring_full ($dropped0 -> $dropped1)" \
	test $((dropped1 - dropped0)) -ge "${full:-1}"

# now read everything, then send more
echo go >&"$go"
ring_empty() {
	local q

	q=$(in_a "$CTL" sockets | awk -v l="$LOCAL" '$5 == l { print $3 }')
	[[ $q = 0 ]]
}
busywait 20000 ring_empty || tap_diag "Recv-Q never drained"
tap_run "sent $LATER more after the drain" \
	in_b "$TOOL" send -t "$LOCAL" -n "$LATER" -S "$N" -s 1000 -p 200
bg_wait rcv 30
rc=$?
show rcv
check "no datagram corrupt or out of order (udp_tool recv)" test "$rc" = 0
got=$(sed -n 's/^received \([0-9]*\) last=\([0-9]*\).*/\1/p' "$TMPD/rcv.out")
last=$(sed -n 's/^received \([0-9]*\) last=\([0-9]*\).*/\2/p' "$TMPD/rcv.out")
check "read what the ring kept plus all $LATER later ($got = $kept + $LATER)" \
	test "${got:-0}" -eq $((${kept:-0} + LATER))
check "the last datagram arrived (last seq $last = $((N + LATER - 1)))" \
	test "${last:--1}" -eq $((N + LATER - 1))
check "kernel log clean" kernel_log_clean
tap_finish
