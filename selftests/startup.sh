#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Start-up helper and multicast example: packaging/exasock-ifup attaches
# only listed interfaces, in the namespace it runs in, and is idempotent;
# examples/multicast-echo is accelerated by its join under exasock and
# echoes a group datagram back.
#
#   netns A  exa0 10.77.0.1/24  <--veth-->  exa1 10.77.0.2/24  netns B
#            (listed)                       (listed only in a comment)

set -uo pipefail

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

top=${EXASOCK_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
ifup=$top/packaging/exasock-ifup
ctl=$top/util/exasock-ctl
echo_prog=$top/examples/multicast-echo
GROUP=239.77.1.2
PORT=5012

require_cmd ip python3
[[ -d /sys/module/exasock ]] || tap_skip_all "exasock.ko not loaded"
[[ -x $ctl && -x $echo_prog ]] || tap_skip_all "not built"

tap_plan 10

setup_pair || { tap_fail "setup_pair"; tap_finish; }

conf=$(mktemp)
at_exit "rm -f '$conf'"
cat >"$conf" <<EOT
# test list
   $DEV_A   # with blanks and a trailing comment
#$DEV_B
not-here0
EOT
export EXASOCK_INTERFACES_FILE=$conf EXASOCK_CTL=$ctl

diag_lines() {
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

attached() {	# attached NS IFNAME
	ip netns exec "$1" "$ctl" show | grep -qw -- "$2"
}

if out=$(in_b "$ifup" "$DEV_B" 2>&1) && ! attached "$NS_B" "$DEV_B"; then
	tap_ok "unlisted (commented) interface: exit 0, not attached"
else
	tap_fail "unlisted (commented) interface: exit 0, not attached"
	diag_lines "$out"
fi

if out=$(in_a "$ifup" "$DEV_A" 2>&1) && attached "$NS_A" "$DEV_A"; then
	tap_ok "listed interface attached in its namespace"
else
	tap_fail "listed interface attached in its namespace"
	diag_lines "$out"
fi

if out=$(in_a "$ifup" "$DEV_A" 2>&1) && attached "$NS_A" "$DEV_A"; then
	tap_ok "attached already: exit 0"
else
	tap_fail "attached already: exit 0"
	diag_lines "$out"
fi

out=$(in_a "$ifup" not-here0 2>&1)
rc=$?
if [[ $rc -eq 1 && $out == *"cannot attach not-here0"* ]]; then
	tap_ok "listed but missing interface: exit 1 with a reason"
else
	tap_fail "listed but missing interface: exit 1 with a reason"
	diag_lines "exit $rc: $out"
fi

if EXASOCK_INTERFACES_FILE=/nonexistent in_a "$ifup" "$DEV_A"; then
	tap_ok "no interfaces file: nothing to do"
else
	tap_fail "no interfaces file: nothing to do"
fi

# The ifupdown and networkd-dispatcher hooks, given the helper's path as
# "make install" gives it theirs: each attaches $IFACE again after a detach.
for hook in ifupdown/exasock networkd-dispatcher/50-exasock; do
	h=$(mktemp)
	sed "s|@UDEVDIR@|$top/packaging|" "$top/packaging/$hook" >"$h"
	in_a "$ctl" detach "$DEV_A" >/dev/null 2>&1
	if out=$(in_a env IFACE="$DEV_A" MODE=start sh "$h" 2>&1) &&
	   attached "$NS_A" "$DEV_A"; then
		tap_ok "$hook hook attaches \$IFACE"
	else
		tap_fail "$hook hook attaches \$IFACE"
		diag_lines "$out"
	fi
	rm -f "$h"
done

# One group datagram from B to the echo server in A, and its echo back.
ping_group() {
	in_b python3 - "$GROUP" "$PORT" "$IP_B" <<'EOT'
import socket, sys
group, port, local = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(local))
s.settimeout(0.5)
for _ in range(10):
    s.sendto(b"exasock-mc", (group, port))
    try:
        data, _ = s.recvfrom(100)
    except socket.timeout:
        continue
    sys.exit(0 if data == b"exasock-mc" else 1)
sys.exit(1)
EOT
}

# run_echo NAME LAUNCHER...: one echoed datagram, with or without exasock
run_echo() {
	local name=$1 log pid
	shift

	log=$(mktemp)
	in_a env EXASOCK_DEBUG=1 "$@" "$echo_prog" -c 1 "$DEV_A" "$GROUP" "$PORT" \
		>"$log" 2>&1 &
	pid=$!
	if ping_group && wait "$pid"; then
		if [[ $# -eq 0 ]] || grep -q "enabled bypass" "$log"; then
			tap_ok "$name"
		else
			tap_fail "$name"
			diag_lines "$(cat "$log")"
		fi
	else
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		tap_fail "$name"
		diag_lines "$(cat "$log")"
	fi
	rm -f "$log"
}

# libexasock_ext on real sockets: opt-out before bind keeps a socket
# native; after acceleration it is EPERM.
ext_check() {
	local src bin

	src=$(mktemp --suffix=.c)
	bin=$(mktemp)
	cat >"$src" <<'EOT'
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <exasock/exasock.h>

static int bound(const char *ip, int port, int optout)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	if (optout && exasock_disable_acceleration(fd))
		return -1;
	return bind(fd, (struct sockaddr *)&a, sizeof(a)) ? -1 : fd;
}

int main(int argc, char **argv)
{
	int a = bound(argv[1], 5100, 0), b = bound(argv[1], 5101, 1);
	int r = exasock_disable_acceleration(a), e = errno;

	printf("%d %d %d %s %d\n", exasock_version_code() > 0,
	       exasock_is_accelerated(a), exasock_is_accelerated(b),
	       r ? strerror(e) : "ok", exasock_is_accelerated(0));
	return 0;
}
EOT
	cc -o "$bin" "$src" -I"$top/include" -I"$top/uapi" -L"$top/lib/ext" \
		-lexasock_ext -Wl,-rpath,"$top/lib/ext" || return
	in_a "$top/util/exasock" "$bin" "$IP_A" </dev/null
	rm -f "$src" "$bin"
}
in_a "$ctl" attach "$DEV_A" >/dev/null 2>&1
want="1 1 0 $(python3 -c 'import os; print(os.strerror(1))') -1"
if out=$(ext_check 2>&1) && [[ $out == "$want" ]]; then
	tap_ok "libexasock_ext: is_accelerated, disable before bind, EPERM after"
else
	tap_fail "libexasock_ext: is_accelerated, disable before bind, EPERM after"
	diag_lines "got: $out" "want: $want"
fi

run_echo "multicast-echo without exasock"
run_echo "multicast-echo under exasock: accelerated by the join" \
	"$top/util/exasock"

tap_finish
