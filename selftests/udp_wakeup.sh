#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A blocking receive on an accelerated socket must end as it would on a
# kernel socket, never spin in the kernel:
#   - shutdown(SHUT_RD) from another thread returns 0 (end of file);
#   - with IP_RECVERR, an ICMP error queued on the error queue is
#     reported once, and the next receive times out (SO_RCVTIMEO) instead
#     of looping;
#   - SIGALRM interrupts a blocking receive with EINTR.
#
#   netns A: exa0 10.77.0.1 (attached)   netns B: exa1 10.77.0.2, no
#   exasock python3, blocking socket      listener on port 9 (ICMP
#                                         port unreachable comes back)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
tap_plan 3
setup_pair
attach_a || tap_fail "attach exa0"

# tap_check RC NAME: pass when RC is 0, else fail and show the output.
tap_check() {
	if [[ $1 -eq 0 ]]; then
		tap_ok "$2"
	else
		tap_fail "$2 (exit $1)"
		sed 's/^/# /' "$TMPD/py.out"
	fi
}

# Each case runs under timeout(1): a receive stuck in the kernel fails it.
py() {
	timeout 20 ip netns exec "$NS_A" "$EXA" python3 -c "$1" \
		>"$TMPD/py.out" 2>&1
}

py '
import socket, threading, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 5600))
got = []
t = threading.Thread(target=lambda: got.append(s.recv(100)))
t.start()
time.sleep(0.5)
try:
    s.shutdown(socket.SHUT_RD)   # ENOTCONN when unconnected, as natively;
except OSError:                  # the readers are woken all the same
    pass
t.join(5)
assert not t.is_alive(), "reader still blocked"
assert got == [b""], got
'
tap_check $? "shutdown(SHUT_RD) wakes a blocked reader with 0"

py '
import socket, struct, errno
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 5601))
s.setsockopt(socket.IPPROTO_IP, 11, 1)   # IP_RECVERR
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 1, 0))
s.connect(("10.77.0.2", 9))
s.send(b"x")
try:
    s.recv(100)
    raise SystemExit("no error reported")
except ConnectionRefusedError:
    pass
try:
    s.recv(100)
    raise SystemExit("data from nowhere")
except (BlockingIOError, TimeoutError, socket.timeout):
    pass
'
tap_check $? "IP_RECVERR error reported once, then SO_RCVTIMEO expires"

py '
import socket, signal
def alarm(*args):
    raise InterruptedError("alarm")
signal.signal(signal.SIGALRM, alarm)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.1", 5602))
signal.setitimer(signal.ITIMER_REAL, 0.5)
try:
    s.recv(100)
    raise SystemExit("recv returned")
except InterruptedError:
    pass
'
tap_check $? "a signal interrupts a blocking receive"

tap_finish
