#!/usr/bin/python3
"""record.py - re-records the netlink fixtures of tests/data/netlink (root only).

    sudo tests/data/netlink/record.py [OUTDIR]      (default: this directory)

Builds two network namespaces (deleted on exit, whatever happens; neither has a default
route, so nothing leaves them):

    client  vc 10.77.0.1/24 fd77::1/64 -- veth -- ve 10.77.0.2/24 fd77::2/64  endpoint
            route 10.78.0.0/16 via 10.77.0.2

then, inside the client namespace, asks the kernel what core/neigh.c asks it - the same
RTM_GETROUTE and RTM_GETNEIGH requests, byte for byte - and saves each answer datagram
as NAME.bin. See README.md for what each file holds. Standard library only.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RTM_GETROUTE, RTM_GETNEIGH = 26, 30
NLM_F_REQUEST = 1
RTA_DST = NDA_DST = 1


def attr(kind, data):
    """An rtattr with its payload, padded to 4 bytes."""
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def packed(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return family, socket.inet_pton(family, address)


def ask(kind, body, seq):
    """Sends one request (nlmsghdr + body) to the kernel; returns its answer datagram."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        msg = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST, seq, 0) + body
        s.sendto(msg, (0, 0))
        return s.recv(8192)
    finally:
        s.close()


def route(address):
    family, raw = packed(address)
    body = struct.pack("=BBBBBBBBI", family, len(raw) * 8, 0, 0, 0, 0, 0, 0, 0)
    return ask(RTM_GETROUTE, body + attr(RTA_DST, raw), 1)


def neigh(address, ifname):
    family, raw = packed(address)
    body = struct.pack("=BBHiHBB", family, 0, 0, socket.if_nametoindex(ifname), 0, 0, 0)
    return ask(RTM_GETNEIGH, body + attr(NDA_DST, raw), 2)


def poke(address, port=19530):
    """Starts a connection (never waited for) so that the kernel resolves the next hop."""
    family, _ = packed(address)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((address, port))
    except (BlockingIOError, OSError):
        pass
    return s


def inside(out):
    """Runs in the client namespace: records every fixture into out."""
    def save(name, data):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
        print(f"record.py: {name}.bin ({len(data)} bytes)")

    save("route-onlink", route("10.77.0.99"))
    save("route-gateway", route("10.78.0.5"))
    save("route-unreachable", route("10.123.0.1"))
    save("route-local", route("10.77.0.1"))
    save("route-v6-onlink", route("fd77::99"))
    save("neigh-none", neigh("10.77.0.50", "vc"))
    held = [poke("10.77.0.99"), poke("fd77::99")]
    time.sleep(0.05)
    save("neigh-incomplete", neigh("10.77.0.99", "vc"))
    save("neigh-v6-incomplete", neigh("fd77::99", "vc"))
    time.sleep(1.0)   # three probes 100 ms apart (see the sysctls below), then FAILED
    save("neigh-failed", neigh("10.77.0.99", "vc"))
    held.append(poke("10.77.0.2", 9))   # refused, but the endpoint answers ARP
    time.sleep(0.2)
    save("neigh-reachable", neigh("10.77.0.2", "vc"))
    for s in held:
        s.close()


def sh(*argv):
    subprocess.run(argv, check=True)


def main(argv):
    if len(argv) == 2 and argv[0] == "--inside":
        inside(argv[1])
        return 0
    if os.geteuid() != 0:
        sys.stderr.write("record.py: needs root (network namespaces)\n")
        return 3
    out = os.path.abspath(argv[0]) if argv else HERE
    tag = f"ldnl-{os.getpid()}"
    c, e = f"{tag}-c", f"{tag}-e"
    work = tempfile.mkdtemp(prefix="ldnl-")
    try:
        sh("ip", "netns", "add", c)
        sh("ip", "netns", "add", e)
        sh("ip", "link", "add", "vc", "netns", c, "type", "veth", "peer", "name", "ve", "netns", e)
        for ns, dev, v4, v6 in ((c, "vc", "10.77.0.1/24", "fd77::1/64"),
                                (e, "ve", "10.77.0.2/24", "fd77::2/64")):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", v4, "dev", dev)
            sh("ip", "-n", ns, "addr", "add", v6, "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", c, "route", "add", "10.78.0.0/16", "via", "10.77.0.2")
        # Resolution gives up after three probes 100 ms apart (not 1 s): FAILED sooner.
        sh("ip", "netns", "exec", c, "sysctl", "-q", "net.ipv4.neigh.vc.retrans_time_ms=100",
           "net.ipv6.neigh.vc.retrans_time_ms=100")
        sh("ip", "netns", "exec", c, sys.executable, os.path.abspath(__file__), "--inside", work)
        os.makedirs(out, exist_ok=True)
        for name in sorted(os.listdir(work)):
            os.replace(os.path.join(work, name), os.path.join(out, name))
        print(f"record.py: fixtures written to {out}")
        return 0
    finally:
        for ns in (c, e):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
