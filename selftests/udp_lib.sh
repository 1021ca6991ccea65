# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the exasock UDP selftests, on top of lib.sh. Source lib.sh
# first, then this:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/udp_lib.sh"
#   require_exasock
#   setup_pair; attach_a
#   bg srv in_a "$EXA" "$TOOL" echo -b "$IP_A:5000" -n 3
#   wait_ready srv && ...
#
# Background programs write $TMPD/NAME.out and $TMPD/NAME.err; they are
# killed at exit.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTL=$TOP/util/exasock-ctl
EXA=$TOP/util/exasock
TOOL=$TOP/selftests/build/udp_tool
INJECT=$TOP/selftests/build/inject_frames
# shellcheck disable=SC2034 # used by the tests
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

TMPD=$(mktemp -d /tmp/exasock-test.XXXXXX)
chmod 755 "$TMPD"
declare -A BG_PID=()

_udp_lib_cleanup() {
	local name

	for name in "${!BG_PID[@]}"; do
		kill -KILL "${BG_PID[$name]}" 2>/dev/null
	done
	for name in "${!BG_PID[@]}"; do
		wait "${BG_PID[$name]}" 2>/dev/null
	done
	rm -rf "$TMPD"
}
at_exit _udp_lib_cleanup
# lib.sh's setup_pair sets the trap; tests that do not call it get it here.
trap cleanup EXIT

# require_exasock: skip the whole test unless the module is loaded and
# everything is built.
require_exasock() {
	local f

	for f in "$CTL" "$EXA" "$TOOL" "$INJECT"; do
		[[ -x $f ]] || tap_skip_all "$f not built (run make)"
	done
	"$CTL" stats >/dev/null 2>&1 || tap_skip_all "exasock.ko not loaded"
	kernel_log_mark
}

# attach_a / attach_b: attach the veth end of A / B.
attach_a() {
	in_a "$CTL" attach "$DEV_A"
}

attach_b() {
	in_b "$CTL" attach "$DEV_B"
}

# bg NAME CMD...: run CMD in the background; output in $TMPD/NAME.{out,err}.
# CMD should exec its way down (ip netns exec, env, the launcher all do)
# so that the pid is the program's own.
bg() {
	local name=$1

	shift
	_bg_cmd "$@"
	"${BG_CMD[@]}" >"$TMPD/$name.out" 2>"$TMPD/$name.err" &
	BG_PID[$name]=$!
}

# A shell function in the background would be a subshell with the program
# as its child: turn in_a/in_b into the ip command they stand for.
_bg_cmd() {
	case $1 in
	in_a)	BG_CMD=(ip netns exec "$NS_A" "${@:2}") ;;
	in_b)	BG_CMD=(ip netns exec "$NS_B" "${@:2}") ;;
	*)	BG_CMD=("$@") ;;
	esac
}

# bg_stdin NAME FIFO CMD...: like bg, stdin from FIFO (created here). Keep
# it open for writing with: exec {fd}>"$FIFO".
bg_stdin() {
	local name=$1 fifo=$2

	shift 2
	[[ -p $fifo ]] || mkfifo "$fifo"
	_bg_cmd "$@"
	"${BG_CMD[@]}" <"$fifo" >"$TMPD/$name.out" 2>"$TMPD/$name.err" &
	BG_PID[$name]=$!
}

has_ready() {
	grep -q '^ready ' "$TMPD/$1.out" 2>/dev/null
}

# wait_ready NAME: until udp_tool NAME says "ready" (10 s).
wait_ready() {
	if ! busywait 10000 has_ready "$1"; then
		tap_diag "$1 never got ready:"
		sed 's/^/#   /' "$TMPD/$1.out" "$TMPD/$1.err" 2>/dev/null
		return 1
	fi
}

# ready_field NAME FIELD: a field (fd, accelerated, port) of the ready line.
ready_field() {
	sed -n "s/^ready .*\\b$2=\\([0-9]*\\).*/\\1/p" "$TMPD/$1.out" | head -n 1
}

# bg_wait NAME [SECONDS]: wait for NAME to exit (default 30 s); returns
# its exit status, or 124 (and kills it) on timeout.
bg_wait() {
	local name=$1 secs=${2:-30} pid=${BG_PID[$1]} i

	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "BG_PID[$name]"
		tap_diag "$name still running after $secs s; killed"
		return 124
	fi
	wait "$pid"
	local rc=$?
	unset "BG_PID[$name]"
	return $rc
}

# show NAME: NAME's output as TAP comments.
show() {
	sed "s/^/# $1: /" "$TMPD/$1.out" 2>/dev/null
	sed "s/^/# $1 (stderr): /" "$TMPD/$1.err" 2>/dev/null
}

# check NAME CONDITION...: ok if CONDITION (a command) succeeds.
check() {
	local name=$1

	shift
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name"
	fi
}

# stat_of NAME: a module counter.
stat_of() {
	"$CTL" stats "$1"
}

# sock_stat NS LOCAL NAME: counter NAME of the accelerated socket whose
# local address is LOCAL (addr:port) in namespace NS, as exasock-ctl
# sockets prints it; empty if there is no such socket.
sock_stat() {
	ip netns exec "$1" "$CTL" sockets |
		awk -v l="$2" -v n="$3" '$5 == l {
			for (i = 8; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == n) { print kv[2]; found = 1 }
			}
			if (!found) print 0
			exit
		}'
}

# debug_line_for NAME FD: NAME's stderr has the library's line for FD.
debug_line_for() {
	grep -q "^exasock: enabled bypass on fd $2\$" "$TMPD/$1.err"
}

# mac_of NS DEV
mac_of() {
	ip -n "$1" -br link show "$2" | awk '{ print $3 }'
}

# kernel_log_mark / kernel_log_clean: no WARNING/BUG since the mark.
kernel_log_mark() {
	KLOG_MARK=$(dmesg | wc -l)
}

kernel_log_clean() {
	local bad

	bad=$(dmesg | tail -n +"$((KLOG_MARK + 1))" |
	      grep -E 'WARNING:|BUG:|Oops|general protection|refcount_t:')
	[[ -z $bad ]] && return 0
	printf '%s\n' "$bad" | sed 's/^/# dmesg: /'
	return 1
}

# tap_run_spins NAME ENV=VAL... CMD...: run in A, under env, once for each
# way the library may wait: spinning its default time, not at all, and
# without limit; one TAP line each, "NAME, EXASOCK_SPIN_USEC=...".
tap_run_spins() {
	local name=$1 spin envs

	shift
	for spin in default 0 -1; do
		if [[ $spin = default ]]; then
			envs=(-u EXASOCK_SPIN_USEC)
		else
			envs=(EXASOCK_SPIN_USEC="$spin")
		fi
		tap_run "$name, EXASOCK_SPIN_USEC=$spin" \
			in_a env "${envs[@]}" "$@"
	done
}
