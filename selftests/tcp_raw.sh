#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP frames the program sends itself: examples/tcp-raw-send builds each
# message's frame on a header from the kernel (libexasock_ext's
# exasock_tcp_build_header), sends it on a packet socket and advances the
# connection (exasock_tcp_send_advance). Its peer is plain Linux TCP
# (tcp_raw_peer.py), which checks every byte of the stream.
#
#   netns A                                 netns B
#   exa0 10.77.0.1 (attached)  <--veth-->  exa1 10.77.0.2
#   exasock tcp-raw-send                   tcp_raw_peer.py
#
# Cases:
#  - ping-pong: each message is echoed, checked and timed; neither end
#    retransmits anything (the frames were accounted as sent), and A's
#    kernel counted one advance per message;
#  - ping-pong with 50 ms between frame and advance: the echo comes back
#    before the advance, and A must hold it rather than drop it, so B
#    still retransmits nothing; again with a second thread keeping the
#    socket's lock busy, so that echoes land in the kernel's backlog;
#  - a stream of 1000-byte messages with every 7th one going by send()
#    while a header is out (a stale header): intact, stale ones counted;
#  - the stream and the ping-pong with 5 % loss on A's egress, frames
#    included: the kernel retransmits what the frames carried, intact;
#  - refusals: under exasock but on a connection that is not accelerated
#    (through lo), where an nft output rule must see every segment, and
#    without exasock at all, the example is told no and sends nothing;
#  - the module's socket counters back where they were, a clean log.

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_state_lib.sh"

RAW=$TOP/examples/tcp-raw-send
PEER=$TOP/selftests/tcp_raw_peer.py
export LD_LIBRARY_PATH=$TOP/lib/ext${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

require_tcp
require_cmd python3 tc nstat
[[ -x $RAW ]] || tap_skip_all "$RAW not built (run make)"
tap_plan 34
setup_pair
attach_a || tap_fail "attach exa0"
modprobe -q sch_netem 2>/dev/null

base=$(mod_counters)
port=7100

# run TITLE COUNT SIZE PEER_ARGS CLIENT_ARGS...: one connection; leaves
# the client's output in $TMPD/cli.out and its status in $cli_rc.
run() {
	local title=$1 count=$2 size=$3 peer_args=$4

	shift 4
	port=$((port + 1))
	forget peer cli
	# shellcheck disable=SC2086 # peer_args is a word list
	bg peer in_b python3 "$PEER" "$IP_B" "$port" --count "$count" \
		--size "$size" $peer_args
	if ! wait_ready peer; then
		tap_fail "$title: the peer got all $count messages intact"
		tap_fail "$title: tcp-raw-send finished"
		return 1
	fi
	bg cli in_a "$EXA" "$RAW" -c "$count" -s "$size" "$@" "$IP_B" "$port"
	bg_wait cli 240
	cli_rc=$?
	bg_wait peer 30
	peer_rc=$?
	show cli
	[[ $peer_rc -eq 0 ]] || show peer
	check "$title: the peer got all $count messages intact" \
		out_has peer "^ok $count\$"
	check "$title: tcp-raw-send finished (exit $cli_rc)" test "$cli_rc" -eq 0
}

# forget NAME...: drop the output of earlier runs.
forget() {
	local n

	for n in "$@"; do
		rm -f "$TMPD/$n.out" "$TMPD/$n.err"
	done
}

# counter NAME: from the client's "counters" line.
counter() {
	sed -n "s/^counters .*\\b$1=\\([0-9]*\\).*/\\1/p" "$TMPD/cli.out"
}

retrans() {
	nstat_of "$1" TcpRetransSegs
}

not() {
	! "$@"
}

counters_back() {
	[[ $(mod_counters) == "$base" ]]
}

# ---------------------------------------------------------------- ping-pong
ra=$(retrans "$NS_A")
rb=$(retrans "$NS_B")
run "ping-pong" 200 64 --echo -e
check "ping-pong: 200 sent as frames" out_has cli "200 as frames, 0 stale"
check "ping-pong: A counted 200 advances of 12800 bytes" \
	test "$(counter advances)/$(counter bytes)" = 200/12800
check "ping-pong: nothing left for the kernel to send (late 0)" \
	test "$(counter late)" = 0
check "ping-pong: neither end retransmitted" \
	test "$(retrans "$NS_A")/$(retrans "$NS_B")" = "$ra/$rb"

# ---------------------------------------------------------------- held answers
rb=$(retrans "$NS_B")
run "answer before advance" 30 64 --echo -e -d 50000
held=$(counter held)
check "answer before advance: A held the echoes ($held held)" \
	test "${held:-0}" -ge 15
check "answer before advance: B retransmitted nothing" \
	test "$(retrans "$NS_B")" = "$rb"
rb=$(retrans "$NS_B")
run "answer before advance, lock busy" 30 64 --echo -e -d 50000 -b
held=$(counter held)
check "answer before advance, lock busy: A held the echoes ($held held)" \
	test "${held:-0}" -ge 15
check "answer before advance, lock busy: B retransmitted nothing" \
	test "$(retrans "$NS_B")" = "$rb"

# ---------------------------------------------------------------- stale headers
run "stream with stale headers" 2000 1000 "" -t 7
check "stream: 285 stale headers counted" test "$(counter stale)" = 285
check "stream: 1715 advances" test "$(counter advances)" = 1715

# ---------------------------------------------------------------- loss
if in_a tc qdisc add dev "$DEV_A" root netem loss 5% 2>/dev/null; then
	ra=$(retrans "$NS_A")
	run "stream, 5% loss" 1000 1000 ""
	check "stream, 5% loss: A's kernel retransmitted" \
		test "$(retrans "$NS_A")" -gt "$ra"
	run "ping-pong, 5% loss" 100 200 --echo -e
	in_a tc qdisc del dev "$DEV_A" root
else
	for i in 1 2 3 4 5; do
		tap_skip "loss case $i" "no sch_netem"
	done
fi

# ---------------------------------------------------------------- refusals
# Through lo the connection is not accelerated: the example must say so.
port=$((port + 1))
forget peer cli
bg peer in_a python3 "$PEER" 127.0.0.1 "$port" --count 1 --size 64
wait_ready peer
bg cli in_a "$EXA" "$RAW" -c 1 -s 64 127.0.0.1 "$port"
bg_wait cli 30
rc=$?
bg_wait peer 10
check "not accelerated (lo): refused, exit 1" test "$rc" -eq 1
check "not accelerated (lo): it said why" \
	grep -q "not accelerated" "$TMPD/cli.err"
check "not accelerated (lo): the peer got nothing" \
	not out_has peer "^ok "

# Netfilter at LOCAL_OUT must see each segment: no header to build.
port=$((port + 1))
forget peer cli
bg peer in_b python3 "$PEER" "$IP_B" "$port" --count 1 --size 64
wait_ready peer
if in_a nft -f - <<-EOT
	table inet exaraw {
		chain out {
			type filter hook output priority 0;
			counter
		}
	}
	EOT
then
	bg cli in_a "$EXA" "$RAW" -c 1 -s 64 "$IP_B" "$port"
	bg_wait cli 30
	rc=$?
	in_a nft delete table inet exaraw
	bg_wait peer 10
	check "netfilter output hook: refused, exit 1" test "$rc" -eq 1
	check "netfilter output hook: it said why (EOPNOTSUPP)" \
		grep -q "build_header: Operation not supported" "$TMPD/cli.err"
	check "netfilter output hook: the peer got nothing" \
		not out_has peer "^ok "
else
	for i in 1 2 3; do
		tap_skip "netfilter output hook $i" "nft failed"
	done
	bg_wait peer 10
fi

# Without exasock there is no header to have.
port=$((port + 1))
forget peer cli
bg peer in_b python3 "$PEER" "$IP_B" "$port" --count 1 --size 64
wait_ready peer
bg cli in_a "$RAW" -c 1 -s 64 "$IP_B" "$port"
bg_wait cli 30
rc=$?
bg_wait peer 10
check "without exasock: refused, exit 1" test "$rc" -eq 1
check "without exasock: it said why" grep -q "not accelerated" "$TMPD/cli.err"
check "without exasock: the peer got nothing" not out_has peer "^ok "

# ---------------------------------------------------------------- afterwards
check "module socket counters back ($base)" busywait 10000 counters_back
check "kernel log clean" kernel_log_clean
tap_finish
