# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for the shell selftests: TAP output, busywait and a
# two-namespace veth topology.  Source it from a test:
#
#   . "$(dirname "$0")/lib.sh"
#   tap_plan 2
#   setup_pair
#   ip netns exec "$NS_A" ping -c 1 -W 2 "$IP_B" >/dev/null && tap_ok ping || tap_fail ping
#   ...
#   tap_finish
#
# setup_pair builds:
#
#   +---------------------------+          +---------------------------+
#   | netns $NS_A (exa-a-PID-N) |          | netns $NS_B (exa-b-PID-N) |
#   |                           |   veth   |                           |
#   |  lo   $DEV_A (exa0) ------+----------+------ $DEV_B (exa1)  lo   |
#   |       $IP_A 10.77.0.1/24  |          |  $IP_B 10.77.0.2/24       |
#   +---------------------------+          +---------------------------+
#
# Names are unique per test process, so tests may run side by side; the
# namespaces (and the veth pair with them) go away at exit.

# ---------------------------------------------------------------- TAP

TAP_NUM=0
TAP_PASS=0
TAP_FAIL=0
TAP_SKIP=0

# tap_plan N: TAP header and plan.
tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

# tap_ok NAME: one passed case.
tap_ok() {
	TAP_NUM=$((TAP_NUM + 1))
	TAP_PASS=$((TAP_PASS + 1))
	echo "ok $TAP_NUM $*"
}

# tap_fail NAME: one failed case.
tap_fail() {
	TAP_NUM=$((TAP_NUM + 1))
	TAP_FAIL=$((TAP_FAIL + 1))
	echo "not ok $TAP_NUM $*"
}

# tap_skip NAME REASON: one skipped case.
tap_skip() {
	local name=$1

	shift
	TAP_NUM=$((TAP_NUM + 1))
	TAP_SKIP=$((TAP_SKIP + 1))
	echo "ok $TAP_NUM $name # SKIP $*"
}

# tap_diag TEXT: a comment line.
tap_diag() {
	echo "# $*"
}

# tap_run NAME CMD...: run CMD, ok if it succeeds.  CMD's output is kept
# as TAP comments.
tap_run() {
	local name=$1 output rc=0

	shift
	output=$("$@" 2>&1) || rc=$?
	[[ -z $output ]] || printf '%s\n' "$output" | sed 's/^/# /'
	if [[ $rc -eq 0 ]]; then
		tap_ok "$name"
	else
		tap_diag "'$*' exited $rc"
		tap_fail "$name"
	fi
}

# tap_finish: totals line, then exit 1 if any case failed, 4 (kselftest's
# skip) if every case was skipped, else 0.
tap_finish() {
	echo "# Totals: pass:$TAP_PASS fail:$TAP_FAIL skip:$TAP_SKIP"
	if [[ $TAP_FAIL -gt 0 ]]; then
		exit 1
	elif [[ $TAP_PASS -eq 0 && $TAP_SKIP -gt 0 ]]; then
		exit 4
	fi
	exit 0
}

# tap_skip_all REASON: the whole test cannot run here.
tap_skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit 4
}

# require_cmd CMD...: skip the whole test unless every CMD exists.
require_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null || tap_skip_all "$c not installed"
	done
}

# ---------------------------------------------------------------- waiting

# busywait TIMEOUT_MS CMD...: run CMD until it succeeds or TIMEOUT_MS
# has passed.  Returns 0 on success, else CMD's last status.
busywait() {
	local timeout_ms=$1 start now rc

	shift
	start=$(date +%s%3N)
	while :; do
		if "$@"; then
			return 0
		else
			rc=$?
		fi
		now=$(date +%s%3N)
		[[ $((now - start)) -lt $timeout_ms ]] || return "$rc"
		sleep 0.05
	done
}

# ---------------------------------------------------------------- cleanup

# at_exit CMD...: run CMD (one eval'd string) at exit, last added first.
CLEANUP_CMDS=()
at_exit() {
	CLEANUP_CMDS+=("$*")
}

# Runs the at_exit commands, then deletes the namespaces setup_pair made.
# Keeps the test's exit status.
cleanup() {
	local rc=$? i

	set +e
	for ((i = ${#CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP_CMDS[i]}"
	done
	CLEANUP_CMDS=()
	[[ -z ${NS_A:-} ]] || ip netns del "$NS_A" 2>/dev/null
	[[ -z ${NS_B:-} ]] || ip netns del "$NS_B" 2>/dev/null
	NS_A=
	NS_B=
	return "$rc"
}

# ---------------------------------------------------------------- topology

# setup_pair: two namespaces joined by a veth pair, as drawn above.
# Returns non-zero if any step fails.  It sets "trap cleanup EXIT": a test
# with more to undo registers it with at_exit rather than its own trap.
setup_pair() {
	local suffix="$$-$RANDOM"

	NS_A=exa-a-$suffix
	NS_B=exa-b-$suffix
	DEV_A=exa0
	DEV_B=exa1
	IP_A=10.77.0.1
	IP_B=10.77.0.2
	export NS_A NS_B DEV_A DEV_B IP_A IP_B
	trap cleanup EXIT

	ip netns add "$NS_A" || return
	ip netns add "$NS_B" || return
	ip -n "$NS_A" link set lo up || return
	ip -n "$NS_B" link set lo up || return
	# Made straight inside the namespaces, so parallel tests never clash
	# over the device names.
	ip -n "$NS_A" link add "$DEV_A" type veth peer name "$DEV_B" netns "$NS_B" || return
	ip -n "$NS_A" addr add "$IP_A/24" dev "$DEV_A" || return
	ip -n "$NS_B" addr add "$IP_B/24" dev "$DEV_B" || return
	ip -n "$NS_A" link set "$DEV_A" up || return
	ip -n "$NS_B" link set "$DEV_B" up
}

# in_a CMD... / in_b CMD...: run CMD in one end's namespace.
in_a() {
	ip netns exec "$NS_A" "$@"
}

in_b() {
	ip netns exec "$NS_B" "$@"
}

# ---------------------------------------------------------------- counting

# tap_count LOG RC: count the cases a test program reported in LOG (its
# output) given its exit status RC, into COUNT_PASS, COUNT_FAIL and
# COUNT_SKIP.  Used by run-all and run-vm, so the rule is in one place:
#
#  - every top-level (unindented) "ok N" / "not ok N" line is one case;
#    a "# SKIP" or "# TODO" directive makes it skipped, "# XFAIL" passed;
#  - a program that reported no case is one case, by its exit status:
#    0 passed, 4 skipped (kselftest's KSFT_SKIP), anything else failed;
#  - a program that exited with neither 0 nor 4 (crash, timeout), or
#    reported fewer cases than its plan, without reporting a failure,
#    gets one failed case more, so it can never count as clean.
tap_count() {
	local log=$1 rc=$2 line plan=-1 n=0 directive

	COUNT_PASS=0
	COUNT_FAIL=0
	COUNT_SKIP=0
	while IFS= read -r line; do
		if [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
			continue
		fi
		[[ $line =~ ^(not\ )?ok\ [0-9]+ ]] || continue
		n=$((n + 1))
		directive=
		if [[ $line =~ [[:space:]]\#[[:space:]]*([A-Za-z]+) ]]; then
			directive=${BASH_REMATCH[1]^^}
		fi
		case $directive in
		SKIP|TODO)	COUNT_SKIP=$((COUNT_SKIP + 1)) ;;
		XFAIL)		COUNT_PASS=$((COUNT_PASS + 1)) ;;
		*)
			if [[ $line = not* ]]; then
				COUNT_FAIL=$((COUNT_FAIL + 1))
			else
				COUNT_PASS=$((COUNT_PASS + 1))
			fi
			;;
		esac
	done <"$log"

	if [[ $n -eq 0 ]]; then
		case $rc in
		0) COUNT_PASS=1 ;;
		4) COUNT_SKIP=1 ;;
		*) COUNT_FAIL=1 ;;
		esac
	elif [[ $COUNT_FAIL -eq 0 ]] && { [[ $rc -ne 0 && $rc -ne 4 ]] || [[ $n -lt $plan ]]; }; then
		COUNT_FAIL=1
	fi
}
