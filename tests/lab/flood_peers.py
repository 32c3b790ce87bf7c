#!/usr/bin/python3
"""flood_peers.py - the two helpers of the SYN-flood lab scenario (standard library only).

    flood_peers.py dns ADDR NAME IP GO DONE [LIMIT]
        A DNS server on ADDR:53 that answers A queries for NAME with IP, AAAA queries with
        no data, and anything else with NXDOMAIN - but only once the file DONE exists (or
        LIMIT seconds, default 10, after its first query). It creates the file GO when the
        first query arrives: linkdoctor asks DNS only after its capture is open, so GO
        says "the capture is listening now". Prints "ready" once it listens.

    flood_peers.py flood DST PORT COUNT GO DONE [LIMIT]
        Waits for the file GO (at most LIMIT seconds, default 10), then sends COUNT SYNs to
        DST:PORT from spoofed sources (198.18.0.0/15, every 4-tuple distinct) through a
        raw socket, as fast as it can but for LIMIT seconds at most, then creates DONE and
        prints how many it sent.

Both run inside the lab's namespaces (the flood goes to an address the lab routes to
its endpoint namespace, where it is dropped: nothing leaves the lab).
"""
import os
import select
import socket
import struct
import sys
import time


def touch(path):
    with open(path, "w") as f:
        f.write("1\n")


def dns_answer(query, name, ip):
    """The response to one query (None when it is not a query we can parse)."""
    if len(query) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qd != 1:
        return None
    labels, at = [], 12
    while at < len(query) and query[at] != 0:
        n = query[at]
        labels.append(query[at + 1:at + 1 + n].decode(errors="replace"))
        at += 1 + n
    if at + 5 > len(query):
        return None
    qtype = struct.unpack("!H", query[at + 1:at + 3])[0]
    question = query[12:at + 5]
    asked = ".".join(labels).lower()
    rcode, answers = 0, b""
    if asked != name.lower():
        rcode = 3
    elif qtype == 1:
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(ip)
    header = struct.pack("!HHHHHH", qid, 0x8580 | rcode, 1, 1 if answers else 0, 0, 0)
    return header + question + answers


def serve_dns(addr, name, ip, go, done, limit):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    print("ready", flush=True)
    pending, first = [], None
    while True:
        ready, _, _ = select.select([s], [], [], 0.01)
        if ready:
            data, peer = s.recvfrom(4096)
            if first is None:
                first = time.monotonic()
                touch(go)
            pending.append((data, peer))
        if pending and (os.path.exists(done) or time.monotonic() - first > limit):
            for data, peer in pending:
                answer = dns_answer(data, name, ip)
                if answer:
                    s.sendto(answer, peer)
            pending = []


def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def flood(dst, port, count, go, done, limit):
    deadline = time.monotonic() + limit
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            print("flood: nobody asked DNS: not flooding", flush=True)
            touch(done)
            return
        time.sleep(0.005)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    daddr = socket.inet_aton(dst)
    sent = 0
    end = time.monotonic() + limit
    try:
        for i in range(count):
            if i % 4096 == 0 and time.monotonic() > end:
                break
            saddr = bytes((198, 18 + ((i >> 16) & 1), (i >> 8) & 0xFF, i & 0xFF))
            sport = 1024 + (i >> 17)
            # The kernel fills in the IP checksum (and length) of a raw packet it sends.
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0, 64, 6, 0, saddr, daddr)
            tcp = struct.pack("!HHIIBBHHH", sport, port, i, 0, 5 << 4, 0x02, 1024, 0, 0)
            pseudo = saddr + daddr + struct.pack("!BBH", 0, 6, 20)
            tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
            s.sendto(ip + tcp, (dst, 0))
            sent += 1
    finally:
        touch(done)
        print(f"sent {sent}", flush=True)


def main(argv):
    if len(argv) in (6, 7) and argv[0] == "dns":
        serve_dns(argv[1], argv[2], argv[3], argv[4], argv[5], float(argv[6]) if len(argv) > 6 else 10)
    elif len(argv) in (6, 7) and argv[0] == "flood":
        flood(argv[1], int(argv[2]), int(argv[3]), argv[4], argv[5],
              float(argv[6]) if len(argv) > 6 else 10)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
