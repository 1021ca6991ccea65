#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Accelerated TCP against Linux's own TCP, with everyday programs: each
# as an accelerated server with a plain client and as an accelerated
# client with a plain server, data moving both ways.  Every case is
# checked twice: the bytes arrived whole, and the accelerated end really
# was accelerated (SO_DOMAIN not AF_INET for python3, the EXASOCK_DEBUG=1
# "enabled bypass" line on stderr for the others).
#
#   netns A                                 netns B
#   exa0 10.77.0.1 (attached)  <--veth-->  exa1 10.77.0.2 (attached last)
#   EXASOCK_DEBUG=1 exasock PROG            PROG (plain; under exasock for
#                                           iperf3 with both ends accelerated)
#
#   nc        1 MB A to B and 512 KB B to A, one direction a connection
#             (the sender -N, the receiver -d), each way with each role
#   socat     1 MB and 512 KB at once, STDIO <-> TCP, with each role; a
#             forking server that execs cat on the inherited socket (the
#             inetd way), echoing 1 MB to three clients in turn
#   python3   tcp_xfer.py, blocking sockets then asyncio streams: 1 MB and
#             512 KB at once, then a half-close each way, with each role
#   curl      a 4 MB file from "python3 -m http.server", with each role
#   iperf3    2 s runs: accelerated server (forward and -R), accelerated
#             client, then both ends accelerated
#   redis     redis-benchmark against an accelerated redis-server, and a
#             64 KB value set and read back with redis-cli
#
# A program that is not installed skips its cases (util/install-deps
# installs them all).  The data checks pass on plain Linux TCP too; only
# the "accelerated" checks need exasock's TCP.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_xfer_lib.sh"

require_exasock
require_cmd python3
tap_plan 38
setup_pair
attach_a || tap_fail "attach exa0"

PA=$TMPD/a.bin		# what A sends
PB=$TMPD/b.bin		# what B sends
payload "$PA" 1M
payload "$PB" 512K
ACC=(env EXASOCK_DEBUG=1 "$EXA")

# has CMD... -- N LABEL: every CMD is installed; else skip N cases.
has() {
	local cmds=() cmd i

	while [[ $1 != -- ]]; do
		cmds+=("$1")
		shift
	done
	for cmd in "${cmds[@]}"; do
		command -v "$cmd" >/dev/null && continue
		for ((i = 1; i <= $2; i++)); do
			tap_skip "$3 case $i" "$cmd not installed"
		done
		return 1
	done
}

# accel_check TITLE NAME: background program NAME (under $ACC) printed
# the bypass line.
accel_check() {
	check_else "$1: accelerated" "show_err $2" bypassed "$2"
}

# side_vars SIDE: a: the accelerated server is in A, the plain client in
# B; b: the plain server is in B, the accelerated client in A.
side_vars() {
	if [[ $1 = a ]]; then
		SRV_NS=$NS_A SRV_IP=$IP_A ACC_NAME=srv
		SRV=(in_a "${ACC[@]}")
		CLI=(in_b)
	else
		SRV_NS=$NS_B SRV_IP=$IP_B ACC_NAME=cli
		SRV=(in_b)
		CLI=(in_a "${ACC[@]}")
	fi
}

# -- nc ----------------------------------------------------------------------
# nc_run TITLE PORT SIDE FROM: FROM (a or b) is the end that sends; it
# shuts down its side at EOF (-N), the receiver ignores stdin (-d) and
# quits at the sender's EOF.
nc_run() {
	local title=$1 port=$2 side=$3 from=$4 file=$PB rx

	[[ $from = a ]] && file=$PA
	side_vars "$side"
	forget srv cli
	if [[ $from = "$side" ]]; then
		bg_from srv "$file" "${SRV[@]}" nc -N -l "$SRV_IP" "$port"
		rx=cli
	else
		bg srv "${SRV[@]}" nc -d -l "$SRV_IP" "$port"
		rx=srv
	fi
	if wait_listen srv "$SRV_NS" "$port"; then
		if [[ $rx = cli ]]; then
			bg cli "${CLI[@]}" nc -d "$SRV_IP" "$port"
		else
			bg_from cli "$file" "${CLI[@]}" nc -N "$SRV_IP" "$port"
		fi
	fi
	finish cli 60
	finish srv 10
	check "$title" same_data "$file" "$TMPD/$rx.out"
	accel_check "$title" "$ACC_NAME"
}

if has nc -- 8 "nc"; then
	nc_run "nc: accelerated server A -> plain client B, 1 MB" 5301 a a
	nc_run "nc: plain client B -> accelerated server A, 512 KB" 5302 a b
	nc_run "nc: accelerated client A -> plain server B, 1 MB" 5303 b a
	nc_run "nc: plain server B -> accelerated client A, 512 KB" 5304 b b
fi

# same_both A A2 B B2: A and A2 hold the same bytes, and B and B2.
same_both() {
	same_data "$1" "$2" && same_data "$3" "$4"
}

# -- socat -------------------------------------------------------------------
# socat_run TITLE PORT SIDE: both ways at once.  -t 30: after the first
# EOF wait that long for the other (the default 0.5 s is too short in a
# slow guest).
socat_run() {
	local title=$1 port=$2 side=$3 srv_file=$PB cli_file=$PA

	side_vars "$side"
	[[ $side = a ]] && srv_file=$PA cli_file=$PB
	forget srv cli
	bg_from srv "$srv_file" "${SRV[@]}" socat -t 30 STDIO \
		"TCP-LISTEN:$port,bind=$SRV_IP,reuseaddr"
	wait_listen srv "$SRV_NS" "$port" &&
		bg_from cli "$cli_file" "${CLI[@]}" socat -t 30 STDIO \
			"TCP:$SRV_IP:$port"
	finish cli 60
	finish srv 10
	check "$title: 1 MB and 512 KB both ways" \
		same_both "$srv_file" "$TMPD/cli.out" "$cli_file" "$TMPD/srv.out"
	accel_check "$title" "$ACC_NAME"
}

# socat_exec_run TITLE PORT: an accelerated inetd-style server in A, socat
# forking a child per connection that execs cat on the accepted socket
# itself (nofork: fd 0 and 1 are the inherited accelerated socket); three
# plain clients in B in turn, each checking its 1 MB echo.
socat_exec_run() {
	local title=$1 port=$2 i ok=0

	forget srv
	bg srv in_a "${ACC[@]}" socat "TCP-LISTEN:$port,bind=$IP_A,reuseaddr,fork" \
		EXEC:cat,nofork
	if wait_listen srv "$NS_A" "$port"; then
		for i in 1 2 3; do
			forget cli
			bg_from cli "$PA" in_b socat -t 30 STDIO "TCP:$IP_A:$port"
			finish cli 60 && same_data "$PA" "$TMPD/cli.out" &&
				ok=$((ok + 1))
		done
	fi
	kill "${BG_PID[srv]}" 2>/dev/null
	bg_wait srv 10
	check "$title: 3 clients, 1 MB echoed each" test "$ok" -eq 3
	check_else "$title: accelerated, inherited by cat" "show_err srv" \
		grep -q '^exasock: enabled bypass on inherited fd 0$' "$TMPD/srv.err"
}

if has socat -- 6 "socat"; then
	socat_run "socat: accelerated server A <-> plain client B" 5311 a
	socat_run "socat: accelerated client A <-> plain server B" 5312 b
	socat_exec_run "socat fork + EXEC:cat,nofork in A <- plain clients B" 5313
fi

# -- python3 -----------------------------------------------------------------
# py_run TITLE PORT SIDE [--asyncio]: tcp_xfer.py at both ends.
py_run() {
	local title=$1 port=$2 side=$3 srv_file=$PB cli_file=$PA

	shift 3
	side_vars "$side"
	[[ $side = a ]] && srv_file=$PA cli_file=$PB
	forget srv cli
	bg srv "${SRV[@]}" python3 "$XFER" listen "$SRV_IP" "$port" \
		--send "$srv_file" "$@"
	wait_xfer srv &&
		bg cli "${CLI[@]}" python3 "$XFER" connect "$SRV_IP" "$port" \
			--send "$cli_file" "$@"
	finish cli 60
	finish srv 10
	check "$title: 1 MB and 512 KB both ways" \
		xfer_both srv cli "$srv_file" "$cli_file"
	check_else "$title: accelerated (SO_DOMAIN $(xfer_domains "$ACC_NAME"))" \
		"show $ACC_NAME" xfer_accelerated "$ACC_NAME"
}

py_run "python3: accelerated server A <-> plain client B" 5321 a
py_run "python3: accelerated client A <-> plain server B" 5322 b
py_run "python3 asyncio: accelerated server A <-> plain client B" 5323 a --asyncio
py_run "python3 asyncio: accelerated client A <-> plain server B" 5324 b --asyncio

# -- curl and python3 -m http.server -----------------------------------------
# http_run TITLE PORT SIDE
http_run() {
	local title=$1 port=$2 side=$3

	side_vars "$side"
	forget srv cli
	rm -f "$TMPD/got.bin"
	bg srv "${SRV[@]}" python3 -m http.server --bind "$SRV_IP" \
		--directory "$TMPD/www" "$port"
	wait_listen srv "$SRV_NS" "$port" &&
		bg cli "${CLI[@]}" curl -sS --max-time 60 -o "$TMPD/got.bin" \
			"http://$SRV_IP:$port/file.bin"
	finish cli 70 || show_err cli
	kill "${BG_PID[srv]}" 2>/dev/null
	bg_wait srv 10
	check "$title: 4 MB file" same_data "$TMPD/www/file.bin" "$TMPD/got.bin"
	accel_check "$title" "$ACC_NAME"
}

mkdir "$TMPD/www"
payload "$TMPD/www/file.bin" 4M
if has curl -- 4 "curl"; then
	http_run "curl: plain B from accelerated http.server A" 5331 a
	http_run "curl: accelerated A from plain http.server B" 5332 b
fi

both_bypassed() {
	bypassed "$1" && bypassed "$2"
}

# -- iperf3 ------------------------------------------------------------------
# iperf_run TITLE PORT SIDE [CLIENT OPTIONS]: a 2 s test, SIDE as for
# side_vars or "both" (the client in B under exasock too); ok if the
# client's JSON report shows bytes received at the receiving end.
iperf_run() {
	local title=$1 port=$2 side=$3 bytes

	shift 3
	if [[ $side = both ]]; then
		side_vars a
		CLI=(in_b "${ACC[@]}")
	else
		side_vars "$side"
	fi
	forget srv cli
	bg srv "${SRV[@]}" iperf3 -s -1 -B "$SRV_IP" -p "$port"
	wait_listen srv "$SRV_NS" "$port" &&
		bg cli "${CLI[@]}" iperf3 -c "$SRV_IP" -p "$port" -t 2 -J "$@"
	finish cli 30
	finish srv 10
	bytes=$(python3 -c 'import json, sys
print(json.load(sys.stdin)["end"]["sum_received"]["bytes"])' \
		<"$TMPD/cli.out" 2>/dev/null)
	tap_diag "$title: ${bytes:-no} bytes received"
	check_else "$title" "show cli; show_err srv" test "${bytes:-0}" -gt 0
}

if has iperf3 -- 8 "iperf3"; then
	iperf_run "iperf3: plain client B -> accelerated server A" 5341 a
	accel_check "iperf3: server A" srv
	iperf_run "iperf3 -R: accelerated server A -> plain client B" 5342 a -R
	accel_check "iperf3 -R: server A" srv
	iperf_run "iperf3: accelerated client A -> plain server B" 5343 b
	accel_check "iperf3: client A" cli
	attach_b || tap_diag "attach exa1 failed"
	iperf_run "iperf3: accelerated client B -> accelerated server A" 5344 both
	check_else "iperf3: both ends accelerated" "show_err srv; show_err cli" \
		both_bypassed srv cli
fi

# -- redis -------------------------------------------------------------------
same_value() {
	[[ -n $1 && $1 = "$2" ]]
}

redis_run() {
	local title="redis-benchmark B -> accelerated redis-server A" port=5351
	local value got

	forget srv
	bg srv in_a "${ACC[@]}" redis-server --bind "$IP_A" --port "$port" \
		--save "" --appendonly no --protected-mode no --daemonize no
	if wait_listen srv "$NS_A" "$port"; then
		in_b redis-benchmark -h "$IP_A" -p "$port" -q -n 2000 -c 4 \
			-t ping,set,get,lpush,lpop >"$TMPD/bench.out" 2>&1
		tr '\r' '\n' <"$TMPD/bench.out" | grep 'requests per second' | sed 's/^/# /'
		value=$(head -c 48K /dev/urandom | base64 -w0)
		printf '%s' "$value" >"$TMPD/value"
		in_b redis-cli -h "$IP_A" -p "$port" -x set blob <"$TMPD/value" >/dev/null
		got=$(in_b redis-cli -h "$IP_A" -p "$port" --raw get blob)
		in_b redis-cli -h "$IP_A" -p "$port" shutdown nosave >/dev/null 2>&1
	fi
	finish srv 10
	check_else "$title: 5 tests ran" "cat -v '$TMPD/bench.out' | sed 's/^/# /'" \
		test "$(tr '\r' '\n' <"$TMPD/bench.out" 2>/dev/null | grep -c 'requests per second')" -ge 5
	check "redis: 64 KB value set and read back" \
		same_value "${value:-}" "${got:-}"
	accel_check "redis-server A" srv
}

if has redis-server redis-benchmark redis-cli -- 3 "redis"; then
	redis_run
fi

check "kernel log clean" kernel_log_clean
tap_finish
