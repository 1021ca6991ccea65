#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed generic netlink requests get errors, never a crash: the raw
# requests of netlink_malformed.py, then exasock-ctl's own error paths.
#
#   netns A: exa0 (not attached) <-veth-> exa1 :netns B

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
require_cmd python3
tap_plan 7
setup_pair

tap_run "raw malformed requests (netlink_malformed.py)" \
	in_a python3 "$TOP/selftests/netlink_malformed.py" "$DEV_A"

ctl_fails() {
	local want=$1 out rc

	shift
	out=$(in_a "$CTL" "$@" 2>&1)
	rc=$?
	tap_diag "exasock-ctl $*: $out (exit $rc)"
	[[ $rc = 1 ]] && grep -qi -- "$want" <<<"$out"
}
check "exasock-ctl attach of an unknown interface" \
	ctl_fails "no such" attach nosuchif0
check "exasock-ctl attach of a too-long name" \
	ctl_fails "invalid argument" attach abcdefghijklmnopqrstuvwxyz0123456789
check "exasock-ctl detach of an interface not attached" \
	ctl_fails "not attached" detach "$DEV_A"
check "exasock-ctl unknown command" ctl_fails "unknown command" frobnicate
ctl_works() {
	in_a "$CTL" stats >/dev/null
}
check "exasock-ctl still works" ctl_works
check "kernel log clean" kernel_log_clean
tap_finish
