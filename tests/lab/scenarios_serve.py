"""scenarios_serve.py - `linkdoctor serve` (issue 10) through the real binary in the lab:
probes of healthy and dropped targets checked by promtool, bad requests, the concurrency
limit, SIGHUP reloading the rules, SIGTERM draining, no capability left once serving,
300 probes 50 at a time with the server's memory bounded, and a real Prometheus
scraping it with the multi-target relabelling, queried for the diagnosis series.

The server and every client run in the client namespace (the server listens on its
127.0.0.1); clients are tests/lab/http_load.py, run with Lab.run_in_client.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.parse

import scenarios as S
from scenarios import NAME, NO_CAPS, PORT, ZONE_A, ZONE_B, expect, expect_eq, expect_in

HTTP_LOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_load.py")
LISTEN = "127.0.0.1:9810"
HEALTHY = f"{NAME}:{PORT}"            # resolves to ZONE_A, which listens
DROPPED = f"{ZONE_B}:{PORT}"          # ZONE_B's security group drops TCP 19530


def probe_url(target, **params):
    return f"http://{LISTEN}/probe?" + urllib.parse.urlencode({"target": target, **params})


class Serve:
    """linkdoctor serve in the client namespace, as root (it opens its capture and then
    drops to nobody); stopped by its PID when the scenario ends."""

    def __init__(self, lab, *args):
        self.lab = lab
        argv = [lab.binary, "serve", "--listen", LISTEN, "--cloud", "none", *args]
        env = dict(os.environ, LINKDOCTOR_DMI_DIR=lab.dmi_dir)
        self.p = subprocess.Popen(lab.exec_argv(lab.client, *argv), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.log = b""
        self.wait_log("serving on", within=10)

    def wait_log(self, words, within=5):
        """Reads the server's stderr until a line has `words`; returns the log so far."""
        fd = self.p.stderr.fileno()
        deadline = time.monotonic() + within
        while words.encode() not in self.log:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                raise S.L.CheckFailed(f"the server never said {words!r}:\n{self.log.decode()}")
            self.log += chunk
        return self.log.decode()

    def get(self, *urls, concurrency=1, headers=(), limit=60):
        """GETs the URLs from inside the client namespace; returns their results."""
        argv = [sys.executable, HTTP_LOAD, *urls, "--concurrency", str(concurrency)]
        for h in headers:
            argv += ["--header", h]
        p, _ = self.lab.run_in_client(*argv, limit=limit)
        expect_eq(p.returncode, 0, f"the client ({p.stderr})")
        return [json.loads(line) for line in p.stdout.splitlines()]

    def stop(self, sig=signal.SIGTERM, within=10):
        """Signals the server; returns its exit code and the whole log."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            _, err = self.p.communicate(timeout=within)
        except subprocess.TimeoutExpired:
            self.p.kill()
            _, err = self.p.communicate()
            raise S.L.CheckFailed(f"the server still ran {within} s after {sig!r}")
        self.log += err
        return self.p.returncode, self.log.decode()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def lab_with_targets(lab):
    lab.start_service(PORT, [ZONE_A, ZONE_B], NAME, records={NAME: [ZONE_A]})
    lab.block("endpoint", ZONE_B, PORT)


def promtool(text, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    expect_eq((p.returncode, p.stdout + p.stderr), (0, ""), f"promtool check metrics: {what}")


@S.scenario("serve.probe", timed=True)
def serve_probe(lab):
    lab_with_targets(lab)
    s = Serve(lab)
    try:
        ok, dropped = s.get(probe_url(HEALTHY), probe_url(DROPPED), concurrency=2)
        for r in (ok, dropped):
            expect_eq(r["status"], 200, f"status of {r['url']}")
            promtool(r["body"], r["url"])
        expect_in(f'linkdoctor_diagnosis{{target="{HEALTHY}",id="ok",severity="ok",'
                  'confidence="high"} 1', ok["body"], "the healthy probe")
        expect_in(f'linkdoctor_diagnosis{{target="{DROPPED}",id="tcp.syn_dropped",'
                  'severity="critical",confidence="high"} 1', dropped["body"], "the drop")
        expect_in("linkdoctor_probe_duration_seconds ", dropped["body"], "the probe's duration")
        expect(dropped["seconds"] < 2.0 + S.L.TIME_SLACK,
               f"the drop proven by packets in {dropped['seconds']:.2f} s")
        (js,) = s.get(probe_url(HEALTHY, format="json", expect_status="400",
                                endpoint_ip=ZONE_A))
        report = json.loads(js["body"])
        S.L.validate_report(report, lab.source_dir)
        expect_eq(report["targets"][0]["facts"]["target.endpoint_ips"], [ZONE_A],
                  "an option from the query")
        # Bad requests: one line each, and the server goes on.
        huge = "a" * 20000
        results = s.get(f"http://{LISTEN}/probe", probe_url("a..b:1"), probe_url("\x00\xff:1"),
                        probe_url(HEALTHY, cacert="/etc/shadow"), probe_url(HEALTHY, rules="/x"),
                        probe_url(HEALTHY, timeout="100"), f"http://{LISTEN}/nope",
                        probe_url(huge), probe_url(HEALTHY) + "&a" * 400,
                        probe_url(HEALTHY) + f"&endpoint_ip={ZONE_A}" * 200,
                        f"http://{LISTEN}/-/healthy", f"http://{LISTEN}/metrics")
        codes = [r["status"] for r in results]
        expect_eq(codes, [400, 400, 400, 400, 400, 400, 404, 414, 400, 414, 200, 200], "statuses")
        for r in results[:10]:
            expect_eq(r["body"].count("\n"), 1, f"one line: {r['body']!r}")
        # Many parameters (~1-5 KB): answered and counted, not a connection closed unanswered.
        expect_eq((results[8]["body"], results[9]["body"]),
                  ("too many query parameters\n", "query too long\n"), "many parameters")
        expect_in("'cacert' is not allowed", results[3]["body"], "a file option")
        promtool(results[11]["body"], "/metrics")
        # Every 400 and 414 (the huge target's too): all but the 404.
        expect_in('linkdoctor_serve_requests_rejected_total{reason="bad_request"} 9',
                  results[11]["body"], "bad requests counted")
        expect_in('linkdoctor_serve_probes_total{verdict="critical"} 1', results[11]["body"],
                  "the drop counted")
        code, log = s.stop()
        expect_eq(code, 0, "exit code after SIGTERM")
        expect_in(f"probe target={DROPPED} verdict=critical ids=tcp.syn_dropped", log,
                  "the probe's log line")
    finally:
        s.close()


@S.scenario("serve.allow_target")
def serve_allow_target(lab):
    # --allow-target judges every address a request makes the server reach: the target,
    # and each endpoint_ip and dns_server it adds (else a request allowed by its target
    # could connect anywhere); refused ones are 403 with one line naming the parameter.
    lab_with_targets(lab)
    s = Serve(lab, "--allow-target", "10.0.2.0/24", "--allow-target", "lab.test")
    try:
        results = s.get(probe_url(f"{ZONE_A}:{PORT}"),
                        probe_url(f"{ZONE_A}:{PORT}", endpoint_ip=ZONE_B),
                        probe_url(HEALTHY, endpoint_ip=ZONE_A),
                        probe_url(HEALTHY, endpoint_ip=f"{ZONE_A},{ZONE_B}"),
                        probe_url(HEALTHY, dns_server=S.L.RESOLVER_IP),
                        probe_url(DROPPED), f"http://{LISTEN}/metrics")
        codes = [r["status"] for r in results]
        expect_eq(codes, [200, 403, 200, 403, 403, 403, 200], "statuses")
        refused = {1: f"endpoint_ip {ZONE_B} not allowed by --allow-target",
                   3: f"endpoint_ip {ZONE_B} not allowed by --allow-target",
                   4: f"dns_server {S.L.RESOLVER_IP} not allowed by --allow-target",
                   5: "target not allowed by --allow-target"}
        for i, why in refused.items():
            expect_eq(results[i]["body"], why + "\n", f"why {results[i]['url']} is refused")
        expect_in('linkdoctor_serve_requests_rejected_total{reason="denied"} 4',
                  results[6]["body"], "refusals counted")
        code, log = s.stop()
        expect_eq(code, 0, "exit code after SIGTERM")
        expect(ZONE_B not in log, f"nothing was probed at {ZONE_B}:\n{log}")
    finally:
        s.close()


@S.scenario("serve.scrape_timeout", timed=True)
def serve_scrape_timeout(lab):
    # Prometheus says how long it waits (X-Prometheus-Scrape-Timeout-Seconds): a probe of
    # a dropped SYN answers within it (less the 0.5 s margin, not --timeout's 10 s), and
    # the answer says the check was cut short rather than passing for a verdict.
    lab_with_targets(lab)
    s = Serve(lab)
    try:
        (r,) = s.get(probe_url(DROPPED, format="json"),
                     headers=["X-Prometheus-Scrape-Timeout-Seconds:0.8"])
        expect_eq(r["status"], 200, "status")
        expect(r["seconds"] < 0.9 + S.L.TIME_SLACK, f"answered in {r['seconds']:.2f} s")
        target = json.loads(r["body"])["targets"][0]
        facts = target["facts"]
        expect_eq(facts.get("tcp.cut_by_deadline"), True, "the deadline cut the attempt")
        expect(facts["tcp.wait_ms"] < 300 + 50, f"waited {facts['tcp.wait_ms']} ms (0.8 - 0.5 s)")
        (d,) = target["diagnoses"]
        # Cut before the first retransmission the capture would prove the drop by: timing
        # alone, so medium confidence (high after a whole --connect-timeout).
        expect_eq((d["id"], d["confidence"]), ("tcp.syn_dropped", "medium"), "the diagnosis")
        m = re.search(r"got nothing back in ([0-9.]+) ms", d["summary"])
        expect(m and float(m.group(1)) < 350, f"the summary's wait: {d['summary']}")
    finally:
        s.close()


@S.scenario("serve.concurrency_and_drain")
def serve_concurrency_and_drain(lab):
    # --max-probes 2 with 5 dropped targets asked at once: 2 run, 3 are refused at once.
    lab_with_targets(lab)
    s = Serve(lab, "--max-probes", "2")
    try:
        results = s.get(*[probe_url(DROPPED)] * 5, concurrency=5)
        codes = sorted(r["status"] for r in results)
        expect_eq(codes, [200, 200, 503, 503, 503], "statuses")
        for r in results:
            if r["status"] == 503:
                expect(r["seconds"] < 0.5, f"refused at once ({r['seconds']:.2f} s)")
                expect_in("--max-probes", r["body"], "why")
        # SIGTERM with a probe in flight: it is answered, then the server exits 0.
        client = subprocess.Popen(lab.exec_argv(lab.client, sys.executable, HTTP_LOAD,
                                                probe_url(DROPPED)),
                                  stdout=subprocess.PIPE, text=True)
        s.wait_log("tcp.syn_dropped")  # the first batch logged
        time.sleep(0.3)
        code, log = s.stop(signal.SIGTERM)
        out, _ = client.communicate(timeout=10)
        expect_eq(json.loads(out)["status"], 200, "the probe in flight was answered")
        expect_eq(code, 0, "exit code")
        expect_in("no new probes; 1 in flight", log, "the drain")
    finally:
        s.close()


@S.scenario("serve.sighup_reload")
def serve_sighup_reload(lab):
    # SIGHUP re-reads the files as the server runs then - nobody: they must be readable
    # by it (as /etc/linkdoctor's are), so these live in a directory it may enter.
    lab_with_targets(lab)
    shared = os.path.join(lab.tmp, "shared")
    os.mkdir(shared)
    os.chmod(lab.tmp, 0o711)
    os.chmod(shared, 0o755)
    rules = os.path.join(shared, "site.json")
    good = {"linkdoctor_rules": 1, "rules": [{
        "id": "site.dropped_here", "severity": "warning", "when": "tcp.timeout_count > 0",
        "title": "site rule", "description": "d", "summary": "s",
        "remediation": {"generic": "g"}}]}
    with open(rules, "w") as f:
        json.dump(good, f)
    os.chmod(rules, 0o644)
    s = Serve(lab, "--rules", rules)
    try:
        (r,) = s.get(probe_url(DROPPED))
        expect_in('id="site.dropped_here"', r["body"], "the site rule fires")
        with open(rules, "w") as f:
            f.write('{"linkdoctor_rules": 1, "rules": [')
        s.p.send_signal(signal.SIGHUP)
        expect_in("malformed JSON", s.wait_log("the old ones stay"), "why the file was refused")
        (r,) = s.get(probe_url(DROPPED))
        expect_in('id="site.dropped_here"', r["body"], "a bad file keeps the old rules")
        good["rules"][0]["id"] = "site.renamed"
        with open(rules, "w") as f:
            json.dump(good, f)
        s.p.send_signal(signal.SIGHUP)
        s.wait_log("rules loaded")
        (r, metrics) = s.get(probe_url(DROPPED), f"http://{LISTEN}/metrics")
        expect_in('id="site.renamed"', r["body"], "the reloaded rules")
        expect(('id="site.dropped_here"' not in r["body"]), "the old rule is gone")
        expect_in('linkdoctor_serve_rules_reloads_total{result="failure"} 1', metrics["body"],
                  "reloads counted")
        expect_in('linkdoctor_serve_rules_reloads_total{result="success"} 1', metrics["body"],
                  "reloads counted")
    finally:
        s.close()


@S.scenario("serve.no_capability_left")
def serve_no_capability_left(lab):
    # Started as root: the capture is open, and the process is nobody with nothing.
    lab_with_targets(lab)
    s = Serve(lab)
    try:
        (r,) = s.get(probe_url(DROPPED))
        expect_in('confidence="high"', r["body"], "the capture works after the drop")
        status = open(f"/proc/{s.p.pid}/status").read()  # ip netns exec execs linkdoctor
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        expect_eq(fields["Name"].strip(), "linkdoctor", "the process looked at")
        expect_eq(fields["Uid"].split()[:2], [str(S.NOBODY)] * 2, "uid")
        expect_eq(fields["CapEff"].strip(), NO_CAPS, "CapEff")
        expect_eq(fields["CapPrm"].strip(), NO_CAPS, "CapPrm")
        expect_eq(fields["NoNewPrivs"].strip(), "1", "NoNewPrivs")
    finally:
        s.close()


@S.scenario("serve.load", timed=True)
def serve_load(lab):
    # 300 probes, 50 at a time, half of them against dropped SYNs: every one right, all
    # in a few seconds, the server's peak RSS at most 64 MB.
    lab_with_targets(lab)
    s = Serve(lab, "--max-probes", "64")
    try:
        urls = [probe_url(HEALTHY if i % 2 else DROPPED) for i in range(300)]
        start = time.monotonic()
        results = s.get(*urls, concurrency=50, limit=120)
        took = time.monotonic() - start
        wrong = [r["url"] for r in results
                 if r["status"] != 200 or
                 ('id="ok"' if NAME in r["url"] else 'id="tcp.syn_dropped"') not in r["body"]]
        expect_eq(wrong, [], "probes without the right diagnosis")
        expect(took < 15 + S.L.TIME_SLACK, f"300 probes took {took:.1f} s")
        hwm = [line for line in open(f"/proc/{s.p.pid}/status") if line.startswith("VmHWM:")]
        peak_mb = int(hwm[0].split()[1]) / 1024
        print(f"300 probes (150 dropped) 50 at a time: {took:.2f} s, server peak RSS "
              f"{peak_mb:.1f} MB")
        if not S.L.SANITIZED:  # ASan's shadow and quarantine are most of it there
            expect(peak_mb <= 64, f"peak RSS {peak_mb:.1f} MB")
    finally:
        s.close()


PROMETHEUS_CONFIG = """
global:
  scrape_interval: 2s
  scrape_timeout: 1900ms
scrape_configs:
  - job_name: linkdoctor
    metrics_path: /probe
    static_configs:
      - targets: ['{healthy}', '{dropped}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {listen}
"""


@S.scenario("serve.prometheus")
def serve_prometheus(lab):
    # A real Prometheus scrapes the exporter with the blackbox multi-target relabelling;
    # its HTTP API then holds the drop's diagnosis series.
    lab_with_targets(lab)
    config = os.path.join(lab.tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write(PROMETHEUS_CONFIG.format(healthy=HEALTHY, dropped=DROPPED, listen=LISTEN))
    s = Serve(lab)
    prom = None
    try:
        data = os.path.join(lab.tmp, "prometheus-data")
        prom = subprocess.Popen(
            lab.exec_argv(lab.client, "prometheus", f"--config.file={config}",
                          f"--storage.tsdb.path={data}", "--web.listen-address=127.0.0.1:9090",
                          "--log.level=warn"),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def query(expr):
            (r,) = s.get('http://127.0.0.1:9090/api/v1/query?query=' + urllib.parse.quote(expr))
            return json.loads(r["body"])["data"]["result"] if r["status"] == 200 else []

        # Prometheus spreads its targets' scrapes over the interval: wait for both.
        series, up = [], {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (series and len(up) == 2):
            time.sleep(1)
            series = query('linkdoctor_diagnosis{id="tcp.syn_dropped"}')
            up = {x["metric"]["instance"]: x["value"][1] for x in query("linkdoctor_up")}
        expect(series, "Prometheus holds linkdoctor_diagnosis{id=\"tcp.syn_dropped\"}")
        labels = series[0]["metric"]
        expect_eq((labels["instance"], labels["target"], labels["severity"],
                   labels["confidence"]), (DROPPED, DROPPED, "critical", "high"),
                  "the series' labels")
        expect_eq(up, {HEALTHY: "1", DROPPED: "0"}, "linkdoctor_up per target")
    finally:
        if prom and prom.poll() is None:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        s.close()
