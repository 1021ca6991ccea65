#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Ring memory belongs to the socket's owner: it is charged to the memory
# cgroup of the process that binds, and a cgroup at its limit gets native
# sockets (counted as accel_failed) rather than rings, without an OOM
# kill. The program, run under exasock in a cgroup of its own, binds
# accelerated UDP sockets with 8 MiB rings (SO_RCVBUFFORCE 4 MiB) and
# reports how many were accelerated and what each cost its cgroup.
#
#   netns A
#   exa0 10.77.0.1 (attached)   cgroup exasock-ring-test: python3 binds

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"

require_exasock
require_cmd python3
CGROOT=/sys/fs/cgroup
grep -qw memory "$CGROOT/cgroup.controllers" 2>/dev/null ||
	tap_skip_all "no cgroup v2 memory controller"
tap_plan 7
setup_pair
attach_a || tap_fail "attach exa0"

CG=$CGROOT/exasock-ring-test.$$
echo +memory >"$CGROOT/cgroup.subtree_control" 2>/dev/null
mkdir "$CG" || tap_fail "mkdir $CG"
at_exit "rmdir '$CG'"

# binder N PORT: bind N sockets in the cgroup; prints "accel K" and one
# "charged BYTES" line per accelerated socket. It joins the cgroup before
# entering the namespace (whose /sys has no cgroup file system), and reads
# memory.current from fd 3.
binder() {
	bash -c 'echo $$ >"$1/cgroup.procs" && exec 3<"$1/memory.current" &&
		 shift && exec "$@"' _ "$CG" \
		ip netns exec "$NS_A" "$EXA" python3 - "$@" <<'EOF'
import os, socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
def current():
    return int(os.pread(3, 64, 0))
socks, accel = [], 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)	# SO_RCVBUFFORCE
    before = current()
    s.bind(("10.77.0.1", port + i))
    if s.getsockopt(0x4558, 4):			# SO_EXA_ACCELERATED
        accel += 1
        print("charged %d" % (current() - before))
    socks.append(s)
print("accel %d" % accel)
EOF
}
module_stat() {
	"$CTL" stats | awk -v k="$1" '$1 == k { print $2 }'
}

out=$(binder 4 6100)
rc=$?
tap_diag "$(tr '\n' ' ' <<<"$out")"
check "four sockets bound and accelerated without a limit" \
	grep -qx "accel 4" <<<"$out"
# memory.current moves in batches of pages: 7 MiB is a safe floor
low=$(awk '$1 == "charged" && $2 < 7 * 1048576 { n++ } END { print n + 0 }' \
	<<<"$out")
rings=$(grep -c '^charged ' <<<"$out")
check "each 8 MiB ring charged to the owner's cgroup ($rings rings)" \
	test "$rc" = 0 -a "$rings" = 4 -a "$low" = 0

failed0=$(module_stat accel_failed)
echo $((48 << 20)) >"$CG/memory.max" || tap_diag "cannot set memory.max"
out=$(binder 16 6200)
rc=$?
tap_diag "under memory.max 48 MiB: $(tr '\n' ' ' <<<"$out")"
check "under a 48 MiB limit the program lives on (exit $rc)" test "$rc" = 0
accel=$(sed -n 's/^accel //p' <<<"$out")
check "some sockets accelerated, the rest native (${accel:-?} of 16)" \
	test "${accel:-0}" -gt 0 -a "${accel:-16}" -lt 16
failed=$(($(module_stat accel_failed) - failed0))
check "the sockets left native are counted (accel_failed +$failed)" \
	test -n "$accel" -a "$failed" = $((16 - ${accel:-16}))
oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
check "no OOM kill in the cgroup (oom_kill ${oom:-?})" test "${oom:-1}" = 0
check "kernel log clean" kernel_log_clean
tap_finish
