#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One TCP connection that moves a file each way, for the TCP selftests.

Both ends do the same: send FILE (or nothing) and then shut down the
write side, while reading until the peer's EOF; so the two directions run
at the same time, and the half-close is part of every exchange.  Nothing
in here knows about exasock: run under the launcher it is the
accelerated end, run plain it is Linux's.

usage: tcp_xfer.py listen|connect ADDR PORT [--send FILE] [--save FILE]
                   [--asyncio] [--timeout SEC]

  listen    bind ADDR:PORT, listen, accept one connection
  connect   connect to ADDR:PORT
  --send    the bytes to send (default: none, shut down at once)
  --save    keep what was received in this file
  --asyncio asyncio streams (epoll underneath) instead of blocking
            sockets and a sender thread
  --timeout seconds any one socket call may block (default 60)

Prints, one a line, flushed:

  ready fd=N domain=D port=P     (listen) listening; D is SO_DOMAIN
  conn fd=N domain=D             the connected (or accepted) socket
  sent BYTES sha256=HEX          everything was sent and shut down
  recv BYTES sha256=HEX          the peer's EOF came after BYTES
  error TEXT                     and exit 1

Exit status 0 when both directions completed.
"""

import argparse
import asyncio
import hashlib
import socket
import sys
import threading


def say(*words):
    print(*words, flush=True)


def domain(sock):
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)


class Tally:
    """The hash, length and (with --save) copy of one direction's bytes."""

    def __init__(self, save=None):
        self.hash = hashlib.sha256()
        self.bytes = 0
        self.file = open(save, "wb") if save else None

    def add(self, data):
        self.hash.update(data)
        self.bytes += len(data)
        if self.file:
            self.file.write(data)

    def report(self, what):
        if self.file:
            self.file.close()
        say("%s %d sha256=%s" % (what, self.bytes, self.hash.hexdigest()))


# ---------------------------------------------------------------- blocking

def exchange_blocking(conn, data, save):
    sent = Tally()
    failed = []

    def sender():
        try:
            conn.sendall(data)
            sent.add(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError as e:
            failed.append("send: %s" % e)

    say("conn fd=%d domain=%d" % (conn.fileno(), domain(conn)))
    thread = threading.Thread(target=sender)
    thread.start()
    got = Tally(save)
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            got.add(chunk)
    except OSError as e:
        failed.append("recv: %s" % e)
    thread.join()
    conn.close()
    if failed:
        raise OSError("; ".join(failed))
    sent.report("sent")
    got.report("recv")


def run_blocking(args, data):
    if args.mode == "connect":
        conn = socket.create_connection((args.addr, args.port),
                                        timeout=args.timeout)
    else:
        lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsn.bind((args.addr, args.port))
        lsn.listen(4)
        say("ready fd=%d domain=%d port=%d" %
            (lsn.fileno(), domain(lsn), lsn.getsockname()[1]))
        lsn.settimeout(args.timeout)
        conn, _ = lsn.accept()
        lsn.close()
    conn.settimeout(args.timeout)
    exchange_blocking(conn, data, args.save)


# ---------------------------------------------------------------- asyncio

async def exchange_async(reader, writer, data, save, timeout):
    sent = Tally()
    got = Tally(save)

    async def send():
        writer.write(data)
        await writer.drain()
        sent.add(data)
        writer.write_eof()

    async def recv():
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            got.add(chunk)

    sock = writer.get_extra_info("socket")
    say("conn fd=%d domain=%d" % (sock.fileno(), domain(sock)))
    await asyncio.wait_for(asyncio.gather(send(), recv()), timeout)
    writer.close()
    await writer.wait_closed()
    sent.report("sent")
    got.report("recv")


async def run_async(args, data):
    if args.mode == "connect":
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.addr, args.port), args.timeout)
        await exchange_async(reader, writer, data, args.save, args.timeout)
        return

    done = asyncio.get_running_loop().create_future()

    async def handle(reader, writer):
        try:
            await exchange_async(reader, writer, data, args.save,
                                 args.timeout)
            done.set_result(None)
        except Exception as e:  # pylint: disable=broad-except
            done.set_exception(e)

    server = await asyncio.start_server(handle, args.addr, args.port,
                                        reuse_address=True, backlog=4)
    lsn = server.sockets[0]
    say("ready fd=%d domain=%d port=%d" %
        (lsn.fileno(), domain(lsn), lsn.getsockname()[1]))
    try:
        # One bound for the accept, another for the exchange.
        await asyncio.wait_for(done, 2 * args.timeout)
    finally:
        server.close()
        await server.wait_closed()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("listen", "connect"))
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--send")
    ap.add_argument("--save")
    ap.add_argument("--asyncio", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    data = b""
    if args.send:
        with open(args.send, "rb") as f:
            data = f.read()
    try:
        if args.asyncio:
            asyncio.run(run_async(args, data))
        else:
            run_blocking(args, data)
    except (OSError, asyncio.TimeoutError) as e:
        say("error %s" % (e or type(e).__name__))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
