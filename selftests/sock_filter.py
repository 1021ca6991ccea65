#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Socket filters attached after a socket is accelerated, for
udp_filtered.sh: they must act on what the program receives, as they do
without exasock, and stop acting once detached.

usage: sock_filter.py udp ADDR PORT
       sock_filter.py tcp-server ADDR PORT
       sock_filter.py tcp-client ADDR PORT

udp         bind ADDR:PORT (which accelerates the socket under exasock),
            then attach a classic BPF filter that keeps only datagrams of
            100 payload bytes or more; read it back with SO_GET_FILTER
            ("get_filter same"); print "ready port=PORT"; print the
            lengths received up to a 300-byte marker datagram as
            "filtered LEN,LEN..."; detach the filter, print "detached,
            get_filter 0 instructions",
            and print what comes up to the next marker as
            "open LEN,LEN...".
tcp-server  listen on ADDR:PORT, accept one connection, attach a filter
            that drops every segment, send "F", and check that the client's
            "hello" does not arrive within 2 s ("blocked"); detach it, and
            read "hello" ("unblocked"), answer "ok".
tcp-client  connect, wait for "F", send "hello", expect "ok".

Exit status 0 when every step went as it should; errors as "error TEXT".
"""

import ctypes
import socket
import struct
import sys

SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
SO_GET_FILTER = SO_ATTACH_FILTER

# ld len; jge 108 ? accept : drop  (len counts the 8-byte UDP header)
KEEP_BIG = [(0x80, 0, 0, 0), (0x35, 0, 1, 108),
            (0x06, 0, 0, 0xffffffff), (0x06, 0, 0, 0)]
DROP_ALL = [(0x06, 0, 0, 0)]


def say(*words):
    print(*words, flush=True)


def attach(sock, prog):
    insns = b"".join(struct.pack("HBBI", *i) for i in prog)
    buf = ctypes.create_string_buffer(insns)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return buf     # the kernel copied it; kept alive anyway


def get_filter(sock):
    """The instructions SO_GET_FILTER reads back, asked through libc so
    that a preloaded library sees the call (Python's own getsockopt takes
    the length in bytes, SO_GET_FILTER counts instructions)."""
    libc = ctypes.CDLL(None, use_errno=True)
    n = ctypes.c_uint(0)
    if libc.getsockopt(sock.fileno(), socket.SOL_SOCKET, SO_GET_FILTER,
                       None, ctypes.byref(n)):
        raise OSError(ctypes.get_errno(), "SO_GET_FILTER")
    if not n.value:
        return []
    buf = ctypes.create_string_buffer(8 * n.value)
    if libc.getsockopt(sock.fileno(), socket.SOL_SOCKET, SO_GET_FILTER,
                       buf, ctypes.byref(n)):
        raise OSError(ctypes.get_errno(), "SO_GET_FILTER")
    return [struct.unpack_from("HBBI", buf.raw, 8 * i)
            for i in range(n.value)]


def detach(sock):
    sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)


MARKER = 300


def lengths_until_marker(sock, secs=30):
    """Lengths received before a MARKER-byte datagram (not included)."""
    got = []
    sock.settimeout(secs)
    while True:
        try:
            n = len(sock.recv(65536))
        except socket.timeout:
            got.append("timeout")
            return got
        if n == MARKER:
            return got
        got.append(n)


def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    attach(s, KEEP_BIG)
    got = get_filter(s)
    say("get_filter " + ("same" if got == KEEP_BIG else repr(got)))
    say("ready port=%d" % port)
    say("filtered " + ",".join(map(str, lengths_until_marker(s))))
    detach(s)
    say("detached, get_filter %d instructions" % len(get_filter(s)))
    say("open " + ",".join(map(str, lengths_until_marker(s))))
    return 0


def tcp_server(addr, port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    say("ready port=%d" % port)
    c, _ = ls.accept()
    # The filter first: the client answers "F" at once.
    attach(c, DROP_ALL)
    c.sendall(b"F")
    c.settimeout(2)
    try:
        data = c.recv(100)
        say("error got %r through a filter that drops everything" % data)
        return 1
    except socket.timeout:
        say("blocked")
    detach(c)
    c.settimeout(30)    # the client's retransmission backs off
    data = b""
    while len(data) < 5:
        more = c.recv(100)
        if not more:
            break
        data += more
    if data != b"hello":
        say("error got %r after detaching" % data)
        return 1
    say("unblocked")
    c.sendall(b"ok")
    c.close()
    return 0


def tcp_client(addr, port):
    c = socket.create_connection((addr, port), timeout=30)
    if c.recv(1) != b"F":
        say("error no F")
        return 1
    c.sendall(b"hello")
    if c.recv(2) != b"ok":
        say("error no ok")
        return 1
    say("ok")
    return 0


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        return {"udp": udp, "tcp-server": tcp_server,
                "tcp-client": tcp_client}[mode](addr, port)
    except OSError as e:
        say("error %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
