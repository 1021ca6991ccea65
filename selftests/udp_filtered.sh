#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# UDP fast paths and the rest of the kernel: the IPv4 and UDP counters
# (nstat's Ip* and Udp*) count what the rings and the fast send path
# carry, as if the kernel's own IP layer had; and where netfilter has a
# say (an nft rule in A), the fast paths stand aside so that it sees, and
# can drop, every datagram: in and out.  Last, socket filters (classic
# BPF) attached after a socket is accelerated, UDP and TCP, must filter
# what it receives, and stop when detached (sock_filter.py).  And a qdisc
# that drops what it is given: the fast send path must count it
# (IpOutDiscards, UdpSndbufErrors) and report it as the kernel does.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock udp_tool recv, send           udp_tool send, recv (plain)
#   [nft table exaudp, later]

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_exasock
require_cmd nstat
tap_plan 19
setup_pair
attach_a || tap_fail "attach exa0"
N=50

# mib_from_here, then mib_since NAME...: deltas of A's counters in
# D[NAME] (SNMP names, or the module's rx_accel and tx_fast).
declare -A M0 D
mib_names=(IpInReceives IpInDelivers UdpInDatagrams IpOutRequests
	   UdpOutDatagrams rx_accel tx_fast)
mib_value() {
	case $1 in
	rx_accel|tx_fast)	stat_of "$1" ;;
	*)			nstat_of "$NS_A" "$1" ;;
	esac
}
mib_from_here() {
	local k

	for k in "${mib_names[@]}"; do
		M0[$k]=$(mib_value "$k")
	done
}
mib_since() {
	local k

	for k in "${mib_names[@]}"; do
		D[$k]=$(($(mib_value "$k") - M0[$k]))
	done
	tap_diag "$1: $(for k in "${mib_names[@]}"; do printf '%s +%s ' "$k" "${D[$k]}"; done)"
}

# recv_in_a PORT: an accelerated receiver of $N datagrams sent from B.
recv_in_a() {
	bg rcv in_a "$EXA" "$TOOL" recv -b "$IP_A:$1" -n "$N" -a
	wait_ready rcv || return 1
	in_b "$TOOL" send -t "$IP_A:$1" -n "$N" -s 100 >/dev/null
	bg_wait rcv 20 || { show rcv; return 1; }
}

# send_from_a PORT: an accelerated sender of $N datagrams to B.
send_from_a() {
	bg rcv in_b "$TOOL" recv -b "$IP_B:$1" -n "$N"
	wait_ready rcv || return 1
	in_a "$EXA" "$TOOL" send -t "$IP_B:$1" -n "$N" -s 100 -p 200 -a >/dev/null
	bg_wait rcv 20 || { show rcv; return 1; }
}

# -- the counters ---------------------------------------------------------
mib_from_here
recv_in_a 5101
rc=$?
mib_since "ring receive"
check "$N datagrams received through A's ring (rx_accel +${D[rx_accel]})" \
	test "$rc" = 0 -a "${D[rx_accel]}" -ge "$N"
check "A's IpInReceives, IpInDelivers and UdpInDatagrams count them (each >= $N)" \
	test "${D[IpInReceives]}" -ge "$N" -a "${D[IpInDelivers]}" -ge "$N" \
	-a "${D[UdpInDatagrams]}" -ge "$N"

mib_from_here
send_from_a 5102
rc=$?
mib_since "fast send"
check "$N datagrams sent by A's fast path (tx_fast +${D[tx_fast]})" \
	test "$rc" = 0 -a "${D[tx_fast]}" -ge "$N"
check "A's IpOutRequests and UdpOutDatagrams count them (each >= $N)" \
	test "${D[IpOutRequests]}" -ge "$N" -a "${D[UdpOutDatagrams]}" -ge "$N"

# -- netfilter ------------------------------------------------------------
# nft_count NAME: packets counted by A's named counter NAME.
nft_count() {
	in_a nft list counter inet exaudp "$1" |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

if ! command -v nft >/dev/null; then
	no_nft="no nft"
elif ! err=$(in_a nft -f - 2>&1 <<-EOT
	table inet exaudp {
		counter in_drop { }
		counter out_drop { }
		chain in {
			type filter hook input priority 0;
			udp dport 5103 counter name in_drop drop
		}
		chain out {
			type filter hook output priority 0;
			udp dport 5105 counter name out_drop drop
		}
	}
	EOT
); then
	no_nft="nft failed: $err"
else
	no_nft=
fi

if [[ -n $no_nft ]]; then
	for t in "an input rule drops datagrams for an accelerated socket" \
		 "other ports still arrive, through the kernel's path" \
		 "an output rule drops an accelerated socket's datagram" \
		 "other ports still leave, through the kernel's path" \
		 "a postrouting rule counts every datagram sent" \
		 "rule gone: the fast paths are back"; do
		tap_skip "$t" "$no_nft"
	done
else
	mib_from_here
	bg drop in_a "$EXA" "$TOOL" dump -b "$IP_A:5103" -T 2000 -a
	wait_ready drop
	in_b "$TOOL" send -t "$IP_A:5103" -n 20 -s 100 >/dev/null
	bg_wait drop 20
	mib_since "input rule"
	check "an input rule drops datagrams for an accelerated socket (nft $(nft_count in_drop)/20, received: $(grep -c '^datagram' "$TMPD/drop.out"), rx_accel +${D[rx_accel]})" \
		eval '[[ $(nft_count in_drop) -eq 20 && ${D[rx_accel]} -eq 0 ]] &&
		      ! grep -q "^datagram" "$TMPD/drop.out"'

	mib_from_here
	recv_in_a 5104
	rc=$?
	mib_since "input hook, other port"
	check "other ports still arrive, through the kernel's path (rx_accel +${D[rx_accel]})" \
		test "$rc" = 0 -a "${D[rx_accel]}" -eq 0

	# As without exasock, the send that the rule drops fails with EPERM.
	mib_from_here
	bg drop in_b "$TOOL" dump -b "$IP_B:5105" -T 2000
	wait_ready drop
	in_a "$EXA" "$TOOL" send -t "$IP_B:5105" -n 20 -s 100 -a \
		>/dev/null 2>"$TMPD/send.err"
	bg_wait drop 20
	mib_since "output rule"
	tap_diag "sender: $(cat "$TMPD/send.err")"
	check "an output rule drops an accelerated socket's datagram, send fails with EPERM (nft $(nft_count out_drop)/1, received: $(grep -c '^datagram' "$TMPD/drop.out"), tx_fast +${D[tx_fast]})" \
		eval '[[ $(nft_count out_drop) -eq 1 && ${D[tx_fast]} -eq 0 ]] &&
		      grep -q "Operation not permitted" "$TMPD/send.err" &&
		      ! grep -q "^datagram" "$TMPD/drop.out"'

	mib_from_here
	send_from_a 5106
	rc=$?
	mib_since "output hook, other port"
	check "other ports still leave, through the kernel's path (tx_fast +${D[tx_fast]})" \
		test "$rc" = 0 -a "${D[tx_fast]}" -eq 0

	# A hook at POST_ROUTING alone: it must see every datagram, so the
	# fast send path stands aside for it too.
	in_a nft delete table inet exaudp
	in_a nft -f - <<-EOT
	table inet exapost {
		counter post { }
		chain post {
			type filter hook postrouting priority 0;
			udp dport 5109 counter name post
		}
	}
	EOT
	mib_from_here
	send_from_a 5109
	rc=$?
	mib_since "postrouting hook"
	post=$(in_a nft list counter inet exapost post |
		sed -n 's/.*packets \([0-9]*\).*/\1/p')
	check "a postrouting rule counts every datagram sent, through the kernel's path (nft ${post:-none}/$N, tx_fast +${D[tx_fast]})" \
		test "$rc" = 0 -a "${post:-0}" -eq "$N" -a "${D[tx_fast]}" -eq 0
	in_a nft delete table inet exapost

	mib_from_here
	recv_in_a 5107 && send_from_a 5108
	rc=$?
	mib_since "rule gone"
	check "rule gone: the fast paths are back (rx_accel +${D[rx_accel]}, tx_fast +${D[tx_fast]})" \
		test "$rc" = 0 -a "${D[rx_accel]}" -ge "$N" -a "${D[tx_fast]}" -ge "$N"
fi
# -- socket filters attached after acceleration -------------------------
SF=$TOP/selftests/sock_filter.py
# sends NUM datagrams of SIZE payload bytes from B
udp_burst() {
	local i

	for ((i = 0; i < $1; i++)); do
		in_b bash -c "printf '%*s' $2 '' >/dev/udp/$IP_A/5110"
	done
}
bg flt in_a "$EXA" python3 "$SF" udp "$IP_A" 5110
wait_ready flt
# 300 bytes: the marker that ends each phase (sock_filter.py)
udp_burst 3 50
udp_burst 3 200
udp_burst 1 300
wait_out flt '^detached'
udp_burst 3 50
udp_burst 1 300
bg_wait flt 20
show flt
check "UDP: a filter attached after bind keeps only what it accepts" \
	out_has flt '^filtered 200,200,200$'
check "UDP: detached, everything arrives again" \
	out_has flt '^open 50,50,50$'
check "UDP: SO_GET_FILTER reads the filter back, and nothing once detached" \
	eval 'out_has flt "^get_filter same$" &&
	      out_has flt "^detached, get_filter 0 instructions$"'

bg flt in_a "$EXA" python3 "$SF" tcp-server "$IP_A" 5111
wait_ready flt
bg flc in_b python3 "$SF" tcp-client "$IP_A" 5111
bg_wait flc 60
bg_wait flt 10
show flt
show flc
check "TCP: a filter attached to an accepted connection drops its segments" \
	out_has flt '^blocked$'
check "TCP: detached, the retransmitted data arrives" \
	eval 'out_has flt "^unblocked$" && out_has flc "^ok$"'

# -- a qdisc that drops every packet --------------------------------------
# dropped SENDER...: run SENDER (10 datagrams to B); its status in $rc,
# A's IpOutDiscards and UdpSndbufErrors deltas in $drops.
dropped() {
	local o0 s0

	o0=$(nstat_of "$NS_A" IpOutDiscards)
	s0=$(nstat_of "$NS_A" UdpSndbufErrors)
	in_a "$@" -t "$IP_B:5120" -n 10 -s 100 >/dev/null 2>"$TMPD/send.err"
	rc=$?
	drops="$(($(nstat_of "$NS_A" IpOutDiscards) - o0))/$(($(nstat_of "$NS_A" UdpSndbufErrors) - s0))"
}
if in_a tc qdisc add dev "$DEV_A" root pfifo limit 0 2>/dev/null; then
	dropped "$TOOL" send
	plain_rc=$rc plain_drops=$drops
	slow0=$(stat_of tx_slow)
	dropped "$EXA" "$TOOL" send -a
	in_a tc qdisc del dev "$DEV_A" root
	tap_diag "qdisc drops: plain exit $plain_rc, IpOutDiscards/UdpSndbufErrors +$plain_drops; exasock exit $rc, +$drops; $(cat "$TMPD/send.err")"
	check "qdisc drops, plain Linux: the sends succeed, counted 10/10" \
		test "$plain_rc/$plain_drops" = "0/10/10"
	check "qdisc drops, accelerated: the same (exit $rc, +$drops)" \
		test "$rc/$drops" = "0/10/10"
	check "qdisc drops, accelerated: on the fast path, not the twin's (tx_slow +$(($(stat_of tx_slow) - slow0)))" \
		test "$(stat_of tx_slow)" = "$slow0"
else
	for t in plain accelerated "fast path"; do
		tap_skip "qdisc drops: $t" "no pfifo qdisc"
	done
fi

check "kernel log clean" kernel_log_clean
tap_finish
