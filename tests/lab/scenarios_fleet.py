"""scenarios_fleet.py - many targets in one run (issue 11): every target in flight at
once, and every dropped SYN among hundreds proven by the capture at its first
retransmission - none left to run into --connect-timeout because another attempt's
look at the capture had read its retransmission first.
"""

import json
import os

import scenarios as S
from scenarios import ZONE_A, expect, expect_eq

FIRST_PORT = 21000
PORTS = 1000  # even ports listen, odd ones are dropped by the endpoint's security group
RUNS = 2      # the retransmissions come in bursts; how they interleave varies per run


@S.scenario("fleet.half_dropped_all_proven_by_capture")
def half_dropped_all_proven_by_capture(lab):
    last = FIRST_PORT + PORTS - 1
    lab.start_listeners(ZONE_A, f"{FIRST_PORT}-{last}/2")
    lab.firewall("endpoint", f"ip daddr {ZONE_A} tcp dport {FIRST_PORT}-{last} "
                             "tcp dport & 1 == 1 drop")
    targets = os.path.join(lab.tmp, "targets")
    with open(targets, "w") as f:
        f.writelines(f"{ZONE_A}:{p}\n" for p in range(FIRST_PORT, last + 1))
    for run in range(RUNS):
        # A connect timeout far beyond the first retransmission: an attempt the capture
        # failed to end would end by it, and say so (ended_by "timeout").
        argv, code, out, err, _ = lab.run_raw(
            ["check", "--targets", targets, "--format", "json", "--cloud", "none",
             "--connect-timeout", "8", "--timeout", "20"], limit=40)
        expect_eq(code, 2, f"run {run}: exit code (stderr {err[-2000:]!r})")
        report = json.loads(out)
        expect_eq(len(report["targets"]), PORTS, "targets reported")
        for t in report["targets"]:
            port = t["port"]
            ids = [(d["id"], d["confidence"]) for d in t["diagnoses"]]
            attempt = t["probes"]["tcp"][0]
            if port % 2 == 0:
                expect_eq(ids, [("ok", "high")], f"run {run}: port {port}'s diagnosis")
                continue
            expect_eq(ids, [("tcp.syn_dropped", "high")], f"run {run}: port {port}'s diagnosis")
            expect_eq(attempt["ended_by"], "capture",
                      f"run {run}: port {port}: the capture ended its attempt at the "
                      f"retransmission (SYNs at {attempt.get('syn_times_ms')} ms, over "
                      f"after {attempt['elapsed_ms']} ms)")
            expect(len(attempt["syn_times_ms"]) == 2,
                   f"run {run}: port {port}: one retransmission, no more: "
                   f"{attempt['syn_times_ms']}")
