#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# UDP unicast across the veth pair: an accelerated socket against a plain
# kernel socket both ways, accelerated against accelerated, connected and
# unconnected sockets, every receive call, odd sizes, the EXASOCK_DEBUG
# line, and the counters that show the fast paths were taken.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2 (attached late)
#   exasock udp_tool ...                  udp_tool ... (plain, then exasock)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 18
setup_pair
attach_a || tap_fail "attach exa0"

rx0=$(stat_of rx_accel)
tx0=$(stat_of tx_fast)

# -- accelerated server in A, plain client in B ---------------------------
bg srv in_a env EXASOCK_DEBUG=1 "$EXA" "$TOOL" echo -b "$IP_A:5001" -n 20 -a
if wait_ready srv; then
	tap_run "plain B -> accelerated A, unconnected, 20 echoes" \
		in_b "$TOOL" ping -t "$IP_A:5001" -n 20 -s 200
	fd=$(ready_field srv fd)
	check "EXASOCK_DEBUG=1 prints 'enabled bypass on fd $fd'" \
		debug_line_for srv "$fd"
else
	tap_fail "plain B -> accelerated A, unconnected, 20 echoes"
	tap_fail "EXASOCK_DEBUG=1 prints the bypass line"
fi
bg_wait srv 10 || { show srv; tap_diag "echo server failed"; }

# -- no debug output without EXASOCK_DEBUG -------------------------------
bg srv in_a env -u EXASOCK_DEBUG "$EXA" "$TOOL" echo -b "$IP_A:5002" -n 1 -a
if wait_ready srv; then
	in_b "$TOOL" ping -t "$IP_A:5002" -n 1 >/dev/null
	bg_wait srv 10
	check "no exasock output without EXASOCK_DEBUG" \
		test ! -s "$TMPD/srv.err"
else
	tap_fail "no exasock output without EXASOCK_DEBUG"
fi

# -- accelerated clients in A, plain servers in B -------------------------
bg srv in_b "$TOOL" echo -b "$IP_B:5003" -n 0
wait_ready srv
tap_run "accelerated A (unbound, converted at sendto) -> plain B" \
	in_a "$EXA" "$TOOL" ping -t "$IP_B:5003" -n 20 -s 100 -a
tap_run "accelerated A (bound) -> plain B" \
	in_a "$EXA" "$TOOL" ping -b "$IP_A:5004" -t "$IP_B:5003" -n 20 -a
tap_run "accelerated A (connected) -> plain B" \
	in_a "$EXA" "$TOOL" ping -c "$IP_B:5003" -n 20 -s 300 -a
tap_run "accelerated A (bound, then connected) -> plain B" \
	in_a "$EXA" "$TOOL" ping -b "$IP_A:5005" -c "$IP_B:5003" -n 20 -a
tap_run "accelerated A, O_NONBLOCK + poll" \
	in_a "$EXA" "$TOOL" ping -c "$IP_B:5003" -n 20 -N -a
for size in 0 1 1472; do
	tap_run "accelerated A -> plain B, $size-byte datagrams" \
		in_a "$EXA" "$TOOL" ping -c "$IP_B:5003" -n 5 -s "$size" -a
done

# -- connected accelerated server (recv/read on a connected socket) ------
bg srv2 in_a "$EXA" "$TOOL" echo -b "$IP_A:5006" -c "$IP_B:5007" -n 10 -r read -a
if wait_ready srv2; then
	tap_run "plain B -> connected accelerated A (read/send)" \
		in_b "$TOOL" ping -b "$IP_B:5007" -t "$IP_A:5006" -n 10
else
	tap_fail "plain B -> connected accelerated A (read/send)"
fi
bg_wait srv2 10

# -- every receive call on the ring ---------------------------------------
bg rcv in_a "$EXA" "$TOOL" recv -b "$IP_A:5008" -n 60 -r mix -a
if wait_ready rcv; then
	in_b "$TOOL" send -t "$IP_A:5008" -n 60 -s 700 >/dev/null
	bg_wait rcv 20
	rc=$?
	show rcv
	check "60 datagrams by recvfrom/recv/read/recvmsg/readv, in order, intact" \
		test "$rc" = 0
else
	tap_fail "60 datagrams by recvfrom/recv/read/recvmsg/readv"
fi

# -- counters show both fast paths ----------------------------------------
rx1=$(stat_of rx_accel)
tx1=$(stat_of tx_fast)
tap_diag "rx_accel $rx0 -> $rx1, tx_fast $tx0 -> $tx1"
check "frames were delivered into rings (rx_accel grew by >= 100)" \
	test $((rx1 - rx0)) -ge 100
check "frames were sent by the fast path (tx_fast grew by >= 100)" \
	test $((tx1 - tx0)) -ge 100

# -- accelerated to accelerated -------------------------------------------
attach_b || tap_diag "attach exa1 failed"
bg srv3 in_a "$EXA" "$TOOL" echo -b "$IP_A:5010" -n 40 -a
if wait_ready srv3; then
	tap_run "accelerated B -> accelerated A, unconnected" \
		in_b "$EXA" "$TOOL" ping -t "$IP_A:5010" -n 20 -s 500 -a
	tap_run "accelerated B -> accelerated A, connected" \
		in_b "$EXA" "$TOOL" ping -c "$IP_A:5010" -n 20 -s 64 -a
else
	tap_fail "accelerated B -> accelerated A, unconnected"
	tap_fail "accelerated B -> accelerated A, connected"
fi
bg_wait srv3 10
check "kernel log clean" kernel_log_clean

tap_finish
