#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Forged TCP segments, injected with an AF_PACKET socket into an
# established accelerated connection and at its listener (tcp_inject.c
# lists them): bad checksums, data offsets below 5 or past the packet,
# truncated headers, malformed options, new data carrying a TCP-MD5
# option on a connection without keys, data outside the window or
# already received, an ACK of unsent data, RSTs and a SYN in and out of
# the window (RFC 5961), 200 randomly damaged segments and a flood of
# 2000 SYNs.  Between rounds the injector, itself the connection's peer,
# checks that the accelerated echo server sends back exactly the bytes
# it sent.  Nothing may crash, no forged byte may reach the application,
# the connection must survive everything but the exact RST, which must
# end it, and the kernel's counters must show the drops.
#
#   netns A                               netns B (tcp_timestamps=0)
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_tool listen    <-------  tcp_inject: a plain TCP socket,
#     -x echo :7400            <-------    and AF_PACKET on exa1

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_tcp
require_cmd nstat
tap_plan 17
setup_pair
attach_a || tap_fail "attach exa0"
# forged segments then need no timestamp option
in_b sysctl -qw net.ipv4.tcp_timestamps=0

PORT=7400
SYNS=2000
start=$(mod_counters)
tap_diag "start: $start"

MIBS=(TcpInSegs TcpInErrs TcpInCsumErrors TcpExtTCPChallengeACK
      TcpExtTCPACKSkippedChallenge TcpEstabResets TcpExtListenDrops
      TcpExtSyncookiesSent TcpExtTCPMD5Unexpected)
declare -A mib0=()
for m in "${MIBS[@]}"; do
	mib0[$m]=$(nstat_of "$NS_A" "$m")
done
frames0=$(stat_of rx_frames)
delta() {
	echo $(($(nstat_of "$NS_A" "$1") - mib0[$1]))
}

bg srv in_a "$EXA" "$TCPT" listen -b "$IP_A:$PORT" -n 2 -W 110 -x echo
if ! wait_ready srv; then
	tap_fail "accelerated echo server started"
	tap_finish
fi
tap_ok "accelerated echo server started"

mac=$(mac_of "$NS_A" "$DEV_A")
in_b timeout 100 "$TCPINJ" "$DEV_B" "$mac" "$IP_B" "$IP_A" "$PORT" 200 "$SYNS" \
	>"$TMPD/inject.out" 2>&1
rc=$?
grep -v '^case' "$TMPD/inject.out" | sed 's/^/# inject: /'
check "injector ran to the end (exit $rc)" grep -q '^csum_bad ' "$TMPD/inject.out"

inj() {
	grep -q "^$1 ok\$" "$TMPD/inject.out"
}
check "echo intact before the injection" inj "round 1 (before)"
check "no forged byte taken: the echo after the bad segments is intact" \
	inj "round 2 (after bad segments)"
check "out-of-window and in-window-not-exact RSTs, in-window SYN: connection alive, echo intact" \
	inj "round 3 (after RFC 5961 cases)"
check "$SYNS SYNs at the listener: the connection still echoes" \
	inj "round 4 (after the SYN flood)"
check "a new connection after all that: echo intact" \
	inj "round 5 (new connection)"

bg_wait srv 30
show srv
check "the exact RST ended the connection: server read ECONNRESET" \
	out_has srv '^echo read error ECONNRESET'
check "the server then served the new connection" out_has srv '^echoed 5000$'
check_accel "the server's sockets were accelerated" srv

frames=$(($(stat_of rx_frames) - frames0))
for m in "${MIBS[@]}"; do
	tap_diag "A $m +$(delta "$m")"
done
tap_diag "exasock rx_frames +$frames"
injected=$(sed -n 's/^injected //p' "$TMPD/inject.out")
check "bad checksums counted (TcpInCsumErrors +$(delta TcpInCsumErrors) >= 4)" \
	test "$(delta TcpInCsumErrors)" -ge 4
check "bad headers counted (TcpInErrs +$(delta TcpInErrs) >= TcpInCsumErrors + 3)" \
	test "$(delta TcpInErrs)" -ge $(($(delta TcpInCsumErrors) + 3))
check "RFC 5961 challenge ACKs (sent + rate-limited $(($(delta TcpExtTCPChallengeACK) + $(delta TcpExtTCPACKSkippedChallenge))) >= 3)" \
	test $(($(delta TcpExtTCPChallengeACK) + $(delta TcpExtTCPACKSkippedChallenge))) -ge 3
check "new bytes with a TCP-MD5 option, on a connection without keys: dropped by TCP (TcpExtTCPMD5Unexpected +$(delta TcpExtTCPMD5Unexpected) >= 1)" \
	test "$(delta TcpExtTCPMD5Unexpected)" -ge 1
check "the SYN flood reached TCP (TcpInSegs +$(delta TcpInSegs) >= $SYNS)" \
	test "$(delta TcpInSegs)" -ge "$SYNS"

back_to_start() {
	[[ $(mod_counters) = "$start" ]]
}
busywait 10000 back_to_start
tap_diag "end: $(mod_counters), injected ${injected:-?}"
check "module counters back to start" back_to_start
check "kernel log clean" kernel_log_clean
tap_finish
