#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the test machinery itself, without exasock: namespaces,
# a veth pair and traffic across it work in this guest.
#
#   netns A  exa0 10.77.0.1/24  <--veth-->  exa1 10.77.0.2/24  netns B

set -uo pipefail

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

require_cmd ip

tap_plan 5

if setup_pair; then
	tap_ok "ip netns add and veth pair"
else
	tap_fail "ip netns add and veth pair"
	tap_finish
fi

# shellcheck disable=SC2317 # called through busywait
link_up() {
	ip -n "$1" -o link show "$2" | grep -q 'state UP'
}

lo_up() {
	ip -n "$1" -o link show lo | grep -q '<LOOPBACK,UP'
}

if lo_up "$NS_A" && lo_up "$NS_B"; then
	tap_ok "lo up in both namespaces"
else
	tap_fail "lo up in both namespaces"
fi

if busywait 5000 link_up "$NS_A" "$DEV_A" && busywait 5000 link_up "$NS_B" "$DEV_B"; then
	tap_ok "veth carrier up"
else
	tap_fail "veth carrier up"
fi

# iputils ping if installed, else busybox's.
ping_cmd=()
if command -v ping >/dev/null; then
	ping_cmd=(ping)
elif command -v busybox >/dev/null; then
	ping_cmd=(busybox ping)
fi
if [[ ${#ping_cmd[@]} -eq 0 ]]; then
	tap_skip "ping across veth" "no ping"
elif busywait 5000 in_a "${ping_cmd[@]}" -c 1 -W 1 "$IP_B" >/dev/null; then
	tap_ok "ping across veth"
else
	tap_fail "ping across veth"
fi

# One UDP datagram from A to B, received by a python3 socket.
udp_once() {
	local out

	out=$(mktemp)
	at_exit "rm -f '$out'"
	in_b python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
s.settimeout(5)
print("ready", flush=True)
data, peer = s.recvfrom(100)
print(data.decode(), peer[0], flush=True)
' "$IP_B" >"$out" &
	local pid=$!

	busywait 5000 grep -q ready "$out" || { kill "$pid"; return 1; }
	in_a python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"hello", (sys.argv[1], 7777))
' "$IP_B" || { kill "$pid"; return 1; }
	wait "$pid" || return 1
	grep -q "^hello $IP_A\$" "$out"
}

if ! command -v python3 >/dev/null; then
	tap_skip "udp across veth" "no python3"
elif udp_once; then
	tap_ok "udp across veth"
else
	tap_fail "udp across veth"
fi

tap_finish
