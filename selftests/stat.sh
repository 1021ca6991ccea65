#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# exasock-stat against sockets whose state the test knows: the table, its
# addresses and "*", Recv-Q after a known number of unread payload bytes,
# -e (user, PID/FD, program), each filter, -s PID:FD, -i counters and -j
# JSON parsed by python3; the same for TCP (LISTEN and ESTABLISHED, an
# accept queue, unacknowledged bytes, the tcp_* counters); then one
# process with thousands of accelerated sockets, all of which the dump
# must list.
#
#   netns A                                         netns B
#   exa0 10.77.0.1 (attached)          <-veth->    exa1 10.77.0.2
#    wild: *:5601          (nobody)                 udp_tool send:
#    bound: 10.77.0.1:5602 (root)  <-------------   3 x 100 B, unread
#    conn: 10.77.0.1:5603 -> 10.77.0.2:5604
#    native: 10.77.0.1:5605 (not accelerated)
#    TCP listen 10.77.0.1:5610 (python3)            tcli (plain python3):
#     accepted  <------------------------------------ 1st: 1000 B, unread
#       sends 700 B ---------------------------------> (exa1 down: no ACK)
#     accept queue  <-------------------------------- 2nd: connects only
#    many: 3000 UDP sockets 10.77.0.1:*
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
tap_plan 37
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

# -- TCP ------------------------------------------------------------------
# A listener under the launcher in A that accepts one connection and
# then reads nothing; one plain client in B that connects (as soon as
# the listener is up), sends $TBYTES, and connects a second time: that
# connection stays in the accept queue (first in, first out, so the
# first one is the one accepted). The accepted socket sends on command
# ("send N" on its stdin).
cat >"$TMPD/tcp_hold.py" <<'EOF'
import socket, sys, time

def say(*words):
    print(*words, flush=True)

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "listen":
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(8)
    say("ready fd=%d" % ls.fileno())
    c, peer = ls.accept()
    say("conn fd=%d peer=%s:%d" % (c.fileno(), peer[0], peer[1]))
    for line in iter(sys.stdin.readline, ""):
        w = line.split()
        if len(w) == 2 and w[0] == "send":
            c.sendall(b"s" * int(w[1]))
            say("sent %s" % w[1])
else:
    deadline = time.time() + 60
    while True:
        try:
            c1 = socket.create_connection((addr, port), timeout=30)
            break
        except ConnectionRefusedError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)
    c1.sendall(b"c" * int(sys.argv[4]))
    c2 = socket.create_connection((addr, port), timeout=30)
    say("ready port=%d" % c1.getsockname()[1])
    sys.stdin.read()
EOF
TPORT=5610
TLOCAL=$IP_A:$TPORT
TBYTES=1000
TSEND=700

hold tsrv in_a "$EXA" python3 "$TMPD/tcp_hold.py" listen "$IP_A" "$TPORT"
TSRV_FD=$_fd
hold tcli in_b python3 "$TMPD/tcp_hold.py" connect "$IP_A" "$TPORT" "$TBYTES"
has_conn() {
	grep -q '^conn ' "$TMPD/tsrv.out" 2>/dev/null
}
tcp_ready() {
	wait_ready tsrv && wait_ready tcli && busywait 10000 has_conn
}
check "TCP listener (launcher, A); client (B) accepted, another queued" \
	tcp_ready
TPEER=$IP_B:$(ready_field tcli port)
TCONN_FD=$(sed -n 's/^conn fd=\([0-9]*\).*/\1/p' "$TMPD/tsrv.out")
TLISTEN_FD=$(ready_field tsrv fd)
TPID=${BG_PID[tsrv]}

# trow LOCAL FOREIGN: the row of that connection (or listener, "*:*")
# in the last output.
trow() {
	rows | awk -F'|' -v l="$1" -v f="$2" '$4 == l && $5 == f'
}
# has_trow LOCAL FOREIGN WANT: the last output has that row.
has_trow() {
	local got

	got=$(trow "$1" "$2")
	[[ $got == "$3" ]] && return 0
	tap_diag "row of $1 $2: got '$got', want '$3'"
	dump_out
	return 1
}
# Until both queues show what the client did.
tqueues_full() {
	run_stat -t && [[ $(rows | cut -d'|' -f2,4,5 | sort | tr '\n' ' ') == \
		"$TBYTES|$TLOCAL|$TPEER 1|$TLOCAL|*:* " ]]
}
busywait 10000 tqueues_full
run_stat

check "TCP listener: Recv-Q 1 (queued connection), Send-Q N/A, LISTEN" \
	has_trow "$TLOCAL" '*:*' "TCP|1|N/A|$TLOCAL|*:*|LISTEN"
check "TCP accepted: Recv-Q $TBYTES unread bytes, Send-Q 0, ESTABLISHED" \
	has_trow "$TLOCAL" "$TPEER" "TCP|$TBYTES|0|$TLOCAL|$TPEER|ESTABLISHED"
tcp_extend() {
	run_stat -e || { dump_out; return 1; }
	has_trow "$TLOCAL" '*:*' \
		"TCP|1|N/A|$TLOCAL|*:*|LISTEN|root|$TPID/$TLISTEN_FD|python3" &&
		has_trow "$TLOCAL" "$TPEER" \
			"TCP|$TBYTES|0|$TLOCAL|$TPEER|ESTABLISHED|root|$TPID/$TCONN_FD|python3"
}
check "-e: TCP listener and accepted socket, their PID/FD, python3" \
	tcp_extend

# pairs ARGS...: "LOCAL>FOREIGN" of each row of exasock-stat ARGS, sorted.
pairs() {
	run_stat "$@" || { dump_out; return 1; }
	rows | awk -F'|' '{ print $4 ">" $5 }' | sort | tr '\n' ' '
}
expect_pairs() {
	local want=$1 got

	shift
	got=$(pairs "$@")
	[[ $got == "$want" ]] && return 0
	tap_diag "exasock-stat $*: got '$got', want '$want'"
	dump_out
	return 1
}
tlisten="$TLOCAL>*:*"
taccepted="$TLOCAL>$TPEER"
tcp_filters() {
	expect_pairs "$(sorted "$tlisten" "$taccepted")" -t &&
		expect_pairs "$tlisten " -t -l &&
		expect_pairs "$(sorted "$BOUND>*:*" "$CONN>$PEER" "*:$WILD>*:*")" -u &&
		expect_pairs "$(sorted "$BOUND>*:*" "*:$WILD>*:*" "$tlisten")" -l &&
		expect_pairs "$(sorted "$CONN>$PEER" "$taccepted")" --connected
}
check "-t, -u, -l (TCP: LISTEN), -c (TCP: the rest) with TCP sockets" \
	tcp_filters

# Send-Q: with B's end down nothing is acknowledged, so what the
# accepted socket sends stays in flight, all of it.
tsendq() {
	run_stat -t -c && [[ $(rows | cut -d'|' -f3) == "$1" ]]
}
ip -n "$NS_B" link set "$DEV_B" down
echo "send $TSEND" >&"$TSRV_FD"
busywait 10000 tsendq "$TSEND"
check "-t -c: the accepted socket, Send-Q $TSEND sent, not acknowledged (B down)" \
	has_trow "$TLOCAL" "$TPEER" "TCP|$TBYTES|$TSEND|$TLOCAL|$TPEER|ESTABLISHED"
ip -n "$NS_B" link set "$DEV_B" up
check "TCP Send-Q: 0 once acknowledged (B up again)" \
	busywait 30000 tsendq 0

# counter NAME: its value in $STAT_OUT (name=value), without a process.
counter() {
	[[ $STAT_OUT =~ (^|[[:space:]])$1=([0-9]+) ]] && echo "${BASH_REMATCH[2]}"
}
tcp_internal() {
	local n nl=$'\n'

	run_stat -i -s "$TPID:$TCONN_FD" || { dump_out; return 1; }
	dump_out
	STAT_OUT=$(<"$TMPD/stat.out")
	# Delivered: into the ring (rx_bytes) or straight to the reader
	# (rx_native); the program has read nothing, so the bytes may be in
	# either place, but none twice and none lost.
	local ring direct delivered
	ring=$(counter rx_bytes)
	direct=$(counter rx_native)
	delivered=$(counter tcp_bytes_delivered)
	[[ $(counter tcp_bytes_received) == "$TBYTES" &&
	   ${delivered:-0} -eq $((${ring:-0} + ${direct:-0})) &&
	   ${delivered:-0} -le "$TBYTES" &&
	   $(counter tcp_bytes_acked) == "$TSEND" &&
	   $(counter tcp_bytes_sent) -ge "$TSEND" ]] || return 1
	for n in tcp_retrans_segs tcp_retrans_bytes tcp_snd_wnd tcp_snd_wscale \
		 tcp_rcv_wscale tcp_ssthresh tcp_rtt_us; do
		[[ -n $(counter $n) ]] || { tap_diag "no $n"; return 1; }
	done
	for n in tcp_mss tcp_cwnd tcp_rcv_wnd tcp_rto_us; do
		[[ $(counter $n) -gt 0 ]] || { tap_diag "$n not > 0"; return 1; }
	done
	[[ $STAT_OUT =~ ${nl}"Module-wide counters ("[^$nl]*"features "[^$nl]*tcp ]] ||
		{ tap_diag "no feature tcp"; return 1; }
	[[ $STAT_OUT =~ ${nl}"  tcp_conns "+([0-9]+) && ${BASH_REMATCH[1]} -ge 2 ]] &&
		[[ $STAT_OUT =~ ${nl}"  tcp_accepted "+([0-9]+) && ${BASH_REMATCH[1]} -ge 1 ]] &&
		[[ $STAT_OUT =~ ${nl}"  tcp_unread_resets "+[0-9]+ ]]
}
check "-i -s: TCP counters (bytes, acked, mss, cwnd, windows, RTT, RTO), module tcp_*" \
	tcp_internal
ctl_tcp() {
	local n

	n=$("$CTL" stats tcp_conns) || return 1
	tap_diag "exasock-ctl stats tcp_conns: $n"
	[[ $n -ge 2 ]] || return 1
	in_a "$CTL" sockets >"$TMPD/ctl.out" || return 1
	sed 's/^/#   /' "$TMPD/ctl.out"
	awk -v l="$TLOCAL" -v p="$TPEER" -v b="$TBYTES" '
		$1 == "tcp" && $2 == "listen" && $5 == l && $3 == 1 { n++ }
		$1 == "tcp" && $2 == "established" && $5 == l && $6 == p &&
			$3 == b { n++ }
		END { exit n != 2 }' "$TMPD/ctl.out"
}
check "exasock-ctl: stats tcp_conns, sockets lists listen/established" ctl_tcp

# json.load is what "python3 -m json.tool" runs; then the content.
tcp_json() {
	run_stat -j -e -t || { dump_out; return 1; }
	python3 - "$TMPD/stat.out" "$TLOCAL" "$TPEER" "$TBYTES" "$TSEND" \
		"$TPID" "$TLISTEN_FD" "$TCONN_FD" <<'EOF' || { dump_out; return 1; }
import json, sys

path, local, peer, nbytes, nsend, pid, lfd, cfd = sys.argv[1:]
nbytes, nsend, pid = int(nbytes), int(nsend), int(pid)
doc = json.load(open(path))
socks = doc["sockets"]
assert len(socks) == 2 and all(s["proto"] == "tcp" for s in socks), socks
l = [s for s in socks if s["foreign"] == "*:*"][0]
c = [s for s in socks if s["foreign"] == peer][0]
assert l["local"] == local and l["state"] == "listen", l
assert l["listening"] and not l["connected"] and l["recv_q"] == 1, l
assert l["processes"] == [{"pid": pid, "fd": int(lfd), "program": "python3"}], l
assert c["local"] == local and c["state"] == "established", c
assert c["connected"] and not c["listening"], c
assert c["recv_q"] == nbytes and c["send_q"] == 0, c
assert c["processes"] == [{"pid": pid, "fd": int(cfd), "program": "python3"}], c
st = c["stats"]
assert st["tcp_bytes_received"] == nbytes, st
assert st["tcp_bytes_acked"] == nsend, st
assert st["tcp_mss"] > 0 and st["tcp_cwnd"] > 0, st
m = doc["module"]
assert "tcp" in m["features"], m
assert m["stats"]["tcp_conns"] >= 2 and m["stats"]["tcp_accepted"] >= 1, m
EOF
}
check "-j -e -t: valid JSON, TCP states, queues, processes, tcp_* counters" \
	tcp_json

# -- thousands of sockets ------------------------------------------------
# One process, $NMANY accelerated UDP sockets (small SO_RCVBUF: the
# smallest ring each): the dump takes many messages, none may be lost
# or repeated.
NMANY=3000
cat >"$TMPD/many.py" <<'EOF'
import socket, sys

addr, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((addr, 0))
    socks.append(s)
with open(out, "w") as f:
    f.write("".join("%s:%d %d\n" % (s.getsockname() + (s.fileno(),))
                    for s in socks))
print("ready n=%d" % len(socks), flush=True)
sys.stdin.read()
EOF
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by that bash
hold many in_a bash -c 'ulimit -n $(($2 + 1000)) && exec "$3" python3 "$4" "$1" "$2" "$5"' \
	- "$IP_A" "$NMANY" "$EXA" "$TMPD/many.py" "$TMPD/many.want"
MANY_FD=$_fd
if busywait 60000 has_ready many; then
	tap_ok "$NMANY UDP sockets opened in one process ($((SECONDS - t0)) s)"
else
	show many
	tap_fail "$NMANY UDP sockets opened in one process"
fi
# Each listed once, with its process and descriptor (-e).
many_listed() {
	local got

	run_stat -e -u -l || { dump_out; return 1; }
	rows | awk -F'|' -v pid="${BG_PID[many]}" '$8 ~ "^" pid "/" {
		sub(/.*\//, "", $8)
		print $4 " " $8
	}' | sort >"$TMPD/many.got"
	sort "$TMPD/many.want" >"$TMPD/many.want.sorted"
	got=$(wc -l <"$TMPD/many.got")
	tap_diag "exasock-stat -e -u -l: $got rows of that process"
	[[ $(wc -l <"$TMPD/many.want.sorted") == "$NMANY" ]] || return 1
	cmp -s "$TMPD/many.got" "$TMPD/many.want.sorted" && return 0
	diff "$TMPD/many.want.sorted" "$TMPD/many.got" | head -n 20 |
		sed 's/^/#   /'
	return 1
}
check "-e: all $NMANY listed, each once, with its PID/FD (multipart dump)" \
	many_listed
exec {MANY_FD}>&-
tap_diag "stat.sh: $SECONDS s"

check "kernel log clean" kernel_log_clean
tap_finish
