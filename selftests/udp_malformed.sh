#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hand-made frames, good and bad, injected with an AF_PACKET socket on the
# far end of the veth pair at a port where an accelerated socket listens:
# truncated headers, bad IP header lengths, bad IP and UDP checksums,
# length fields larger than the frame, IP options, fragments, frames for
# another host, martian sources, and 300 randomly damaged ones. Nothing
# may crash; frames the kernel would deliver arrive (by the ring or the
# twin), frames it would drop never do, each is counted, and a valid
# datagram sent afterwards still arrives. Then a spoofed source, taken
# with rp_filter off and refused with it on.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock udp_tool dump :5600  <-----  inject_frames (AF_PACKET on exa1)
#                                <-----  udp_tool send (a plain socket)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 13
setup_pair
attach_a || tap_fail "attach exa0"

PORT=5600
# counters: every frame an attached interface sees is delivered to a
# ring (rx_accel), dropped because the ring is full (rx_dropped) or
# passed to the kernel (rx_pass); rx_malformed and rx_bad_csum say why.
counters() {
	"$CTL" stats | awk '
	$1 ~ /^rx_(frames|accel|pass|dropped|malformed|bad_(csum|source))$/ {
		printf "%s=%s ", $1, $2 }'
}
# read until two readings agree: no frame half-counted by a reading
stable_counters() {
	local a b

	a=$(counters)
	b=$(counters)
	[[ $a = "$b" ]] && STABLE=$b
}
busywait 10000 stable_counters || STABLE=$(counters)
before=$STABLE

bg rcv in_a "$EXA" "$TOOL" dump -b "$IP_A:$PORT" -T 5000 -a
if ! wait_ready rcv; then
	tap_fail "accelerated receiver started"
	tap_finish
fi
tap_ok "accelerated receiver started"

# the first injected frame must not wait for ARP: B learns A's MAC now
in_b "$TOOL" send -t "$IP_A:$((PORT + 1))" -n 1 >/dev/null

mac=$(mac_of "$NS_A" "$DEV_A")
in_b "$INJECT" "$DEV_B" "$mac" "$IP_B" "$IP_A" "$PORT" 300 \
	>"$TMPD/inject.out" 2>&1
rc=$?
grep -v '^case' "$TMPD/inject.out" | sed 's/^/# inject: /'
check "injected the frames with AF_PACKET" test "$rc" = 0
tap_run "a valid datagram from a plain socket afterwards" \
	in_b "$TOOL" send -t "$IP_A:$PORT" -n 1 -s 100

bg_wait rcv 30
show rcv | grep -v FUZZ

bad=$(grep -o 'data=BAD:[a-z_0-9]*' "$TMPD/rcv.out" | sort -u)
check "no frame the kernel would drop was delivered${bad:+ (got: $bad)}" \
	test -z "$bad"
missing=
# shellcheck disable=SC2013 # case names are single words
for c in $(awk '$1 == "case" && $3 == "ok" && $4 == "sent" { print $2 }' \
	   "$TMPD/inject.out"); do
	grep -q "data=OK:$c;" "$TMPD/rcv.out" || missing+=" $c"
done
check "every frame the kernel would deliver arrived${missing:+ (missing:$missing)}" \
	test -z "$missing"
check "the valid datagram sent afterwards arrived" \
	grep -q "^datagram len=100 from=$IP_B:[0-9]* data=EXA1" "$TMPD/rcv.out"

busywait 10000 stable_counters || STABLE=$(counters)
after=$STABLE
tap_diag "before: $before"
tap_diag "after:  $after"
delta() {
	local b a

	b=$(grep -o "$1=[0-9]*" <<<"$before" | cut -d= -f2)
	a=$(grep -o "$1=[0-9]*" <<<"$after" | cut -d= -f2)
	echo $((${a:-0} - ${b:-0}))
}
injected=$(sed -n 's/^injected //p' "$TMPD/inject.out")
frames=$(delta rx_frames)
handled=$(($(delta rx_accel) + $(delta rx_pass) + $(delta rx_dropped)))
check "all $injected injected frames seen (rx_frames +$frames)" \
	test "$frames" -ge "${injected:-1}"
check "each frame delivered, dropped and counted, or passed ($handled of $frames)" \
	test "$handled" -eq "$frames"
check "malformed frames counted (rx_malformed +$(delta rx_malformed))" \
	test "$(delta rx_malformed)" -gt 0
bad_source=$(delta rx_bad_source)
check "martian sources refused by input routing (rx_bad_source +$bad_source)" \
	test "$bad_source" -ge 5

# rp_filter: a source that does not route back through exa0 is taken
# with the filter off, refused once it is on (the socket has seen that
# source already, and must not take it on trust).
SPOOF=198.51.100.7
rpf() {
	in_a sysctl -qw net.ipv4.conf.all.rp_filter="$1" \
		"net.ipv4.conf.$DEV_A.rp_filter=$1"
}
bg rcv2 in_a "$EXA" "$TOOL" dump -b "$IP_A:$((PORT + 2))" -T 10000 -a
wait_ready rcv2 || tap_diag "second receiver not ready"
rpf 0
INJECT_ONLY=valid in_b "$INJECT" "$DEV_B" "$mac" "$SPOOF" "$IP_A" \
	$((PORT + 2)) >/dev/null
sleep 0.5
rpf 1
INJECT_ONLY=valid in_b "$INJECT" "$DEV_B" "$mac" "$SPOOF" "$IP_A" \
	$((PORT + 2)) >/dev/null
in_b "$TOOL" send -t "$IP_A:$((PORT + 2))" -n 1 -s 100 >/dev/null
rpf 0
bg_wait rcv2 30
spoofed=$(grep -c "from=$SPOOF:" "$TMPD/rcv2.out")
check "rp_filter: from $SPOOF once while off, not once on (got $spoofed)" \
	test "$spoofed" = 1
check "rp_filter: a routable source still arrives" \
	grep -q "^datagram len=100 from=$IP_B:" "$TMPD/rcv2.out"
check "kernel log clean" kernel_log_clean
tap_finish
