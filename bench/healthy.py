#!/usr/bin/python3
"""bench/healthy.py [LINKDOCTOR] [--runs N] [--rss-runs N] - the healthy full check
(DNS + TCP + TLS + HTTP) against curl doing the same request.

The bar (DESIGN.md): on the lab, `linkdoctor check` of a healthy service takes a median
under 50 ms of wall time and under 16 MB of peak RSS.

This builds the lab (tests/lab/lab.py): svc.lab.test resolves through the lab's
resolver (dnsmasq) to the endpoint, where nginx serves TLS on 19530 with a certificate of
the lab's CA and answers every request with 400 - a working Zilliz private link. Then,
inside the client namespace, it checks once that each command does what it should
(linkdoctor: verdict ok, exit 0; curl: status 400), and measures

  - linkdoctor check --profile zilliz svc.lab.test --cacert CA
        as it runs by default as root (capturing its own packets), and with --capture off;
  - curl --cacert CA -sS -o /dev/null https://svc.lab.test:19530/   (the same request);
  - ip netns exec CLIENT true   (what entering the namespace costs every command above);

wall time with hyperfine (--runs N, default 30, after warm-up runs) and peak RSS with
`/usr/bin/time -f %M` over --rss-runs runs (default 10; the maximum is reported).
linkdoctor also gets --cloud none and the lab's DMI directory of no cloud, so that no
cloud probe can look for a metadata service (the lab's network rule).

It prints every number and exits 1 when a linkdoctor run fails a bar (or the healthy
check is not ok), 0 otherwise. Needs root, hyperfine, curl, /usr/bin/time, openssl, nginx
and the lab's tools. Nothing leaves the lab: the client namespace has no default route
and its own resolver.
"""
import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ beside the scripts
import benchlib as B  # noqa: E402
from benchlib import hyperfine, peak_rss_kb

L = B.L
PORT = 19530
NAME = L.LAB_NAME
BAR_MEDIAN_S = 0.050
BAR_RSS_KB = 16 * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default=B.DEFAULT_BINARY)
    ap.add_argument("--runs", type=int, default=30, help="hyperfine runs per command (>= 20)")
    ap.add_argument("--rss-runs", type=int, default=10, help="/usr/bin/time runs per command")
    args = ap.parse_args()
    if args.runs < 20 or args.rss_runs < 10:
        ap.error("the bars are judged on at least 20 timed runs and 10 RSS runs")
    binary = os.path.abspath(args.binary)
    missing = B.cannot_run("hyperfine", "curl", "openssl", "nginx", B.TIME)
    if missing:
        return missing

    # linkdoctor's environment: no proxy from ours, the lab's DMI directory of no cloud.
    env = B.clean_env()
    with L.Lab(binary, B.SOURCE_DIR, verbose=False) as lab:
        env["LINKDOCTOR_DMI_DIR"] = lab.dmi_dir
        ca = lab.certs.ca
        lab.start_nginx(L.Site(L.ZONE_A, PORT, 400, lab.certs.good()))
        lab.start_dns({NAME: [L.ZONE_A]})
        check = [binary, "check", "--profile", "zilliz", NAME, "--cacert", ca, "--cloud", "none"]
        curl = ["curl", "--cacert", ca, "-sS", "-o", "/dev/null", f"https://{NAME}:{PORT}/"]
        cases = [  # label, argv, is linkdoctor
            ("linkdoctor (capture auto, as root)", check, True),
            ("linkdoctor --capture off", check + ["--capture", "off"], True),
            ("curl", curl, False),
        ]

        # Each command does what it should, once, before anything is timed.
        failed = []
        for label, argv, is_ld in cases:
            if is_ld:
                _, code, out, err, _ = lab.run_raw(argv[1:] + ["--format", "json"])
                report = json.loads(out) if out.startswith("{") else {}
                ids = [[d["id"] for d in t["diagnoses"]] for t in report.get("targets", [])]
                capture = report.get("targets", [{}])[0].get("facts", {}).get("capture.available")
                print(f"{label}: exit {code}, verdict {report.get('verdict')}, diagnoses {ids}, "
                      f"capture.available {capture}")
                if code != 0 or ids != [["ok"]]:
                    failed.append(f"{label}: the healthy check is not ok (exit {code}): "
                                  f"{err.strip()}")
            else:
                p = subprocess.run(lab.exec_argv(lab.client, *argv, "-w", "%{http_code}"),
                                   capture_output=True, text=True, env=env, timeout=30)
                print(f"{label}: exit {p.returncode}, HTTP status {p.stdout.strip()}")
                if p.returncode != 0 or p.stdout.strip() != "400":
                    raise SystemExit(f"curl failed: {p.stderr.strip()}")

        print(f"\nwall time: hyperfine -N, {args.runs} runs after 3 warm-up runs; "
              f"peak RSS: {B.TIME} -f %M, {args.rss_runs} runs\n")
        print(f"{'command (in the client namespace)':38} {'median':>8} {'mean':>8} {'min':>8} "
              f"{'max':>8} {'peak RSS max':>13}")
        baseline = hyperfine(lab.exec_argv(lab.client, "true"), args.runs, env=env)
        print(f"{'ip netns exec CLIENT true (overhead)':38} {baseline['median'] * 1000:6.1f}ms "
              f"{baseline['mean'] * 1000:6.1f}ms {baseline['min'] * 1000:6.1f}ms "
              f"{baseline['max'] * 1000:6.1f}ms {'':>13}")
        results = {}
        for label, argv, is_ld in cases:
            r = hyperfine(lab.exec_argv(lab.client, *argv), args.runs, env=env)
            peaks = peak_rss_kb(lab, argv, args.rss_runs, env)
            results[label] = (r, peaks)
            print(f"{label:38} {r['median'] * 1000:6.1f}ms {r['mean'] * 1000:6.1f}ms "
                  f"{r['min'] * 1000:6.1f}ms {r['max'] * 1000:6.1f}ms "
                  f"{max(peaks) / 1024:10.1f} MB")

        print()
        curl_r, curl_peaks = results["curl"]
        for label, argv, is_ld in cases:
            if not is_ld:
                continue
            r, peaks = results[label]
            median_ok = r["median"] < BAR_MEDIAN_S
            rss_ok = max(peaks) < BAR_RSS_KB
            print(f"{label}: median {r['median'] * 1000:.1f} ms "
                  f"(bar < {BAR_MEDIAN_S * 1000:.0f} ms: {'pass' if median_ok else 'FAIL'}), "
                  f"peak RSS {max(peaks) / 1024:.1f} MB "
                  f"(bar < {BAR_RSS_KB // 1024} MB: {'pass' if rss_ok else 'FAIL'}); "
                  f"{r['median'] / curl_r['median']:.2f}x curl's median, "
                  f"{max(peaks) / max(curl_peaks):.2f}x curl's peak RSS")
            if not median_ok:
                failed.append(f"{label}: median {r['median'] * 1000:.1f} ms")
            if not rss_ok:
                failed.append(f"{label}: peak RSS {max(peaks) / 1024:.1f} MB")
    if failed:
        print("\nFAIL: " + "; ".join(failed))
        return 1
    print("\nall bars met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
