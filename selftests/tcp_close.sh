#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every way a TCP connection ends, seen from both ends, with the
# accelerated socket as the server and as the client: close() by either
# side, simultaneous close, shutdown() of either half or both, SO_LINGER 0,
# close with unread data, writes after a reset (EPIPE, SIGPIPE and
# MSG_NOSIGNAL), refused connects (blocking and not), a full accept queue,
# and a peer that vanishes (keepalive, TCP_USER_TIMEOUT).  What each side
# must see is what plain Linux TCP shows; run with EXASOCK_TCP_ACCEL=0 the
# test checks just that.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_tool listen    <-------  tcp_tool connect      ("A server")
#   exasock tcp_tool connect   ------->  tcp_tool listen       ("A client")
#
# The steps each end runs are tcp_tool's (see tcp_tool.c); "@x" in them
# is a file in the test's directory the two ends meet at.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

require_tcp
require_cmd tc ss nstat
tap_plan 45
setup_pair
attach_a || tap_fail "attach exa0"
modprobe -q sch_netem 2>/dev/null

start=$(mod_counters)
tap_diag "start: $start"

# phase NAME: where the time goes (the guest is slow, and its speed varies)
phase() {
	tap_diag "at ${SECONDS}s: $*"
}

PORT=7000
N=0
ACC_A=()	# programs in A (under the launcher) of "A server" runs
ACC_B=()	# ... of "A client" runs

# pair TAG ROLE SRV_STEPS CLI_STEPS [LISTEN_OPTION...]: one connection,
# started in the background (the client once the server listens).
# ROLE a: the server in A under the launcher, the client plain in B;
# ROLE b: the server plain in B, the client in A under the launcher.
# The programs are TAG-srv and TAG-cli; the port and namespaces are kept
# in T_PORT, T_SRV_NS, T_CLI_NS by TAG.
declare -A T_PORT=() T_SRV_NS=() T_CLI_NS=() T_CLI=()
pair() {
	pair_server "$@"
	wait_ready "$1-srv" && pair_client "$1"
}

pair_server() {
	local tag=$1 role=$2 s=${3//@/$TMPD/$1.} c=${4//@/$TMPD/$1.}

	shift 4
	PORT=$((PORT + 1))
	T_PORT[$tag]=$PORT
	if [[ $role = a ]]; then
		T_SRV_NS[$tag]=$NS_A T_CLI_NS[$tag]=$NS_B
		ACC_A+=("$tag-srv")
		bg "$tag-srv" in_a "$EXA" "$TCPT" listen -b "$IP_A:$PORT" -n 1 \
			-W 60 "$@" -x "$s"
		T_CLI[$tag]="in_b $TCPT connect -c $IP_A:$PORT -W 60 -x $c"
	else
		T_SRV_NS[$tag]=$NS_B T_CLI_NS[$tag]=$NS_A
		ACC_B+=("$tag-cli")
		bg "$tag-srv" in_b "$TCPT" listen -b "$IP_B:$PORT" -n 1 \
			-W 60 "$@" -x "$s"
		T_CLI[$tag]="in_a $EXA $TCPT connect -c $IP_B:$PORT -W 60 -x $c"
	fi
}

pair_client() {
	local cmd

	read -ra cmd <<<"${T_CLI[$1]}"
	bg "$1-cli" "${cmd[@]}"
}

# both TITLE CHECK SRV_STEPS CLI_STEPS [LISTEN_OPTION...]: queue the pair
# with each role, one case each: ok if "CHECK SRV CLI" succeeds once both
# programs are done.  run_queued starts every queued pair at once, waits
# for them all, then checks them in order.
Q_TITLE=()
Q_FN=()
Q_TAG=()
both() {
	local title=$1 fn=$2 role tag

	shift 2
	for role in a b; do
		N=$((N + 1))
		tag=c$N
		pair_server "$tag" "$role" "$@"
		Q_TAG+=("$tag")
		Q_FN+=("$fn")
		if [[ $role = a ]]; then
			Q_TITLE+=("$title (A server)")
		else
			Q_TITLE+=("$title (A client)")
		fi
	done
}

run_queued() {
	local i tag t0

	t0=$(date +%s%3N)
	for tag in "${Q_TAG[@]}"; do
		wait_ready "$tag-srv" && pair_client "$tag"
	done
	for tag in "${Q_TAG[@]}"; do
		[[ -z ${BG_PID[$tag-cli]:-} ]] || bg_wait "$tag-cli" 60
		[[ -z ${BG_PID[$tag-srv]:-} ]] || bg_wait "$tag-srv" 60
	done
	tap_diag "${#Q_TAG[@]} connections in $(($(date +%s%3N) - t0)) ms"
	for i in "${!Q_TAG[@]}"; do
		tag=${Q_TAG[i]}
		SRV_NS=${T_SRV_NS[$tag]} CLI_NS=${T_CLI_NS[$tag]} PORT=${T_PORT[$tag]}
		if "${Q_FN[i]}" "$tag-srv" "$tag-cli"; then
			tap_ok "${Q_TITLE[i]}"
		else
			show "$tag-srv"
			show "$tag-cli"
			tap_fail "${Q_TITLE[i]}"
		fi
	done
	Q_TITLE=()
	Q_FN=()
	Q_TAG=()
	PORT=$((PORT + 100))
}

# nothing_on NS PORT: no socket of NS on PORT (after LAST-ACK is done).
nothing_on() {
	[[ -z $(ip netns exec "$1" ss -Htan "( sport = :$2 or dport = :$2 )") ]]
}

# time_wait_on NS PORT: the connection is in TIME-WAIT in NS.
time_wait_on() {
	[[ $(ss_count "$1" TIME-WAIT "$2") -ge 1 ]]
}

# -------------------------------------------------------------- close()

# The client closes first: the server reads EOF and sits in CLOSE_WAIT;
# once it closes too, the client's end is in TIME-WAIT and the server's
# gone.
client_closes() {
	out_has "$1" '^recv 1000 ok' && out_has "$1" '^eof after 0 bytes' &&
		out_has "$1" '^state CLOSE_WAIT' && out_has "$2" '^closed' &&
		busywait 5000 nothing_on "$SRV_NS" "$PORT" &&
		time_wait_on "$CLI_NS" "$PORT"
}
both "client closes first: server reads EOF, FIN seen (CLOSE_WAIT), client in TIME-WAIT" \
	client_closes 'recv:1000,eof,state,close' 'send:1000,close'

server_closes() {
	out_has "$2" '^eof after 2000 bytes' && out_has "$2" '^state CLOSE_WAIT' &&
		out_has "$1" '^closed' &&
		busywait 5000 nothing_on "$CLI_NS" "$PORT" &&
		time_wait_on "$SRV_NS" "$PORT"
}
both "server closes first: client reads data then EOF, FIN seen, server in TIME-WAIT" \
	server_closes 'send:2000,close' 'eof,state,close'

# Both send their FIN before the other's arrives (300 ms each way): both
# ends go through CLOSING into TIME-WAIT.  Run on its own, below.
simultaneous() {
	out_has "$1" '^eof after 100 bytes' && out_has "$2" '^eof after 100 bytes' &&
		time_wait_on "$SRV_NS" "$PORT" && time_wait_on "$CLI_NS" "$PORT"
}

# ------------------------------------------------------------ shutdown()

half_close_cli() {
	out_has "$2" '^shutdown wr ok' && out_has "$2" '^recv 100000 ok' &&
		out_has "$2" '^eof after 0 bytes' &&
		out_has "$1" '^eof after 0 bytes' && out_has "$1" '^sent 100000'
}
both "client SHUT_WR: server reads EOF, still sends 100000 bytes, client reads them" \
	half_close_cli 'recv:1000,eof,send:100000,close' \
	'send:1000,shut:wr,recv:100000,eof,close'

half_close_srv() {
	half_close_cli "$2" "$1"
}
both "server SHUT_WR: client reads EOF, still sends 100000 bytes, server reads them" \
	half_close_srv 'send:1000,shut:wr,recv:100000,eof,close' \
	'recv:1000,eof,send:100000,close'

# SHUT_RD: reads return 0 at once; the write side still works; as in
# Linux, bytes that come in later are still read, then 0 again.
shut_rd() {
	out_has "$2" '^shutdown rd ok' && out_has "$2" '^eof after 0 bytes' &&
		out_has "$2" '^eof after 500 bytes' &&
		out_has "$2" '^state ESTABLISHED' &&
		out_has "$1" '^recv 1000 ok' && out_has "$1" '^eof after 0 bytes'
}
both "client SHUT_RD: read returns 0 at once, writes still go, later data still read" \
	shut_rd 'recv:1000,send:500,eof,close' \
	'shut:rd,eof,send:1000,inq:500,eof,state,close'

# SHUT_RDWR: the peer reads EOF; data it sends afterwards meets a reset
# (Linux answers data after SHUT_RD in FIN-WAIT-2 with a RST, and the
# client's own read fails with ECONNRESET if that came first).
shut_rdwr() {
	out_has "$2" '^shutdown rdwr ok' &&
		out_has "$2" '^(eof after 0 bytes|read error ECONNRESET)' &&
		out_has "$1" '^recv 1000 ok' && out_has "$1" '^eof after 0 bytes' &&
		out_has "$1" '^send error EPIPE'
}
both "client SHUT_RDWR: server reads EOF, its later data is reset (EPIPE)" \
	shut_rdwr 'recv:1000,eof,send:1000,sleep:100,nosig,sendall:20000' \
	'send:1000,shut:rdwr,eof,sleep:2000,close'

# ------------------------------------------------------------ refused

# refused TITLE REGEX... -- CMD...: ok if CMD's output has every REGEX.
refused() {
	local title=$1 res=() out r

	shift
	while [[ $1 != -- ]]; do
		res+=("$1")
		shift
	done
	shift
	out=$("$@" 2>&1)
	for r in "${res[@]}"; do
		if ! grep -Eq -- "$r" <<<"$out"; then
			sed 's/^/# /' <<<"$out"
			tap_fail "$title"
			return
		fi
	done
	tap_ok "$title"
}
PORT=$((PORT + 1))
refused "A client, blocking connect to a closed port: ECONNREFUSED" \
	'^connect error ECONNREFUSED' -- \
	in_a "$EXA" "$TCPT" connect -c "$IP_B:$PORT" -W 10
refused "A client, non-blocking connect to a closed port: EINPROGRESS, SO_ERROR ECONNREFUSED" \
	'^connect EINPROGRESS' '^so_error ECONNREFUSED' -- \
	in_a "$EXA" "$TCPT" connect -N -c "$IP_B:$PORT" -W 10
refused "plain client to a closed port in A: ECONNREFUSED" \
	'^connect error ECONNREFUSED' -- \
	in_b "$TCPT" connect -c "$IP_A:$PORT" -W 10

# ------------------------------------------------------------ resets

reset_cli() {
	out_has "$2" '^read error ECONNRESET'
}
reset_srv() {
	out_has "$1" '^read error ECONNRESET'
}
both "server closes with SO_LINGER 0: client reads ECONNRESET" reset_cli \
	'recv:100,linger0,close' 'send:100,eof'
both "client closes with SO_LINGER 0: server reads ECONNRESET" reset_srv \
	'send:100,eof' 'recv:100,linger0,close'
both "server closes with unread data: client reads ECONNRESET" reset_cli \
	'inq:1000,close' 'send:1000,eof'
both "client closes with unread data: server reads ECONNRESET" reset_srv \
	'send:1000,eof' 'inq:1000,close'

# Writes after the peer's reset: the first fails with ECONNRESET, then
# EPIPE, with a SIGPIPE unless MSG_NOSIGNAL.
epipe_srv_sig() {
	out_has "$1" '^send error EPIPE' && out_has "$1" '^signal SIGPIPE'
}
both "server writes after reset: EPIPE and SIGPIPE" epipe_srv_sig \
	'touch:@a,wait:@r,sleep:100,sendall:20000' 'wait:@a,linger0,close,touch:@r'
epipe_cli_nosig() {
	out_has "$2" '^send error EPIPE' && ! out_has "$2" '^signal SIGPIPE'
}
both "client writes after reset with MSG_NOSIGNAL: EPIPE, no SIGPIPE" \
	epipe_cli_nosig 'wait:@c,linger0,close,touch:@r' \
	'touch:@c,wait:@r,sleep:100,nosig,sendall:20000'

# What the reading end sees, read for read and poll for poll, must be
# what Linux shows: the peer's data before its RST or FIN, then the
# error or EOF; poll()'s flags, SO_ERROR and getpeername() on the way
# (an error is reported once: by the call that takes it).
transcript() {
	grep -Ev '^(connect ok|ready |accepted |done)' "$TMPD/$1.out"
}
expect_rst=$'inq 1000\nrevents IN OUT RDHUP HUP ERR\nread error ECONNRESET after 1000 bytes\nrevents IN OUT RDHUP HUP\nso_error 0\neof after 0 bytes\nstate CLOSE\ngetpeername error ENOTCONN'
rst_after_data() {
	[[ $(transcript "$2") = "$expect_rst" ]] ||
		{ diff <(echo "$expect_rst") <(transcript "$2") | sed 's/^/# diff: /'; return 1; }
}
both "peer sends 1000 bytes then resets: data, then ECONNRESET, then EOF; poll flags as Linux" \
	rst_after_data 'send:1000,wait:@r,linger0,close' \
	'inq:1000,touch:@r,until:err,revents,eof,revents,soerror,eof,state,peer'
expect_fin=$'revents IN OUT RDHUP\ngetpeername ok\nrecv 500 ok\nrevents IN OUT RDHUP\neof after 500 bytes\nrevents IN OUT RDHUP\neof after 0 bytes\nsent 10\nrevents IN OUT RDHUP HUP ERR\nsignal SIGPIPE\nsend error EPIPE\nrevents IN OUT RDHUP HUP\nso_error 0\neof after 0 bytes\ngetpeername error ENOTCONN'
fin_after_data() {
	[[ $(transcript "$2") = "$expect_fin" ]] ||
		{ diff <(echo "$expect_fin") <(transcript "$2") | sed 's/^/# diff: /'; return 1; }
}
both "peer sends 1000 bytes then FIN, we write after: data, EOF, EPIPE; poll flags as Linux" \
	fin_after_data 'send:1000,close' \
	'until:rdhup,revents,peer,recv:500,revents,eof,revents,eof,send:10,until:err,revents,sendall:2000,revents,soerror,eof,peer'

run_queued

phase "simultaneous close"
if in_a tc qdisc add dev "$DEV_A" root netem delay 300ms &&
   in_b tc qdisc add dev "$DEV_B" root netem delay 300ms; then
	both "simultaneous close: both read EOF, both ends in TIME-WAIT" simultaneous \
		'send:100,touch:@s,wait:@c,shut:wr,eof,close' \
		'send:100,touch:@c,wait:@s,shut:wr,eof,close'
	run_queued
else
	tap_skip "simultaneous close (A server)" "netem unavailable"
	tap_skip "simultaneous close (A client)" "netem unavailable"
fi
in_a tc qdisc del dev "$DEV_A" root 2>/dev/null
in_b tc qdisc del dev "$DEV_B" root 2>/dev/null

# ------------------------------------------------------------ backlog

# listen(1), 6 connects, no accept yet: Linux queues two (backlog + 1)
# and drops the SYNs, or the final ACKs, of the others (ListenOverflows),
# which retransmit; once accept() runs, all complete.  Both roles at once.
accept_queue() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | awk '{ print $2; exit }'
}
# six_tried NS PORT: six client sockets to PORT exist in NS.
six_tried() {
	[[ $(ip netns exec "$1" ss -Htan "dport = :$2" | wc -l) -ge 6 ]]
}
backlog_start() {
	local tag=$1 role=$2 i

	PORT=$((PORT + 1))
	T_PORT[$tag]=$PORT
	if [[ $role = a ]]; then
		T_SRV_NS[$tag]=$NS_A T_CLI_NS[$tag]=$NS_B
		ACC_A+=("$tag-srv")
		bg "$tag-srv" in_a "$EXA" "$TCPT" listen -b "$IP_A:$PORT" -B 1 -n 6 \
			-W 90 -P "wait:$TMPD/$tag.go" -x recv:100,send:100,close
	else
		T_SRV_NS[$tag]=$NS_B T_CLI_NS[$tag]=$NS_A
		bg "$tag-srv" in_b "$TCPT" listen -b "$IP_B:$PORT" -B 1 -n 6 \
			-W 90 -P "wait:$TMPD/$tag.go" -x recv:100,send:100,close
	fi
	OVF0[$tag]=$(nstat_of "${T_SRV_NS[$tag]}" TcpExtListenOverflows)
	wait_ready "$tag-srv" || return
	for i in 1 2 3 4 5 6; do
		if [[ $role = a ]]; then
			bg "$tag-c$i" in_b "$TCPT" connect -c "$IP_A:$PORT" -W 90 \
				-x send:100,recv:100,eof
		else
			ACC_B+=("$tag-c$i")
			bg "$tag-c$i" in_a "$EXA" "$TCPT" connect -c "$IP_B:$PORT" \
				-W 90 -x send:100,recv:100,eof
		fi
	done
}
backlog_full() {
	local tag=$1 what=$2 q ovf done=0 i srv_ns=${T_SRV_NS[$1]}

	busywait 30000 six_tried "${T_CLI_NS[$tag]}" "${T_PORT[$tag]}"
	sleep 1
	q=$(accept_queue "$srv_ns" "${T_PORT[$tag]}")
	ovf=$(($(nstat_of "$srv_ns" TcpExtListenOverflows) - OVF0[$tag]))
	for i in 1 2 3 4 5 6; do
		out_has "$tag-c$i" '^recv 100' && done=$((done + 1))
	done
	tap_diag "$what: accept queue ${q:-?}, ListenOverflows +$ovf, $done clients served," \
		"client states: $(ss_summary "${T_CLI_NS[$tag]}")"
	check "listen(1), 6 connects, no accept ($what): accept queue ${q:-?} <= 2, overflows counted, nobody served" \
		eval '[[ -n $q && $q -le 2 && $ovf -gt 0 && $done = 0 ]]'
}
backlog_done() {
	local tag=$1 what=$2 ok=0 i

	bg_wait "$tag-srv" 60 || show "$tag-srv"
	for i in 1 2 3 4 5 6; do
		bg_wait "$tag-c$i" 60
		if out_has "$tag-c$i" '^recv 100 ok' &&
		   out_has "$tag-c$i" '^eof after 0 bytes'; then
			ok=$((ok + 1))
		else
			show "$tag-c$i"
		fi
	done
	check "once accept() runs, all 6 connections complete ($what: $ok)" test "$ok" = 6
}
declare -A OVF0=()
phase "accept queue"
backlog_start bla a
backlog_start blb b
backlog_full bla "A server"
backlog_full blb "A client"
touch "$TMPD/bla.go" "$TMPD/blb.go"
backlog_done bla "A server"
backlog_done blb "A client"

# ------------------------------------------------------------ vanished peer

# Four connections, then B's egress drops everything: the keepalive
# (idle 1 s, 2 probes 1 s apart) and the user timeout (2 s, on data sent
# after the cut) end them with ETIMEDOUT.
phase "vanishing peer"
vanish_pairs=(ka-a ka-b uto-a uto-b)
if in_b tc qdisc add dev "$DEV_B" root netem delay 1ms 2>/dev/null; then
	in_b tc qdisc del dev "$DEV_B" root
	# the accelerated end's steps go to the side it is on
	pair ka-a a "ka:1/1/2,touch:@up,eof" eof
	pair ka-b b eof "ka:1/1/2,touch:@up,eof"
	pair uto-a a "uto:2000,touch:@up,wait:$TMPD/cut,send:1000,eof" eof
	pair uto-b b eof "uto:2000,touch:@up,wait:$TMPD/cut,send:1000,eof"
	for t in "${vanish_pairs[@]}"; do
		busywait 10000 test -e "$TMPD/$t.up" || tap_diag "$t never came up"
	done
	in_b tc qdisc add dev "$DEV_B" root netem loss 100%
	t0=$(date +%s%3N)
	touch "$TMPD/cut"
	acc_of() { [[ $1 = *-a ]] && echo "$1-srv" || echo "$1-cli"; }
	for t in "${vanish_pairs[@]}"; do
		a=$(acc_of "$t")
		wait_out "$a" '^read error' 20000
		t1=$(date +%s%3N)
		what="A server"
		[[ $t = *-a ]] || what="A client"
		kind="keepalive 1/1/2"
		[[ $t = ka-* ]] || kind="TCP_USER_TIMEOUT 2000 ms"
		if out_has "$a" '^read error ETIMEDOUT'; then
			tap_ok "peer vanishes, $kind ($what): ETIMEDOUT after $((t1 - t0)) ms"
		else
			show "$a"
			tap_fail "peer vanishes, $kind ($what): ETIMEDOUT"
		fi
	done
	in_b tc qdisc del dev "$DEV_B" root
else
	for t in "${vanish_pairs[@]}"; do
		tap_skip "peer vanishes ($t)" "netem unavailable"
	done
fi
# the plain ends never heard of it
for t in "${vanish_pairs[@]}"; do
	for n in "$t-srv" "$t-cli"; do
		[[ -z ${BG_PID[$n]:-} ]] || kill -KILL "${BG_PID[$n]}" 2>/dev/null
	done
done
for t in "${vanish_pairs[@]}"; do
	for n in "$t-srv" "$t-cli"; do
		[[ -z ${BG_PID[$n]:-} ]] || bg_wait "$n" 5
	done
done

# ------------------------------------------------------------ the end

phase "end"
check_accel "every socket of the A-server runs accelerated (SO_DOMAIN 25)" "${ACC_A[@]}"
check_accel "every socket of the A-client runs accelerated (SO_DOMAIN 25)" "${ACC_B[@]}"

back_to_start() {
	[[ $(mod_counters) = "$start" ]]
}
busywait 10000 back_to_start
tap_diag "end: $(mod_counters)"
check "module counters back to start" back_to_start
check "kernel log clean" kernel_log_clean
tap_finish
