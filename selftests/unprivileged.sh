#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Any user may use accelerated sockets on an attached interface; only
# CAP_NET_ADMIN may attach or detach one; privileged ports still need
# CAP_NET_BIND_SERVICE. The unprivileged user is nobody (65534).
#
#   netns A                               netns B
#   exa0 10.77.0.1             <-veth->  exa1 10.77.0.2
#   nobody: exasock-ctl attach (fails), exasock udp_tool echo (works)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
require_cmd setpriv
tap_plan 9
setup_pair

out=$(in_a "${NOBODY[@]}" "$CTL" attach "$DEV_A" 2>&1)
rc=$?
tap_diag "nobody: exasock-ctl attach: $out (exit $rc)"
check "nobody cannot attach (exit 1)" test "$rc" = 1
check "... with a permission error" grep -qi "not permitted" <<<"$out"
check "the interface did not get attached" \
	bash -c "! ip netns exec '$NS_A' '$CTL' show | grep -q '^$DEV_A '"

attach_a || tap_diag "root could not attach"
out=$(in_a "${NOBODY[@]}" "$CTL" detach "$DEV_A" 2>&1)
rc=$?
tap_diag "nobody: exasock-ctl detach: $out (exit $rc)"
check "nobody cannot detach" test "$rc" = 1
tap_run "nobody may read show, sockets and stats" \
	in_a "${NOBODY[@]}" bash -c "'$CTL' show && '$CTL' sockets && '$CTL' stats"

bg srv in_a "${NOBODY[@]}" env EXASOCK_DEBUG=1 "$EXA" "$TOOL" echo \
	-b "$IP_A:5900" -n 10 -a
if wait_ready srv; then
	uid=$(in_a "$CTL" sockets | awk -v l="$IP_A:5900" '$5 == l { print $7 }')
	check "nobody's socket is accelerated and owned by uid 65534 ($uid)" \
		test "$uid" = 65534
	tap_run "plain B <-> nobody's accelerated socket" \
		in_b "$TOOL" ping -t "$IP_A:5900" -n 10 -s 100
else
	show srv
	tap_fail "nobody's socket is accelerated"
	tap_fail "plain B <-> nobody's accelerated socket"
fi
bg_wait srv 10

out=$(in_a "${NOBODY[@]}" "$EXA" "$TOOL" bind -b "$IP_A:80" 2>&1)
rc=$?
tap_diag "nobody: bind to port 80 under exasock: $out (exit $rc)"
check "nobody still cannot bind a privileged port under exasock" \
	grep -q "Permission denied" <<<"$out"
check "kernel log clean" kernel_log_clean
tap_finish
