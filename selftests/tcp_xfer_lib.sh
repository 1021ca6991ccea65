# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the TCP data selftests (tcp_interop.sh, tcp_integrity.sh)
# and their python3 program tcp_xfer.py, on top of lib.sh and udp_lib.sh
# (bg, bg_wait, show, check, $EXA, $TMPD):
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/udp_lib.sh"
#   . "$(dirname "$0")/tcp_xfer_lib.sh"
#   bg srv in_a env EXASOCK_DEBUG=1 "$EXA" python3 "$XFER" listen "$IP_A" 5000 --send "$F"
#   wait_xfer srv && ...
#
# The checks look only at what a program said and moved, never at exasock
# internals, so the data checks pass on plain Linux TCP as well (a module
# without TCP acceleration, or no launcher); only the "accelerated" checks
# tell the two apart.

# shellcheck disable=SC2034 # used by the tests
XFER=$TOP/selftests/tcp_xfer.py

# payload FILE SIZE: SIZE (as head -c takes it: 1M, 512K) random bytes.
payload() {
	head -c "$2" /dev/urandom >"$1"
}

# bg_from NAME FILE CMD...: bg, with stdin from FILE.
bg_from() {
	local name=$1 file=$2

	shift 2
	_bg_cmd "$@"
	"${BG_CMD[@]}" <"$file" >"$TMPD/$name.out" 2>"$TMPD/$name.err" &
	BG_PID[$name]=$!
}

# forget NAME...: kill what is left of background programs NAME and drop
# their output, so that a case never checks an earlier one's.
forget() {
	local name

	for name in "$@"; do
		if [[ -n ${BG_PID[$name]:-} ]]; then
			kill -KILL "${BG_PID[$name]}" 2>/dev/null
			wait "${BG_PID[$name]}" 2>/dev/null
			unset "BG_PID[$name]"
		fi
		rm -f "$TMPD/$name.out" "$TMPD/$name.err"
	done
}

# finish NAME SECS: bg_wait NAME; its exit status (diagnosed if not 0), 1
# if it never started.
finish() {
	local rc=0

	[[ -n ${BG_PID[$1]:-} ]] || return 1
	bg_wait "$1" "$2" || rc=$?
	[[ $rc -eq 0 ]] || tap_diag "$1 exited $rc"
	return "$rc"
}

# show_err NAME: NAME's stderr as TAP comments (its stdout may be data).
show_err() {
	sed "s/^/# $1 (stderr): /" "$TMPD/$1.err" 2>/dev/null
}

# check_else NAME ELSE CMD...: check NAME CMD..., and if it failed eval
# ELSE (to show why).
check_else() {
	local name=$1 else_cmd=$2

	shift 2
	if "$@"; then
		tap_ok "$name"
	else
		tap_fail "$name"
		eval "$else_cmd"
	fi
}

# same_data A B: files A and B hold the same bytes (diagnosed if not).
same_data() {
	cmp -s "$1" "$2" && return 0
	tap_diag "${2##*/}: $(stat -c %s "$2" 2>/dev/null || echo no) bytes," \
		 "${1##*/}: $(stat -c %s "$1") bytes; they differ"
	return 1
}

# bypassed NAME: NAME (run with EXASOCK_DEBUG=1) printed the library's
# "enabled bypass" line for at least one descriptor.
bypassed() {
	grep -q '^exasock: enabled bypass on \(inherited \)\?fd [0-9]*$' \
		"$TMPD/$1.err" 2>/dev/null
}

# listening NS PORT: ss sees a TCP listener on PORT in namespace NS.
listening() {
	[[ -n $(ip netns exec "$1" ss -Hltn "sport = :$2") ]]
}

_wait_listen() {
	listening "$2" "$3" && return 0
	# An accelerated listener need not show in ss: its bypass line,
	# written when bind() converts it (listen() follows at once), has to
	# do then.
	if bypassed "$1"; then
		sleep 0.5
		return 0
	fi
	kill -0 "${BG_PID[$1]}" 2>/dev/null || return 2
	return 1
}

# wait_listen NAME NS PORT: until background program NAME listens on
# PORT in NS (30 s: some programs start slowly under TCG on a busy host).
wait_listen() {
	if ! busywait 30000 _wait_listen "$@"; then
		tap_diag "$1 never listened on port $3:"
		show_err "$1"
		return 1
	fi
}

# wait_xfer NAME: until tcp_xfer.py NAME listens (udp_lib's wait_ready,
# with 30 s).
wait_xfer() {
	if ! busywait 30000 has_ready "$1"; then
		tap_diag "$1 never got ready:"
		show "$1"
		return 1
	fi
}

_sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# xfer_moved NAME SENT RECEIVED: tcp_xfer.py NAME sent all of file SENT
# and received exactly file RECEIVED (length and sha256, as it printed
# them).
xfer_moved() {
	local out=$TMPD/$1.out

	grep -qx "sent $(stat -c %s "$2") sha256=$(_sha "$2")" "$out" 2>/dev/null &&
		grep -qx "recv $(stat -c %s "$3") sha256=$(_sha "$3")" "$out" 2>/dev/null &&
		return 0
	show "$1"
	return 1
}

# xfer_both SRV CLI SRV_FILE CLI_FILE: the two tcp_xfer.py ends of one
# connection each sent its file and received the other's.
xfer_both() {
	xfer_moved "$1" "$3" "$4" && xfer_moved "$2" "$4" "$3"
}

# xfer_domains NAME: the SO_DOMAIN values tcp_xfer.py NAME printed (its
# listener's, then its connection's), space separated.
xfer_domains() {
	sed -n 's/^\(ready\|conn\) .*domain=\([0-9]*\).*/\2/p' "$TMPD/$1.out" 2>/dev/null |
		xargs
}

# xfer_accelerated NAME: tcp_xfer.py NAME had a connection, and none of
# its sockets was AF_INET (2).
xfer_accelerated() {
	local d domains

	grep -q '^conn ' "$TMPD/$1.out" 2>/dev/null || return 1
	domains=$(xfer_domains "$1")
	for d in $domains; do
		[[ $d != 2 ]] || return 1
	done
}
