#!/usr/bin/python3
"""Bad input through the real binary: one clear line on stderr naming the input
and the problem, exit code 3, nothing on stdout, no report file. Never a crash,
never a hang.

usage: test_bad_input.py LINKDOCTOR_BINARY SOURCE_DIR

Targets here are loopback literals or are rejected before any lookup, so no
case can reach this machine's resolver even if parsing wrongly accepted it.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BINARY = None
SOURCE = None


class BadInput(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.dir.name, "report.json")

    def tearDown(self):
        self.dir.cleanup()

    def refuse(self, args, *phrases, out_flag=True, env=None):
        """Runs linkdoctor with args (+ -o report.json) and checks the refusal."""
        argv = [BINARY] + args + (["-o", self.out] if out_flag else [])
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, LINKDOCTOR_DMI_DIR=self.dir.name, **(env or {})))
        lines = p.stderr.splitlines()
        self.assertEqual(p.returncode, 3, f"{args}: exit {p.returncode}, stderr {p.stderr!r}")
        self.assertEqual(len(lines), 1, f"{args}: want one line, got {p.stderr!r}")
        self.assertTrue(lines[0].startswith("linkdoctor: "), lines[0])
        for phrase in phrases:
            self.assertIn(phrase, lines[0])
        self.assertEqual(p.stdout, "")
        self.assertEqual(os.listdir(self.dir.name), [], "a report file was created")
        return lines[0]

    def test_port_out_of_range(self):
        self.refuse(["check", "127.0.0.1:65536"], "127.0.0.1:65536", "out of range")
        self.refuse(["check", "127.0.0.1:0"], "127.0.0.1:0", "out of range")

    def test_empty_and_malformed_targets(self):
        self.refuse(["check", ""], "empty target")
        self.refuse(["check", "127.0.0.1"], "missing port")
        self.refuse(["check", "a..b:80"], "a..b:80", "empty label")
        self.refuse(["check", "2001:db8::1:443"], "brackets")
        self.refuse(["check", "ftp://x.example:21"], "unsupported scheme")
        self.refuse(["check", "127.0.0.1:80", "bad host:80"], "bad host:80")

    def test_host_name_too_long(self):
        name = ".".join(["a" * 63] * 4) + ":80"
        self.refuse(["check", name], "DNS allows 253")
        self.refuse(["check", "a" * 64 + ".example:80"], "DNS allows 63")

    def test_non_numeric_and_out_of_range_timeouts(self):
        self.refuse(["check", "127.0.0.1:9", "--timeout", "abc"], "--timeout", "'abc'")
        self.refuse(["check", "127.0.0.1:9", "--timeout", "0"], "--timeout", "more than 0")
        self.refuse(["check", "127.0.0.1:9", "--connect-timeout", "-1"], "--connect-timeout")
        self.refuse(["check", "127.0.0.1:9", "--timeout", "nan"], "--timeout")
        self.refuse(["check", "127.0.0.1:9", "--timeout", "1e9"], "more than a day")

    def test_invalid_endpoint_ip_and_dns_server(self):
        self.refuse(["check", "127.0.0.1:9", "--endpoint-ip", "10.0.0.300"], "--endpoint-ip",
                    "10.0.0.300")
        self.refuse(["check", "127.0.0.1:9", "--endpoint-ip", "host.example"], "--endpoint-ip")
        self.refuse(["check", "127.0.0.1:9", "--dns-server", "dns.example"], "--dns-server",
                    "dns.example")
        self.refuse(["check", "127.0.0.1:9", "--dns-server", "10.0.0.2:99999"], "--dns-server")

    def test_unknown_option_format_and_command(self):
        self.refuse(["check", "127.0.0.1:9", "--frobnicate"], "--frobnicate")
        self.refuse(["check", "127.0.0.1:9", "-x"], "-x")
        self.refuse(["check", "127.0.0.1:9", "--format", "xml"], "--format", "xml")
        self.refuse(["check", "127.0.0.1:9", "--format", "nagios2"], "--format", "nagios2",
                    "text, json, markdown, nagios or prometheus")
        self.refuse(["check", "127.0.0.1:9", "--cloud", "oracle"], "--cloud", "oracle")
        self.refuse(["check", "127.0.0.1:9", "--timeout"], "--timeout needs a value", out_flag=False)
        self.refuse(["frobnicate"], "frobnicate", out_flag=False)
        self.refuse(["check"], "no target", out_flag=False)

    def test_show_refuses_what_is_not_a_report_it_reads(self):
        src = tempfile.TemporaryDirectory()
        self.addCleanup(src.cleanup)

        def write(name, text):
            path = os.path.join(src.name, name)
            with open(path, "w") as f:
                f.write(text)
            return path

        good = write("good.json", json.dumps({"schema": "linkdoctor.report/1", "verdict": "ok",
                                              "targets": []}))
        missing = os.path.join(src.name, "missing.json")
        self.refuse(["show", missing], missing, "No such file")
        self.refuse(["show", write("cut.json", '{"schema": "linkdoctor.report/1", "tar')],
                    "cut.json", "not valid JSON")
        self.refuse(["show", write("new.json", '{"schema": "linkdoctor.report/2"}')],
                    "new.json", "linkdoctor.report/2 is newer")
        self.refuse(["show", write("other.json", '{"a": 1}')], "other.json",
                    "not a linkdoctor report")
        self.refuse(["show", write("bad.json", '{"schema": "linkdoctor.report/1", "verdict": '
                                               '"ok", "targets": [{"verdict": "ok", "facts": '
                                               '{"tcp.open_count": "1"}, "diagnoses": []}]}')],
                    "bad.json", "targets[0]", "tcp.open_count")
        self.refuse(["show", good, "--format", "xml"], "--format", "xml")
        self.refuse(["show", good, "--endpoint-ip", "10.0.0.1"], "--endpoint-ip",
                    "not an option of linkdoctor show")
        self.refuse(["show"], "no report", out_flag=False)
        self.refuse(["show", good, good], "one report at a time")

    def test_save_json_is_a_second_file(self):
        self.refuse(["check", "127.0.0.1:9", "--save-json", self.out], "-o and --save-json",
                    "same file")
        self.refuse(["check", "127.0.0.1:9", "--save-json", self.dir.name], "--save-json",
                    "directory")
        self.refuse(["check", "127.0.0.1:9", "--watch", "1", "--save-json",
                     os.path.join(self.dir.name, "w.json")], "--watch", "--save-json",
                    out_flag=False)

    def test_bad_cloud_options(self):
        # Refused before any work: no metadata service or resolver is ever asked.
        self.refuse(["check", "127.0.0.1:9", "--imds-endpoint", "169.254.169.254"],
                    "--imds-endpoint", "http://")
        self.refuse(["check", "127.0.0.1:9", "--imds-endpoint", "http://"], "--imds-endpoint",
                    "no host")
        self.refuse(["check", "127.0.0.1:9", "--imds-endpoint", "http://h/x?y=1"],
                    "--imds-endpoint", "query")
        line = self.refuse(["check", "127.0.0.1:9", "--imds-endpoint", "ftp://u:secret@h/"],
                           "--imds-endpoint")
        self.assertNotIn("secret", line)
        self.refuse(["check", "127.0.0.1:9"], "LINKDOCTOR_IMDS_ENDPOINT", "http://",
                    env={"LINKDOCTOR_IMDS_ENDPOINT": "metadata.internal"})
        self.refuse(["check", "127.0.0.1:9", "--cloud-resolver", "resolver.example"],
                    "--cloud-resolver", "resolver.example")
        self.refuse(["check", "127.0.0.1:9", "--cloud-resolver", "10.0.0.2:0"], "--cloud-resolver")
        self.refuse(["check", "127.0.0.1:9", "--expect-az-id", "USE1-AZ1"], "--expect-az-id",
                    "USE1-AZ1")
        self.refuse(["check", "127.0.0.1:9", "--expect-az-id", ","], "--expect-az-id", "empty")
        # A zone NAME (it differs between accounts) would always fire cloud.az_mismatch.
        line = self.refuse(["check", "127.0.0.1:9", "--expect-az-id", "use1-az1,us-east-1a"])
        self.assertEqual(line, "linkdoctor: --expect-az-id us-east-1a: that is an availability "
                         "zone name; give its AZ ID (e.g. use1-az4: aws ec2 "
                         "describe-availability-zones)")
        self.refuse(["check", "127.0.0.1:9", "--expect-az-id", "use1-az1 x"], "--expect-az-id")
        self.refuse(["check", "127.0.0.1:9", "--expect-az-id", ",".join(["use1-az1"] * 9)],
                    "--expect-az-id", "at most 8")
        self.refuse(["analyze", "x.pcap", "--imds-endpoint", "http://h"], "--imds-endpoint",
                    "not an option of linkdoctor analyze")

    def test_bad_monitoring_options(self):
        self.refuse(["check", "127.0.0.1:9", "--watch", "0"], "--watch", "more than 0")
        self.refuse(["check", "127.0.0.1:9", "--watch", "1"], "--watch", "-o")
        self.refuse(["check", "127.0.0.1:9", "--warning", "connect=abc"], "--warning",
                    "connect=abc")
        self.refuse(["check", "127.0.0.1:9", "--critical", "20:10"], "--critical", "above its end")
        self.refuse(["check", "127.0.0.1:9", "--warning", "dns=1"], "--warning", "connect=")
        self.refuse(["check", "127.0.0.1:9", "--warning", "1", "--warning", "total=2"],
                    "--warning", "given twice")

    def test_bad_input_for_nagios_is_also_the_plugin_status(self):
        # Nagios shows only stdout: the refusal is there too, as an UNKNOWN status line,
        # whether --format nagios comes before or after the bad option.
        sys.path.insert(0, os.path.join(SOURCE, "tests"))
        import nagios_check
        targets = os.path.join(self.dir.name, "targets")
        with open(targets, "w") as f:
            f.write("x..y:80\n")
        for args in (["a..b:80", "--format", "nagios"],
                     ["127.0.0.1:9", "--warning", "x", "--format", "nagios"],
                     ["127.0.0.1:9", "--format=nagios", "--critical", "20:10"],
                     ["--targets", targets, "--format", "nagios"]):
            p = subprocess.run([BINARY, "check", *args], capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(p.returncode, 3, f"{args}: {p.stderr!r}")
            (line,) = p.stderr.splitlines()
            self.assertEqual(p.stdout, line.replace("linkdoctor: ", "LINKDOCTOR UNKNOWN - ", 1)
                             + "\n", args)
            self.assertEqual(nagios_check.check(p.stdout), ("UNKNOWN", {}), args)

    def test_bad_targets_files(self):
        bad = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-targets")
        cases = [
            ("127.0.0.1:9\n\n# ok\nx..y:80\n", [f"{bad}:4:", "x..y:80", "empty label"]),
            ("127.0.0.1:9 --timeout 3\n", [f"{bad}:1:", "--timeout", "whole run"]),
            ("127.0.0.1:9 'open\n", [f"{bad}:1:", "unterminated"]),
            ("127.0.0.1:9 127.0.0.1:10\n", [f"{bad}:1:", "more than one target"]),
            ("127.0.0.1:9 --frobnicate\n", [f"{bad}:1:", "--frobnicate"]),
            ("--endpoint-ip 127.0.0.2\n", [f"{bad}:1: no target"]),   # options alone
            ("# c\n127.0.0.1:9\n --dns-server 127.0.0.2 # x\n", [f"{bad}:3: no target"]),
            ("# nothing\n", ["no target"]),
        ]
        try:
            for text, phrases in cases:
                with open(bad, "w") as f:
                    f.write(text)
                self.refuse(["check", "--targets", bad], *phrases)
        finally:
            os.unlink(bad)
        self.refuse(["check", "--targets", "/nonexistent/targets"], "--targets",
                    "/nonexistent/targets")

    def test_bad_service_options(self):
        self.refuse(["check", "127.0.0.1:9", "--profile", "nope"], "--profile", "'nope'")
        self.refuse(["check", "https://127.0.0.1", "--expect-status", "6xx"], "--expect-status",
                    "6xx")
        self.refuse(["check", "https://127.0.0.1", "--expect-status", "400-200"],
                    "--expect-status")
        self.refuse(["check", "https://127.0.0.1", "--cacert", "/nonexistent/ca.pem"], "--cacert",
                    "/nonexistent/ca.pem")
        self.refuse(["check", "https://127.0.0.1", "--sni", "bad name"], "--sni")
        self.refuse(["check", "https://127.0.0.1", "--cert-warn-days", "-1"], "--cert-warn-days")
        # The profile supplies the port a bare host lacks, but not a bad one.
        self.refuse(["check", "--profile", "zilliz", "a..b"], "a..b")
        junk = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-ca.pem")
        try:
            with open(junk, "w") as f:
                f.write("not a certificate\n")
            self.refuse(["check", "https://127.0.0.1", "--cacert", junk], junk)
        finally:
            os.unlink(junk)

    def test_bad_capture_options(self):
        self.refuse(["check", "127.0.0.1:9", "--capture", "maybe"], "--capture", "'maybe'")
        self.refuse(["check", "127.0.0.1:9", "--interface", "a/b"], "--interface")
        # As root: no such interface; otherwise: no permission to capture. Either way
        # the run must not start.
        self.refuse(["check", "127.0.0.1:9", "--capture", "on", "--interface", "nosuchif0"],
                    "nosuchif0" if os.geteuid() == 0 else "--capture on")

    def test_unreadable_or_malformed_capture_files(self):
        empty = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-empty.pcap")
        junk = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-junk.pcap")
        try:
            open(empty, "w").close()
            with open(junk, "wb") as f:
                f.write(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n" * 4)
            self.refuse(["analyze", empty], empty, "empty")
            self.refuse(["analyze", junk], junk, "not a pcap")
            self.refuse(["analyze", "/nonexistent/capture.pcap"], "/nonexistent/capture.pcap")
            self.refuse(["analyze", "/tmp"], "/tmp", "directory")
            self.refuse(["analyze"], "no capture file", out_flag=False)
            self.refuse(["analyze", empty, "--frobnicate"], "--frobnicate")
            self.refuse(["analyze", empty, "--target", "h:99999"], "--target", "out of range")
        finally:
            os.unlink(empty)
            os.unlink(junk)

    def test_unreadable_or_malformed_rules(self):
        self.refuse(["check", "127.0.0.1:9", "--rules", "/nonexistent/rules.json"],
                    "/nonexistent/rules.json")
        bad = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-bad.json")
        try:
            with open(bad, "w") as f:
                f.write('{"linkdoctor_rules": 1, "rules": [{"id": "x.y", "severity": "critical",'
                        ' "when": "tcp.nope > 0", "title": "t", "description": "d",'
                        ' "summary": "s", "remediation": {"generic": "g"}}]}')
            self.refuse(["check", "127.0.0.1:9", "--rules", bad], "unknown fact", "tcp.nope")
            with open(bad, "w") as f:
                f.write('{"linkdoctor_rules": 1, "rules": [')
            self.refuse(["check", "127.0.0.1:9", "--rules", bad], "malformed JSON")
            self.refuse(["rules", "lint", bad], "malformed JSON", out_flag=False)
        finally:
            os.unlink(bad)

    def test_output_in_missing_directory(self):
        p = subprocess.run([BINARY, "check", "127.0.0.1:9", "-o", "/nonexistent-dir/r.json"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 3)
        self.assertEqual(len(p.stderr.splitlines()), 1)
        self.assertIn("/nonexistent-dir", p.stderr)
        self.assertFalse(os.path.exists("/nonexistent-dir"))

    def test_echoes_are_one_line_without_control_characters(self):
        line = self.refuse(["check", "127.0.0.1:9", "--cloud", "aws\nfake"], "--cloud")
        self.assertIn("'aws\\x0afake'", line)
        line = self.refuse(["check", "127.0.0.1:9", "--cloud", "aws\x1b[31m"], "--cloud")
        self.assertIn("aws\\x1b[31m", line)
        self.refuse(["check", "127.0.0.1:9\x1b]0;title\x07"], "control characters")
        self.refuse(["check", "127.0.0.1:9", "--sni", "a\u202eb"], "--sni", "\\u202e")

    def test_errors_never_echo_a_password_or_a_token(self):
        for target in ("redis://u:s3cret@[::1", "redis://u:s3c/ret@cache.internal",
                       "http://u:s3cret@a..b/", "http://127.0.0.1:99999/?token=s3cret",
                       "https://127.0.0.1:0/?x=1&Password=s3cret"):
            line = self.refuse(["check", target], "target")
            self.assertNotIn("s3c", line)
        self.assertIn("?token=***'", self.refuse(["check", "http://127.0.0.1:0/?token=s3cret"]))
        self.refuse(["analyze", "x.pcap", "--target", "tcp://u:s3cret@h:99999"], "--target")
        line = self.refuse(["analyze", "x.pcap", "--target", "tcp://u:s3cret@h:99999"])
        self.assertNotIn("s3cret", line)

    def test_rules_and_cacert_must_be_regular_files(self):
        # A pipe (/dev/stdin fed by a stalled program) or a FIFO would block the run
        # before it starts, past --timeout.
        fifo = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + ".fifo")
        os.mkfifo(fifo)
        try:
            for opt, target in (("--rules", "127.0.0.1:9"), ("--cacert", "https://127.0.0.1")):
                t = time.monotonic()
                self.refuse(["check", target, opt, fifo, "--timeout", "1"], opt, "not a regular file")
                self.assertLess(time.monotonic() - t, 1.0)
            stalled = subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE)
            try:
                p = subprocess.run([BINARY, "check", "127.0.0.1:9", "--rules", "/dev/stdin",
                                    "--timeout", "1"], stdin=stalled.stdout, capture_output=True,
                                   text=True, timeout=10)
            finally:
                stalled.kill()
                stalled.wait()
                stalled.stdout.close()
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn("--rules /dev/stdin: a pipe, not a regular file", p.stderr)
            self.refuse(["rules", "lint", fifo], "not a regular file", out_flag=False)
        finally:
            os.unlink(fifo)

    def test_rule_strings_with_nul_or_control_characters(self):
        bad = os.path.join(self.dir.name, "..", os.path.basename(self.dir.name) + "-nul.json")
        rule = ('{"linkdoctor_rules": 1, "rules": [{"id": "x.y", "severity": "critical", '
                '"when": %s, "title": %s, "description": "d", "summary": "s", '
                '"remediation": {"generic": "g"}}]}')
        try:
            with open(bad, "w") as f:
                f.write(rule % ('"tcp.timeout_count > 0\\u0000 && false"', '"t"'))
            self.refuse(["rules", "lint", bad], "rule 'x.y'", "when", "NUL", out_flag=False)
            with open(bad, "w") as f:
                f.write(rule % ('"tcp.timeout_count > 0"', '"t\\u001b[2J"'))
            self.refuse(["check", "127.0.0.1:9", "--rules", bad], "rule 'x.y'", "title",
                        "control character")
        finally:
            os.unlink(bad)

    def test_unknown_diagnosis_id(self):
        self.refuse(["explain", "tcp.nope"], "tcp.nope", out_flag=False)


class GoodInput(unittest.TestCase):
    """The same entry points succeed on good input (so the refusals above are
    about the input, not a broken binary)."""

    def run_ok(self, args):
        p = subprocess.run([BINARY] + args, capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return p.stdout

    def test_help_version_rules_and_explain(self):
        self.assertIn("usage: linkdoctor check", self.run_ok(["check", "--help"]))
        self.assertIn("linkdoctor ", self.run_ok(["--version"]))
        listing = self.run_ok(["rules", "list"])
        for rule in ("dns.no_record", "tcp.syn_dropped", "tcp.partial", "ok"):
            self.assertIn(rule, listing)
        self.assertIn("tcp.timeout_count", self.run_ok(["rules", "facts"]))
        explained = self.run_ok(["explain", "tcp.syn_dropped"])
        self.assertIn("Fix (aws):", explained)
        self.assertIn("security group", explained)
        profiles = self.run_ok(["profiles"])
        self.assertIn("zilliz\n  https://HOST:19530, expect status 400", profiles)
        self.assertIn("\n  aws name: CLUSTER.aws-REGION.vectordb.zillizcloud.com (zilliz.aws)\n"
                      "  gcp name: CLUSTER.gcp-REGION.vectordb.zillizcloud.com (zilliz.gcp)\n"
                      "  azure name: CLUSTER-privatelink.az-REGION.vectordb.zillizcloud.com "
                      "(zilliz.azure)\n  A Zilliz Cloud cluster", profiles)
        self.assertIn("emqx-redis", profiles)
        self.assertIn("valid", self.run_ok(["rules", "lint",
                                            os.path.join(SOURCE, "tests/data/site-rules.json")]))


class Secrets(unittest.TestCase):
    """Token-like query parameters never reach a report, a trace or a message."""

    def test_token_in_the_query_is_masked_everywhere(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        requests = []

        def serve():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                with c:
                    requests.append(c.recv(65536))
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        threading.Thread(target=serve, daemon=True).start()
        try:
            target = f"http://127.0.0.1:{port}/q?access_token=s3cret&page=2"
            for fmt in ("json", "text"):
                p = subprocess.run([BINARY, "check", target, "-v", "--format", fmt, "--capture",
                                    "off", "--cloud", "none"], capture_output=True, text=True,
                                   timeout=20)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertNotIn("s3cret", p.stdout + p.stderr)
                self.assertIn("access_token=***&page=2", p.stdout)
                if fmt == "json":
                    facts = json.loads(p.stdout)["targets"][0]["facts"]
                    self.assertEqual(facts["target.path"], "/q?access_token=***&page=2")
        finally:
            srv.close()
        # What is sent is the real query: the service gets what the user asked for.
        sent = [r for r in requests if r]   # the TCP check connects and sends nothing
        self.assertTrue(sent and all(r.startswith(b"GET /q?access_token=s3cret&page=2 HTTP/1.1")
                                     for r in sent), sent)


if __name__ == "__main__":
    BINARY, SOURCE = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
