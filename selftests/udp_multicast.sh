#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multicast delivery to accelerated sockets: every member of a group and
# port takes each datagram from its own ring, one frame for all of them;
# a member with a socket filter sends the datagram to the kernel's path
# for all of them (so the filter filters); so does a group with more
# members than the rx_handler carries (32). IpExtInMcastPkts counts what the
# rings take, as the kernel's IP layer would.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock mcast.py recv (N sockets)     mcast.py send (plain)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

MC=$TOP/selftests/mcast.py
GROUP=239.7.7.7
N=50

require_exasock
require_cmd python3 nstat
tap_plan 13
setup_pair
attach_a || tap_fail "attach exa0"

# run TITLE SOCKS PORT [LAUNCHER...] -- [RECV ARGS...]: N datagrams from
# B to SOCKS receivers in A; their output in $TMPD/mc.out, deltas of
# rx_accel and IpExtInMcastPkts in $d_accel and $d_mcast.
run() {
	local title=$1 socks=$2 port=$3 launcher=() a0 m0

	shift 3
	while [[ $1 != -- ]]; do launcher+=("$1"); shift; done
	shift
	bg mc in_a "${launcher[@]}" python3 "$MC" recv "$GROUP" "$port" \
		"$IP_A" --socks "$socks" "$@"
	wait_ready mc || return 1
	a0=$(stat_of rx_accel)
	m0=$(nstat_of "$NS_A" IpExtInMcastPkts)
	in_b python3 "$MC" send "$GROUP" "$port" "$IP_B" --count "$N" \
		>/dev/null
	bg_wait mc 60
	d_accel=$(($(stat_of rx_accel) - a0))
	d_mcast=$(($(nstat_of "$NS_A" IpExtInMcastPkts) - m0))
	show mc
	tap_diag "$title: rx_accel +$d_accel, IpExtInMcastPkts +$d_mcast"
}

# got SOCK COUNT: receiver SOCK got COUNT datagrams.
got() {
	out_has mc "^got $1 $2\$"
}

# all_got SOCKS COUNT
all_got() {
	local k

	for ((k = 0; k < $1; k++)); do
		got "$k" "$2" || return 1
	done
}

run "plain Linux" 2 5300 --
check "without exasock: both members get all $N" all_got 2 "$N"
check "without exasock: IpExtInMcastPkts +$N" test "$d_mcast" -eq "$N"

run "two accelerated members" 2 5301 "$EXA" --
check "two members: both accelerated" out_has mc "accelerated=2"
check "two members: both get all $N" all_got 2 "$N"
check "two members: from their rings, one frame each datagram (rx_accel +$d_accel)" \
	test "$d_accel" -eq "$N"
check "two members: IpExtInMcastPkts +$N, as without exasock" \
	test "$d_mcast" -eq "$N"

run "a member with a filter" 2 5302 "$EXA" -- --drop-all 1
check "filtered member: the other gets all $N" got 0 "$N"
check "filtered member: its filter drops them all" got 1 0
check "filtered member: through the kernel's path (rx_accel +$d_accel)" \
	test "$d_accel" -eq 0

run "33 members" 33 5303 "$EXA" --
check "33 members: all accelerated" out_has mc "accelerated=33"
check "33 members: every one gets all $N" all_got 33 "$N"
check "33 members: more than the rx_handler carries, the kernel's path (rx_accel +$d_accel)" \
	test "$d_accel" -eq 0

check "kernel log clean" kernel_log_clean
tap_finish
