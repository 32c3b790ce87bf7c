"""convert.py - derives the other capture fixtures from those record.sh made.

    python3 convert.py [DIR]        (default: this file's directory)

Standard library only. From every NAME.eth.pcap (Ethernet) with packets:

    NAME.raw.pcap      LINKTYPE_RAW: the IP packets alone
    NAME.null-le.pcap  DLT_NULL as a little-endian BSD host writes it (AF_INET 2,
                       AF_INET6 24 as on NetBSD/OpenBSD), little-endian file
    NAME.null-be.pcap  DLT_NULL as a big-endian host writes it (AF_INET6 30 as on
                       Darwin), big-endian file
    NAME.pcapng        the same Ethernet frames as pcapng (SHB, IDB, EPBs)

From loopback.sll.pcap and loopback.sll2.pcap, loopback-dup.sll.pcap and
loopback-dup.sll2.pcap: every packet that arrived on the loopback interface is
preceded by its outgoing copy, which is what the kernel hands an AF_PACKET
socket on "any". libpcap drops that copy before tcpdump sees it, so tcpdump
files never hold it; captures made without libpcap's filter do, and the
decoder must not take it for a retransmission.

Broken files for the error messages, all from rejected.eth.pcap (SYN, ICMP):

    empty.pcap              0 bytes
    not-pcap.txt            text
    truncated-header.pcap   the first 12 bytes of the file header
    truncated.pcap          the last 10 bytes of the second packet cut off
    truncated.pcapng        the same for rejected.pcapng
    corrupt.pcap            the second packet's captured length says 2 GiB
    unsupported-dlt.pcap    link type 105 (IEEE 802.11) in the file header
"""
import os
import struct
import sys

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


def read_pcap(path):
    """(linktype, snaplen, [(sec, usec, wirelen, data)]) of a pcap file."""
    with open(path, "rb") as f:
        raw = f.read()
    magic = raw[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(path + ": not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    _, _, _, _, snaplen, linktype = struct.unpack(end + "HHiIII", raw[4:24])
    packets = []
    off = 24
    while off + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack(end + "IIII", raw[off:off + 16])
        data = raw[off + 16:off + 16 + incl]
        packets.append((sec, frac // 1000 if nano else frac, orig, data))
        off += 16 + incl
    return linktype & 0xFFFF, snaplen, packets


def pcap_bytes(linktype, snaplen, packets, end="<"):
    """A microsecond pcap file in byte order end."""
    out = [struct.pack(end + "IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    for sec, usec, orig, data in packets:
        out.append(struct.pack(end + "IIII", sec, usec, len(data), orig))
        out.append(data)
    return b"".join(out)


def pcapng_bytes(linktype, snaplen, packets, comment):
    """A little-endian pcapng file: one section, one interface (microseconds)."""

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def option(code, value):
        return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

    shb_opts = option(1, comment.encode()) + option(0, b"")
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts)]
    out.append(block(1, struct.pack("<HHI", linktype, 0, snaplen)))
    for sec, usec, orig, data in packets:
        ts = sec * 1000000 + usec
        body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data), orig) + data
        out.append(block(6, body))
    return b"".join(out)


def strip_ethernet(frame):
    """The IP packet inside an Ethernet frame (VLAN tags skipped), or None."""
    off, etype = 14, struct.unpack(">H", frame[12:14])[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack(">H", frame[off + 2:off + 4])[0]
        off += 4
    return frame[off:] if etype in (0x0800, 0x86DD) else None


def null_header(ip, end, af6):
    family = 2 if ip[0] >> 4 == 4 else af6
    return struct.pack(end + "I", family)


def derive_link_types(d, name):
    linktype, snaplen, packets = read_pcap(os.path.join(d, name + ".eth.pcap"))
    if linktype != LINKTYPE_ETHERNET or not packets:
        return
    ips = []
    for sec, usec, orig, frame in packets:
        ip = strip_ethernet(frame)
        if ip is not None:
            ips.append((sec, usec, orig - (len(frame) - len(ip)), ip))
    write(d, name + ".raw.pcap", pcap_bytes(LINKTYPE_RAW, snaplen, ips))
    le = [(s, u, o + 4, null_header(ip, "<", 24) + ip) for s, u, o, ip in ips]
    write(d, name + ".null-le.pcap", pcap_bytes(LINKTYPE_NULL, snaplen, le, "<"))
    be = [(s, u, o + 4, null_header(ip, ">", 30) + ip) for s, u, o, ip in ips]
    write(d, name + ".null-be.pcap", pcap_bytes(LINKTYPE_NULL, snaplen, be, ">"))
    write(d, name + ".pcapng",
          pcapng_bytes(LINKTYPE_ETHERNET, snaplen, packets, "convert.py from %s.eth.pcap" % name))


def with_loopback_duplicates(d, src, dst):
    """Adds the outgoing copy of every packet that arrived on loopback."""
    linktype, snaplen, packets = read_pcap(os.path.join(d, src))
    out = []
    for sec, usec, orig, data in packets:
        if linktype == LINKTYPE_LINUX_SLL and struct.unpack(">HH", data[:4]) == (0, 772):
            out.append((sec, usec, orig, struct.pack(">H", 4) + data[2:]))
        elif linktype == LINKTYPE_LINUX_SLL2 and struct.unpack(">H", data[8:10])[0] == 772 \
                and data[10] == 0:
            out.append((sec, usec, orig, data[:10] + b"\x04" + data[11:]))
        out.append((sec, usec, orig, data))
    write(d, dst, pcap_bytes(linktype, snaplen, out))


def broken_files(d):
    with open(os.path.join(d, "rejected.eth.pcap"), "rb") as f:
        good = f.read()
    assert good[:4] == b"\xd4\xc3\xb2\xa1", "expected a little-endian microsecond pcap"
    _, _, packets = read_pcap(os.path.join(d, "rejected.eth.pcap"))
    assert len(packets) == 2, "rejected.eth.pcap should hold a SYN and an ICMP error"
    write(d, "empty.pcap", b"")
    write(d, "not-pcap.txt", b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    write(d, "truncated-header.pcap", good[:12])
    write(d, "truncated.pcap", good[:-10])
    with open(os.path.join(d, "rejected.pcapng"), "rb") as f:
        write(d, "truncated.pcapng", f.read()[:-10])
    second = 24 + 16 + len(packets[0][3])  # offset of the second record header
    corrupt = bytearray(good)
    struct.pack_into("<I", corrupt, second + 8, 0x80000000)
    write(d, "corrupt.pcap", bytes(corrupt))
    odd = bytearray(good)
    struct.pack_into("<I", odd, 20, LINKTYPE_IEEE802_11)
    write(d, "unsupported-dlt.pcap", bytes(odd))


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main(argv):
    d = argv[0] if argv else os.path.dirname(os.path.abspath(__file__))
    for entry in sorted(os.listdir(d)):
        if entry.endswith(".eth.pcap"):
            derive_link_types(d, entry[:-len(".eth.pcap")])
    for kind in ("sll", "sll2"):
        with_loopback_duplicates(d, "loopback.%s.pcap" % kind, "loopback-dup.%s.pcap" % kind)
    broken_files(d)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
