#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP is not accelerated yet: under the launcher a TCP server and a TCP
# client must stay native sockets and work exactly as without exasock.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock python3 TCP echo   <-------  python3 client (plain)
#   exasock python3 client     ------->  python3 TCP echo (plain)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
require_cmd python3
tap_plan 6
setup_pair
attach_a || tap_fail "attach exa0"

SERVER='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
print("ready fd=%d domain=%d" % (s.fileno(), s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)), flush=True)
c, peer = s.accept()
c.settimeout(10)
buf = b""
while not buf.endswith(b"\n"):
    d = c.recv(65536)
    if not d:
        break
    buf += d
c.sendall(buf.upper())
c.close()
print("served %d bytes" % len(buf), flush=True)
'
CLIENT='
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
msg = ("tcp " * 5000 + "\n").encode()
s.sendall(msg)
buf = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print("domain=%d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN))
print("echo ok" if buf == msg.upper() else "echo BAD %d bytes" % len(buf))
'

bg srv in_a env EXASOCK_DEBUG=1 "$EXA" python3 -c "$SERVER" "$IP_A" 5200
if wait_ready srv; then
	out=$(in_b python3 -c "$CLIENT" "$IP_A" 5200 2>&1)
	tap_diag "client: $(tr '\n' ' ' <<<"$out")"
	check "plain client <-> TCP server under exasock" grep -q "echo ok" <<<"$out"
	bg_wait srv 10
	show srv
	check "TCP server socket stays AF_INET" grep -q "domain=2" "$TMPD/srv.out"
	check "no bypass line for the TCP server" \
		bash -c "! grep -q 'enabled bypass' '$TMPD/srv.err'"
else
	tap_fail "plain client <-> TCP server under exasock"
	tap_fail "TCP server socket stays AF_INET"
	tap_fail "no bypass line for the TCP server"
fi

bg srv2 in_b python3 -c "$SERVER" "$IP_B" 5201
if wait_ready srv2; then
	out=$(in_a env EXASOCK_DEBUG=1 "$EXA" python3 -c "$CLIENT" "$IP_B" 5201 2>&1)
	tap_diag "client: $(tr '\n' ' ' <<<"$out")"
	check "TCP client under exasock <-> plain server" grep -q "echo ok" <<<"$out"
	check "no bypass line for the TCP client" \
		bash -c "! grep -q 'enabled bypass' <<<'$out'"
else
	tap_fail "TCP client under exasock <-> plain server"
	tap_fail "no bypass line for the TCP client"
fi
check "kernel log clean" kernel_log_clean
tap_finish
