#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Multicast receivers and a sender, for udp_multicast.sh.

usage: mcast.py recv GROUP PORT IFADDR --socks N [--drop-all K]
                [--idle SEC]
       mcast.py send GROUP PORT IFADDR --count N [--size S]

recv  opens N sockets in this process, each bound to GROUP:PORT
      (SO_REUSEADDR) and joined to GROUP on the interface that has IFADDR;
      with --drop-all K, socket K gets a socket filter that drops
      everything; prints "ready port=PORT accelerated=A" (A: how many
      sockets the kernel accelerated), then receives until no datagram
      has come for --idle seconds (default 2; at most 30 s more for the
      first one) and prints "got I COUNT"
      for each socket I, checking every datagram's bytes.
send  sends COUNT numbered datagrams of S bytes to GROUP:PORT out of the
      interface that has IFADDR; prints "sent COUNT".
"""

import argparse
import ctypes
import select
import socket
import struct
import sys
import time

SOL_EXASOCK = 0x4558
SO_EXA_ACCELERATED = 4
SO_ATTACH_FILTER = 26


def say(*words):
    print(*words, flush=True)


def payload(i, size):
    return struct.pack(">I", i) + bytes((i + j) & 0xff for j in range(4, size))


def accelerated(s):
    try:
        return s.getsockopt(SOL_EXASOCK, SO_EXA_ACCELERATED)
    except OSError:
        return 0


def drop_all(s):
    insns = struct.pack("HBBI", 0x06, 0, 0, 0)
    buf = ctypes.create_string_buffer(insns)
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                 struct.pack("HxxxxxxQ", 1, ctypes.addressof(buf)))


def recv(args):
    socks = []
    mreq = socket.inet_aton(args.group) + socket.inet_aton(args.ifaddr)
    for k in range(args.socks):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.group, args.port))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        if args.drop_all == k:
            drop_all(s)
        s.setblocking(False)
        socks.append(s)
    say("ready port=%d accelerated=%d"
        % (args.port, sum(accelerated(s) for s in socks)))
    counts = [0] * len(socks)
    # the first datagram may take a while (the sender starts after
    # "ready"); then --idle seconds of silence end it
    last = time.monotonic() + 30
    while time.monotonic() - last < args.idle:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            while True:
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    break
                i = struct.unpack(">I", data[:4])[0]
                if data != payload(i, len(data)):
                    say("error datagram %d corrupt" % i)
                    return 1
                counts[socks.index(s)] += 1
                last = time.monotonic()
    for k, n in enumerate(counts):
        say("got %d %d" % (k, n))
    return 0


def send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 socket.inet_aton(args.ifaddr))
    for i in range(args.count):
        s.sendto(payload(i, args.size), (args.group, args.port))
        time.sleep(0.002)
    say("sent %d" % args.count)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("recv", "send"))
    ap.add_argument("group")
    ap.add_argument("port", type=int)
    ap.add_argument("ifaddr")
    ap.add_argument("--socks", type=int, default=1)
    ap.add_argument("--drop-all", type=int, default=-1)
    ap.add_argument("--idle", type=float, default=2)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=100)
    args = ap.parse_args()
    return recv(args) if args.mode == "recv" else send(args)


if __name__ == "__main__":
    sys.exit(main())
