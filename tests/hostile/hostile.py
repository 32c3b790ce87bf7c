#!/usr/bin/python3
"""hostile.py - hostile peers for linkdoctor's checks: small servers of our own, each
misbehaviour one named entry of a table.

    hostile.py dns MOVE --listen ADDR [--name NAME] [--address IP]
                        a DNS server on ADDR port 53, UDP and TCP, authoritative for
                        NAME (answering it with IP when it answers at all)
    hostile.py http|redis|mqtt MOVE --listen ADDR:PORT [--tls CERT KEY]
                        the service, misbehaving with MOVE (after a good TLS handshake
                        with CERT when --tls is given: the move is then the service's)
    hostile.py tls MOVE --listen ADDR:PORT --tls CERT KEY --app http|redis|mqtt
                        a TLS server misbehaving with MOVE in or right after the
                        handshake; where the handshake completes, APP answers well
    hostile.py --list   every move: KIND NAME, then what it does

Each server prints "ready" once it listens (lab.Lab.start_server waits for that line) and
serves until it is killed; every connection gets the move, on its own thread. A move
that writes forever (a flood, a drip) ends when the peer goes away. The tables are
DNS, TLS and STREAM[http|redis|mqtt] (GENERIC moves are in each stream table); the
certificates with hostile names are made by hostile_cert(). Standard library only.
"""

import argparse
import collections
import itertools
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True   # keep the source tree clean of __pycache__

DRIP_S = 0.1            # a dripping peer sends one byte this often
FLOOD_CHUNK = 65536     # what a flooding peer writes at a time, as fast as it can
READ_LIMIT = 65536      # the most a server reads of a request before it acts
READ_TIMEOUT_S = 10     # how long a server waits for a request before it gives up

# The hostile strings: terminal escapes (clear screen, set the window title, colour), a
# BEL, a byte order mark in UTF-16 (invalid UTF-8), NUL, a bare CR and a CR LF, a C1
# control (CSI, U+009B, valid UTF-8) - what must never reach a terminal or a JSON report
# as it is.
HOSTILE = b"\x1b[2J\x1b]0;pwned\x07\x1b[31mRED\x1b[0m\xff\xfe\xc2\x9b1m"
HOSTILE_NUL_CR = HOSTILE + b"\x00nul\rcr\r\nlf"
LONG_UTF8 = "\u00e9".encode() * 20000 + "\u2603".encode() * 2000   # 46 KB of é and ☃


# --- one connection and the moves a misbehaviour makes on it ---------------------------

Move = collections.namedtuple("Move", "doc act early", defaults=(False,))
Move.__doc__ = """One misbehaviour: what it does (one line, for --list and the README),
act(peer), and whether it acts as soon as the connection is accepted (early) or only
once the client's request (ClientHello, GET, PING, CONNECT, DNS query) is in."""


class Gone(Exception):
    """The client closed or reset the connection: the move is over."""


class Peer:
    """An accepted connection (plain, or TLS once start_tls ran) and its server's
    settings: `ok` is the good reply of the protocol spoken on it."""

    def __init__(self, sock, proto, server):
        self.sock = sock
        self.proto = proto
        self.server = server
        self.request = b""

    @property
    def ok(self):
        return OK_REPLY[self.proto](self)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise Gone() from exc

    def send_raw(self, data):
        """Bytes straight onto the TCP connection, under any TLS layer."""
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.sock.fileno(), view):]
        except OSError as exc:
            raise Gone() from exc

    def drip(self, data, every=DRIP_S):
        for i in range(len(data)):
            self.send(data[i:i + 1])
            time.sleep(every)

    def flood(self, chunk=None, first=b""):
        """`first`, then `chunk` (random bytes by default) again and again, for ever."""
        chunk = chunk if chunk is not None else random.Random(7).randbytes(FLOOD_CHUNK)
        self.send(first)
        while True:
            self.send(chunk)

    def hold(self):
        """Neither read nor write nor close: until the server is killed."""
        threading.Event().wait()

    def reset(self):
        """A TCP reset now (SO_LINGER 0, then close)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        raise Gone()

    def close(self):
        self.sock.close()
        raise Gone()

    def read_request(self):
        """Reads the client's request as its protocol frames it; b"" when the client
        sent nothing before closing (a bare TCP probe)."""
        self.sock.settimeout(READ_TIMEOUT_S)
        buf = b""
        try:
            while not REQUEST_DONE[self.proto](buf) and len(buf) < READ_LIMIT:
                data = self.sock.recv(READ_LIMIT)
                if not data:
                    break
                buf += data
        except OSError:     # ssl.SSLError too: the request is what came before it
            pass
        self.sock.settimeout(None)
        self.request = buf
        return buf

    def start_tls(self):
        """Completes a good TLS handshake as the server; the peer then speaks through it."""
        self.sock.settimeout(READ_TIMEOUT_S)
        try:
            self.sock = self.server.ctx.wrap_socket(self.sock, server_side=True)
        except OSError as exc:     # ssl.SSLError too: the client gave up or was not TLS
            raise Gone() from exc
        self.sock.settimeout(None)

    def server_flight(self):
        """What a good TLS server answers to the ClientHello read as the request
        (ServerHello ... Finished in TLS 1.3): made with memory BIOs, never sent, so
        that a move can send it broken."""
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.server.ctx.wrap_bio(incoming, outgoing, server_side=True)
        incoming.write(self.request)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return outgoing.read()

    def app_ok(self):
        """The application's good answer (after a TLS handshake of a `tls` move)."""
        self.proto = self.server.app
        if self.read_request():
            self.send(self.ok)
        self.hold()


def _tls_record_done(buf):
    return len(buf) >= 5 and len(buf) >= 5 + struct.unpack("!H", buf[3:5])[0]


def _mqtt_packet_done(buf):
    """A whole MQTT packet: type byte, remaining length (1 to 4 bytes), that many."""
    length, shift = 0, 0
    for i, byte in enumerate(buf[1:5], start=1):
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return len(buf) >= 1 + i + length
    return len(buf) >= 5


def _dns_tcp_done(buf):
    return len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]


REQUEST_DONE = {
    "http": lambda buf: b"\r\n\r\n" in buf,
    "redis": lambda buf: b"\n" in buf,
    "mqtt": _mqtt_packet_done,
    "tls": _tls_record_done,
    "dns": _dns_tcp_done,
}

HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
CONNACK_OK = b"\x20\x02\x00\x00"
OK_REPLY = {
    "http": lambda p: HTTP_OK,
    "redis": lambda p: b"+PONG\r\n",
    "mqtt": lambda p: CONNACK_OK,
    "tls": lambda p: p.server_flight(),
}


# --- the moves -------------------------------------------------------------------------

def _half(p):
    return p.ok[:max(1, len(p.ok) // 2)]


def _garbage(size=4096):
    return random.Random(13).randbytes(size)


def _then_close(p, data):
    p.send(data)
    p.close()


# Moves of any stream protocol: `p.ok` is the protocol's good reply.
GENERIC = {
    "silent": Move("accepts, never reads, writes or closes", lambda p: p.hold(), early=True),
    "reset": Move("resets the connection as soon as it is accepted (SO_LINGER 0)",
                  lambda p: p.reset(), early=True),
    "close": Move("closes the connection as soon as it is accepted", lambda p: p.close(),
                  early=True),
    "reset_after_request": Move("reads the request, then resets", lambda p: p.reset()),
    "close_after_request": Move("reads the request, then closes without a word (an empty "
                                "reply)", lambda p: p.close()),
    "garbage": Move("answers 4 KB of random bytes, then closes",
                    lambda p: _then_close(p, _garbage())),
    "garbage_flood": Move("answers random bytes as fast as it can, for ever (megabytes)",
                          lambda p: p.flood()),
    "endless_line": Move("answers 'AAAA...' as fast as it can, for ever, without a newline",
                         lambda p: p.flood(b"A" * FLOOD_CHUNK)),
    "hostile_bytes": Move("answers terminal escapes, \\xff\\xfe, NUL, CR LF and a C1 control "
                          "instead of the protocol, then closes",
                          lambda p: _then_close(p, HOSTILE_NUL_CR + b"\r\n")),
    "drip": Move("sends the good reply one byte every 500 ms (a 4-byte reply takes longer than "
                 "--connect-timeout 1)", lambda p: (p.drip(p.ok, every=0.5), p.hold())),
    "truncated": Move("sends the first half of the good reply, then closes",
                      lambda p: _then_close(p, _half(p))),
    "truncated_hang": Move("sends the first half of the good reply, then goes silent",
                           lambda p: (p.send(_half(p)), p.hold())),
}


def _http(head, body=b""):
    """An HTTP message: `head` with its LF line ends made CR LF, a blank line, `body`."""
    return head.replace(b"\n", b"\r\n") + b"\r\n" + body


def _answer(head, body=b""):
    """The move that answers with this HTTP message, then closes."""
    message = _http(head, body)
    return lambda p: _then_close(p, message)


def _status(rest):
    """The move that answers `HTTP/1.1 REST` with no body, then closes."""
    return _answer(b"HTTP/1.1 " + rest + b"\nContent-Length: 0\n")


def _redirect(path):
    """The move that answers 302 to http://x.lab.test/PATH, then closes."""
    return _status(b"302 Found\nLocation: http://x.lab.test/" + path)


def _continue_forever(p):
    while True:
        p.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        time.sleep(DRIP_S)


def _drip_headers_forever(p):
    p.send(b"HTTP/1.1 200 OK\r\n")
    for i in itertools.count():
        p.send(b"X-Drip-%d: a\r\n" % i)
        time.sleep(DRIP_S)


def _header_flood(p):
    lines = b"".join(b"X-Flood-%06d: %s\n" % (i, b"f" * 40) for i in range(100000))
    _answer(b"HTTP/1.1 200 OK\n" + lines + b"Content-Length: 3\n", b"ok\n")(p)


HTTP = {
    "ok": Move("200 OK with a 3-byte body (the control)", lambda p: (p.send(HTTP_OK), p.hold())),
    "continue_forever": Move("'100 Continue' every 100 ms, for ever, never a final status",
                             _continue_forever),
    "continue_then_close": Move("'100 Continue', then closes", _answer(b"HTTP/1.1 100 Continue\n")),
    "status_abc": Move("'HTTP/1.1 abc' as the status line", _answer(b"HTTP/1.1 abc\n")),
    "version_9_9": Move("'HTTP/9.9 200 OK'", _answer(b"HTTP/9.9 200 OK\nContent-Length: 0\n")),
    "status_000": Move("'HTTP/1.1 000 Zero'", _status(b"000 Zero")),
    "tls_record": Move("answers the GET with a TLS alert record, as a TLS-only port does",
                       lambda p: _then_close(p, b"\x15\x03\x03\x00\x02\x02\x46")),
    "header_flood": Move("200 OK with 100,000 headers (6 MB) before the body", _header_flood),
    "huge_header": Move("200 OK with one 1 MB header", _status(b"200 OK\nX-Huge: " + b"h" * 2 ** 20)),
    "endless_header": Move("200 OK, then one header line that never ends",
                           lambda p: p.flood(b"h" * FLOOD_CHUNK, b"HTTP/1.1 200 OK\r\nX-Endless: ")),
    "endless_status_line": Move("'HTTP/1.1 200 ' and a reason phrase that never ends",
                                lambda p: p.flood(b"A" * FLOOD_CHUNK, b"HTTP/1.1 200 ")),
    "drip_headers_forever": Move("200 OK, then a new header every 100 ms, for ever",
                                 _drip_headers_forever),
    "endless_body": Move("200 OK, then a chunked body that never ends",
                         lambda p: p.flood(b"10000\r\n" + b"b" * 0x10000 + b"\r\n",
                                           _http(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n"))),
    "bad_chunked": Move("200 OK with a chunk size 'zz'",
                        _answer(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n",
                                b"zz\r\nbody\r\n0\r\n\r\n")),
    "truncated_body": Move("200 OK with Content-Length 100000 and 10 bytes of it, then closes",
                           _answer(b"HTTP/1.1 200 OK\nContent-Length: 100000\n", b"0123456789")),
    "hostile_status_text": Move("503 with escapes, \\xff\\xfe and a C1 control in the reason "
                                "phrase", _status(b"503 " + HOSTILE)),
    "long_status_text": Move("503 with a 46 KB UTF-8 reason phrase", _status(b"503 " + LONG_UTF8)),
    "hostile_location": Move("302 to a Location with escapes, \\xff\\xfe and a C1 control",
                             _redirect(HOSTILE)),
    "hostile_location_nul": Move("302 to a Location with NUL and a bare CR",
                                 _redirect(b"a\x00b\rc\x7f")),
    "long_location": Move("302 to a 46 KB UTF-8 Location", _redirect(LONG_UTF8)),
    "hostile_headers": Move("503 with escapes and \\xff\\xfe in header names and values",
                            _status(b"503 Unavailable\nServer: " + HOSTILE + b"\nX-" + HOSTILE
                                    + b": v")),
}

REDIS = {
    "ok": Move("+PONG (the control)", lambda p: (p.send(b"+PONG\r\n"), p.hold())),
    "noauth": Move("-NOAUTH Authentication required. (a Redis that wants a password: fine)",
                   lambda p: (p.send(b"-NOAUTH Authentication required.\r\n"), p.hold())),
    "endless_simple_string": Move("'+AAAA...' for ever, without CR LF",
                                  lambda p: p.flood(b"A" * FLOOD_CHUNK, b"+")),
    "endless_error": Move("'-ERR AAAA...' for ever, without CR LF",
                          lambda p: p.flood(b"A" * FLOOD_CHUNK, b"-ERR ")),
    "huge_bulk": Move("'$2000000000' and then bytes for ever",
                      lambda p: p.flood(None, b"$2000000000\r\n")),
    "negative_bulk": Move("'$-5' (no such length)", lambda p: _then_close(p, b"$-5\r\n")),
    "array_bomb": Move("'*2147483647' nested without end",
                       lambda p: p.flood(b"*2147483647\r\n" * 4096)),
    "hostile_error": Move("a -ERR line with escapes, \\xff\\xfe, NUL, a bare CR and a C1 control",
                          lambda p: _then_close(p, b"-ERR " + HOSTILE_NUL_CR + b"\r\n")),
    "hostile_noauth": Move("-NOAUTH followed by escapes and \\xff\\xfe",
                           lambda p: _then_close(p, b"-NOAUTH " + HOSTILE + b"\r\n")),
    "long_error": Move("a -ERR line of 46 KB of UTF-8",
                       lambda p: _then_close(p, b"-ERR " + LONG_UTF8 + b"\r\n")),
}

MQTT = {
    "ok": Move("CONNACK 0, accepted (the control)", lambda p: (p.send(CONNACK_OK), p.hold())),
    "refused": Move("CONNACK 5, not authorized (a broker that refuses: critical, not odd)",
                    lambda p: (p.send(b"\x20\x02\x00\x05"), p.hold())),
    "return_code_255": Move("CONNACK with return code 255 (no such code)",
                            lambda p: (p.send(b"\x20\x02\x00\xff"), p.hold())),
    "connack_long": Move("a CONNACK whose remaining length is 127, with 127 bytes of escapes",
                         lambda p: (p.send(b"\x20\x7f" + (HOSTILE_NUL_CR * 4)[:127]), p.hold())),
    "huge_remaining_length": Move("a CONNACK of 268 MB (the largest remaining length), "
                                  "then bytes for ever",
                                  lambda p: p.flood(None, b"\x20\xff\xff\xff\x7f\x00\x00")),
    "bad_remaining_length": Move("a remaining length of 5 bytes (at most 4 are allowed)",
                                 lambda p: (p.send(b"\x20\xff\xff\xff\xff\xff\x01"), p.hold())),
    "publish": Move("a PUBLISH with a hostile topic instead of a CONNACK",
                    lambda p: (p.send(b"\x30" + bytes([2 + len(HOSTILE) + 2]) +
                                      struct.pack("!H", len(HOSTILE)) + HOSTILE + b"hi"), p.hold())),
    "reserved_flags": Move("a CONNACK with reserved flag bits set (0x2f, 0xfe)",
                           lambda p: (p.send(b"\x2f\x02\xfe\x00"), p.hold())),
}


def _alert(p):
    p.send(b"\x15\x03\x03\x00\x02\x02\x28")     # fatal handshake_failure
    p.close()


def _endless_handshake(p):
    """A ServerHello that says it is 16 MB long, in full-size records, for ever."""
    first = b"\x16\x03\x03\x40\x00\x02\xff\xff\xff" + b"\x03\x03" + b"s" * (0x4000 - 6)
    p.flood(b"\x16\x03\x03\x40\x00" + b"s" * 0x4000, first)


def _after_handshake(p, then):
    p.start_tls()
    p.proto = p.server.app
    if p.read_request():
        then(p)
    p.hold()


def _close_notify(p):
    p.sock.settimeout(1)     # unwrap waits for the client's close_notify: not for ever
    try:
        p.sock.unwrap()
    except OSError:
        pass
    p.close()


# Moves of a TLS server (the request is the client's first TLS record, the ClientHello).
TLS = {
    "ok": Move("a good handshake, then the application answers well (the control; with a "
               "hostile certificate, the certificate's case)",
               lambda p: (p.start_tls(), p.app_ok()), early=True),
    "alert": Move("answers the ClientHello with a fatal handshake_failure alert", _alert),
    "huge_record": Move("a record header claiming 65,535 bytes (more than TLS allows), then "
                        "bytes for ever", lambda p: p.flood(None, b"\x16\x03\x03\xff\xff")),
    "endless_handshake": Move("a ServerHello announced as 16 MB, sent in full records for ever",
                              _endless_handshake),
    "garbage_after_handshake": Move("a good handshake, then 4 KB of random bytes outside any "
                                    "record instead of the application's answer",
                                    lambda p: _after_handshake(p, lambda p: p.send_raw(_garbage())),
                                    early=True),
    "reset_after_handshake": Move("a good handshake, then a reset when the request comes",
                                  lambda p: _after_handshake(p, Peer.reset), early=True),
    "close_after_handshake": Move("a good handshake, then close_notify and close when the "
                                  "request comes", lambda p: _after_handshake(p, _close_notify),
                                  early=True),
}
TLS.update({k: v for k, v in GENERIC.items() if k not in TLS})

STREAM = {
    "http": {**GENERIC, **HTTP},
    "redis": {**GENERIC, **REDIS},
    "mqtt": {**GENERIC, **MQTT},
    "tls": TLS,
}


# --- DNS ---------------------------------------------------------------------------------

T_A, T_CNAME, T_AAAA = 1, 5, 28
QR_AA_RD_RA = 0x8580      # a response, authoritative, recursion desired and available
TC = 0x0200
SERVFAIL, NXDOMAIN, REFUSED = 2, 3, 5
PTR_QNAME = b"\xc0\x0c"   # a compression pointer to the question's name (offset 12)


def _name(text):
    """A domain name in wire format; labels may be bytes of any value."""
    labels = text if isinstance(text, list) else text.encode().split(b".")
    return b"".join(bytes([len(label)]) + label for label in labels if label) + b"\0"


def _rr(owner, rtype, rdata, ttl=60):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def _frame(msg):
    return struct.pack("!H", len(msg)) + msg


class DnsQuery:
    """One query and the replies a move builds for it."""

    def __init__(self, data, server):
        self.data = data
        self.server = server
        self.id = data[:2] if len(data) >= 2 else b"\0\0"
        # The question: the name's labels, then type and class.
        end = 12
        while end < len(data) and data[end]:
            end += 1 + data[end]
        self.question = data[12:end + 5]
        self.qname = data[12:end + 1]
        self.qtype = struct.unpack("!H", data[end + 1:end + 3])[0] if len(data) >= end + 3 else 0
        self.ours = self.qname.lower() == _name(server.name.lower())

    def msg(self, answers=b"", an=0, flags=QR_AA_RD_RA, rcode=0):
        """A response: the header (with `an` as its answer count, true or not), the
        question as asked, then `answers` (resource records, as bytes)."""
        return (self.id + struct.pack("!HHHHH", flags | rcode, 1, an, 0, 0)
                + self.question + answers)

    def address_rr(self, owner=PTR_QNAME, address=None):
        return _rr(owner, T_A, socket.inet_aton(address or self.server.address))

    def reply_ok(self):
        """A for the name: the server's address; AAAA: no data; other names: NXDOMAIN."""
        if not self.ours:
            return self.msg(rcode=NXDOMAIN)
        if self.qtype == T_A:
            return self.msg(self.address_rr(), an=1)
        return self.msg()

    def answer_offset(self):
        return 12 + len(self.question)


def _cname_then_a(q, target_labels):
    """The name is a CNAME of `target_labels` (any bytes), which has the server's
    address; AAAA queries get the CNAME alone."""
    target = _name(target_labels)
    cname = _rr(PTR_QNAME, T_CNAME, target)
    if q.qtype != T_A:
        return q.msg(cname, an=1)
    a_owner = struct.pack("!H", 0xC000 | (q.answer_offset() + 12))   # points at the target
    return q.msg(cname + q.address_rr(a_owner), an=2)


def _cname_loop(q):
    loop = _name("loop.lab.test")
    first = _rr(PTR_QNAME, T_CNAME, loop)
    second = _rr(struct.pack("!H", 0xC000 | (q.answer_offset() + 12)), T_CNAME, PTR_QNAME)
    return q.msg(first + second, an=2)


def _compression_loop(q):
    """An answer whose owner name is a pointer to itself."""
    return q.msg(_rr(struct.pack("!H", 0xC000 | q.answer_offset()), T_A,
                     socket.inet_aton(q.server.address)), an=1)


def _many_addresses(count):
    """`count` A records of addresses routed to the lab's endpoint side and held by
    nobody (10.0.200.0 and up): the oversized answer."""
    return lambda q: (q.msg(b"".join(q.address_rr(address=f"10.0.{200 + i // 256}.{i % 256}")
                                     for i in range(count)), an=count)
                      if q.qtype == T_A else q.msg())


def _garbage_dns(q):
    return q.id + b"\x85\x80" + random.Random(17).randbytes(200)


def _tc(q):
    return q.msg(flags=QR_AA_RD_RA | TC)


DnsMove = collections.namedtuple("DnsMove", "doc udp tcp", defaults=(None,))
DnsMove.__doc__ = """A DNS misbehaviour: what it does, udp(query) -> the datagram to answer
(None: no answer), and tcp(peer), a stream move for queries over TCP (None: the UDP
answer, framed)."""


def _tcp_then(then):
    """A TCP move that reads the query first, then does `then(peer, query)`."""
    def act(p):
        if p.read_request():
            then(p, DnsQuery(p.request[2:], p.server))
        p.hold()
    return act


def _tcp_oversized(p, q):
    p.send(_frame(_many_addresses(4000)(q)[:65535]))


DNS = {
    "ok": DnsMove("answers the name with the endpoint's address (the control)", DnsQuery.reply_ok),
    "silent": DnsMove("never answers (UDP); accepts and never answers (TCP)", lambda q: None,
                      lambda p: p.hold()),
    "wrong_id": DnsMove("answers with another query id (what an off-path spoofer sends: "
                        "ignored, so it looks silent)",
                        lambda q: bytes([q.id[0] ^ 0xFF, q.id[1]]) + q.reply_ok()[2:]),
    "servfail": DnsMove("SERVFAIL", lambda q: q.msg(rcode=SERVFAIL)),
    "refused": DnsMove("REFUSED", lambda q: q.msg(rcode=REFUSED)),
    "garbage": DnsMove("the query's id, then 200 random bytes", _garbage_dns),
    "short": DnsMove("6 bytes: an id, flags and half a header", lambda q: q.msg()[:6]),
    "truncated": DnsMove("the answer cut inside its address", lambda q: q.msg(
        q.address_rr(), an=1)[:-2]),
    "compression_loop": DnsMove("an answer whose name is a compression pointer to itself",
                                _compression_loop),
    "pointer_out": DnsMove("an answer whose name points past the end of the message",
                           lambda q: q.msg(_rr(b"\xff\xff", T_A, b"\x0a\x00\x02\x17"), an=1)),
    "reserved_label": DnsMove("an answer whose name has a label of the reserved type 0x40",
                              lambda q: q.msg(_rr(b"\x41abc\0", T_A, b"\x0a\x00\x02\x17"), an=1)),
    "cname_loop": DnsMove("the name is a CNAME of loop.lab.test, which is a CNAME of the name",
                          _cname_loop),
    "wrong_counts": DnsMove("one answer, with an answer count of 40", lambda q: q.msg(
        q.address_rr(), an=40)),
    "bad_rdlength": DnsMove("an A record with 16 bytes of data", lambda q: q.msg(
        _rr(PTR_QNAME, T_A, b"\x0a\x00\x02\x17" * 4), an=1)),
    "hostile_cname": DnsMove("a CNAME to a name with escapes, \\xff\\xfe, NUL, CR LF and dots "
                             "in its labels, which has the address",
                             lambda q: _cname_then_a(q, [HOSTILE[:60], b"a\x00b\r\nc.d",
                                                         b"lab", b"test"])),
    "long_cname": DnsMove("a CNAME to a 240-byte name of UTF-8 labels, which has the address",
                          lambda q: _cname_then_a(q, ["\u00e9".encode() * 31] * 3
                                                  + ["\u00e9".encode() * 20, b"lab", b"test"])),
    "many_addresses": DnsMove("300 A records in one 5 KB datagram (no EDNS asked for)",
                              _many_addresses(300)),
    "tc_then_silent": DnsMove("a truncated (TC) answer; over TCP, silence", _tc,
                              lambda p: p.hold()),
    "tc_then_reset": DnsMove("a TC answer; over TCP, a reset once the query is in", _tc,
                             _tcp_then(lambda p, q: p.reset())),
    "tc_then_close": DnsMove("a TC answer; over TCP, a close once the query is in", _tc,
                             _tcp_then(lambda p, q: p.close())),
    "tc_then_garbage": DnsMove("a TC answer; over TCP, a 200-byte frame of random bytes", _tc,
                               _tcp_then(lambda p, q: p.send(_frame(_garbage_dns(q))))),
    "tc_then_truncated": DnsMove("a TC answer; over TCP, a frame that says 200 bytes and holds 20",
                                 _tc, _tcp_then(lambda p, q: _then_close(
                                     p, struct.pack("!H", 200) + q.reply_ok()[:20]))),
    "tc_then_drip": DnsMove("a TC answer; over TCP, the good answer one byte every 100 ms", _tc,
                            _tcp_then(lambda p, q: p.drip(_frame(q.reply_ok())))),
    "tc_then_loop": DnsMove("a TC answer; over TCP, an answer with a compression loop", _tc,
                            _tcp_then(lambda p, q: p.send(_frame(_compression_loop(q))))),
    "tc_then_oversized": DnsMove("a TC answer; over TCP, a 64 KB answer of 4,000 A records", _tc,
                                 _tcp_then(_tcp_oversized)),
}


# --- certificates with hostile names ---------------------------------------------------

# Placeholders the certificate is made with, then replaced in its DER by bytes of the same
# length that openssl would not put there (its signature no longer verifies: the
# handshake completes and the client reports the names of an untrusted certificate).
_CN_HOLDER = b"cn-placeholder-0123456789abcdef0123456789abcdef.lab.test"
_SAN_HOLDER = b"san-placeholder-" + b"s" * 200 + b".lab.test"
UTF8STRING, T61STRING = 0x0C, 0x14

CERTS = {
    "hostile_names": ("a certificate whose subject CN and DNS name hold escapes, \\xff\\xfe, "
                      "NUL, CR LF and a C1 control",
                      HOSTILE_NUL_CR, HOSTILE_NUL_CR),
    "long_names": ("a certificate whose DNS name is 225 bytes of UTF-8 and whose subject CN "
                   "is 57 bytes of it",
                   "\u00e9".encode() * 28 + b"x", "\u2603".encode() * 75),
}


def hostile_cert(certs, kind):
    """A certificate of CERTS[kind] for lab.Certs `certs`: returns (cert file, key file)."""
    _, cn, san = CERTS[kind]
    leaf = certs.leaf(f"hostile-{kind}", [_CN_HOLDER.decode(), _SAN_HOLDER.decode()])
    with open(leaf.cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())

    def fill(holder, value):
        return (value * (len(holder) // len(value) + 1))[:len(holder)]

    # The CN: a UTF8String, which OpenSSL refuses to load unless it is valid UTF-8; a
    # T61String (read as Latin-1) takes any bytes.
    cn_tlv = bytes([UTF8STRING, len(_CN_HOLDER)]) + _CN_HOLDER
    if der.count(cn_tlv) != 1:
        raise ValueError("the placeholder CN is not in the certificate")
    try:
        fill(_CN_HOLDER, cn).decode("utf-8")
        tag = UTF8STRING
    except UnicodeDecodeError:
        tag = T61STRING
    der = der.replace(cn_tlv, bytes([tag, len(_CN_HOLDER)]) + fill(_CN_HOLDER, cn))
    # The DNS names (IA5String, never checked on load): the CN's copy and the long one.
    for holder, value in ((_CN_HOLDER, cn), (_SAN_HOLDER, san)):
        if der.count(holder) != 1:
            raise ValueError(f"the placeholder DNS name {holder[:20]!r} is not in the certificate")
        der = der.replace(holder, fill(holder, value))
    path = leaf.cert.replace(".pem", "-patched.pem")
    with open(path, "w") as f:
        f.write(ssl.DER_cert_to_PEM_cert(der))
    return path, leaf.key


# --- the servers -------------------------------------------------------------------------

def _serve_stream(server, listener, proto, move):
    def handle(conn):
        peer = Peer(conn, proto, server)
        try:
            if move.early or peer.read_request():
                move.act(peer)
                peer.hold()
        except Gone:
            pass
        except Exception as exc:    # a bug of the move's, not the client's doing: show it
            print(f"hostile.py {proto}: {exc!r}", file=sys.stderr, flush=True)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    while True:
        conn, _ = listener.accept()
        if server.tls and proto not in ("tls", "dns"):
            # The application's move after a good handshake: start_tls first, on its
            # own thread (a client that never finishes must not hold the others up).
            threading.Thread(target=_tls_then, args=(conn, proto, server, handle),
                             daemon=True).start()
        else:
            threading.Thread(target=handle, args=(conn,), daemon=True).start()


def _tls_then(conn, proto, server, handle):
    peer = Peer(conn, proto, server)
    try:
        peer.start_tls()
    except Gone:
        conn.close()
        return
    handle(peer.sock)


def _listen_tcp(address, port):
    s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(128)
    return s


def _serve_dns_udp(server, sock, move):
    while True:
        data, client = sock.recvfrom(4096)
        if len(data) < 12:
            continue
        try:
            reply = move.udp(DnsQuery(data, server))
        except Exception as exc:   # a move's bug must show, not kill the server
            print(f"hostile.py dns: {exc!r}", file=sys.stderr, flush=True)
            continue
        if reply is not None:
            sock.sendto(reply, client)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="list every move")
    ap.add_argument("kind", nargs="?", choices=("dns", "http", "redis", "mqtt", "tls"))
    ap.add_argument("move", nargs="?")
    ap.add_argument("--listen", help="ADDR:PORT (dns: ADDR, port 53)")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="certificate and key")
    ap.add_argument("--app", choices=("http", "redis", "mqtt"), help="tls: what answers after it")
    ap.add_argument("--name", default="svc.lab.test", help="dns: the name it serves")
    ap.add_argument("--address", default="10.0.2.23", help="dns: the address it answers")
    args = ap.parse_args(argv)
    if args.list:
        for kind, table in (("dns", DNS), *STREAM.items()):
            for name, move in table.items():
                print(f"{kind} {name}\t{move.doc}")
        for name, (doc, _, _) in CERTS.items():
            print(f"cert {name}\t{doc}")
        return 0
    table = DNS if args.kind == "dns" else STREAM.get(args.kind, {})
    if not args.move or args.move not in table or not args.listen:
        ap.error(f"KIND MOVE --listen are needed; {args.kind} moves: {', '.join(table)}")
    if args.kind == "tls" and not (args.tls and args.app):
        ap.error("tls needs --tls CERT KEY and --app")
    server = argparse.Namespace(tls=args.tls, app=args.app, name=args.name, address=args.address,
                                ctx=None)
    if args.tls:   # loaded once, now: a certificate that does not load fails the start
        server.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.ctx.load_cert_chain(*args.tls)
    move = table[args.move]
    if args.kind == "dns":
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((args.listen, 53))
        tcp = _listen_tcp(args.listen, 53)
        tcp_move = Move(move.doc, move.tcp or _tcp_then(
            lambda p, q: p.send(_frame(move.udp(q) or b""))), early=True)
        threading.Thread(target=_serve_stream, args=(server, tcp, "dns", tcp_move),
                         daemon=True).start()
        print("ready", flush=True)
        return _serve_dns_udp(server, udp, move)     # serves until killed
    address, _, port = args.listen.rpartition(":")
    listener = _listen_tcp(address.strip("[]"), int(port))
    print("ready", flush=True)
    _serve_stream(server, listener, args.kind, move)
    return 0


if __name__ == "__main__":
    sys.exit(main())
