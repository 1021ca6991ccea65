#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed requests to the "exasock" generic netlink family.

Every request that is wrong (missing or mistyped attributes, unknown
interfaces, over-long names, unknown commands, broken headers) must get
an error back; none may crash the kernel. Requests that are merely odd
(unknown attributes, garbage in dumps, random blobs) must get some answer.
Prints TAP 13; exit 0 if all passed, 1 otherwise.

usage: netlink_malformed.py IFNAME   (an existing, not attached interface)
"""

import errno
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

# uapi/linux/exasock.h
CMD_IF_ATTACH, CMD_IF_DETACH, CMD_IF_GET, CMD_SOCK_GET, CMD_STATS_GET = \
    1, 2, 3, 4, 5
A_IF_IFINDEX, A_IF_NAME, A_IF_STATS = 1, 2, 3
A_SOCK_ID = 4
A_MAX = 19


def nla(atype, payload):
    """One attribute, padded to 4 bytes."""
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    pad = b"\0" * ((4 - len(payload) % 4) % 4)
    return hdr + payload + pad


def parse_attrs(data):
    attrs = {}
    off = 0
    while off + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4 or off + alen > len(data):
            break
        attrs[atype & 0x3fff] = data[off + 4:off + alen]
        off += (alen + 3) & ~3
    return attrs


class Genl:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  NETLINK_GENERIC)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.sock.settimeout(10)
        self.sock.bind((0, 0))
        self.seq = 1000

    def raw(self, msg_type, flags, body, length=None):
        """Send nlmsghdr + body; return (error, extack, replies)."""
        self.seq += 1
        nlen = 16 + len(body) if length is None else length
        msg = struct.pack("=IHHII", nlen, msg_type, flags, self.seq, 0) + body
        self.sock.send(msg)
        replies = []
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                mlen, mtype, mflags, mseq, _ = struct.unpack_from(
                    "=IHHII", data, off)
                if mlen < 16:
                    return (-errno.EBADMSG, "bad reply", replies)
                payload = data[off + 16:off + mlen]
                off += (mlen + 3) & ~3
                if mseq != self.seq:
                    continue
                if mtype == NLMSG_ERROR:
                    err = struct.unpack_from("=i", payload)[0]
                    ext = ""
                    if mflags & NLM_F_ACK_TLVS:
                        # NETLINK_CAP_ACK: the request is not echoed
                        tlv = parse_attrs(payload[20:])
                        if NLMSGERR_ATTR_MSG in tlv:
                            ext = tlv[NLMSGERR_ATTR_MSG].rstrip(b"\0") \
                                .decode(errors="replace")
                    return (err, ext, replies)
                if mtype == NLMSG_DONE:
                    err = struct.unpack_from("=i", payload)[0] \
                        if len(payload) >= 4 else 0
                    return (err, "", replies)
                replies.append(payload)

    def genl(self, family, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
             version=1):
        return self.raw(family, flags,
                        struct.pack("=BBH", cmd, version, 0) + attrs)

    def family(self, name):
        err, ext, replies = self.genl(
            GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
            nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        if err or not replies:
            return None
        attrs = parse_attrs(replies[0][4:])
        return struct.unpack("=H", attrs[CTRL_ATTR_FAMILY_ID][:2])[0]


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        print("TAP version 13", flush=True)

    def result(self, ok, desc, diag=""):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, desc))
        if diag:
            print("# " + diag)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        print("# Totals: pass:%d fail:%d" % (self.n - self.failed, self.failed))
        return 1 if self.failed else 0


def errname(err):
    if err == 0:
        return "success"
    return errno.errorcode.get(-err, str(err))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ifname = sys.argv[1]
    tap = Tap()
    nl = Genl()
    fam = nl.family("exasock")
    if fam is None:
        print("not ok 1 - exasock genl family not found")
        print("1..1")
        return 1
    tap.result(True, "family exasock resolved to %d" % fam)

    def expect_error(desc, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
                     version=1):
        err, ext, _ = nl.genl(fam, cmd, attrs, flags, version)
        tap.result(err < 0, desc, "%s%s" % (errname(err),
                                           ": " + ext if ext else ""))
        return err

    def expect_answer(desc, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
                      version=1):
        err, ext, replies = nl.genl(fam, cmd, attrs, flags, version)
        tap.result(True, desc, "%s, %d replies%s" % (
            errname(err), len(replies), ": " + ext if ext else ""))
        return err

    name = ifname.encode() + b"\0"
    ifindex = socket.if_nametoindex(ifname)

    # missing, mistyped, unknown
    for cmd, verb in ((CMD_IF_ATTACH, "attach"), (CMD_IF_DETACH, "detach")):
        expect_error(verb + ": no attribute", cmd)
        expect_error(verb + ": name without NUL", cmd,
                     nla(A_IF_NAME, ifname.encode()))
        expect_error(verb + ": empty name", cmd, nla(A_IF_NAME, b"\0"))
        expect_error(verb + ": 40-byte name", cmd,
                     nla(A_IF_NAME, b"x" * 40 + b"\0"))
        expect_error(verb + ": 16-byte name (IFNAMSIZ, no room for NUL)",
                     cmd, nla(A_IF_NAME, b"y" * 16 + b"\0"))
        expect_error(verb + ": unknown name", cmd,
                     nla(A_IF_NAME, b"nosuchif0\0"))
        expect_error(verb + ": ifindex of 2 bytes", cmd,
                     nla(A_IF_IFINDEX, struct.pack("=H", ifindex)))
        expect_error(verb + ": ifindex of 8 bytes", cmd,
                     nla(A_IF_IFINDEX, struct.pack("=Q", ifindex)))
        expect_error(verb + ": ifindex 0", cmd,
                     nla(A_IF_IFINDEX, struct.pack("=I", 0)))
        expect_error(verb + ": unknown ifindex", cmd,
                     nla(A_IF_IFINDEX, struct.pack("=I", 0x7ffffff0)))
        expect_error(verb + ": name and ifindex of different interfaces",
                     cmd, nla(A_IF_NAME, name) +
                     nla(A_IF_IFINDEX, struct.pack("=I", 1)))
        expect_error(verb + ": name as a nest", cmd,
                     nla(A_IF_NAME | 0x8000, nla(1, b"abcd")))
        expect_error(verb + ": attribute longer than the message", cmd,
                     struct.pack("=HH", 200, A_IF_NAME) + name)
        expect_error(verb + ": attribute shorter than its header", cmd,
                     struct.pack("=HH", 2, A_IF_NAME) + b"\0\0")

    expect_error("detach: interface not attached", CMD_IF_DETACH,
                 nla(A_IF_NAME, name))
    expect_error("unknown command 99", 99)
    expect_error("command 0 (UNSPEC)", 0)
    expect_error("command 255", 255)

    # broken generic netlink header: 2 bytes instead of 4
    err, ext, _ = nl.raw(fam, NLM_F_REQUEST | NLM_F_ACK,
                         struct.pack("=BB", CMD_IF_ATTACH, 1))
    tap.result(err < 0, "truncated genl header", errname(err))

    # odd but harmless: must be answered, either way
    expect_answer("attach: unknown attribute type 200 next to the name",
                  CMD_IF_ATTACH, nla(200, b"\0\0\0\0") + nla(A_IF_NAME, name))
    nl.genl(fam, CMD_IF_DETACH, nla(A_IF_NAME, name))
    expect_answer("attach: stats nest with garbage", CMD_IF_ATTACH,
                  nla(A_IF_NAME, name) +
                  nla(A_IF_STATS | 0x8000, b"\xff" * 12))
    nl.genl(fam, CMD_IF_DETACH, nla(A_IF_NAME, name))
    expect_answer("attach: version 0 header", CMD_IF_ATTACH,
                  nla(A_IF_NAME, name), version=0)
    nl.genl(fam, CMD_IF_DETACH, nla(A_IF_NAME, name))
    for cmd, what in ((CMD_IF_GET, "interface"), (CMD_SOCK_GET, "socket"),
                      (CMD_STATS_GET, "stats")):
        expect_answer("%s dump with garbage attributes" % what, cmd,
                      nla(A_SOCK_ID, b"\x01") + nla(150, b"zz"),
                      NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
        expect_answer("%s request with mistyped attribute" % what, cmd,
                      nla(A_IF_IFINDEX, b"\x01"))

    # random blobs, fixed seed: every one answered
    rnd = random.Random(4242)
    unanswered = 0
    for i in range(300):
        cmd = rnd.choice((CMD_IF_ATTACH, CMD_IF_DETACH, CMD_IF_GET,
                          CMD_SOCK_GET, CMD_STATS_GET, rnd.randrange(256)))
        blob = b""
        for _ in range(rnd.randrange(4)):
            atype = rnd.randrange(A_MAX + 3) | rnd.choice((0, 0, 0x8000))
            blob += nla(atype, bytes(rnd.randrange(256)
                                     for _ in range(rnd.randrange(24))))
        if rnd.randrange(8) == 0 and blob:
            blob = blob[:rnd.randrange(len(blob))]
        flags = NLM_F_REQUEST | NLM_F_ACK | rnd.choice((0, 0, NLM_F_DUMP))
        err = -1
        try:
            err, _, _ = nl.genl(fam, cmd, blob, flags)
        except socket.timeout:
            unanswered += 1
        # never leave the interface attached by chance
        if cmd == CMD_IF_ATTACH and err == 0:
            nl.genl(fam, CMD_IF_DETACH, nla(A_IF_NAME, name))
    tap.result(unanswered == 0, "300 random requests all answered",
               "%d unanswered" % unanswered)

    # and the family still works
    err, ext, _ = nl.genl(fam, CMD_IF_ATTACH, nla(A_IF_NAME, name))
    tap.result(err == 0, "valid attach still works", errname(err) +
               (": " + ext if ext else ""))
    err, ext, _ = nl.genl(fam, CMD_IF_ATTACH, nla(A_IF_NAME, name))
    tap.result(err < 0, "second attach of the same interface fails",
               errname(err) + (": " + ext if ext else ""))
    err, ext, _ = nl.genl(fam, CMD_IF_DETACH,
                          nla(A_IF_IFINDEX, struct.pack("=I", ifindex)))
    tap.result(err == 0, "detach by ifindex works", errname(err) +
               (": " + ext if ext else ""))
    err, ext, replies = nl.genl(fam, CMD_STATS_GET)
    tap.result(err == 0 and len(replies) == 1, "stats request still works",
               errname(err))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
