#!/usr/bin/python3
"""Service checks through the real binary, against servers on loopback: what the
plan records (profile presets, the expected status, the environment's proxy
settings) and how TLS, HTTP and Redis findings come out. No root, no DNS: every
target is a loopback address, and capture is off.

usage: test_services.py LINKDOCTOR_BINARY SOURCE_DIR
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

BINARY = None
SOURCE = None


class Server:
    """A loopback TCP server answering each connection with `reply` (optionally over TLS)."""

    def __init__(self, reply, tls_files=None):
        self.reply, self.requests = reply, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if tls_files:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*tls_files)
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                if self.ctx:
                    conn = self.ctx.wrap_socket(conn, server_side=True)
                self.requests.append(conn.recv(4096))
                conn.sendall(self.reply)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


class Services(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.cert = os.path.join(cls.dir.name, "cert.pem")
        cls.key = os.path.join(cls.dir.name, "key.pem")
        # A self-signed certificate for 127.0.0.1: its own CA for --cacert.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-keyout", cls.key, "-out", cls.cert, "-subj", "/CN=lab",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def check(self, *args, env=None):
        """Runs check --format json; returns (exit code, the one target's report)."""
        full_env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        full_env["LINKDOCTOR_DMI_DIR"] = self.dir.name  # no cloud
        full_env.update(env or {})
        p = subprocess.run([BINARY, "check", "--capture", "off", "--cloud", "none",
                            "--format", "json", *args],
                           capture_output=True, text=True, timeout=20, env=full_env)
        self.assertEqual(p.stderr, "")
        report = json.loads(p.stdout)
        self.assertEqual(report["exit_code"], p.returncode)
        return p.returncode, report["targets"][0]

    def ids(self, t):
        return sorted(d["id"] for d in t["diagnoses"])

    def test_profile_presets_https_and_the_expected_400(self):
        s = Server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", (self.cert, self.key))
        try:
            code, t = self.check("--profile", "zilliz", f"127.0.0.1:{s.port}",
                                 "--cacert", self.cert)
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (0, ["ok"]))
        f = t["facts"]
        self.assertEqual((t["scheme"], f["target.profile"]), ("https", "zilliz"))
        self.assertEqual((f["http.status"], f["http.expected_status"]), (400, "400"))
        self.assertEqual((f["tls.result"], f["tls.trusted"], f["tls.name_matches"]),
                         ("ok", True, True))
        self.assertTrue(any(r.startswith(b"GET / HTTP/1.1\r\n") for r in s.requests))

    def test_without_the_ca_the_chain_is_untrusted_but_the_status_still_counts(self):
        s = Server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", (self.cert, self.key))
        try:
            code, t = self.check("--profile", "zilliz", f"127.0.0.1:{s.port}")
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (2, ["tls.untrusted"]))
        self.assertEqual(t["facts"]["http.status"], 400)
        self.assertIn("self-signed", t["facts"]["tls.verify"])

    def test_explicit_expectation_beats_the_profile(self):
        s = Server(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", (self.cert, self.key))
        try:
            code, t = self.check("--profile", "zilliz", f"127.0.0.1:{s.port}", "--cacert",
                                 self.cert, "--expect-status", "2xx,403")
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (0, ["ok"]))
        self.assertEqual(t["facts"]["http.expected_status"], "2xx,403")

    def test_unexpected_status_names_what_came_and_what_was_expected(self):
        s = Server(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        try:
            code, t = self.check(f"http://127.0.0.1:{s.port}/health", "--expect-status", "200")
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (2, ["http.unexpected_status"]))
        self.assertIn("503", t["diagnoses"][0]["title"])
        self.assertTrue(any(r.startswith(b"GET /health HTTP/1.1\r\n") for r in s.requests))

    def test_proxy_in_the_environment_is_reported_and_not_used(self):
        s = Server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        try:
            code, t = self.check(f"http://127.0.0.1:{s.port}",
                                 env={"http_proxy": "http://user:secret@127.0.0.9:9",
                                      "no_proxy": "other.test"})
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (1, ["http.proxy_in_use"]))
        f = t["facts"]
        self.assertEqual((f["http.proxy"], f["http.proxy_variable"], f["http.no_proxy"]),
                         ("http://***@127.0.0.9:9", "http_proxy", "other.test"))
        self.assertEqual(f["http.status"], 200)  # it went direct, not to the proxy
        self.assertNotIn("secret", json.dumps(t))

    def test_no_proxy_exempting_the_host_is_not_a_finding(self):
        s = Server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        try:
            code, t = self.check(f"http://127.0.0.1:{s.port}",
                                 env={"http_proxy": "http://127.0.0.9:9", "NO_PROXY": "127.0.0.0/8"})
        finally:
            s.close()
        self.assertEqual((code, self.ids(t)), (0, ["ok"]))
        self.assertFalse(t["facts"]["http.proxy_would_be_used"])

    def test_proxy_facts_are_recorded_even_when_nothing_opens(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]  # bound, not listening: refused
            code, t = self.check(f"https://127.0.0.1:{port}",
                                 env={"HTTPS_PROXY": "http://127.0.0.9:9"})
        self.assertEqual(code, 2)
        self.assertIn("tcp.refused", self.ids(t))
        self.assertTrue(t["facts"]["http.proxy_would_be_used"])

    def test_redis_pong_and_a_non_redis_reply(self):
        good = Server(b"+PONG\r\n")
        bad = Server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        try:
            code, t = self.check(f"redis://127.0.0.1:{good.port}")
            self.assertEqual((code, self.ids(t)), (0, ["ok"]))
            self.assertEqual(good.requests[0], b"PING\r\n")
            code, t = self.check(f"redis://127.0.0.1:{bad.port}")
            self.assertEqual((code, self.ids(t)), (2, ["redis.unexpected_reply"]))
            self.assertEqual(t["facts"]["redis.reply"], "HTTP/1.1 400 Bad Request")
        finally:
            good.close()
            bad.close()


if __name__ == "__main__":
    BINARY, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
