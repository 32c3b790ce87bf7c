#!/usr/bin/python3
"""record.py - re-records the netlink fixtures of tests/data/netlink (root only).

    sudo tests/data/netlink/record.py [OUTDIR]      (default: this directory)

Builds two network namespaces (deleted on exit, whatever happens; neither has a default
route, so nothing leaves them):

    client  vc 10.77.0.1/24 fd77::1/64 -- veth -- ve 10.77.0.2/24 fd77::2/64  endpoint
            mtu 1450
            route 10.78.0.0/16 via 10.77.0.2
            route 10.79.0.0/16 via 10.77.0.2 mtu 1400

then, inside the client namespace, asks the kernel what core/neigh.c and core/host.c ask
it - the same RTM_GETROUTE, RTM_GETLINK and RTM_GETNEIGH requests and the RTM_GETLINK and
RTM_GETADDR dumps, byte for byte - and saves each answer as NAME.bin (a dump: every
datagram, each padded to 4 bytes, back to back - as core/netlink.c reads them). See
README.md for what each file holds. Standard library only.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH = 18, 22, 26, 30
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2
RTA_DST = NDA_DST = 1
IFLA_EXT_MASK = 29


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


def dump(kind, body, seq):
    """Sends one dump request; returns every answer datagram up to NLMSG_DONE, each padded
    to 4 bytes, back to back."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    try:
        msg = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
        s.sendto(msg + body, (0, 0))
        parts = []
        while True:
            part = s.recv(32768)
            parts.append(part + b"\0" * (-len(part) % 4))
            off, done = 0, False
            while off + 16 <= len(part):
                length, mtype = struct.unpack_from("=IH", part, off)
                done |= mtype in (NLMSG_DONE, NLMSG_ERROR)
                off += (length + 3) & ~3 if length else len(part)
            if done:
                return b"".join(parts)
    finally:
        s.close()


def link(ifname):
    """RTM_GETLINK for one interface, as core/neigh.c asks it (no statistics mask)."""
    body = struct.pack("=BxHiII", 0, 0, socket.if_nametoindex(ifname), 0, 0)
    return ask(RTM_GETLINK, body + attr(IFLA_EXT_MASK, struct.pack("=I", 0)), 2)


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
    save("route-mtu", route("10.79.0.5"))
    save("link-vc", link("vc"))
    save("links", dump(RTM_GETLINK, struct.pack("=BxHiII", 0, 0, 0, 0, 0)
                       + attr(IFLA_EXT_MASK, struct.pack("=I", 0)), 1))
    save("addrs", dump(RTM_GETADDR, struct.pack("=BBBBi", 0, 0, 0, 0, 0), 2))
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
    # An entry that answered once (stale) for an address nobody has any more, as after an
    # endpoint interface was deleted: the SYN goes out to its old MAC and the entry waits
    # in DELAY (delay_first_probe_time, 5 s) before it probes.
    sh("ip", "neigh", "add", "10.77.0.98", "lladdr", "02:00:00:00:00:98", "nud", "stale",
       "dev", "vc")
    held.append(poke("10.77.0.98"))
    time.sleep(0.05)
    save("neigh-delay", neigh("10.77.0.98", "vc"))
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
        sh("ip", "-n", c, "link", "set", "vc", "mtu", "1450")
        sh("ip", "-n", c, "route", "add", "10.78.0.0/16", "via", "10.77.0.2")
        sh("ip", "-n", c, "route", "add", "10.79.0.0/16", "via", "10.77.0.2", "mtu", "1400")
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
