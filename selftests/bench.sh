#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - UDP and TCP latency and throughput, kernel against exasock, in one
# boot of one machine (run by "make bench" inside util/exasock-vm; under
# TCG only ratios measured in the same boot mean anything).
#
#   netns A (exabench-a-PID)              netns B (exabench-b-PID)
#   exa0 10.77.0.1/24  <--- veth --->  exa1 10.77.0.2/24
#   attached                               attached
#   sockperf server (sr)                   sockperf client (pp, tp)
#
# Modes, each side in the same mode:
#   kernel-blocking   plain sockperf (the kernel's default)
#   kernel-busypoll   plain sockperf --nonblocked (spins in recvfrom)
#   exasock-spin      under util/exasock, EXASOCK_SPIN_USEC=-1
#   exasock-default   under util/exasock, default bounded spin
#
# Prints, for UDP and for TCP (sockperf --tcp), a table of sockperf's
# average latency (half a round trip, usec) per mode and message size and
# the ratios against the kernel; a UDP throughput test (sockperf tp) and a
# TCP one (iperf3, both ends in the same mode) for the kernel and exasock;
# TCP ping-pong with frames the program sends itself (tcp-raw-send);
# and writes the same to $EXASOCK_VM_OUT/bench.txt when that is set.
#
# Host load (other QEMU guests, builds) stalls a TCG guest's vCPUs for
# milliseconds at a time, so each ping-pong runs ROUNDS times, the modes
# interleaved, and the table keeps each cell's best round: the figure
# least disturbed by the host.
#
# usage: bench.sh [--time SEC] [--rounds N] [--sizes "14 1024"]
#                 [--modes "..."] [--protos "udp tcp"] [--tp-size BYTES]
#                 [--no-tp] [--quiet]

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTL=$TOP/util/exasock-ctl
LAUNCH=$TOP/util/exasock

TIME=${BENCH_TIME:-5}
ROUNDS=${BENCH_ROUNDS:-3}
SIZES="14 1024"
MODES="kernel-blocking kernel-busypoll exasock-spin exasock-default"
PROTOS="udp tcp"
PROTO=udp
TP_SIZE=1024
DO_TP=1
QUIET=0
PORT=11111

while [[ $# -gt 0 ]]; do
	case $1 in
	--time)		TIME=$2; shift 2 ;;
	--rounds)	ROUNDS=$2; shift 2 ;;
	--sizes)	SIZES=$2; shift 2 ;;
	--modes)	MODES=$2; shift 2 ;;
	--protos)	PROTOS=$2; shift 2 ;;
	--tp-size)	TP_SIZE=$2; shift 2 ;;
	--no-tp)	DO_TP=0; shift ;;
	--quiet)	QUIET=1; shift ;;
	-h|--help)	sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*)		echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

NS_A=exabench-a-$$
NS_B=exabench-b-$$
WORK=$(mktemp -d /tmp/exabench.XXXXXX)
SERVER_PID=

log() {
	[[ $QUIET = 1 ]] || echo "bench: $*" >&2
}

# iperf3_tp MODE: TCP throughput in Mbit/s (receiver side), "-" if none.
iperf3_tp() {
	local mode=$1 pid mbps

	# shellcheck disable=SC2046
	ip netns exec "$NS_A" $(mode_prefix "$mode") \
		iperf3 -s -1 -B 10.77.0.1 -p "$PORT" >"$WORK/iperf3-server.out" 2>&1 &
	pid=$!
	busywait 10000 server_listening_tcp || true
	# shellcheck disable=SC2046
	ip netns exec "$NS_B" $(mode_prefix "$mode") \
		iperf3 -c 10.77.0.1 -p "$PORT" -t "$TIME" -J \
		>"$WORK/iperf3-$mode.out" 2>&1 || true
	wait "$pid" 2>/dev/null || true
	mbps=$(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    print("%.0f" % (r["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception:
    print("-")' "$WORK/iperf3-$mode.out")
	echo "$mbps"
}

server_listening_tcp() {
	ip netns exec "$NS_A" ss -Hltn "sport = :$PORT" | grep -q .
}

cleanup() {
	stop_server
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# busywait MS CMD...: run CMD until it succeeds or MS milliseconds pass.
busywait() {
	local timeout=$1 start now
	shift
	start=$(date +%s%3N)
	while ! "$@"; do
		now=$(date +%s%3N)
		((now - start < timeout)) || return 1
	done
}

module_loaded() {
	"$CTL" stats >/dev/null 2>&1
}

setup() {
	[[ -x $CTL ]] || { echo "bench.sh: $CTL missing; run make" >&2; exit 1; }
	if [[ " $MODES " = *" exasock-"* && ! -x $LAUNCH ]]; then
		echo "bench.sh: $LAUNCH missing; run make" >&2
		exit 1
	fi
	command -v sockperf >/dev/null ||
		{ echo "bench.sh: sockperf missing; run make deps" >&2; exit 1; }
	if ! module_loaded; then
		insmod "$TOP/kernel/exasock.ko" ||
			{ echo "bench.sh: cannot load kernel/exasock.ko" >&2; exit 1; }
	fi
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip link add exa0 netns "$NS_A" type veth peer name exa1 netns "$NS_B"
	ip -n "$NS_A" addr add 10.77.0.1/24 dev exa0
	ip -n "$NS_B" addr add 10.77.0.2/24 dev exa1
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_A" link set exa0 up
	ip -n "$NS_B" link set exa1 up
	ip netns exec "$NS_A" "$CTL" attach exa0
	ip netns exec "$NS_B" "$CTL" attach exa1
	# resolve neighbours once, so no run pays for ARP
	ip netns exec "$NS_B" bash -c 'echo arp >/dev/udp/10.77.0.1/9' || true
	busywait 5000 neigh_known "$NS_B" 10.77.0.1 || true
}

neigh_known() {
	ip -n "$1" neigh show "$2" | grep -q lladdr
}

# The command prefix (launcher and environment) and sockperf flags of a mode.
mode_prefix() {
	case $1 in
	kernel-*)		echo "" ;;
	exasock-spin)		echo "env EXASOCK_SPIN_USEC=-1 $LAUNCH" ;;
	exasock-default)	echo "env -u EXASOCK_SPIN_USEC $LAUNCH" ;;
	esac
}

# sockperf flags of a mode, for $PROTO.
mode_flags() {
	local tcp=

	[[ $PROTO = tcp ]] && tcp=--tcp
	case $1 in
	kernel-busypoll)	echo "$tcp --nonblocked" ;;
	*)			echo "$tcp" ;;
	esac
}

server_listening() {
	local opt=-Hlun

	[[ $PROTO = tcp ]] && opt=-Hltn
	ip netns exec "$NS_A" ss "$opt" "sport = :$PORT" | grep -q .
}

start_server() {
	local mode=$1
	# shellcheck disable=SC2046 # word splitting of prefix/flags wanted
	setsid ip netns exec "$NS_A" $(mode_prefix "$mode") \
		sockperf sr -i 10.77.0.1 -p "$PORT" $(mode_flags "$mode") \
		>"$WORK/server.out" 2>&1 &
	SERVER_PID=$!
	busywait 10000 server_listening ||
		{ echo "bench.sh: sockperf server did not start:" >&2;
		  cat "$WORK/server.out" >&2; exit 1; }
}

# Stops the server with SIGINT so it prints its totals.
stop_server() {
	local i

	[[ -n $SERVER_PID ]] || return 0
	kill -INT -- -"$SERVER_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# Strips sockperf's colour escapes.
plain() {
	sed 's/\x1b\[[0-9;]*m//g' "$@"
}

# ping_pong MODE SIZE: prints "AVG P50", the average and median latency
# in usec, "-" for each it could not get.
ping_pong() {
	local mode=$1 size=$2 lat p50

	start_server "$mode"
	# shellcheck disable=SC2046
	ip netns exec "$NS_B" $(mode_prefix "$mode") \
		sockperf pp -i 10.77.0.1 -p "$PORT" -m "$size" -t "$TIME" \
		$(mode_flags "$mode") >"$WORK/client.out" 2>&1 || true
	stop_server
	lat=$(plain "$WORK/client.out" |
	      sed -n 's/.*Summary: Latency is \([0-9.]*\) usec.*/\1/p' | tail -n 1)
	p50=$(plain "$WORK/client.out" |
	      sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' | tail -n 1)
	if [[ -z $lat ]]; then
		log "$mode $size B: no result; sockperf said:"
		plain "$WORK/client.out" | tail -n 5 >&2
	fi
	cp "$WORK/client.out" "$WORK/pp-$mode-$size-r$ROUND.out"
	echo "${lat:--} ${p50:--}"
}

ctl_stat() {
	"$CTL" stats "$1" 2>/dev/null || echo 0
}

# throughput MODE: prints "sent/s received/s dropped rx_dropped".
throughput() {
	local mode=$1 sent rate recvd full0 full1

	full0=$(ctl_stat rx_dropped)
	start_server "$mode"
	# shellcheck disable=SC2046
	ip netns exec "$NS_B" $(mode_prefix "$mode") \
		sockperf tp -i 10.77.0.1 -p "$PORT" -m "$TP_SIZE" -t "$TIME" \
		$(mode_flags "$mode") >"$WORK/client.out" 2>&1 || true
	# let the last datagrams land before the server counts
	sleep 1
	stop_server
	full1=$(ctl_stat rx_dropped)
	sent=$(plain "$WORK/client.out" |
	       sed -n 's/.*Total of \([0-9]*\) messages sent.*/\1/p' | tail -n 1)
	rate=$(plain "$WORK/client.out" |
	       sed -n 's/.*Message Rate is \([0-9]*\).*/\1/p' | tail -n 1)
	recvd=$(plain "$WORK/server.out" |
		sed -n 's/.*Total \([0-9]*\) messages received.*/\1/p' | tail -n 1)
	cp "$WORK/client.out" "$WORK/tp-$mode.out"
	if [[ -z $sent || -z $recvd || -z $rate ]]; then
		log "$mode throughput: no result"
		plain "$WORK/client.out" "$WORK/server.out" | tail -n 8 >&2
		echo "- - - -"
		return
	fi
	# the server also counts the client's warm-up messages
	awk -v s="$sent" -v r="$recvd" -v rate="$rate" -v t="$TIME" \
	    -v f=$((full1 - full0)) 'BEGIN {
		d = s - r; if (d < 0) d = 0; if (r > s) r = s;
		printf "%d %d %d %d\n", rate, r / t, d, f }'
}

# ---- TCP frames the program sends itself (examples/tcp-raw-send) ------
#
# The accelerated end in A sends each message as a frame it built on a
# kernel header (tcp-raw.rst), to a plain echo server in B (tcp_tool), and
# spins on the answer. Compared, same program, same peer: send() without
# exasock (blocking), send() under exasock spinning, frames under exasock
# spinning.
RAW=$TOP/examples/tcp-raw-send
RAW_ECHO=$TOP/selftests/build/tcp_tool
RAW_COUNT=${BENCH_RAW_COUNT:-3000}
RAW_MODES="kernel-send exasock-send exasock-frames"
RAW_PORT=11200

raw_listening() {
	ip netns exec "$NS_B" ss -Hltn "sport = :$1" | grep -q .
}

# raw_pp MODE SIZE PORT: median half round trip in usec, "-" if none.
raw_pp() {
	local mode=$1 size=$2 port=$3 pid rtt prefix= flags=-p

	ip netns exec "$NS_B" "$RAW_ECHO" listen -b "10.77.0.2:$port" \
		-n 1 -x echo >"$WORK/raw-echo.out" 2>&1 &
	pid=$!
	busywait 10000 raw_listening "$port" ||
		{ kill "$pid"; echo -; return; }
	case $mode in
	exasock-send)	prefix="env EXASOCK_SPIN_USEC=-1 $LAUNCH" ;;
	exasock-frames)	prefix="env EXASOCK_SPIN_USEC=-1 $LAUNCH"; flags= ;;
	esac
	# shellcheck disable=SC2086 # word splitting of prefix/flags wanted
	ip netns exec "$NS_A" env LD_LIBRARY_PATH="$TOP/lib/ext" $prefix \
		"$RAW" -e -c "$RAW_COUNT" -s "$size" $flags 10.77.0.2 \
		"$port" >"$WORK/raw-$mode-$size-r$ROUND.out" 2>&1 || true
	wait "$pid" 2>/dev/null || true
	rtt=$(sed -n 's/^round trip: median \([0-9.]*\) us.*/\1/p' \
		"$WORK/raw-$mode-$size-r$ROUND.out")
	if [[ -z $rtt ]]; then
		log "raw $mode $size B: no result:"
		tail -n 3 "$WORK/raw-$mode-$size-r$ROUND.out" >&2
		echo -
		return
	fi
	awk -v r="$rtt" 'BEGIN { printf "%.1f\n", r / 2 }'
}

declare -A RAWLAT

raw_table() {
	local mode size

	table_head "TCP ping-pong, examples/tcp-raw-send against a plain echo server, median half round trip (usec), best of $ROUNDS runs of $RAW_COUNT messages"
	for mode in $RAW_MODES; do
		printf '%-18s' "$mode"
		for size in $SIZES; do printf ' %10s' "${RAWLAT[$mode,$size]}"; done
		echo
	done
	printf '%-18s' "frames/send"
	for size in $SIZES; do
		printf ' %10s' "$(ratio "${RAWLAT[exasock-frames,$size]}" "${RAWLAT[exasock-send,$size]}")"
	done
	echo "   (frames the program sends / send(), both under exasock)"
	printf '%-18s' "frames/kernel"
	for size in $SIZES; do
		printf ' %10s' "$(ratio "${RAWLAT[exasock-frames,$size]}" "${RAWLAT[kernel-send,$size]}")"
	done
	echo "   (frames under exasock / send() without it)"
}

raw_bench() {
	local mode size v

	if [[ ! -x $RAW || ! -x $RAW_ECHO ]]; then
		log "$RAW or $RAW_ECHO missing (run make): no frame ping-pong"
		return
	fi
	for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
		for mode in $RAW_MODES; do
			for size in $SIZES; do
				log "round $ROUND/$ROUNDS: tcp-raw-send $mode ${size} B ..."
				RAW_PORT=$((RAW_PORT + 1))
				v=$(raw_pp "$mode" "$size" "$RAW_PORT")
				log "  median $v usec"
				RAWLAT[$mode,$size]=$(min "${RAWLAT[$mode,$size]:-}" "$v")
			done
		done
	done
}

# min A B: the smaller number, "-" counting as no number.
min() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || a == "-") print b;
		else if (b == "-" || a + 0 <= b + 0) print a;
		else print b }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-";
		else printf "%.2f\n", a / b }'
}

declare -A LAT MED

# table_head TITLE: the title and the column heads, one per size.
table_head() {
	local size

	echo "$1"
	printf '%-18s' "mode"
	for size in $SIZES; do printf ' %10s' "${size} B"; done
	echo
}

# table TITLE ARRAY: one row per mode, one column per size, then ratios.
table() {
	local -n v=$2
	local mode size

	table_head "$1"
	for mode in $MODES; do
		printf '%-18s' "$mode"
		for size in $SIZES; do
			printf ' %10s' "${v[$PROTO,$mode,$size]}"
		done
		echo
	done
	if [[ " $MODES " = *" exasock-spin "* && " $MODES " = *" kernel-busypoll "* ]]; then
		printf '%-18s' "spin/busypoll"
		for size in $SIZES; do
			printf ' %10s' "$(ratio "${v[$PROTO,exasock-spin,$size]}" "${v[$PROTO,kernel-busypoll,$size]}")"
		done
		echo "   (exasock spinning / kernel busy-polling; target <= 0.80)"
	fi
	if [[ " $MODES " = *" exasock-default "* && " $MODES " = *" kernel-blocking "* ]]; then
		printf '%-18s' "default/blocking"
		for size in $SIZES; do
			printf ' %10s' "$(ratio "${v[$PROTO,exasock-default,$size]}" "${v[$PROTO,kernel-blocking,$size]}")"
		done
		echo "   (exasock default / kernel blocking; target <= 1.00)"
	fi
}

main() {
	local mode size out tp_kernel tp_exa avg p50 ip_kernel ip_exa

	setup
	log "kernel $(uname -r), $(nproc) CPUs, $TIME s per run, exasock $("$CTL" stats | sed -n 's/^version //p')"
	# a first, discarded run: page cache, ARP, lazy binding, CPU caches
	log "warm-up run ..."
	TIME=2 ROUND=0 ping_pong kernel-blocking 14 >/dev/null
	for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
		for PROTO in $PROTOS; do
			for mode in $MODES; do
				for size in $SIZES; do
					log "round $ROUND/$ROUNDS: $PROTO ping-pong $mode ${size} B ..."
					read -r avg p50 < <(ping_pong "$mode" "$size")
					log "  avg $avg usec, median $p50 usec"
					LAT[$PROTO,$mode,$size]=$(min "${LAT[$PROTO,$mode,$size]:-}" "$avg")
					MED[$PROTO,$mode,$size]=$(min "${MED[$PROTO,$mode,$size]:-}" "$p50")
				done
			done
		done
	done
	[[ " $PROTOS " = *" tcp "* ]] && raw_bench
	if [[ $DO_TP = 1 && " $PROTOS " = *" udp "* ]]; then
		PROTO=udp
		log "throughput kernel-blocking ${TP_SIZE} B ..."
		tp_kernel=$(throughput kernel-blocking)
		log "throughput exasock-default ${TP_SIZE} B ..."
		tp_exa=$(throughput exasock-default)
	fi
	if [[ $DO_TP = 1 && " $PROTOS " = *" tcp "* ]]; then
		PROTO=tcp
		command -v iperf3 >/dev/null ||
			{ echo "bench.sh: iperf3 missing; run make deps" >&2; exit 1; }
		log "TCP throughput (iperf3) kernel-blocking ..."
		ip_kernel=$(iperf3_tp kernel-blocking)
		log "TCP throughput (iperf3) exasock-default ..."
		ip_exa=$(iperf3_tp exasock-default)
	fi

	out=$WORK/bench.txt
	{
		echo "exasock benchmark: sockperf over a veth pair, $(uname -r), $(nproc) CPUs"
		if [[ ${EXASOCK_VM:-0} = 1 ]]; then
			echo "(QEMU TCG guest: compare ratios, not absolute numbers)"
			grep -qw 'idle=poll' /proc/cmdline ||
				echo "(guest not booted with idle=poll: wakeups across vCPUs wait for the host scheduler; util/exasock-vm --bench steadies the numbers)"
			if grep -qw 'slub_debug=FZPU' /proc/cmdline; then
				echo "(guest booted with slab debugging: every allocation pays for a stack trace; util/exasock-vm --bench boots without it)"
			fi
		fi
		for PROTO in $PROTOS; do
			echo
			table "${PROTO^^} ping-pong latency, average half round trip (usec), best of $ROUNDS runs of $TIME s" LAT
			echo
			table "${PROTO^^} ping-pong latency, median half round trip (usec), best of $ROUNDS runs" MED
		done
		if [[ " $PROTOS " = *" tcp "* ]]; then
			echo
			raw_table
		fi
		if [[ $DO_TP = 1 && " $PROTOS " = *" udp "* ]]; then
			echo
			echo "UDP throughput, sockperf tp, ${TP_SIZE} B messages, $TIME s"
			printf '%-18s %12s %12s %10s %10s\n' mode "sent msg/s" "recv msg/s" dropped rx_dropped
			# shellcheck disable=SC2086
			printf '%-18s %12s %12s %10s %10s\n' kernel-blocking $tp_kernel
			# shellcheck disable=SC2086
			printf '%-18s %12s %12s %10s %10s\n' exasock-default $tp_exa
			printf '%-18s %12s %12s\n' "exasock/kernel" \
				"$(ratio "${tp_exa%% *}" "${tp_kernel%% *}")" \
				"$(ratio "$(echo "$tp_exa" | cut -d' ' -f2)" "$(echo "$tp_kernel" | cut -d' ' -f2)")"
		fi
		if [[ $DO_TP = 1 && " $PROTOS " = *" tcp "* ]]; then
			echo
			echo "TCP throughput, iperf3, one stream, both ends in the mode, $TIME s"
			printf '%-18s %12s\n' mode "Mbit/s"
			printf '%-18s %12s\n' kernel-blocking "$ip_kernel"
			printf '%-18s %12s\n' exasock-default "$ip_exa"
			printf '%-18s %12s   (target >= 0.80)\n' "exasock/kernel" "$(ratio "$ip_exa" "$ip_kernel")"
		fi
	} >"$out"
	cat "$out"
	if [[ -n ${EXASOCK_VM_OUT:-} && -d ${EXASOCK_VM_OUT} ]]; then
		cp "$out" "$EXASOCK_VM_OUT/bench.txt"
		mkdir -p "$EXASOCK_VM_OUT/bench-raw"
		cp "$WORK"/*.out "$EXASOCK_VM_OUT/bench-raw/" 2>/dev/null || true
	fi
}

main
