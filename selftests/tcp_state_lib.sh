# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the TCP state selftests (tcp_close, tcp_churn, tcp_kill,
# tcp_malformed) and their C programs tcp_tool and tcp_inject, on top of
# lib.sh and udp_lib.sh (bg, wait_ready, bg_wait, check, stat_of,
# kernel_log_*):
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/udp_lib.sh"
#   . "$(dirname "$0")/tcp_state_lib.sh"
#   require_tcp
#   setup_pair; attach_a
#   bg srv in_a "$EXA" "$TCPT" listen -b "$IP_A:6000" -x echo
#
# EXASOCK_TCP_ACCEL=0 runs the tests against a module without TCP
# acceleration: the checks that sockets in A are accelerated are then
# skipped, everything else (the behaviour plain Linux TCP shows) is still
# checked.

TCPT=$TOP/selftests/build/tcp_tool
TCPINJ=$TOP/selftests/build/tcp_inject
TCP_ACCEL=${EXASOCK_TCP_ACCEL:-1}

# require_tcp: require_exasock, plus the TCP helpers.
require_tcp() {
	local f

	require_exasock
	for f in "$TCPT" "$TCPINJ"; do
		[[ -x $f ]] || tap_skip_all "$f not built (run make)"
	done
}

# mod_counters: the module counters a socket leak would show.
mod_counters() {
	echo "sockets=$(stat_of sockets) accel_sockets=$(stat_of accel_sockets) ring_bytes=$(stat_of ring_bytes)"
}

# out_has NAME REGEX: NAME's stdout has a line matching REGEX (bash's
# own matching: a fork costs a lot in the guest).
out_has() {
	local line

	[[ -f $TMPD/$1.out ]] || return 1
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && return 0
	done <"$TMPD/$1.out"
	return 1
}

# wait_out NAME REGEX [MS]: until NAME's stdout has such a line (10 s).
wait_out() {
	busywait "${3:-10000}" out_has "$1" "$2"
}

# not_accel_lines NAME...: the ready/accepted/connected lines of the
# named programs (the ones run in A under the launcher) that are not
# accelerated, as the kernel (accelerated=) and the program (domain=)
# see it.  Empty when all are.
not_accel_lines() {
	local files=() n

	for n in "$@"; do
		files+=("$TMPD/$n.out")
	done
	[[ $# -gt 0 ]] || return 0
	grep -HE '^(ready|accepted|connected)' "${files[@]}" 2>/dev/null |
		awk '{
			line = $0
			sub(/^[^:]*\//, "", line)
			sub(/\.out:/, ": ", line)
			if (line !~ /accelerated=1( |$)/ ||
			    (line ~ /: (ready|accepted) .*domain=/ && line !~ /domain=25/))
				print line
		}'
}

# check_accel NAME PROG...: one case, skipped with EXASOCK_TCP_ACCEL=0:
# every socket the programs in A reported is accelerated.
check_accel() {
	local name=$1 bad

	shift
	if [[ $TCP_ACCEL = 0 ]]; then
		tap_skip "$name" "EXASOCK_TCP_ACCEL=0"
		return
	fi
	bad=$(not_accel_lines "$@")
	[[ -z $bad ]] || printf '%s\n' "$bad" | head -n 20 | sed 's/^/# not accelerated: /'
	check "$name" test -z "$bad"
}

# ss_count NS STATE [PORT]: how many TCP sockets of NS are in STATE (as
# ss prints it: ESTAB, TIME-WAIT, FIN-WAIT-1, ...), on PORT (local or
# remote) if given.  (No ss state filter: 6.1 answered "state
# time-wait" without a port filter with nothing.)
ss_count() {
	ip netns exec "$1" ss -Htan |
		awk -v s="$2" -v p="${3:-}" '$1 == s && (p == "" ||
			$4 ~ (":" p "$") || $5 ~ (":" p "$")) { n++ }
			END { print n + 0 }'
}

# no_closing_states NS: no socket of NS is half-way through a close.
no_closing_states() {
	[[ -z $(ip netns exec "$1" ss -Htan |
		awk '$1 ~ /^(FIN-WAIT-1|FIN-WAIT-2|CLOSING|LAST-ACK|CLOSE-WAIT|SYN-RECV)$/') ]]
}

# ss_summary NS: state counts, one line.
ss_summary() {
	ip netns exec "$1" ss -Htan | awk '{ n[$1]++ } END {
		for (s in n) printf "%s=%d ", s, n[s] }'
}

# tw_timers_ok NS: every TIME-WAIT entry of NS has a timewait timer of at
# most 60 s (TCP_TIMEWAIT_LEN), so each goes away by itself within it
# (one just due may show as a few ms, or below zero).  Offenders are
# printed as TAP comments.
tw_timers_ok() {
	ip netns exec "$1" ss -Htano |
		awk '$1 != "TIME-WAIT" { next }
		{
			v = -1
			if (match($0, /timer:\(timewait,[^,]*,/)) {
				t = substr($0, RSTART + 16, RLENGTH - 17)
				v = 0
				if (match(t, /^-?[0-9.]+min/)) { v += 60 * substr(t, 1, RLENGTH - 3); t = substr(t, RLENGTH + 1) }
				if (match(t, /^-?[0-9.]+sec/)) { v += substr(t, 1, RLENGTH - 3); t = substr(t, RLENGTH + 1) }
				if (match(t, /^-?[0-9.]+ms/)) { v += substr(t, 1, RLENGTH - 2) / 1000; t = substr(t, RLENGTH + 1) }
				if (t != "") v = -1
				else if (v < 0) v = 0
			}
			if (v < 0 || v > 60) {
				if (bad++ < 3) print "# timer not understood or > 60 s: " $0
			}
		} END { exit (bad > 0) }'
}

# nstat_of NS NAME: a kernel SNMP counter of NS (absolute).
nstat_of() {
	ip netns exec "$1" nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
