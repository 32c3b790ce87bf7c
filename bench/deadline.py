#!/usr/bin/python3
"""bench/deadline.py [LINKDOCTOR] - how close a run ends to --timeout against dropped SYNs.

The contract: every run ends within --timeout, whatever is pending, by at most 0.1 s
(DESIGN.md), and issue 2 asks for at most 0.2 s even when --timeout is shorter than
--connect-timeout. This builds the lab (tests/lab/lab.py: an endpoint whose security group
drops TCP 19530), then times `linkdoctor check` with hyperfine for several --timeout
values and with the default options, and prints mean / max wall time and the worst
overshoot past --timeout. Needs root, hyperfine, and the lab's tools.
"""
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ beside the scripts
import benchlib as B  # noqa: E402

L = B.L
PORT = 19530
NAME = "svc.lab.test"
RUNS = 10


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else B.DEFAULT_BINARY)
    L.preflight(need_jsonschema=False)
    cases = [("--timeout 0.3 --connect-timeout 2", 0.3), ("--timeout 0.5 --connect-timeout 2", 0.5),
             ("--timeout 1 --connect-timeout 2", 1.0), ("--timeout 1.5 --connect-timeout 2", 1.5),
             ("--timeout 3 --connect-timeout 2", None), ("(defaults: --timeout 10 --connect-timeout 2)", None)]
    with L.Lab(binary, B.SOURCE_DIR, verbose=False) as lab:
        lab.start_service(PORT, [L.ZONE_A], NAME)
        lab.block("endpoint", L.ZONE_A, PORT, "drop")
        print(f"linkdoctor check {NAME}:{PORT} against dropped SYNs, {RUNS} runs each (hyperfine)\n")
        print(f"{'options':46} {'mean s':>8} {'max s':>8} {'over --timeout':>15}")
        worst = 0.0
        for opts, timeout in cases:
            extra = [] if opts.startswith("(") else opts.split()
            argv = lab.exec_argv(lab.client, "env", f"LINKDOCTOR_DMI_DIR={lab.dmi_dir}", binary,
                                 "check", f"{NAME}:{PORT}", "--cloud", "none", *extra)
            r = B.hyperfine(argv, RUNS, warmup=1, ignore_failure=True)
            over = ""
            if timeout is not None:
                delta = r["max"] - timeout
                worst = max(worst, delta)
                over = f"{delta * 1000:+.0f} ms"
            print(f"{opts:46} {r['mean']:8.3f} {r['max']:8.3f} {over:>15}")
        print(f"\nworst overshoot past --timeout: {worst * 1000:.0f} ms (bound: 200 ms)")
        return 0 if worst <= 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
