#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Connection churn: 20000 sequential connect/request/echo/close cycles
# against an accelerated server (the side that closes first alternates,
# so TIME-WAIT falls on both ends), 200 connections at once, then the
# same, fewer, with an accelerated client.  Afterwards nothing may be
# left behind: the module's socket and ring counters are back where they
# started, no socket of either namespace is half-way through a close, and
# TIME-WAIT is bounded (at most net.ipv4.tcp_max_tw_buckets, and every
# entry's timer at most 60 s, so each goes away by itself).
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_tool serve     <-------  tcp_tool churn, burst
#   exasock tcp_tool churn,    ------->  tcp_tool serve
#           burst
#
# EXASOCK_CHURN_CYCLES sets the first count (default 20000); the
# accelerated client does a tenth of it.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_tcp
require_cmd ss nstat
tap_plan 14
setup_pair
attach_a || tap_fail "attach exa0"

CYCLES=${EXASOCK_CHURN_CYCLES:-20000}
CYCLES2=$((CYCLES / 10))
BURST=200

start=$(mod_counters)
tap_diag "start: $start"

ms() {
	date +%s%3N
}

# serve_and_churn NAME SRV_NS SRV_IP PORT CYCLES SRV_PREFIX CLI_PREFIX:
# a churn server and one churn client, then a burst.
run_churn() {
	local what=$1 port=$2 cycles=$3 srv=$4 cli=$5 sip=$6 t0
	local -a sp cp

	read -ra sp <<<"$7"
	read -ra cp <<<"$8"
	bg "$srv" "${sp[@]}" "$TCPT" serve -b "$sip:$port" -B 512 \
		-n $((cycles + BURST)) -W 600
	wait_ready "$srv" || return
	t0=$(ms)
	bg "$cli" "${cp[@]}" "$TCPT" churn -c "$sip:$port" -n "$cycles" -s 100 -W 600
	bg_wait "$cli" 600
	tap_diag "$what: $cycles cycles in $(($(ms) - t0)) ms"
	if out_has "$cli" "^churn $cycles cycles"; then
		tap_ok "$what: $cycles sequential connect/request/echo/close cycles"
	else
		show "$cli"
		tap_fail "$what: $cycles sequential connect/request/echo/close cycles"
	fi
	t0=$(ms)
	bg "$cli-burst" "${cp[@]}" "$TCPT" burst -c "$sip:$port" -n "$BURST" -s 1000 -W 120
	bg_wait "$cli-burst" 120
	tap_diag "$what: burst of $BURST in $(($(ms) - t0)) ms"
	if out_has "$cli-burst" "^burst $BURST ok"; then
		tap_ok "$what: $BURST connections at once"
	else
		show "$cli-burst"
		tap_fail "$what: $BURST connections at once"
	fi
	bg_wait "$srv" 60
	if out_has "$srv" "^served $((cycles + BURST)) errors 0"; then
		tap_ok "$what: server served all $((cycles + BURST)), no error"
	else
		show "$srv" | tail -n 20
		tap_fail "$what: server served all $((cycles + BURST)), no error"
	fi
}

run_churn "A server" 7100 "$CYCLES" srva clib "$IP_A" "in_a $EXA" "in_b"
run_churn "A client" 7200 "$CYCLES2" srvb clia "$IP_B" "in_b" "in_a $EXA"

check_accel "A server's sockets accelerated (listener, first accepted)" srva
check_accel "A client's sockets accelerated (first connection)" clia clia-burst

back_to_start() {
	[[ $(mod_counters) = "$start" ]]
}
busywait 20000 back_to_start
tap_diag "end: $(mod_counters)"
check "module counters back to start (sockets, accel_sockets, ring_bytes)" back_to_start

for ns in A B; do
	nsname=NS_$ns
	nsname=${!nsname}
	busywait 10000 no_closing_states "$nsname"
	tap_diag "$ns: $(ss_summary "$nsname")"
	check "$ns: nothing left in FIN-WAIT, CLOSING, LAST-ACK, CLOSE-WAIT or SYN-RECV" \
		no_closing_states "$nsname"
	tw=$(ss_count "$nsname" TIME-WAIT)
	ip netns exec "$nsname" ss -Htano | grep -m 2 TIME-WAIT | sed "s/^/# $ns: /"
	max=$(ip netns exec "$nsname" sysctl -n net.ipv4.tcp_max_tw_buckets)
	ovf=$(nstat_of "$nsname" TcpExtTCPTimeWaitOverflow)
	tap_diag "$ns: $tw in TIME-WAIT (tcp_max_tw_buckets $max, TCPTimeWaitOverflow $ovf)"
	check "$ns: TIME-WAIT bounded ($tw <= tcp_max_tw_buckets $max), each timer <= 60 s" \
		eval '[[ $tw -le $max ]] && tw_timers_ok "$nsname"'
done
check "kernel log clean" kernel_log_clean
tap_finish
