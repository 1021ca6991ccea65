#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kill -9 of a program holding accelerated TCP connections, as a client
# and as a server, some idle, some with bytes it never read, one with a
# peer still streaming into a full window.  The peers must see what Linux
# does when a process dies: a FIN (EOF) where nothing was left unread, a
# RST (ECONNRESET, EPIPE) where something was.  Afterwards the module's
# counters are back to start, no exasock socket is left in the dump and
# the kernel holds nothing of it but ordinary TIME-WAIT entries.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_tool hold ------------->  4 x tcp_tool listen :7300-7303
#                         <-------------  5 x tcp_tool connect
#     listens on :7310

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_tcp
require_cmd ss
tap_plan 13
setup_pair
attach_a || tap_fail "attach exa0"

start=$(mod_counters)
tap_diag "start: $start"

# B's servers: 7300/7301 only read, 7302/7303 send 1000 bytes first,
# which hold never reads
for p in 7300 7301; do
	bg "l$p" in_b "$TCPT" listen -b "$IP_B:$p" -n 1 -W 90 -x eof
done
for p in 7302 7303; do
	bg "l$p" in_b "$TCPT" listen -b "$IP_B:$p" -n 1 -W 90 -x send:1000,eof
done
for p in 7300 7301 7302 7303; do
	wait_ready "l$p"
done

bg hold in_a "$EXA" "$TCPT" hold -b "$IP_A:7310" -m 5 -n 1 -W 120 \
	-c "$IP_B:7300" -c "$IP_B:7301" -c "$IP_B:7302" -c "$IP_B:7303"
wait_ready hold
# B's clients: q1/q2 only read, u1/u2 send 1000 bytes first, s1 streams
for c in q1 q2; do
	bg "$c" in_b "$TCPT" connect -c "$IP_A:7310" -W 90 -x eof
done
for c in u1 u2; do
	bg "$c" in_b "$TCPT" connect -c "$IP_A:7310" -W 90 -x send:1000,eof
done
bg s1 in_b "$TCPT" connect -c "$IP_A:7310" -W 90 -x nosig,sendall:80000

# everything B sent was acknowledged (so it sits unread in A), and the
# stream has filled A's window
acked() {
	local p

	for p in 7302 7303; do
		out_has "l$p" '^sent 1000' || return 1
	done
	for p in u1 u2; do
		out_has "$p" '^sent 1000' || return 1
	done
	# the Send-Q of every B socket to 7302/7303 and from u1/u2 is empty
	[[ -z $(in_b ss -Htn state established "( sport = :7302 or sport = :7303 )" |
		awk '$2 != 0') ]]
}
window_full() {
	# s1's send queue stays non-empty: A's window is closed
	[[ -n $(in_b ss -Htn state established "( dport = :7310 )" |
		awk '$2 > 10000') ]]
}
if wait_out hold '^holding 9' 30000 && busywait 20000 acked &&
   busywait 20000 window_full; then
	tap_ok "9 connections held (4 out, 5 in), unread data in A, a full window"
else
	show hold
	in_b ss -tn | sed 's/^/# B: /'
	tap_fail "9 connections held (4 out, 5 in), unread data in A, a full window"
fi
in_a ss -tn | sed 's/^/# A before: /'
in_a "$CTL" sockets | sed 's/^/# A before: /'
check_accel "every socket of the holder accelerated" hold

kill -KILL "${BG_PID[hold]}"
bg_wait hold 10
check "holder killed by SIGKILL" test $? = 137

peers_ok() {
	local re=$1 n

	shift
	for n in "$@"; do
		bg_wait "$n" 30
		if ! out_has "$n" "$re"; then
			show "$n"
			return 1
		fi
	done
}
check "A's idle client connections: peers read its 1000 bytes, then EOF" \
	peers_ok '^eof after 1000 bytes' l7300 l7301
check "A's client connections with unread data: peers read ECONNRESET" \
	peers_ok '^read error ECONNRESET' l7302 l7303
check "A's idle accepted connections: peers read its 1000 bytes, then EOF" \
	peers_ok '^eof after 1000 bytes' q1 q2
check "A's accepted connections with unread data: peers read ECONNRESET" \
	peers_ok '^read error ECONNRESET' u1 u2
check "A's accepted connection with a full window: the sender gets ECONNRESET or EPIPE" \
	peers_ok '^send error (ECONNRESET|EPIPE)' s1

back_to_start() {
	[[ $(mod_counters) = "$start" ]]
}
busywait 10000 back_to_start
tap_diag "end: $(mod_counters)"
check "module counters back to start" back_to_start
left=$(in_a "$CTL" sockets | tail -n +2)
check "no exasock socket left in A's dump" test -z "$left"

# only TIME-WAIT may stay (until its timer); B closed after the EOFs
only_time_wait() {
	[[ -z $(ip netns exec "$1" ss -Htan | awk '$1 != "TIME-WAIT"') ]]
}
busywait 10000 only_time_wait "$NS_A"
in_a ss -tan | sed 's/^/# A after: /'
check "A: no socket left but TIME-WAIT" only_time_wait "$NS_A"
busywait 10000 only_time_wait "$NS_B"
check "B: no socket left but TIME-WAIT" only_time_wait "$NS_B"
check "kernel log clean" kernel_log_clean
tap_finish
