#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which sockets the launcher accelerates: one bound to 127.0.0.1 or to the
# address of a second, not attached, interface stays native and works; a
# wildcard socket is accelerated and still hears the other interface and
# loopback (through its native twin), but not a VRF's slave.
#
#   netns A                                  netns B
#   exa0 10.77.0.1 (attached)  <--veth-->   exa1 10.77.0.2
#   exb0 10.78.0.1 (not attached) <-veth->  exb1 10.78.0.2
#   lo   127.0.0.1

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 10
setup_pair
attach_a || tap_fail "attach exa0"
ip -n "$NS_A" link add exb0 type veth peer name exb1 netns "$NS_B"
ip -n "$NS_A" addr add 10.78.0.1/24 dev exb0
ip -n "$NS_B" addr add 10.78.0.2/24 dev exb1
ip -n "$NS_A" link set exb0 up
ip -n "$NS_B" link set exb1 up

# -- bound to 127.0.0.1 ----------------------------------------------------
bg lo in_a env EXASOCK_DEBUG=1 "$EXA" "$TOOL" echo -b 127.0.0.1:5300 -n 5 -A
if wait_ready lo; then
	tap_run "socket on 127.0.0.1 under exasock works" \
		in_a "$TOOL" ping -t 127.0.0.1:5300 -n 5
	bg_wait lo 10
	check "socket on 127.0.0.1 stays native (no bypass line)" \
		bash -c "! grep -q 'enabled bypass' '$TMPD/lo.err'"
else
	show lo
	tap_fail "socket on 127.0.0.1 under exasock works"
	tap_fail "socket on 127.0.0.1 stays native"
fi

# -- bound to the non-attached interface -----------------------------------
bg exb in_a env EXASOCK_DEBUG=1 "$EXA" "$TOOL" echo -b 10.78.0.1:5301 -n 5 -A
if wait_ready exb; then
	tap_run "socket on non-attached exb0 under exasock works" \
		in_b "$TOOL" ping -t 10.78.0.1:5301 -n 5
	bg_wait exb 10
	check "socket on non-attached exb0 stays native (no bypass line)" \
		bash -c "! grep -q 'enabled bypass' '$TMPD/exb.err'"
else
	show exb
	tap_fail "socket on non-attached exb0 under exasock works"
	tap_fail "socket on non-attached exb0 stays native"
fi

# -- client whose route leaves by the non-attached interface ---------------
tap_run "client to 10.78.0.2 (route via exb0) under exasock stays native" \
	in_a "$EXA" "$TOOL" ping -c 10.78.0.2:5302 -n 0 -A
bg exbsrv in_b "$TOOL" echo -b 10.78.0.2:5303 -n 3
wait_ready exbsrv
tap_run "connected client via exb0 under exasock works" \
	in_a "$EXA" "$TOOL" ping -c 10.78.0.2:5303 -n 3 -A

# -- wildcard: accelerated, and deaf to nothing ----------------------------
bg any in_a "$EXA" "$TOOL" dump -b 0.0.0.0:5304 -n 3 -T 10000 -a
if wait_ready any; then
	tap_ok "wildcard socket is accelerated"
	in_b "$TOOL" send -t "$IP_A:5304" -n 1 -s 40 >/dev/null
	in_b "$TOOL" send -t 10.78.0.1:5304 -n 1 -s 50 >/dev/null
	in_a "$TOOL" send -t 127.0.0.1:5304 -n 1 -s 60 >/dev/null
	bg_wait any 15
	show any
	check "wildcard socket hears exa0 (ring), exb0 and lo (twin)" \
		bash -c "grep -q 'len=40 from=$IP_B' '$TMPD/any.out' &&
			 grep -q 'len=50 from=10.78.0.2' '$TMPD/any.out' &&
			 grep -q 'len=60 from=127.0.0.1' '$TMPD/any.out'"
else
	show any
	tap_fail "wildcard socket is accelerated"
	tap_fail "wildcard socket hears exa0, exb0 and lo"
fi
# -- a VRF's slave: its datagrams are for the VRF's sockets ---------------
# A socket not bound to the VRF does not hear them (udp_l3mdev_accept is
# 0), so the short path must leave them to udp_rcv().
if ip -n "$NS_A" link add exvrf type vrf table 77 2>/dev/null; then
	ip -n "$NS_A" link set exvrf up
	ip -n "$NS_A" link set exa0 master exvrf
	bg vrf in_a "$EXA" "$TOOL" dump -b 0.0.0.0:5305 -T 2000
	if wait_ready vrf; then
		in_b "$TOOL" send -t "$IP_A:5305" -n 1 -s 70 >/dev/null
		bg_wait vrf 15
		check "a socket outside the VRF does not hear its slave exa0" \
			bash -c "! grep -q 'len=70' '$TMPD/vrf.out'"
	else
		show vrf
		tap_fail "a socket outside the VRF does not hear its slave exa0"
	fi
	ip -n "$NS_A" link set exa0 nomaster
else
	tap_skip "a socket outside the VRF does not hear its slave (no vrf)"
fi
check "kernel log clean" kernel_log_clean
tap_finish
