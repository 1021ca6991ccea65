#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TCP to an accelerated socket from the same host: a program connecting
# to an accelerated listener in its own namespace (to the attached
# interface's address, or to 127.0.0.1 for a wildcard listener) reaches
# it over loopback, which exasock does not attach; the accepted
# connection is an accelerated socket all the same (its bytes come
# through the twin, and through the ring while the program waits for
# them), and the data must arrive intact both ways.
#
#   netns A: exa0 10.77.0.1 (attached), lo 127.0.0.1
#     exasock tcp_xfer.py listen   <--- lo --->   tcp_xfer.py connect
#                                                 (plain, or exasock)

set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/udp_lib.sh"
. "$(dirname "$0")/tcp_xfer_lib.sh"

require_exasock
require_cmd python3
# one line a case: TITLE|LISTEN_ADDR|CONNECT_ADDR|CLIENT (plain or exa);
# "exa0" stands for exa0's address
CASES=(
	"plain client to the attached address|exa0|exa0|plain"
	"plain client to 127.0.0.1, wildcard listener|0.0.0.0|127.0.0.1|plain"
	"accelerated client to the attached address|exa0|exa0|exa"
)
tap_plan $((${#CASES[@]} * 2 + 1))
setup_pair
attach_a || tap_fail "attach exa0"

PS=$TMPD/server.bin
PC=$TMPD/client.bin
payload "$PS" 2M
payload "$PC" 2M
ACC=(env EXASOCK_DEBUG=1 "$EXA")

port=5600
for c in "${CASES[@]}"; do
	IFS='|' read -r title laddr caddr client <<<"$c"
	laddr=${laddr/exa0/$IP_A}
	caddr=${caddr/exa0/$IP_A}
	forget srv cli
	bg srv in_a "${ACC[@]}" python3 "$XFER" listen "$laddr" "$port" \
		--send "$PS"
	if wait_xfer srv; then
		if [[ $client = exa ]]; then
			bg cli in_a "${ACC[@]}" python3 "$XFER" connect "$caddr" \
				"$port" --send "$PC"
		else
			bg cli in_a python3 "$XFER" connect "$caddr" "$port" \
				--send "$PC"
		fi
		finish cli 90
		finish srv 10
	fi
	check "$title: 2 MB each way, sha256 right at both ends" \
		xfer_both srv cli "$PS" "$PC"
	check_else "$title: listener and accepted connection accelerated (SO_DOMAIN $(xfer_domains srv))" \
		"show srv" xfer_accelerated srv
	port=$((port + 1))
done
check "kernel log clean" kernel_log_clean
tap_finish
