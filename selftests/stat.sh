#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# exasock-stat against sockets whose state the test knows: the table, its
# addresses and "*", Recv-Q after a known number of unread payload bytes,
# -e (user, PID/FD, program), each filter, -s PID:FD, -i counters and -j
# JSON parsed by python3.
#
#   netns A                                         netns B
#   exa0 10.77.0.1 (attached)          <-veth->    exa1 10.77.0.2
#    wild: *:5601          (nobody)                 udp_tool send:
#    bound: 10.77.0.1:5602 (root)  <-------------   3 x 100 B, unread
#    conn: 10.77.0.1:5603 -> 10.77.0.2:5604
#    native: 10.77.0.1:5605 (not accelerated)
#
# The module-not-loaded answer cannot be checked here: the module must
# stay loaded for the tests after this one.

# shellcheck disable=SC2317 # the helpers run through check
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

STAT=$TOP/util/exasock-stat
HEADING='Active SmartNIC Sockets accelerated connections (servers and established):'

require_exasock
[[ -x $STAT ]] || tap_skip_all "$STAT not built (run make)"
require_cmd python3
tap_plan 25
setup_pair
attach_a || tap_fail "attach exa0"

WILD=5601
BOUND=$IP_A:5602
CONN=$IP_A:5603
PEER=$IP_B:5604
NATIVE=$IP_A:5605
NPKT=3
SIZE=100

# Receivers that hold their socket, reading nothing until the test ends.
hold() {
	local name=$1

	shift
	bg_stdin "$name" "$TMPD/$name.in" "$@"
	exec {_fd}>"$TMPD/$name.in"
}
hold wild in_a "${NOBODY[@]}" "$EXA" "$TOOL" recv -b "*:$WILD" -n 0 -w -W 600 -a
hold bound in_a "$EXA" "$TOOL" recv -b "$BOUND" -n 0 -w -W 600 -a
hold conn in_a "$EXA" "$TOOL" recv -b "$CONN" -c "$PEER" -n 0 -w -W 600 -a
hold native in_a "$TOOL" recv -b "$NATIVE" -n 0 -w -W 600 -A
ok=1
for n in wild bound conn native; do
	wait_ready "$n" || ok=0
done
check "four receivers ready (three accelerated, one native)" test $ok = 1

# stat ARGS...: exasock-stat in namespace A; output in $TMPD/stat.out,
# stderr in $TMPD/stat.err, exit status returned.
run_stat() {
	in_a "$STAT" "$@" >"$TMPD/stat.out" 2>"$TMPD/stat.err"
}

# The table's rows as trimmed, "|"-separated fields; counter lines (-i)
# and the module section are left out.
rows() {
	awk -F'|' 'NR > 2 && NF >= 6 {
		line = ""
		for (i = 1; i <= NF; i++) {
			f = $i
			gsub(/^ +| +$/, "", f)
			line = line (i > 1 ? "|" : "") f
		}
		print line
	}' "$TMPD/stat.out"
}

# row LOCAL: the row whose Local Address is LOCAL.
row() {
	rows | awk -F'|' -v l="$1" '$4 == l'
}

dump_out() {
	sed 's/^/#   /' "$TMPD/stat.out" "$TMPD/stat.err"
}

# expect_row LOCAL WANT [ARGS...]: exasock-stat ARGS has exactly the row
# WANT (fields "|"-separated) for LOCAL.
expect_row() {
	local l=$1 want=$2 got

	shift 2
	run_stat "$@" || { dump_out; return 1; }
	got=$(row "$l")
	[[ $got == "$want" ]] && return 0
	tap_diag "row of $l: got '$got', want '$want'"
	dump_out
	return 1
}

# -- send the unread bytes ------------------------------------------------
tap_run "sent $NPKT x $SIZE bytes to $BOUND, not read" \
	in_b "$TOOL" send -t "$BOUND" -n "$NPKT" -s "$SIZE"
recvq_full() {
	run_stat && [[ $(row "$BOUND" | cut -d'|' -f2) == $((NPKT * SIZE)) ]]
}
busywait 10000 recvq_full
run_stat
dump_out

# -- the default table ----------------------------------------------------
check "heading line" test "$(head -n 1 "$TMPD/stat.out")" = "$HEADING"
header_ok() {
	sed -n 2p "$TMPD/stat.out" |
		grep -Eq '^  Proto \| Recv-Q +\| Send-Q +\| Local Address +\| Foreign Address +\| State$'
}
check "column header line" header_ok
check "three accelerated sockets listed, the native one not" \
	test "$(rows | wc -l)" = 3
check "wildcard: UDP, *:$WILD, foreign *:*, state -" \
	expect_row "*:$WILD" "UDP|0|0|*:$WILD|*:*|-"
check "bound: $BOUND, Recv-Q $((NPKT * SIZE)) = payload bytes unread" \
	expect_row "$BOUND" "UDP|$((NPKT * SIZE))|0|$BOUND|*:*|-"
check "connected: $CONN, foreign $PEER" \
	expect_row "$CONN" "UDP|0|0|$CONN|$PEER|-"

# -- -e: user, PID/FD, program --------------------------------------------
pidfd() {
	echo "${BG_PID[$1]}/$(ready_field "$1" fd)"
}
check "-e: wildcard socket is nobody's, $(pidfd wild), udp_tool" \
	expect_row "*:$WILD" "UDP|0|0|*:$WILD|*:*|-|nobody|$(pidfd wild)|udp_tool" -e
check "--extend: bound socket is root's, $(pidfd bound), udp_tool" \
	expect_row "$BOUND" "UDP|$((NPKT * SIZE))|0|$BOUND|*:*|-|root|$(pidfd bound)|udp_tool" --extend
check "-e -n: numeric user 65534" \
	expect_row "*:$WILD" "UDP|0|0|*:$WILD|*:*|-|65534|$(pidfd wild)|udp_tool" -e -n

# -- filters --------------------------------------------------------------
# locals ARGS...: the Local Address column of exasock-stat ARGS, sorted.
locals() {
	run_stat "$@" || { dump_out; return 1; }
	rows | cut -d'|' -f4 | sort | tr '\n' ' '
}
expect_locals() {
	local want=$1 got

	shift
	got=$(locals "$@")
	[[ $got == "$want" ]] && return 0
	tap_diag "exasock-stat $*: got '$got', want '$want'"
	dump_out
	return 1
}
# sorted like locals sorts them
sorted() {
	printf '%s\n' "$@" | sort | tr '\n' ' '
}
all=$(sorted "$BOUND" "$CONN" "*:$WILD")
check "-c: the connected socket only" expect_locals "$CONN " -c
check "-l: the two without a peer" expect_locals "$(sorted "$BOUND" "*:$WILD")" -l
check "-c -l: all three" expect_locals "$all" -c -l
check "-u: all three (all UDP)" expect_locals "$all" -u
check "-t: none (no TCP socket)" expect_locals "" -t
check "-s PID:FD: that socket only" \
	expect_locals "$CONN " -s "$(pidfd conn | tr / :)"

not_accel() {
	local rc=0

	run_stat -s "$(pidfd native | tr / :)" || rc=$?
	tap_diag "$(cat "$TMPD/stat.err") (exit $rc)"
	[[ $rc = 1 ]] && grep -q 'not an accelerated socket' "$TMPD/stat.err"
}
check "-s on a native socket: error, exit 1" not_accel
not_sock() {
	local rc=0

	run_stat -s "${BG_PID[bound]}:0" || rc=$?
	tap_diag "$(cat "$TMPD/stat.err") (exit $rc)"
	[[ $rc = 1 ]] && grep -q 'not a socket' "$TMPD/stat.err"
}
check "-s on a FIFO: error, exit 1" not_sock

# -- -i: counters ---------------------------------------------------------
internal_ok() {
	run_stat -i -s "$(pidfd bound | tr / :)" || { dump_out; return 1; }
	dump_out
	sed -n 4p "$TMPD/stat.out" | grep -q "rx_packets=$NPKT " &&
		sed -n 4p "$TMPD/stat.out" | grep -q "rx_bytes=$((NPKT * SIZE)) " &&
		grep -q '^Module-wide counters' "$TMPD/stat.out" &&
		grep -Eq '^  rx_accel +[0-9]+$' "$TMPD/stat.out"
}
check "-i: rx_packets=$NPKT rx_bytes=$((NPKT * SIZE)), module counters" \
	internal_ok

# -- -j: JSON -------------------------------------------------------------
json_valid() {
	run_stat -j -e || { dump_out; return 1; }
	python3 -m json.tool "$TMPD/stat.out" >/dev/null || { dump_out; return 1; }
}
check "-j -e: python3 -m json.tool accepts it" json_valid
json_ok() {
	python3 - "$TMPD/stat.out" "$BOUND" "$NPKT" "$SIZE" \
		"${BG_PID[bound]}" "$(ready_field bound fd)" <<'EOF'
import json, sys

path, local, npkt, size, pid, fd = sys.argv[1:]
doc = json.load(open(path))
socks = doc["sockets"]
assert len(socks) == 3, socks
s = [s for s in socks if s["local"] == local][0]
assert s["proto"] == "udp" and not s["connected"], s
assert s["recv_q"] == int(npkt) * int(size), s
assert s["stats"]["rx_packets"] == int(npkt), s
assert s["stats"]["rx_bytes"] == int(npkt) * int(size), s
assert s["processes"] == [{"pid": int(pid), "fd": int(fd),
                           "program": "udp_tool"}], s
assert s["user"] == "root" and s["uid"] == 0, s
assert doc["module"]["stats"]["rx_accel"] >= int(npkt), doc["module"]
EOF
}
check "-j: Recv-Q, counters, process and module counters in the JSON" json_ok

# -- usage ----------------------------------------------------------------
help_ok() {
	local o

	run_stat --help || return 1
	for o in -e -c -l -t -u -s -i -j -n -h; do
		grep -q -- "$o," "$TMPD/stat.out" ||
			grep -q -- "$o " "$TMPD/stat.out" || { tap_diag "--help lacks $o"; return 1; }
	done
}
check "--help describes every option, exit 0" help_ok
bad_opt() {
	local rc=0

	run_stat --frobnicate || rc=$?
	[[ $rc = 1 ]]
}
check "unknown option: exit 1" bad_opt

check "kernel log clean" kernel_log_clean
tap_finish
