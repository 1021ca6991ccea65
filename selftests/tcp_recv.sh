#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The receive calls where the library and the kernel share the work on an
# accelerated TCP socket: MSG_TRUNC, MSG_PEEK with MSG_WAITALL and with
# SO_RCVLOWAT, SO_RCVTIMEO, the urgent mark, receive timestamps and
# TCP_INQ, a many-iovec read on a small stack.
# tcp_recv_test (kselftest harness) runs first without exasock, to check
# its expectations against Linux, then under the launcher with the
# library spinning its default time, not at all, and without limit.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock tcp_recv_test   ---------->  its peer (setns into B, accepted)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
RECV_TEST=$TOP/selftests/build/tcp_recv_test
[[ -x $RECV_TEST ]] || tap_skip_all "$RECV_TEST not built"
tap_plan 5
setup_pair
attach_a || tap_fail "attach exa0"

tap_run "tcp_recv_test, Linux's own TCP" \
	in_a env EXA_PEER_NETNS="$NS_B" "$RECV_TEST"
tap_run_spins tcp_recv_test EXA_PEER_NETNS="$NS_B" EXA_EXPECT_ACCEL=1 \
	"$EXA" "$RECV_TEST"
check "kernel log clean" kernel_log_clean
tap_finish
