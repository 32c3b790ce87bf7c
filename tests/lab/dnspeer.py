#!/usr/bin/python3
"""dnspeer.py - a DNS server that answers every query wrongly, in one chosen way.

    dnspeer.py ADDRESS MODE

MODE is one of:
  loop    a reply whose answer record's name is a compression pointer to itself
  count   a reply whose header counts three answers but carries one
  tc      a truncated reply (TC, no records) over UDP; over TCP, a length prefix that
          promises 256 bytes, four bytes, and the connection closed

It listens on ADDRESS port 53 (UDP, and TCP for tc), prints "ready" once it does, and
serves until it is stopped. Standard library only: it runs in a lab namespace.
"""

import selectors
import socket
import struct
import sys

A, AAAA, IN = 1, 28, 1


def question_end(query):
    """Offset just past the question of a query (its name, type and class)."""
    i = 12
    while i < len(query) and query[i]:
        i += query[i] + 1
    return i + 1 + 4


def reply(query, mode):
    """The wrong reply to one query, or None for a query too short to answer."""
    if len(query) < 17:
        return None
    end = question_end(query)
    if end > len(query):
        return None
    qtype = struct.unpack("!H", query[end - 4:end - 2])[0]
    flags = 0x8180 | (0x0200 if mode == "tc" else 0)  # QR RD RA (TC), NOERROR
    head = query[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0)
    question = query[12:end]
    if mode == "tc":
        return head + question
    rdata = socket.inet_aton("10.0.2.23") if qtype != AAAA else socket.inet_pton(
        socket.AF_INET6, "fd00:2::23")
    at = len(head) + len(question)
    # loop: the record's name points at itself; count: it points at the question, but
    # the header promises three records.
    name = struct.pack("!H", 0xC000 | (at if mode == "loop" else 12))
    record = name + struct.pack("!HHIH", qtype, IN, 60, len(rdata)) + rdata
    count = 3 if mode == "count" else 1
    head = query[:2] + struct.pack("!HHHHH", flags, 1, count, 0, 0)
    return head + question + record


def main():
    address, mode = sys.argv[1], sys.argv[2]
    if mode not in ("loop", "count", "tc"):
        raise SystemExit(f"dnspeer.py: unknown mode {mode!r}")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ, "udp")
    if mode == "tc":
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((address, 53))
        tcp.listen(8)
        sel.register(tcp, selectors.EVENT_READ, "tcp")
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "udp":
                query, peer = udp.recvfrom(4096)
                answer = reply(query, mode)
                if answer:
                    udp.sendto(answer, peer)
            else:
                conn, _ = key.fileobj.accept()
                with conn:
                    conn.settimeout(2)
                    try:
                        conn.recv(4096)
                        conn.sendall(struct.pack("!H", 256) + b"\x00\x01\x02\x03")
                    except OSError:
                        pass


if __name__ == "__main__":
    main()
