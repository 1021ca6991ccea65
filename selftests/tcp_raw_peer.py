#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The plain Linux peer of examples/tcp-raw-send, for tcp_raw.sh.

Accepts one connection and reads COUNT messages of SIZE bytes, checking
each against the pattern tcp-raw-send sends (message i: i as a 32-bit
big-endian number, then (i * 131 + j * 7) & 0xff for j = 4 ... SIZE - 1).
With --echo it sends every message back as soon as it is complete.  Then
it expects the client's EOF and closes.

usage: tcp_raw_peer.py ADDR PORT --count N --size S [--echo]
                       [--timeout SEC]

Prints, one a line, flushed:

  ready port=P                 listening
  ok COUNT                     every message arrived intact, then EOF
  error TEXT                   and exit 1
"""

import argparse
import socket
import struct
import sys


def say(*words):
    print(*words, flush=True)


def message(i, size):
    head = struct.pack(">I", i & 0xffffffff)
    return head + bytes((i * 131 + j * 7) & 0xff for j in range(4, size))


def recv_exactly(conn, n):
    parts = []
    while n:
        data = conn.recv(n)
        if not data:
            break
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.addr, args.port))
    lsock.listen(1)
    say("ready port=%d" % lsock.getsockname()[1])
    conn, _ = lsock.accept()
    conn.settimeout(args.timeout)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        for i in range(args.count):
            want = message(i, args.size)
            got = recv_exactly(conn, args.size)
            if got != want:
                where = next((k for k in range(min(len(got), len(want)))
                              if got[k] != want[k]), min(len(got), len(want)))
                say("error message %d differs at byte %d (got %d bytes)"
                    % (i, where, len(got)))
                return 1
            if args.echo:
                conn.sendall(got)
        extra = conn.recv(1)
        if extra:
            say("error bytes after the last message")
            return 1
    except OSError as e:
        say("error %s" % e)
        return 1
    conn.close()
    say("ok %d" % args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
