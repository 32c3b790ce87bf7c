#!/usr/bin/python3
"""bench/serve.py [LINKDOCTOR] [--probes N] - `linkdoctor serve` beside blackbox_exporter,
side by side in one run on the same lab targets: probe latency (sequential probes, median
and 90th percentile), throughput (N probes, 50 at a time) and each server's peak RSS.

Cases: a healthy TCP port, a healthy HTTPS service answering 400 (nginx, the lab CA), and
a port whose security group drops SYNs. Both exporters run in the client namespace on
127.0.0.1 and are asked the same way (tests/lab/http_load.py, with Prometheus's
X-Prometheus-Scrape-Timeout-Seconds: 5). blackbox_exporter (Debian's
prometheus-blackbox-exporter) gets a tcp_connect and an http module that expects 400 and
trusts the lab CA. What each answers for the drop is printed too: blackbox says
probe_success 0 when its timeout ends; linkdoctor says tcp.syn_dropped once the packets
prove it.

Exit 0 when linkdoctor answered every probe right and its peak RSS stayed under 64 MB,
1 otherwise; 77 when a tool is missing. Needs root. Nothing leaves the lab.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
sys.dont_write_bytecode = True
import lab as L  # noqa: E402

PORT = 19530
NAME = L.LAB_NAME
HTTP_LOAD = os.path.join(HERE, "..", "tests", "lab", "http_load.py")
LD = "127.0.0.1:9810"
BB = "127.0.0.1:9115"
HEADER = "X-Prometheus-Scrape-Timeout-Seconds:5"
BAR_RSS_MB = 64

BLACKBOX_CONFIG = """
modules:
  tcp_connect:
    prober: tcp
    timeout: 5s
  https_400:
    prober: http
    timeout: 5s
    http:
      valid_status_codes: [400]
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: {ca}
"""


def get(lab, urls, concurrency):
    argv = [sys.executable, HTTP_LOAD, *urls, "--concurrency", str(concurrency), "--header", HEADER]
    p, _ = lab.run_in_client(*argv, limit=300)
    if p.returncode != 0:
        raise SystemExit(f"http_load failed: {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def start(lab, argv, env=None):
    p = subprocess.Popen(lab.exec_argv(lab.client, *argv), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    return p


def wait_up(lab, url, within=10):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        r = get(lab, [url], 1)[0]
        if r["status"] == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"{url} never answered")


def peak_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default=os.path.join(HERE, "..", "build", "linkdoctor"))
    ap.add_argument("--probes", type=int, default=200, help="probes per throughput run")
    ap.add_argument("--sequential", type=int, default=30, help="probes per latency run")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    try:
        L.preflight(need_jsonschema=False)
        L.need_tools("prometheus-blackbox-exporter", "nginx", "openssl")
    except L.Skip as why:
        print(f"cannot run: {why}")
        return 77
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("SUDO_")}
    failed = []
    with L.Lab(binary, os.path.join(HERE, ".."), verbose=False) as lab:
        env["LINKDOCTOR_DMI_DIR"] = lab.dmi_dir
        ca = lab.certs.ca
        lab.start_nginx(L.Site(L.ZONE_A, PORT, 400, lab.certs.good()))
        lab.start_dns({NAME: [L.ZONE_A]})
        lab.add_endpoint_address(L.ZONE_B)
        lab.block("endpoint", L.ZONE_B, PORT)
        config = os.path.join(lab.tmp, "blackbox.yml")
        with open(config, "w") as f:
            f.write(BLACKBOX_CONFIG.format(ca=ca))
        os.chmod(lab.tmp, 0o711)
        ld = start(lab, [binary, "serve", "--listen", LD, "--cloud", "none", "--cacert", ca,
                         "--max-probes", "64"], env)
        bb = start(lab, ["prometheus-blackbox-exporter", f"--config.file={config}",
                         f"--web.listen-address={BB}", "--log.level=warn"])
        try:
            wait_up(lab, f"http://{LD}/-/healthy")
            wait_up(lab, f"http://{BB}/-/healthy")
            cases = [  # label, linkdoctor query, blackbox query, what linkdoctor must say
                ("healthy TCP", {"target": f"{NAME}:{PORT}"},
                 {"target": f"{NAME}:{PORT}", "module": "tcp_connect"}, 'id="ok"'),
                ("healthy HTTPS (400)", {"target": f"https://{NAME}:{PORT}/",
                                         "expect_status": "400"},
                 {"target": f"https://{NAME}:{PORT}/", "module": "https_400"}, 'id="ok"'),
                ("dropped SYN", {"target": f"{L.ZONE_B}:{PORT}"},
                 {"target": f"{L.ZONE_B}:{PORT}", "module": "tcp_connect"},
                 'id="tcp.syn_dropped"'),
            ]
            print(f"{'case':22} {'exporter':22} {'median':>9} {'p90':>9} "
                  f"{'throughput':>12}  answer")
            for label, ldq, bbq, must in cases:
                for name, base, q in (("linkdoctor serve", LD, ldq),
                                      ("blackbox_exporter", BB, bbq)):
                    url = f"http://{base}/probe?" + urllib.parse.urlencode(q)
                    n_seq = args.sequential if "dropped" not in label else 5
                    seq = get(lab, [url] * n_seq, 1)
                    lat = sorted(r["seconds"] for r in seq)
                    n_par = args.probes if "dropped" not in label else 100
                    t0 = time.monotonic()
                    par = get(lab, [url] * n_par, 50)
                    took = time.monotonic() - t0
                    body = seq[0]["body"]
                    if name.startswith("linkdoctor"):
                        answer = must.split('"')[1] if must in body else "WRONG"
                        bad = [r for r in seq + par if r["status"] != 200 or must not in r["body"]]
                        if bad:
                            failed.append(f"{label}: {len(bad)} probes without {must}")
                    else:
                        ok = "probe_success 1" in body
                        answer = "probe_success " + ("1" if ok else "0")
                    print(f"{label:22} {name:22} {statistics.median(lat) * 1000:7.1f}ms "
                          f"{lat[int(len(lat) * 0.9) - 1] * 1000:7.1f}ms "
                          f"{n_par / took:8.0f}/s  {answer}")
            print()
            for name, p in (("linkdoctor serve", ld), ("blackbox_exporter", bb)):
                print(f"{name}: peak RSS {peak_mb(p.pid):.1f} MB after the runs above "
                      f"(50 probes at a time)")
            if peak_mb(ld.pid) > BAR_RSS_MB:
                failed.append(f"linkdoctor serve peak RSS {peak_mb(ld.pid):.1f} MB")
        finally:
            for p in (ld, bb):
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
    if failed:
        print("FAIL: " + "; ".join(failed))
        return 1
    print("all probes right; linkdoctor serve's peak RSS within "
          f"{BAR_RSS_MB} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
