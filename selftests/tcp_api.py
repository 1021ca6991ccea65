#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The socket API of one TCP connection, call by call, for tcp_api.sh.

Two processes: the subject (run under exasock, in namespace A) and its
peer (plain Linux TCP, in namespace B).  The subject drives; it tells the
peer what to do over a UNIX socket (the file system is shared across
namespaces), so every step knows exactly what is on the wire.

usage: tcp_api.py peer CTL_PATH ADDR PORT
       tcp_api.py subject CTL_PATH PEER_ADDR PEER_PORT LISTEN_ADDR LISTEN_PORT

The subject prints one TAP-like line a step, "ok STEP" or
"not ok STEP: why", and exits 0 when every step passed.  The peer's
commands, one line each: "send N" (N bytes of the pattern), "recv N"
(read exactly N, check, answer "got N"), "echo N" (read N, send them
back), "shutwr", "rst", "flood" (send without reading until the window
is shut, report the bytes, then finish after "drain"), "connect PORT".
"""

import ctypes
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import time

SOL_EXASOCK = 0x4558
SO_EXA_MMAP_INFO = 3
SO_DOMAIN = 39
AF_INET = 2
FLOOD = 24 * 1024 * 1024

_BASE = bytes((i * 7) % 251 for i in range(251))
_BIG = _BASE * ((1 << 20) // 251 + 2)


def pattern(off, n):
    """Bytes off..off+n of the stream pattern: byte i is i*7 mod 251."""
    out = []
    while n > 0:
        k = min(n, 1 << 20)
        out.append(_BIG[off % 251:off % 251 + k])
        off += k
        n -= k
    return b"".join(out)


def win_probes():
    """This namespace's TcpExtTCPWinProbe: zero-window probes sent."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1])).get("TCPWinProbe", 0))


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("eof after %d of %d bytes" % (len(buf), n))
        buf += b
    return bytes(buf)


# ---------------------------------------------------------------- peer


def peer(ctl_path, addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(4)
    cs = socket.socket(socket.AF_UNIX)
    cs.bind(ctl_path)
    cs.listen(1)
    print("ready", flush=True)
    ctl, _ = cs.accept()
    ctlf = ctl.makefile("rw", buffering=1)
    conn, _ = ls.accept()
    sent = got = 0
    for line in ctlf:
        cmd = line.split()
        reply = "done"
        if cmd[0] == "send":
            n = int(cmd[1])
            conn.sendall(pattern(sent, n))
            sent += n
        elif cmd[0] == "recv":
            n = int(cmd[1])
            data = recv_exact(conn, n)
            reply = "got %d %s" % (n, "good" if data == pattern(got, n)
                                   else "bad")
            got += n
        elif cmd[0] == "echo":
            conn.sendall(recv_exact(conn, int(cmd[1])))
        elif cmd[0] == "shutwr":
            conn.shutdown(socket.SHUT_WR)
        elif cmd[0] == "rst":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            conn.close()
        elif cmd[0] == "flood":
            # Until the subject's window has been shut for two seconds.
            conn.setblocking(False)
            probes = win_probes()
            total, stalled = 0, None
            while True:
                try:
                    total += conn.send(pattern(sent + total, 65536))
                    stalled = None
                except BlockingIOError:
                    stalled = stalled or time.monotonic()
                    if time.monotonic() - stalled > 2.0:
                        break
                    select.select([], [conn], [], 0.1)
            ctlf.write("flooded %d probes %d\n" % (total,
                                                   win_probes() - probes))
            ctlf.flush()
            # What is left of FLOOD once the subject drains.
            ctlf.readline()
            conn.setblocking(True)
            conn.sendall(pattern(sent + total, FLOOD - total))
            sent += FLOOD
        elif cmd[0] == "connect":
            c2 = socket.create_connection((cmd[1], int(cmd[2])))
            c2.sendall(b"x")
        elif cmd[0] == "quit":
            break
        ctlf.write(reply + "\n")
        ctlf.flush()


# ---------------------------------------------------------------- subject


class Subject:
    def __init__(self, ctl_path):
        self.ctl = socket.socket(socket.AF_UNIX)
        self.ctl.connect(ctl_path)
        self.ctlf = self.ctl.makefile("rw", buffering=1)
        self.failed = 0
        self.rx = 0     # stream offset of the next byte from the peer
        self.tx = 0

    def ask(self, cmd):
        self.ctlf.write(cmd + "\n")
        self.ctlf.flush()
        return self.ctlf.readline().strip()

    def step(self, name, ok, why=""):
        if ok:
            print("ok %s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok %s: %s" % (name, why), flush=True)

    def expect(self, data, n):
        want = pattern(self.rx, n)
        self.rx += n
        return data == want

    def send_checked(self, name, fn, n):
        fn(pattern(self.tx, n))
        self.tx += n
        r = self.ask("recv %d" % n)
        self.step(name, r == "got %d good" % n, r)


def ring_size(s):
    info = s.getsockopt(SOL_EXASOCK, SO_EXA_MMAP_INFO, 64)
    return struct.unpack_from("I", info)[0]


def subject(ctl_path, paddr, pport, laddr, lport):
    t = Subject(ctl_path)
    libc = ctypes.CDLL(None, use_errno=True)

    # Sizes and options before connect.
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 200000)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((paddr, pport))
    dom = s.getsockopt(socket.SOL_SOCKET, SO_DOMAIN)
    t.step("connected, accelerated (SO_DOMAIN %d)" % dom, dom != AF_INET)
    try:
        size = ring_size(s)
    except OSError as e:
        size = "error %s" % e
    # The kernel caps the 1 MiB at net.core.rmem_max and doubles it; the
    # ring holds at least that (the default would be 128 KiB).
    rcvbuf = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    t.step("SO_RCVBUF before connect sizes the ring (%s bytes for SO_RCVBUF "
           "%d)" % (size, rcvbuf),
           isinstance(size, int) and size >= rcvbuf > 128 * 1024)
    t.step("TCP_NODELAY reads back 1",
           s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    state, rto, rtt, cwnd = (info[0], struct.unpack_from("I", info, 8)[0],
                             struct.unpack_from("I", info, 68)[0],
                             struct.unpack_from("I", info, 80)[0])
    t.step("TCP_INFO: ESTABLISHED, rto %d, rtt %d, cwnd %d" %
           (rto, rtt, cwnd), state == 1 and rto > 0 and cwnd > 0)
    print("# sndbuf %d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
          flush=True)

    # Receive calls.
    t.ask("send 1000")
    peek = s.recv(10, socket.MSG_PEEK | socket.MSG_WAITALL)
    t.step("MSG_PEEK shows the first bytes", peek == pattern(t.rx, 10))
    data = s.recv(1000, socket.MSG_WAITALL)
    t.step("MSG_WAITALL returns all 1000 bytes, the peeked ones too",
           len(data) == 1000 and t.expect(data, 1000))
    try:
        s.recv(10, socket.MSG_DONTWAIT)
        t.step("MSG_DONTWAIT on an empty socket: EAGAIN", False, "data")
    except BlockingIOError:
        t.step("MSG_DONTWAIT on an empty socket: EAGAIN", True)
    t.ask("send 3000")
    bufs = [bytearray(1000) for _ in range(3)]
    n = os.readv(s.fileno(), bufs)
    data = b"".join(bufs)[:n]
    while len(data) < 3000:
        buf = bytearray(3000 - len(data))
        n = s.recvmsg_into([memoryview(buf)[:100], memoryview(buf)[100:]])[0]
        if not n:
            break
        data += bytes(buf[:n])
    t.step("readv into three buffers, then recvmsg_into two: in order",
           len(data) == 3000 and t.expect(data, 3000))

    t.ask("send 500")
    data = b""
    while len(data) < 500:
        data += os.read(s.fileno(), 500 - len(data))
    t.step("read(2)", t.expect(data, 500))

    # Send calls, each checked by the peer.
    t.send_checked("send", s.send, 700)
    t.send_checked("write(2)", lambda b: os.write(s.fileno(), b), 800)
    t.send_checked("writev(2)", lambda b: os.writev(s.fileno(),
                                                    [b[:100], b[100:]]), 900)
    t.send_checked("sendmsg with three buffers",
                   lambda b: s.sendmsg([b[:10], b[10:20], b[20:]]), 1000)

    # Readiness: select, poll, epoll.
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    t.step("epoll: nothing ready on a quiet connection",
           ep.poll(0.2) == [])
    t.ask("send 1")
    r, _, _ = select.select([s], [], [], 5)
    t.step("select: readable once a byte arrives", r == [s])
    ev = ep.poll(5)
    t.step("epoll: EPOLLIN, no EPOLLRDHUP",
           ev and ev[0][1] & select.EPOLLIN and
           not ev[0][1] & select.EPOLLRDHUP, str(ev))
    t.step("the byte", t.expect(s.recv(1), 1))
    _, w, _ = select.select([], [s], [], 5)
    t.step("select: writable", w == [s])

    # Flow control: a reader that stops; the window shuts, the peer
    # probes, and everything arrives once the reader drains.
    r = t.ask("flood")
    flooded, probes = int(r.split()[1]), int(r.split()[3])
    t.step("a stalled reader shuts the window (the peer got %d bytes out)" %
           flooded, 0 < flooded < FLOOD, r)
    t.step("the peer probes the shut window (%d zero-window probes)" %
           probes, probes > 0, r)
    t.ctlf.write("drain\n")
    t.ctlf.flush()
    data = bytearray()
    while len(data) < FLOOD:
        b = s.recv(min(1 << 20, FLOOD - len(data)))
        if not b:
            break
        data += b
    t.step("drained: all %d bytes, in order" % FLOOD,
           len(data) == FLOOD and t.expect(bytes(data), FLOOD))
    t.ctlf.readline()

    # The peer half-closes: EOF, and EPOLLRDHUP.
    t.ask("shutwr")
    ev = ep.poll(5)
    t.step("epoll after the peer's FIN: EPOLLIN | EPOLLRDHUP",
           ev and ev[0][1] & select.EPOLLRDHUP and ev[0][1] & select.EPOLLIN,
           str(ev))
    t.step("recv returns 0 at the end of the stream", s.recv(10) == b"")
    t.send_checked("send after the peer's FIN (half-close)", s.send, 100)

    # The peer resets: EPOLLHUP | EPOLLERR, SO_ERROR.
    t.ask("rst")
    ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
    deadline = time.monotonic() + 5
    ev = []
    while time.monotonic() < deadline:
        ev = ep.poll(1)
        if ev and ev[0][1] & select.EPOLLERR:
            break
    t.step("epoll after a reset: EPOLLERR | EPOLLHUP",
           ev and ev[0][1] & select.EPOLLERR and ev[0][1] & select.EPOLLHUP,
           str(ev))
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    try:
        s.send(b"x")
        sent = "sent"
    except OSError as e:
        sent = errno.errorcode.get(e.errno, str(e.errno))
    # A reset in CLOSE-WAIT (the peer's FIN came first) is EPIPE in
    # Linux, not ECONNRESET.
    t.step("SO_ERROR EPIPE (reset in CLOSE-WAIT), then send fails EPIPE "
           "(%s, %s)" % (errno.errorcode.get(err, err), sent),
           err == errno.EPIPE and sent == "EPIPE")
    ep.close()
    s.close()

    # accept4 with flags, on an accelerated listener.
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((laddr, lport))
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 7)
    ls.listen(8)
    t.step("listener accelerated",
           ls.getsockopt(socket.SOL_SOCKET, SO_DOMAIN) != AF_INET)
    t.ctlf.write("connect %s %d\n" % (laddr, lport))
    t.ctlf.flush()
    select.select([ls], [], [], 10)
    libc.accept4.restype = ctypes.c_int
    fd = libc.accept4(ls.fileno(), None, None,
                      socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    if fd < 0:
        t.step("accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)", False,
               os.strerror(ctypes.get_errno()))
    else:
        fl = fcntl.fcntl(fd, fcntl.F_GETFL)
        fdf = fcntl.fcntl(fd, fcntl.F_GETFD)
        a = socket.socket(fileno=fd)
        dom = a.getsockopt(socket.SOL_SOCKET, SO_DOMAIN)
        t.step("accept4(SOCK_NONBLOCK | SOCK_CLOEXEC): both flags, "
               "accelerated (SO_DOMAIN %d)" % dom,
               fl & os.O_NONBLOCK and fdf & fcntl.FD_CLOEXEC and
               dom != AF_INET)
        lowat = a.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)
        t.step("the accepted connection has the listener's SO_RCVLOWAT "
               "(%d)" % lowat, lowat == 7)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
        select.select([a], [], [], 5)
        t.step("the accepted connection's byte", a.recv(1) == b"x")
        a.close()
    t.ctlf.readline()
    t.ask("quit")
    ls.close()
    return 1 if t.failed else 0


def main():
    if sys.argv[1:2] == ["peer"] and len(sys.argv) == 5:
        peer(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    if sys.argv[1:2] == ["subject"] and len(sys.argv) == 7:
        return subject(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                       sys.argv[5], int(sys.argv[6]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
