#!/usr/bin/python3
"""bench/syn_drop.py [LINKDOCTOR] [--runs N] [--max-seconds N] - how soon a dropped SYN is
diagnosed: linkdoctor against curl and nc.

The bar (DESIGN.md): with default options, `linkdoctor check` reports tcp.syn_dropped
(confidence high) within 1.12 s of process start - the first SYN retransmission (~1 s)
is the floor - where curl and nc wait for the kernel to give up (~130 s with Linux's
default net.ipv4.tcp_syn_retries = 6).

This builds the lab (tests/lab/lab.py: svc.lab.test resolves to an endpoint that
listens on TCP 19530 but whose security group drops it: nft drop on the endpoint's
input), checks once that linkdoctor says tcp.syn_dropped with confidence high, then,
inside the client namespace:

  - times `linkdoctor check svc.lab.test:19530` with hyperfine (N runs, default options
    apart from --cloud none, which only pins the remediation text), and the same with
    --capture off for comparison (timing alone: --connect-timeout, 2 s);
  - runs `curl -sS -o /dev/null http://svc.lab.test:19530/` and `nc -z svc.lab.test 19530`
    (netcat-openbsd) once each, at the same time (both only wait on the kernel), timing
    each process; --max-seconds N stops them (by their PIDs) after N s and prints ">N".

It prints each wall time and the ratios curl/linkdoctor and nc/linkdoctor (medians),
and exits 1 if linkdoctor's median exceeds 1.12 s (or it does not say tcp.syn_dropped
with confidence high), 0 otherwise. Needs root, hyperfine, curl, nc and the lab's tools.
Nothing leaves the lab: the client namespace has no default route and its own resolver.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ beside the scripts
import benchlib as B  # noqa: E402

L = B.L
PORT = 19530
NAME = "svc.lab.test"
BAR = 1.12


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default=B.DEFAULT_BINARY,
                    help="the linkdoctor binary (default: build/linkdoctor)")
    ap.add_argument("--runs", type=int, default=10, help="hyperfine runs of linkdoctor (default 10)")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="stop curl and nc after this many seconds (default: wait for them)")
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    L.preflight(need_jsonschema=False)
    missing = [t for t in ("hyperfine", "curl", "nc") if not shutil.which(t)]
    if missing:
        print("syn_drop.py needs: " + ", ".join(missing), file=sys.stderr)
        return 3

    with L.Lab(binary, B.SOURCE_DIR, verbose=False) as lab:
        lab.start_service(PORT, [L.ZONE_A], NAME)
        lab.block("endpoint", L.ZONE_A, PORT, "drop")
        retries = subprocess.run(lab.exec_argv(lab.client, "cat", "/proc/sys/net/ipv4/tcp_syn_retries"),
                                 capture_output=True, text=True).stdout.strip()
        give_up = sum(2 ** k for k in range(int(retries) + 1)) if retries.isdigit() else None
        print(f"{NAME}:{PORT} -> {L.ZONE_A}, whose security group drops TCP {PORT} (nft drop on "
              "the endpoint's input)")
        print(f"client namespace: net.ipv4.tcp_syn_retries = {retries or '?'}"
              + (f" (the kernel gives up after ~{give_up} s)" if give_up else ""))

        # What linkdoctor says, once, before timing it.
        check = ["check", f"{NAME}:{PORT}", "--cloud", "none"]
        _, code, out, err, wall = lab.run_raw(check + ["--format", "json"])
        try:
            t = json.loads(out)["targets"][0]
            said = [(d["id"], d.get("confidence")) for d in t["diagnoses"]]
        except (ValueError, KeyError, IndexError):
            said = f"no report (exit {code}, stderr {err.strip()!r})"
        right = said == [("tcp.syn_dropped", "high")]
        print(f"linkdoctor says: {said}, exit {code}, {wall:.3f} s "
              f"({'as expected' if right else 'EXPECTED [tcp.syn_dropped, high]'})\n")

        env_dmi = ["env", f"LINKDOCTOR_DMI_DIR={lab.dmi_dir}"]
        ld = B.hyperfine(lab.exec_argv(lab.client, *env_dmi, binary, *check), args.runs,
                         warmup=1, ignore_failure=True)
        off_runs = max(1, min(args.runs, 5))
        ld_off = B.hyperfine(lab.exec_argv(lab.client, *env_dmi, binary, *check, "--capture", "off"),
                             off_runs, warmup=1, ignore_failure=True)

        slow = {f"curl -sS -o /dev/null http://{NAME}:{PORT}/":
                ["curl", "-sS", "-o", "/dev/null", f"http://{NAME}:{PORT}/"],
                f"nc -z {NAME} {PORT}": ["nc", "-z", NAME, str(PORT)]}
        cap = f" (stopped after {args.max_seconds:g} s)" if args.max_seconds else ""
        print(f"waiting for curl and nc, run once each and at the same time{cap}...", flush=True)
        slow_results = B.run_slow({k: lab.exec_argv(lab.client, *v) for k, v in slow.items()},
                                  args.max_seconds)

    median = ld["median"]
    rows = [(f"linkdoctor check {NAME}:{PORT}", args.runs, ld),
            (f"linkdoctor check {NAME}:{PORT} --capture off", off_runs, ld_off)]
    print(f"\n{'command':56} {'runs':>4} {'median s':>9} {'mean s':>8} {'min s':>7} {'max s':>7}  exit")
    for label, runs, r in rows:
        codes = ",".join(str(c) for c in sorted(set(r.get("exit_codes") or [])))
        print(f"{label:56} {runs:>4} {r['median']:9.3f} {r['mean']:8.3f} {r['min']:7.3f} "
              f"{r['max']:7.3f}  {codes or '?'}")
    for label, (secs, code, last) in slow_results.items():
        shown = f">{args.max_seconds:g}" if code is None else f"{secs:.3f}"
        print(f"{label:56} {1:>4} {shown:>9} {'':8} {'':7} {'':7}  "
              f"{'-' if code is None else code}  {last}")

    print()
    for label, (secs, code, _) in slow_results.items():
        tool = label.split()[0]
        ratio = secs / median
        print(f"{tool} / linkdoctor: {'>' if code is None else ''}{ratio:.0f}x "
              f"({'>' if code is None else ''}{secs:.1f} s vs {median:.3f} s)")
    print(f"linkdoctor --capture off / linkdoctor: {ld_off['median'] / median:.2f}x")
    ok = median <= BAR and right
    print(f"\nbar: linkdoctor's median {median:.3f} s <= {BAR} s with tcp.syn_dropped (high): "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
