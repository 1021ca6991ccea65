#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The socket API on one accelerated TCP connection, call by call, against
# Linux's TCP: SO_RCVBUF/SO_SNDBUF before connect (ring and send buffer
# sizes), TCP_NODELAY, TCP_INFO; recv with MSG_PEEK, MSG_WAITALL and
# MSG_DONTWAIT, readv, recvmsg, read; send, write, writev, sendmsg;
# select and epoll readiness (EPOLLIN, EPOLLRDHUP, EPOLLHUP, EPOLLERR); a
# reader that stalls until the window shuts and the peer probes it, then
# drains 24 MB intact; the peer's FIN (EOF, half-close) and RST
# (EPOLLERR, SO_ERROR); accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC on an
# accelerated listener.  tcp_api.py does the steps; the peer in B is told
# what to do over a UNIX socket.  EXASOCK_API_PLAIN=1 runs the subject
# without exasock, to check the expectations against Linux (then only the
# "accelerated" steps fail).
#
#   netns A                                 netns B
#   exa0 10.77.0.1 (attached)  <--veth-->  exa1 10.77.0.2
#   exasock tcp_api.py subject  --------->  tcp_api.py peer (plain)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_xfer_lib.sh"

API=$TOP/selftests/tcp_api.py
STEPS=30	# the "ok"/"not ok" lines tcp_api.py subject prints

require_exasock
require_cmd python3 ss
tap_plan $((STEPS + 2))
setup_pair
attach_a || tap_fail "attach exa0"

bg peer in_b python3 "$API" peer "$TMPD/ctl" "$IP_B" 5700
if ! busywait 30000 grep -qx ready "$TMPD/peer.out"; then
	show peer
	tap_fail "peer ready"
	tap_finish
fi
LAUNCH=("$EXA")
[[ ${EXASOCK_API_PLAIN:-0} != 1 ]] || LAUNCH=()
bg subj in_a env EXASOCK_DEBUG=1 "${LAUNCH[@]}" python3 "$API" subject "$TMPD/ctl" \
	"$IP_B" 5700 "$IP_A" 5701
# While the connection is up: the twin's send buffer is what SO_SNDBUF
# asked for (doubled, as Linux does), seen by ss in the kernel.
busywait 30000 grep -q "^ok TCP_INFO" "$TMPD/subj.out"
tb=$(in_a ss -tmnH state established "dport = :5700" |
     sed -n 's/.*skmem:(.*,tb\([0-9]*\),.*/\1/p' | head -n 1)
bg_wait subj 180
rc=$?
bg_wait peer 10
n=0
while IFS= read -r line; do
	case $line in
	"ok "*)		tap_ok "${line#ok }"; n=$((n + 1)) ;;
	"not ok "*)	tap_fail "${line#not ok }"; n=$((n + 1)) ;;
	"#"*)		echo "$line" ;;
	esac
done <"$TMPD/subj.out"
if [[ $rc -ne 0 || $n -ne $STEPS ]]; then
	tap_diag "subject exited $rc after $n of $STEPS steps"
	show subj | tail -n 20
	show peer | tail -n 5
	for ((; n < STEPS; n++)); do
		tap_fail "step $((n + 1)) not reached"
	done
fi
check "SO_SNDBUF 200000 before connect: the twin's send buffer is 400000 (ss: tb${tb:-?})" \
	test "${tb:-0}" -eq 400000
check "kernel log clean" kernel_log_clean
tap_finish
