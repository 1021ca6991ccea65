#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# poll, select and epoll on accelerated UDP sockets mixed with pipes,
# non-blocking and blocking receives, connected and unconnected sockets:
# udp_poll_test (kselftest harness) under the launcher, with the library
# spinning its default time, not at all, and without limit (timeouts must
# still be honoured). It runs first without exasock, to check its
# expectations against Linux.
#
#   netns A                               netns B
#   exa0 10.77.0.1 (attached)  <-veth->  exa1 10.77.0.2
#   exasock udp_poll_test   <----------  its peer socket (setns into B)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
POLL_TEST=$TOP/selftests/build/udp_poll_test
[[ -x $POLL_TEST ]] || tap_skip_all "$POLL_TEST not built"
tap_plan 5
setup_pair
attach_a || tap_fail "attach exa0"
# the pending-error cases want one port unreachable per send
ip netns exec "$NS_B" sysctl -qw net.ipv4.icmp_ratelimit=0

tap_run "udp_poll_test, Linux's own UDP" \
	in_a env EXA_PEER_NETNS="$NS_B" "$POLL_TEST"
tap_run_spins udp_poll_test EXA_PEER_NETNS="$NS_B" EXA_EXPECT_ACCEL=1 \
	"$EXA" "$POLL_TEST"
check "kernel log clean" kernel_log_clean
tap_finish
