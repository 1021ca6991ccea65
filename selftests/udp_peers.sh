#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified programs as accelerated UDP end points and as their peers:
# OpenBSD nc and python3 sockets, both ways.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock nc -u -l 5100      <-------  python3 (plain)
#   exasock python3 echo       <-------  nc -u (plain)
#   exasock nc -u (client)     ------->  python3 echo (plain)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
require_cmd nc python3
tap_plan 9
setup_pair
attach_a || tap_fail "attach exa0"

# python3 peer: send LINES to HOST:PORT from BIND_PORT, then print every
# datagram that comes back until EXPECT of them or 10 s.
PEER='
import socket, sys
host, port, bport, expect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", bport))
s.settimeout(10)
for line in sys.argv[5:]:
    s.sendto((line + "\n").encode(), (host, port))
print("ready sent", flush=True)
for _ in range(expect):
    data, peer = s.recvfrom(2048)
    print("got", data.decode().strip(), "from", peer[0], flush=True)
'

# python3 echo server: echo COUNT datagrams; reports its fd and whether
# the kernel accelerated it.
ECHO='
import socket, sys
ip, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, port))
try:
    accel = s.getsockopt(0x4558, 4)   # SOL_EXASOCK, SO_EXA_ACCELERATED
except OSError:
    accel = 0
print("ready fd=%d accelerated=%d port=%d" % (s.fileno(), accel, port), flush=True)
for _ in range(count):
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
'

# -- exasock nc -u -l in A, python3 in B ----------------------------------
bg_stdin nc "$TMPD/nc.in" in_a env EXASOCK_DEBUG=1 "$EXA" nc -u -l 5100
exec {ncin}>"$TMPD/nc.in"
if busywait 10000 grep -q "enabled bypass" "$TMPD/nc.err"; then
	tap_ok "nc -u -l under exasock: $(head -n 1 "$TMPD/nc.err")"
else
	show nc
	tap_fail "nc -u -l under exasock is accelerated"
fi
bg py in_b python3 -c "$PEER" "$IP_A" 5100 5101 1 "one from python" "two from python"
if busywait 15000 grep -q "two from python" "$TMPD/nc.out"; then
	tap_ok "python3 (plain) -> nc -u -l (exasock)"
else
	show nc
	tap_fail "python3 (plain) -> nc -u -l (exasock)"
fi
echo "answer from nc" >&"$ncin"
bg_wait py 15
rc=$?
show py
check "nc -u -l (exasock) answers python3 (plain)" \
	grep -q "^got answer from nc from $IP_A" "$TMPD/py.out"
exec {ncin}>&-
kill "${BG_PID[nc]}" 2>/dev/null
bg_wait nc 5 >/dev/null

# -- exasock python3 echo in A, nc -u in B --------------------------------
bg pyecho in_a env EXASOCK_DEBUG=1 "$EXA" python3 -c "$ECHO" "$IP_A" 5102 2
if wait_ready pyecho; then
	fd=$(ready_field pyecho fd)
	check "python3 under exasock is accelerated (fd $fd)" \
		test "$(ready_field pyecho accelerated)" = 1
	check "python3 under exasock: debug line for fd $fd" \
		debug_line_for pyecho "$fd"
	out=$(printf 'hello from nc\nsecond line\n' |
	      in_b nc -u -w 3 "$IP_A" 5102 2>&1)
	tap_diag "nc got: $out"
	check "nc -u (plain) -> python3 echo (exasock) and back" \
		grep -q "second line" <<<"$out"
else
	tap_fail "python3 under exasock is accelerated"
	tap_fail "python3 under exasock: debug line"
	tap_fail "nc -u (plain) -> python3 echo (exasock) and back"
fi
kill "${BG_PID[pyecho]}" 2>/dev/null

# -- exasock nc -u client in A, python3 echo in B -------------------------
bg pyecho2 in_b python3 -c "$ECHO" "$IP_B" 5103 2
wait_ready pyecho2
out=$(printf 'from accelerated nc\nagain\n' |
      in_a env EXASOCK_DEBUG=1 "$EXA" nc -u -w 3 "$IP_B" 5103 2>&1)
tap_diag "nc got: $(tr '\n' '|' <<<"$out")"
check "nc -u client under exasock is accelerated" \
	grep -q "enabled bypass" <<<"$out"
check "nc -u (exasock) -> python3 echo (plain) and back" \
	grep -q "^again" <<<"$out"

check "kernel log clean" kernel_log_clean
tap_finish
