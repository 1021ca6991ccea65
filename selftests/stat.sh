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
#    TCP listen 10.77.0.1:5610 (python3) <---------- tcli: 1000 B, unread
#     accepted: tcli's connection, sends 700 B  ---> (exa1 down: no ACK)
#     accept queue: tq's connection  <-------------- tq: connects only
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

check() { local n=$1; shift; if "$@"; then tap_ok "$n"; else tap_fail "$n"; fi; tap_diag "T=$SECONDS"; }  # TIMING
require_exasock
[[ -x $STAT ]] || tap_skip_all "$STAT not built (run make)"
require_cmd python3
tap_plan 39
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
# then reads nothing; plain clients in B: one sends $TBYTES and is
# accepted, one stays in the accept queue. The accepted socket sends on
# command ("send N" on its stdin).
cat >"$TMPD/tcp_hold.py" <<'EOF'
import socket, sys

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
    s = socket.create_connection((addr, port), timeout=30)
    n = int(sys.argv[4])
    if n:
        s.sendall(b"c" * n)
    say("ready port=%d" % s.getsockname()[1])
    sys.stdin.read()
EOF
TPORT=5610
TLOCAL=$IP_A:$TPORT
TBYTES=1000
TSEND=700

hold tsrv in_a "$EXA" python3 "$TMPD/tcp_hold.py" listen "$IP_A" "$TPORT"
TSRV_FD=$_fd
ok=0
if wait_ready tsrv; then
	hold tcli in_b python3 "$TMPD/tcp_hold.py" connect "$IP_A" "$TPORT" "$TBYTES"
	wait_ready tcli && ok=1
fi
has_conn() {
	grep -q '^conn ' "$TMPD/tsrv.out" 2>/dev/null
}
busywait 10000 has_conn || ok=0
if [[ $ok = 1 ]]; then
	hold tq in_b python3 "$TMPD/tcp_hold.py" connect "$IP_A" "$TPORT" 0
	wait_ready tq || ok=0
fi
check "TCP listener (launcher, A), accepted client, queued client (B)" \
	test $ok = 1
TPEER=$IP_B:$(ready_field tcli port)
tconn_fd() {
	sed -n 's/^conn fd=\([0-9]*\).*/\1/p' "$TMPD/tsrv.out" | head -n 1
}

# trow LOCAL FOREIGN: the row of that connection (or listener, "*:*").
trow() {
	rows | awk -F'|' -v l="$1" -v f="$2" '$4 == l && $5 == f'
}
# expect_trow LOCAL FOREIGN WANT [ARGS...]
expect_trow() {
	local l=$1 f=$2 want=$3 got

	shift 3
	run_stat "$@" || { dump_out; return 1; }
	got=$(trow "$l" "$f")
	[[ $got == "$want" ]] && return 0
	tap_diag "row of $l $f: got '$got', want '$want'"
	dump_out
	return 1
}
# Until both queues read what the clients did.
tqueues_full() {
	run_stat -t &&
		[[ $(trow "$TLOCAL" '*:*' | cut -d'|' -f2) == 1 &&
		   $(trow "$TLOCAL" "$TPEER" | cut -d'|' -f2) == "$TBYTES" ]]
}
busywait 10000 tqueues_full
run_stat
dump_out

check "TCP listener: Recv-Q 1 (queued connection), Send-Q N/A, LISTEN" \
	expect_trow "$TLOCAL" '*:*' "TCP|1|N/A|$TLOCAL|*:*|LISTEN"
check "TCP accepted: Recv-Q $TBYTES unread bytes, Send-Q 0, ESTABLISHED" \
	expect_trow "$TLOCAL" "$TPEER" "TCP|$TBYTES|0|$TLOCAL|$TPEER|ESTABLISHED"
tcp_extend() {
	local pid=${BG_PID[tsrv]}

	expect_trow "$TLOCAL" '*:*' \
		"TCP|1|N/A|$TLOCAL|*:*|LISTEN|root|$pid/$(ready_field tsrv fd)|python3" -e &&
		expect_trow "$TLOCAL" "$TPEER" \
			"TCP|$TBYTES|0|$TLOCAL|$TPEER|ESTABLISHED|root|$pid/$(tconn_fd)|python3" -e
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
	local all_udp

	all_udp=$(sorted "$BOUND>*:*" "$CONN>$PEER" "*:$WILD>*:*")
	expect_pairs "$(sorted "$tlisten" "$taccepted")" -t &&
		expect_pairs "$(sorted "$tlisten" "$taccepted")" --tcp -c -l &&
		expect_pairs "$tlisten " -t -l &&
		expect_pairs "$taccepted " -t -c &&
		expect_pairs "$all_udp" -u &&
		expect_pairs "$(sorted "$BOUND>*:*" "*:$WILD>*:*" "$tlisten")" -l &&
		expect_pairs "$(sorted "$CONN>$PEER" "$taccepted")" --connected &&
		expect_pairs "$(sorted "$CONN>$PEER" "$taccepted")" -c -t -u &&
		expect_pairs "$taccepted " -s "${BG_PID[tsrv]}:$(tconn_fd)"
}
check "-t, -u, -l (TCP: LISTEN), -c (TCP: the rest), -s on TCP sockets" \
	tcp_filters

# Send-Q: with B's end down nothing is acknowledged, so what the
# accepted socket sends stays in flight, all of it.
tsendq() {
	run_stat -t -c && [[ $(trow "$TLOCAL" "$TPEER" | cut -d'|' -f3) == "$1" ]]
}
ip -n "$NS_B" link set "$DEV_B" down
echo "send $TSEND" >&"$TSRV_FD"
busywait 10000 tsendq "$TSEND"
check "TCP Send-Q: $TSEND bytes sent, not acknowledged (peer's link down)" \
	expect_trow "$TLOCAL" "$TPEER" "TCP|$TBYTES|$TSEND|$TLOCAL|$TPEER|ESTABLISHED"
ip -n "$NS_B" link set "$DEV_B" up
check "TCP Send-Q: 0 once acknowledged (link up again)" \
	busywait 30000 tsendq 0

# counter NAME: its value in the -i output.
counter() {
	grep -o "\b$1=[0-9]*" "$TMPD/stat.out" | head -n 1 | cut -d= -f2
}
tcp_internal() {
	local n

	run_stat -i -s "${BG_PID[tsrv]}:$(tconn_fd)" || { dump_out; return 1; }
	dump_out
	[[ $(counter tcp_bytes_received) == "$TBYTES" &&
	   $(counter tcp_bytes_delivered) == "$TBYTES" &&
	   $(counter rx_bytes) == "$TBYTES" &&
	   $(counter tcp_bytes_acked) == "$TSEND" &&
	   $(counter tcp_bytes_sent) -ge "$TSEND" &&
	   -n $(counter tcp_retrans_segs) && -n $(counter tcp_snd_wnd) &&
	   -n $(counter tcp_rcv_wscale) && -n $(counter tcp_ssthresh) &&
	   -n $(counter tcp_rtt_us) ]] || return 1
	for n in tcp_mss tcp_cwnd tcp_rcv_wnd tcp_rto_us; do
		[[ $(counter $n) -gt 0 ]] || { tap_diag "$n not > 0"; return 1; }
	done
	grep -Eq '^  tcp_conns +([2-9]|[0-9]{2,})$' "$TMPD/stat.out" &&
		grep -Eq '^  tcp_accepted +[1-9][0-9]*$' "$TMPD/stat.out" &&
		grep -Eq '^  tcp_unread_resets +[0-9]+$' "$TMPD/stat.out" &&
		grep -q '^Module-wide counters.*features .*tcp' "$TMPD/stat.out"
}
check "-i: TCP counters (bytes, acked, mss, cwnd, windows, RTT, RTO), module tcp_*" \
	tcp_internal
ctl_tcp() {
	local n

	n=$("$CTL" stats tcp_conns) || return 1
	tap_diag "exasock-ctl stats tcp_conns: $n"
	[[ $n -ge 2 ]] || return 1
	in_a "$CTL" sockets >"$TMPD/ctl.out" || return 1
	sed 's/^/#   /' "$TMPD/ctl.out"
	awk -v l="$TLOCAL" '$1 == "tcp" && $2 == "listen" && $5 == l && $3 == 1' \
		"$TMPD/ctl.out" | grep -q . &&
		awk -v l="$TLOCAL" -v p="$TPEER" -v b="$TBYTES" \
			'$1 == "tcp" && $2 == "established" && $5 == l && $6 == p && $3 == b' \
			"$TMPD/ctl.out" | grep -q .
}
check "exasock-ctl: stats tcp_conns, sockets lists listen/established" ctl_tcp

tcp_json() {
	run_stat -j -e -t || { dump_out; return 1; }
	python3 -m json.tool "$TMPD/stat.out" >/dev/null || { dump_out; return 1; }
	python3 - "$TMPD/stat.out" "$TLOCAL" "$TPEER" "$TBYTES" "$TSEND" \
		"${BG_PID[tsrv]}" "$(ready_field tsrv fd)" "$(tconn_fd)" <<'EOF' || { dump_out; return 1; }
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
    f.write("".join("%s:%d\n" % s.getsockname() for s in socks))
print("ready n=%d" % len(socks), flush=True)
sys.stdin.read()
EOF
t0=$(date +%s)
# shellcheck disable=SC2016 # expanded by that bash
hold many in_a bash -c 'ulimit -n $(($2 + 1000)) && exec "$3" python3 "$4" "$1" "$2" "$5"' \
	- "$IP_A" "$NMANY" "$EXA" "$TMPD/many.py" "$TMPD/many.want"
MANY_FD=$_fd
if busywait 60000 has_ready many; then
	tap_ok "$NMANY UDP sockets opened in one process ($(($(date +%s) - t0)) s)"
else
	show many
	tap_fail "$NMANY UDP sockets opened in one process"
fi
tap_diag "ring_bytes $(stat_of ring_bytes), accel_sockets $(stat_of accel_sockets)"
many_listed() {
	local got

	sort "$TMPD/many.want" >"$TMPD/many.want.sorted"
	run_stat -u -l || { dump_out; return 1; }
	rows | cut -d'|' -f4 | grep -v -e "^$BOUND\$" -e "^\\*:$WILD\$" |
		sort >"$TMPD/many.got"
	got=$(wc -l <"$TMPD/many.got")
	tap_diag "exasock-stat -u -l: $got rows besides the others"
	[[ $(wc -l <"$TMPD/many.want.sorted") == "$NMANY" ]] || return 1
	cmp -s "$TMPD/many.got" "$TMPD/many.want.sorted" && return 0
	diff "$TMPD/many.want.sorted" "$TMPD/many.got" | head -n 20 |
		sed 's/^/#   /'
	return 1
}
check "exasock-stat lists all $NMANY, none twice (multipart dump)" many_listed
many_json() {
	run_stat -j -e -u -l || { tail -c 2000 "$TMPD/stat.out"; return 1; }
	python3 - "$TMPD/stat.out" "$TMPD/many.want" "${BG_PID[many]}" <<'EOF'
import json, sys

doc = json.load(open(sys.argv[1]))
want = set(open(sys.argv[2]).read().split())
pid = int(sys.argv[3])
mine = [s for s in doc["sockets"] if s["local"] in want]
assert len(mine) == len(want), (len(mine), len(want))
assert len({s["id"] for s in mine}) == len(want)
assert all([p["pid"] for p in s["processes"]] == [pid] for s in mine)
assert len({s["processes"][0]["fd"] for s in mine}) == len(want)
EOF
}
check "-j -e: all $NMANY in the JSON, each with its own descriptor" many_json
exec {MANY_FD}>&-
check "the $NMANY-socket process exits" bg_wait many 60
tap_diag "stat.sh took $SECONDS s"

check "kernel log clean" kernel_log_clean
tap_finish
