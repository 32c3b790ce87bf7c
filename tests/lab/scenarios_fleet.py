"""scenarios_fleet.py - many targets in one run (issue 11): every target in flight at
once, and every dropped SYN among hundreds proven by the capture at its first
retransmission - none left to run into --connect-timeout because another attempt's
look at the capture read its retransmission first.
"""

import json
import os

import scenarios as S
from scenarios import ZONE_A, expect, expect_eq

FIRST_PORT = 21000
PORTS = 400  # even ports refused (nothing listens), odd ones dropped by the endpoint's SG


@S.scenario("fleet.half_dropped_all_proven_by_capture")
def half_dropped_all_proven_by_capture(lab):
    lab.add_endpoint_address(ZONE_A)
    last = FIRST_PORT + PORTS - 1
    lab.firewall("endpoint", f"ip daddr {ZONE_A} tcp dport {FIRST_PORT}-{last} "
                             "tcp dport & 1 == 1 drop")
    targets = os.path.join(lab.tmp, "targets")
    with open(targets, "w") as f:
        f.writelines(f"{ZONE_A}:{p}\n" for p in range(FIRST_PORT, last + 1))
    # A connect timeout far beyond the first retransmission: an attempt the capture
    # failed to end would end by it, and say so (ended_by "timeout").
    argv, code, out, err, _ = lab.run_raw(["check", "--targets", targets, "--format", "json",
                                           "--cloud", "none", "--connect-timeout", "8",
                                           "--timeout", "20"], limit=40)
    expect_eq(code, 2, f"exit code (stderr {err[-2000:]!r})")
    report = json.loads(out)
    expect_eq(len(report["targets"]), PORTS, "targets reported")
    ids = {}
    for t in report["targets"]:
        port = t["port"]
        ids[port] = [(d["id"], d["confidence"]) for d in t["diagnoses"]]
        attempt = t["probes"]["tcp"][0]
        if port % 2:
            expect_eq(ids[port], [("tcp.syn_dropped", "high")], f"port {port}'s diagnosis")
            expect_eq(attempt["ended_by"], "capture",
                      f"port {port}: the capture ended its attempt at the retransmission "
                      f"(SYNs at {attempt.get('syn_times_ms')} ms, over after "
                      f"{attempt['elapsed_ms']} ms)")
            expect(len(attempt["syn_times_ms"]) == 2,
                   f"port {port}: one retransmission, no more: {attempt['syn_times_ms']}")
        else:
            expect_eq(ids[port], [("tcp.refused", "high")], f"port {port}'s diagnosis")
