#!/usr/bin/python3
"""scenarios.py - linkdoctor's lab scenarios: one per diagnosis, each in its own lab.

    scenarios.py --list                                   the scenario names (for CMake)
    scenarios.py --binary PATH --source-dir DIR NAME      run one scenario (needs root)

Each scenario builds the broken (or healthy) service it is named after, runs linkdoctor
(once, or a few times when the scenario compares runs), and asserts the diagnosis ids,
the exit code, the report's verdict and the facts that show the diagnosis is right for
the right reason. Every report is validated against report/report.schema.json (see
lab.validate_report).

The service scenarios (https.*, http.*, tls.*, redis*.*, mqtt*.*) run real servers in
the endpoint namespace - nginx, redis-server, mosquitto - with certificates the lab makes
with openssl, and assert the tls.*, http.*, redis.* and mqtt.* facts, the per-address
probes, and (nginx's access log, mosquitto's log) what the server saw.

linkdoctor starts as root with its default --capture auto (and becomes nobody once the
capture is open), so it captures its own packets: TCP scenarios also assert what the capture saw (capture.* facts, each attempt's
conn_state, syn_seen, SYN times). The capture.* and privileges.* scenarios run it
without permission to capture (as nobody, through setpriv), with --capture off or on,
with sudo's SUDO_UID/SUDO_GID, and watch its /proc/PID/status while it runs; the
analyze.* scenarios record the client's packets with tcpdump and feed them to
`linkdoctor analyze`.

Exit status: 0 pass, 1 fail, 77 skip (not root or a tool missing; never under CI=true),
128+N when stopped by signal N.
"""

import argparse
import datetime
import inspect
import json
import math
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True   # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Scenarios of one topic live in their own file, scenarios_TOPIC.py, which takes what it
# needs from here (`import scenarios as S`, `@S.scenario(...)`): one module, however
# this file was started.
sys.modules.setdefault("scenarios", sys.modules[__name__])
import lab as L  # noqa: E402
from lab import (CLIENT_IP, PUBLIC_IP, ROUTER_IP, STALE_IP, UNROUTED_IP,  # noqa: E402
                 UNUSED_IP, ZONE_A, ZONE_B, expect, expect_eq)

PORT = 19530                  # the port a Zilliz private link uses
NAME = "svc.lab.test"
TARGET = f"{NAME}:{PORT}"
ADMIN_PROHIBITED = "reject with icmp type admin-prohibited"
NOBODY = L.NOBODY
NO_CAPS = "0000000000000000"
CAP_NET_RAW = 1 << 13

# Zeek conn_state values of a handshake that got its SYN-ACK (S2 or SF depending on
# whether the capture saw the close before the attempt was over).
ESTABLISHED = ("S1", "S2", "S3", "SF", "RSTO", "RSTR")
# Counted capture facts: present only when packets were captured.
CAPTURE_COUNTS = ("capture.attempts", "capture.syn_unanswered", "capture.syn_not_seen",
                  "capture.rejected", "capture.established", "capture.syn_retransmits")
# What a TCP attempt carries only when the capture saw its packets.
PACKET_FIELDS = ("conn_state", "syn_seen", "syn_times_ms", "synack_rtt_ms", "rst_ms", "icmp_ms")

SCENARIOS = {}


def scenario(name, listed=True, own_lab=True, timed=False):
    """Registers fn(lab) as scenario `name` (fn(args) when not own_lab: it makes its own
    labs); unlisted ones exist for the harness's own test. A `timed` scenario asserts
    wall-clock bounds: ctest runs it alone (RUN_SERIAL), so another scenario's load on
    the machine cannot push it over them."""
    def register(fn):
        fn.listed = listed
        fn.own_lab = own_lab
        fn.timed = timed
        SCENARIOS[name] = fn
        return fn
    return register


# What makes a scenario timed: it asserts how long something took.
TIMING_ASSERTIONS = ("expect_wall", "expect_bounded_by_connect_timeout", "_expect_privileges",
                     "TIME_SLACK")


def check_timed_marks():
    """A scenario that asserts time but is not marked timed would run beside others and
    fail when the machine is busy: refuse to list such a scenario file."""
    for name, fn in SCENARIOS.items():
        uses = [a for a in TIMING_ASSERTIONS if a in inspect.getsource(fn)]
        if fn.listed and uses and not fn.timed:
            raise SystemExit(f"scenarios.py: scenario {name} calls {uses[0]} but is not "
                             "marked timed=True")


# --- shared assertions -----------------------------------------------------------------

def expect_confidence(t, rule_id, confidence):
    expect_eq(t.diagnosis(rule_id).get("confidence"), confidence, f"{t.name}: {rule_id} confidence")


def expect_live_capture(t, **counts):
    """linkdoctor captured its own packets (--capture auto, as root, on every interface)
    and counted what it saw: counts maps e.g. syn_unanswered=1 to capture.syn_unanswered."""
    t.expect_fact("capture.mode", "auto")
    t.expect_fact("capture.available", True)
    t.expect_fact("capture.source", "live")
    t.expect_fact("capture.interface", "any")
    for name, value in counts.items():
        t.expect_fact(f"capture.{name}", value)


def expect_no_capture(t, mode):
    """No packets were captured: nothing is counted and no attempt claims packet evidence."""
    t.expect_fact("capture.mode", mode)
    t.expect_fact("capture.available", False)
    counted = [f for f in CAPTURE_COUNTS if f in t.facts]
    expect_eq(counted, [], f"{t.name}: capture facts counted without a capture")
    for a in t.tcp_attempts:
        claimed = [k for k in PACKET_FIELDS if k in a]
        expect_eq(claimed, [], f"{t.name}: packet evidence in the attempt to {a.get('address')} "
                               "without a capture")


def expect_ms(attempt, key, low=0.0, high=None):
    """attempt[key] is a time in ms within [low, high]; returns it."""
    value = attempt.get(key)
    expect(isinstance(value, (int, float)) and not isinstance(value, bool),
           f"TCP attempt to {attempt.get('address')}: {key} should be a number of ms, got {value!r}")
    expect(value >= low and (high is None or value <= high),
           f"TCP attempt to {attempt.get('address')}: {key} = {value}, expected within "
           f"[{low}, {high if high is not None else 'inf'}]")
    return value


def syn_times(attempt):
    """The attempt's captured SYN times (ms after the first), as numbers."""
    times = attempt.get("syn_times_ms")
    expect(isinstance(times, list), f"TCP attempt to {attempt.get('address')}: syn_times_ms "
                                    f"should be a list, got {times!r}")
    try:
        return [float(x) for x in times]
    except (TypeError, ValueError):
        raise L.CheckFailed(f"TCP attempt to {attempt.get('address')}: syn_times_ms {times!r} "
                            "are not numbers")


def expect_established(attempt):
    expect(attempt.get("conn_state") in ESTABLISHED,
           f"TCP attempt to {attempt.get('address')}: conn_state should be one of an "
           f"established handshake {ESTABLISHED}, got {attempt.get('conn_state')!r}")


def expect_syn_unanswered(t, address):
    """What the capture proves about a dropped SYN, and how soon: the SYN left, the
    kernel retransmitted it (~1 s later), nothing came back, and a grace after the
    retransmission (8 round trips measured in the run, 30 to 200 ms; 100 ms when none was)
    the attempt ended on the capture's word (not --connect-timeout)."""
    a = t.expect_attempt(address, state="timeout", ended_by="capture", conn_state="S0",
                         syn_seen=True)
    expect(a.get("syns_sent", 0) >= 2, f"attempt syns_sent >= 2, got {a.get('syns_sent')}")
    times = syn_times(a)
    expect(len(times) >= 2 and times[0] == 0.0,
           f"{address}: syn_times_ms should start at 0 and hold the retransmission, got {times}")
    expect(900 <= times[1] <= 1500,
           f"{address}: the first retransmission {times[1]} ms after the SYN, expected ~1000")
    elapsed = expect_ms(a, "elapsed_ms", 1000, 1500)
    expect(25 <= elapsed - times[-1] <= 300,
           f"{address}: the attempt ended {elapsed - times[-1]:.1f} ms after the last SYN, "
           "not a grace for its answer (30 to 200 ms) after it")
    return a


def expect_one_stderr_line(code, out, err, *words):
    """exit 3, nothing on stdout, exactly one line on stderr containing `words`."""
    expect_eq(code, 3, "exit code")
    expect_eq(out, "", "stdout")
    lines = err.splitlines()
    expect(len(lines) == 1, f"stderr should be one line, got {len(lines)}: {err!r}")
    for w in words:
        expect(w in lines[0], f"stderr should name {w!r}: {lines[0]!r}")
    return lines[0]


# --- healthy --------------------------------------------------------------------------

@scenario("ok")
def ok(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(TARGET, endpoint_ips=[ZONE_A])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_verdict("ok")
    t.expect_only_diagnoses("ok")
    t.expect_fact("dns.rcode", "NOERROR")
    t.expect_fact("dns.addresses", [ZONE_A])
    t.expect_fact("dns.endpoint_match_count", 1)
    t.expect_fact("tcp.open_addresses", [ZONE_A])
    t.expect_fact("tcp.failed_count", 0)
    t.expect_fact("tcp.source_ip", CLIENT_IP)
    # The capture saw the handshake complete, and nothing else.
    expect_live_capture(t, attempts=1, established=1, syn_unanswered=0, syn_not_seen=0,
                        rejected=0, syn_retransmits=0)
    a = t.expect_attempt(ZONE_A, state="open", expected=True, ended_by="result", syn_seen=True)
    expect_established(a)
    expect_eq(syn_times(a), [0.0], "one SYN, no retransmission")
    expect_ms(a, "synack_rtt_ms", 0, 500)
    expect_packet_sockets_released(lab)


def expect_packet_sockets_released(lab, within=2.0):
    """linkdoctor hands its packet socket's release to a short-lived child (the kernel's
    clean-up waits for RCU grace periods): once it has exited, the client namespace has
    no packet socket left within `within` seconds - none leaks, none lingers."""
    deadline = time.monotonic() + within
    while True:
        sockets = lab.client_packet_sockets()
        if not sockets:
            return
        expect(time.monotonic() < deadline,
               f"packet sockets still open in the client namespace {within} s after "
               f"linkdoctor exited: {sockets}")
        time.sleep(0.02)


# --- DNS --------------------------------------------------------------------------------

@scenario("dns.no_record")
def dns_no_record(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(f"missing.lab.test:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.no_record")
    t.expect_fact("dns.rcode", "NXDOMAIN")
    t.expect_fact("dns.answer_resolver", f"{L.RESOLVER_IP}:53")
    expect_eq(t.dns_probe(L.RESOLVER_IP).get("rcode"), "NXDOMAIN", "the resolver's own rcode")
    # Nothing to connect to, so no TCP finding may appear.
    expect_eq(t.tcp_attempts, [], "TCP attempts without an address")


@scenario("dns.public_address")
def dns_public_address(lab):
    # No private zone answers for the name, so its public CNAME chain leads to the
    # service's public address (nothing listens there in the lab, so the connection is
    # refused: a TCP finding that the DNS root cause must hide).
    public_name = "svc.public.lab.test"
    lab.add_endpoint_address(PUBLIC_IP)
    lab.start_dns({public_name: [PUBLIC_IP]}, cnames={NAME: public_name})
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.public_address")
    t.expect_fact("dns.public_addresses", [PUBLIC_IP])
    t.expect_fact("dns.cname_chain", [public_name])
    t.expect_fact("dns.private_count", 0)
    expect_eq(t.dns_probe(L.RESOLVER_IP).get("scopes"), ["public"], "answer scope")
    t.expect_attempt(PUBLIC_IP, state="refused")
    t.expect_suppressed("tcp.refused", "dns.public_address")
    tcp_reported = [i for i in t.diagnosis_ids if i.startswith("tcp.")]
    expect_eq(tcp_reported, [], "TCP diagnoses next to dns.public_address")


@scenario("dns.endpoint_mismatch")
def dns_endpoint_mismatch(lab):
    # The record still points at an old interface address nobody holds any more; the
    # endpoint really is at ZONE_A and works. --connect-timeout 1 bounds the wait on
    # the stale address.
    lab.start_service(PORT, [ZONE_A], records={NAME: [STALE_IP]})
    run = lab.run(TARGET, endpoint_ips=[ZONE_A], connect_timeout=1)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_diagnoses(present=["dns.endpoint_mismatch"], absent=["ok", "dns.no_record"])
    t.expect_fact("dns.addresses", [STALE_IP])
    t.expect_fact("dns.mismatched_addresses", [STALE_IP])
    t.expect_fact("dns.endpoint_missing", [ZONE_A])
    # "Network fine, DNS wrong": the direct connect to the endpoint address opened.
    t.expect_attempt(ZONE_A, state="open", expected=True, origin=["endpoint"])
    t.expect_fact("tcp.open_addresses", [ZONE_A])
    t.expect_attempt(STALE_IP, expected=False, origin=["dns"])


@scenario("dns.no_usable_address")
def dns_no_usable_address(lab):
    # The record answers only AAAA (an endpoint of IP address type IPv6) and the client
    # is IPv4-only (no global or unique-local IPv6 address): applications get no address
    # at all. linkdoctor says so instead of "unknown", and tries nothing it should not.
    v6 = "fd00:2::23"
    dns = lab.start_dns({NAME: [v6]})
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.no_usable_address")
    t.expect_fact("dns.rcode", "NOERROR")
    t.expect_fact("dns.addresses", [v6])
    t.expect_fact("tcp.skipped_addresses", [v6])
    t.expect_fact("tcp.skipped_count", 1)
    t.expect_fact("tcp.answer_usable_count", 0)
    t.expect_fact("tcp.address_count", 0)
    expect_eq(t.data.get("probes", {}).get("tcp", []), [], "TCP attempts")
    d = t.diagnosis("dns.no_usable_address")
    expect_eq(d.get("title"), f"{NAME} resolves only to addresses this host cannot use: {v6}",
              "title")
    # The control: with an IPv4 record beside it, the usable family is used and all is ok.
    lab.stop(dns)
    lab.start_service(PORT, [ZONE_A], records={NAME: [ZONE_A, v6]})
    run = lab.run(TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("tcp.skipped_addresses", [v6])
    t.expect_fact("tcp.answer_usable_count", 1)
    t.expect_fact("tcp.open_addresses", [ZONE_A])


@scenario("dns.server_failure")
def dns_server_failure(lab):
    # The resolver answers, but refuses: it serves lab.test only and forwards nothing.
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(f"svc.elsewhere.test:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.server_failure")
    t.expect_fact("dns.rcode", "REFUSED")
    t.expect_fact("dns.answer_resolver", f"{L.RESOLVER_IP}:53")
    expect_eq(t.tcp_attempts, [], "TCP attempts without an address")


def _resolver_unreachable(lab, nameserver, why, connect_timeout=None):
    lab.start_service(PORT, [ZONE_A], NAME)   # a working resolver exists, just not configured
    lab.set_resolv_conf(nameserver)
    run = lab.run(TARGET, connect_timeout=connect_timeout)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.resolver_unreachable")
    t.expect_fact("dns.system_responding_count", 0)
    t.expect_fact("dns.silent_resolvers", [f"{nameserver}:53"])
    t.expect_fact("dns.rcode", why)
    expect_eq(t.dns_probe(nameserver).get("rcode"), why, "the resolver's rcode")
    expect_eq(t.tcp_attempts, [], "TCP attempts without an address")
    return run, t


@scenario("dns.resolver_unreachable.port_unreachable", timed=True)
def dns_resolver_unreachable_icmp(lab):
    # The host exists but nothing listens on port 53: its ICMP port unreachable ends the
    # query at once, no need to wait for --connect-timeout.
    run, _ = _resolver_unreachable(lab, ROUTER_IP, "UNREACHABLE")
    run.expect_wall(0, 1.0)


@scenario("dns.resolver_unreachable.timeout", timed=True)
def dns_resolver_unreachable_timeout(lab):
    # Nobody has the address: queries vanish, and --connect-timeout 1 ends the wait.
    run, t = _resolver_unreachable(lab, UNUSED_IP, "TIMEOUT", connect_timeout=1)
    expect_eq(t.dns_probe(UNUSED_IP).get("ended_by"), "timeout", "resolver probe ended_by")
    run.expect_wall(0.95, 1.6)


@scenario("dns.resolver_divergence")
def dns_resolver_divergence(lab):
    # A custom DNS server (--dns-server) that does not forward to the VPC resolver and
    # answers from its own stale zone.
    custom = "10.0.1.3"
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [STALE_IP]}, listen=custom)
    run = lab.run(TARGET, dns_servers=[custom])
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.resolver_divergence")
    t.expect_fact("dns.addresses", [ZONE_A])
    t.expect_fact("dns.divergence_count", 1)
    t.expect_fact("dns.divergent_resolvers", [f"{custom}:53"])
    expect_eq(t.dns_probe(custom).get("source"), "option", "custom resolver source")
    expect_eq(t.dns_probe(custom).get("addresses"), [STALE_IP], "custom resolver answer")
    expect_eq(t.dns_probe(L.RESOLVER_IP).get("source"), "system", "VPC resolver source")
    t.expect_attempt(ZONE_A, state="open")


@scenario("dns.hosts_override")
def dns_hosts_override(lab):
    # DNS has the endpoint's new address (zone b); a forgotten /etc/hosts line pins the
    # old one (zone a). Both still listen, so the only finding is the override.
    lab.start_service(PORT, [ZONE_A, ZONE_B], records={NAME: [ZONE_B]})
    lab.set_hosts({NAME: ZONE_A})
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.hosts_override")
    t.expect_fact("dns.hosts_override", True)
    t.expect_fact("dns.hosts_addresses", [ZONE_A])
    t.expect_fact("dns.addresses", [ZONE_B])
    # linkdoctor connects where applications would: to the hosts-file address.
    t.expect_attempt(ZONE_A, state="open", origin=["hosts"], expected=True)


# --- TCP -----------------------------------------------------------------------------

@scenario("tcp.refused", timed=True)
def tcp_refused(lab):
    lab.add_endpoint_address(ZONE_A)      # the interface exists; nothing listens on PORT
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.refused")
    t.expect_fact("tcp.refused_addresses", [ZONE_A])
    expect_confidence(t, "tcp.refused", "high")
    expect_live_capture(t, attempts=1, rejected=1, established=0, syn_unanswered=0,
                        syn_not_seen=0)
    a = t.expect_attempt(ZONE_A, state="refused", errno="ECONNREFUSED", conn_state="REJ",
                         syn_seen=True)
    expect_ms(a, "rst_ms", 0, 500)
    run.expect_wall(0, 1.0)


@scenario("tcp.syn_dropped", timed=True)
def tcp_syn_dropped(lab):
    # The endpoint's security group does not allow the port: SYNs vanish on its input.
    # The capture sees the SYN leave and its retransmission (~1 s) go unanswered, so the
    # finding is proven (confidence high) without waiting for --connect-timeout (2 s).
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    run = lab.run(TARGET)               # default options: --capture auto, --connect-timeout 2
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "high")
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    t.expect_fact("tcp.source_ip", CLIENT_IP)
    expect(t.fact("tcp.syns_sent") >= 2, "the kernel retransmitted the SYN (tcp.syns_sent >= 2)")
    t.expect_fact("tcp.cut_by_deadline", False)
    expect_live_capture(t, attempts=1, syn_not_seen=0, rejected=0, established=0)
    expect(t.fact("capture.syn_unanswered") >= 1, "capture.syn_unanswered >= 1")
    expect(t.fact("capture.syn_retransmits") >= 1, "capture.syn_retransmits >= 1")
    expect_syn_unanswered(t, ZONE_A)
    # The bar: the whole process (ip netns exec included) within 1.5 s of its start.
    run.expect_wall(1.0, 1.5)
    expect(run.report["duration_ms"] <= 1500 + L.TIME_SLACK * 1000,
           f"report duration_ms {run.report['duration_ms']} > 1500")


@scenario("tcp.local_firewall.drop", timed=True)
def tcp_local_firewall_drop(lab):
    # The instance's own firewall drops (nft drop on the client's output): the SYN never
    # reaches any interface. The capture tells this apart from a drop on the path: 200 ms
    # without the SYN on the wire and the attempt is a local block, not a dropped SYN.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("client", ZONE_A, PORT, "drop")
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.local_firewall")
    expect_confidence(t, "tcp.local_firewall", "high")
    t.expect_fact("tcp.local_block_addresses", [ZONE_A])
    t.expect_fact("tcp.timeout_count", 0)
    t.expect_fact("tcp.source_ip", CLIENT_IP)
    expect_live_capture(t, syn_unanswered=0, established=0, rejected=0)
    expect(t.fact("capture.syn_not_seen") >= 1, "capture.syn_not_seen >= 1")
    a = t.expect_attempt(ZONE_A, state="local_block", syn_seen=False, ended_by="capture")
    expect_eq(a.get("syn_times_ms", []), [], "SYN times of a SYN never seen")
    expect_ms(a, "elapsed_ms", 150, 900)     # the 200 ms the SYN gets to appear
    run.expect_wall(0.15, 0.999)


@scenario("tcp.icmp_rejected", timed=True)
def tcp_icmp_rejected(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, ADMIN_PROHIBITED)
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.icmp_rejected")
    t.expect_fact("tcp.icmp_reason", "admin-prohibited")
    t.expect_fact("tcp.icmp_from", ZONE_A)
    t.expect_fact("tcp.icmp_addresses", [ZONE_A])
    expect_confidence(t, "tcp.icmp_rejected", "high")
    expect_live_capture(t, attempts=1, rejected=1, established=0, syn_unanswered=0,
                        syn_not_seen=0)
    a = t.expect_attempt(ZONE_A, state="icmp", icmp_type=3, icmp_code=13,
                         icmp_reason="admin-prohibited", icmp_from=ZONE_A, syn_seen=True)
    expect(isinstance(a.get("conn_state"), str) and a["conn_state"] not in ESTABLISHED + ("REJ",),
           f"conn_state of a SYN answered by ICMP only: got {a.get('conn_state')!r}")
    expect_eq(syn_times(a), [0.0], "one SYN, rejected before any retransmission")
    expect_ms(a, "icmp_ms", 0, 500)
    run.expect_wall(0, 1.0)


@scenario("tcp.local_firewall")
def tcp_local_firewall(lab):
    # This host's own firewall rejects: the ICMP error comes from the client itself.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("client", ZONE_A, PORT, ADMIN_PROHIBITED)
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.local_firewall")
    t.expect_fact("tcp.local_block_addresses", [ZONE_A])
    t.expect_fact("tcp.icmp_reason", "admin-prohibited")
    t.expect_fact("tcp.icmp_from", CLIENT_IP)
    t.expect_fact("tcp.icmp_count", 0)
    # The reject happened before the SYN reached an interface: the capture never saw it.
    t.expect_attempt(ZONE_A, state="local_block", icmp_from=CLIENT_IP, syn_seen=False)
    expect_live_capture(t, syn_unanswered=0, established=0)
    expect(t.fact("capture.syn_not_seen") >= 1, "capture.syn_not_seen >= 1")


@scenario("tcp.no_route")
def tcp_no_route(lab):
    # The user expects the endpoint at an address this host has no route to; DNS gives
    # the real (working) one. Both findings are true.
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(TARGET, endpoint_ips=[UNROUTED_IP])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.no_route", "dns.endpoint_mismatch")
    t.expect_fact("tcp.no_route_addresses", [UNROUTED_IP])
    t.expect_fact("tcp.local_errno", "ENETUNREACH")
    t.expect_fact("dns.mismatched_addresses", [ZONE_A])
    t.expect_attempt(UNROUTED_IP, state="no_route", errno="ENETUNREACH", origin=["endpoint"])
    t.expect_attempt(ZONE_A, state="open", expected=False)


@scenario("tcp.partial", timed=True)
def tcp_partial(lab):
    # Two zones; zone b's security group drops the port.
    lab.start_service(PORT, [ZONE_A, ZONE_B], NAME)
    lab.block("endpoint", ZONE_B, PORT, "drop")
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("tcp.partial")
    t.expect_suppressed("tcp.syn_dropped", "tcp.partial")
    expect_eq(sorted(t.fact("dns.addresses")), [ZONE_A, ZONE_B], "dns.addresses (any order)")
    t.expect_fact("tcp.open_addresses", [ZONE_A])
    t.expect_fact("tcp.timeout_addresses", [ZONE_B])
    t.expect_fact("tcp.failed_addresses", [ZONE_B])
    # The capture proves zone b's drop after its first retransmission: confidence high,
    # and no waiting for --connect-timeout.
    expect_confidence(t, "tcp.partial", "high")
    expect_live_capture(t, attempts=2, established=1, syn_unanswered=1, syn_not_seen=0,
                        rejected=0)
    expect_established(t.expect_attempt(ZONE_A, state="open", syn_seen=True))
    expect_syn_unanswered(t, ZONE_B)
    run.expect_wall(1.0, 1.5)


# --- service checks: TLS, HTTP, Redis, MQTT ---------------------------------------------
#
# The endpoint runs the real servers (nginx, redis-server, mosquitto; lab.start_nginx and
# friends) with certificates the lab makes (lab.certs). Each scenario asserts what the
# service probes saw (tls.*, http.*, redis.*, mqtt.* facts and the per-address entries
# of probes.tls / http / redis / mqtt) and, where it matters, what the server saw.

REDIS_PORT = 6379             # the emqx-redis profile's port
MQTT_PORT = 1883              # the emqx-mqtt profile's port
MQTTS_PORT = 8883             # mqtts:// by default
LAB_CA_ISSUER = "CN=linkdoctor lab CA"


def _https_service(lab, cert, status=400, port=PORT):
    """nginx serving TLS with `cert` on ZONE_A:port, answering `status`, and the VPC
    resolver answering NAME with ZONE_A; returns the nginx process."""
    nginx = lab.start_nginx(L.Site(ZONE_A, port, status, cert))
    lab.start_dns({NAME: [ZONE_A]})
    return nginx


def _service(lab, start):
    """Starts a server with start(), and the VPC resolver answering NAME with ZONE_A."""
    proc = start()
    lab.start_dns({NAME: [ZONE_A]})
    return proc


def _cacert(lab):
    return ["--cacert", lab.certs.ca]


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days_left(not_after):
    """Whole days from now until not_after (negative once it is past): floor, as
    tls.days_left counts them."""
    return math.floor((not_after - datetime.datetime.now(datetime.timezone.utc))
                      .total_seconds() / 86400)


def expect_bounded_by_connect_timeout(run, seconds):
    """A peer that never answers held the run for one --connect-timeout (`seconds`), and
    only one: the service probes waited side by side, not one after the other (which
    would take twice as long).

    The target's own duration (the report's, from its start to its last probe's end)
    must be ~`seconds`, and the whole run's (from the process start) under 1.8 x it. The
    process's wall time gets a looser bound: linkdoctor's capture is opened before and
    closed after the checks, and on a loaded machine those two alone have taken 0.9 s
    (see bench/healthy.py)."""
    target_ms = run.target().data.get("duration_ms")
    expect(isinstance(target_ms, (int, float)) and
           seconds * 950 <= target_ms <= seconds * 1500 + L.TIME_SLACK * 1000,
           f"the target took {target_ms} ms (report), expected ~{seconds * 1000:.0f} ms: one "
           "--connect-timeout")
    expect(run.report["duration_ms"] <= seconds * 1800 + L.TIME_SLACK * 1000,
           f"report duration_ms {run.report['duration_ms']} > {seconds * 1800:.0f}: the probes "
           "waited one after the other")
    run.expect_wall(seconds * 0.95, seconds + 2.0)


def expect_in(needle, haystack, what):
    expect(needle in haystack, f"{what} should contain {needle!r}: {haystack!r}")


def expect_tcp_open(t):
    """The path itself works: one address, open, from the client."""
    t.expect_fact("tcp.open_addresses", [ZONE_A])
    t.expect_fact("tcp.failed_count", 0)
    t.expect_fact("tcp.source_ip", CLIENT_IP)


def expect_tls_ok(t, sni=NAME, cert_names=(NAME,), issuer=LAB_CA_ISSUER):
    """A completed handshake with a certificate that verifies and covers `sni`."""
    t.expect_fact("tls.attempted", True)
    t.expect_fact("tls.result", "ok")
    t.expect_fact("tls.ok_count", 1)
    t.expect_fact("tls.failed_addresses", [])
    t.expect_fact("tls.version", "TLSv1.3")       # what the lab's nginx and mosquitto offer
    t.expect_fact("tls.sni", sni)
    t.expect_fact("tls.verify", "ok")
    t.expect_fact("tls.verify_code", 0)
    t.expect_fact("tls.trusted", True)
    t.expect_fact("tls.name_matches", True)
    t.expect_fact("tls.cert_names", list(cert_names))
    t.expect_fact("tls.cert_issuer", issuer)
    t.expect_service_probe("tls", ZONE_A, result="ok", version="TLSv1.3", sni=sni,
                           verify_code=0, name_matches=True)


def expect_nginx_saw(lab, nginx, count, status, sni=NAME, port=PORT):
    """nginx's access log has `count` requests, each from the client, to ZONE_A:port, with
    `status` and (over TLS) the server name `sni`."""
    seen = lab.nginx_requests(nginx)
    want = [{"remote": CLIENT_IP, "local": f"{ZONE_A}:{port}", "status": status,
             "request": "GET / HTTP/1.1", "sni": sni}] * count
    expect_eq(seen, want, "requests in nginx's access log")


@scenario("https.ok.zilliz_profile")
def https_ok_zilliz_profile(lab):
    # The healthy Zilliz private link: HTTPS on 19530 with a certificate of the lab CA,
    # answering a bare GET with 400, as the Zilliz guide says a working link does.
    nginx = _https_service(lab, lab.certs.good(), status=400)
    run = lab.run(NAME, extra=["--profile", "zilliz", *_cacert(lab)])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("target.profile", "zilliz")
    t.expect_fact("target.scheme", "https")
    t.expect_fact("target.port", PORT)
    expect_tcp_open(t)
    expect_tls_ok(t)
    t.expect_fact("tls.cert_subject", f"CN={NAME}")
    expect(t.fact("tls.days_left") >= 29, f"tls.days_left of a 30-day certificate: "
                                          f"{t.fact('tls.days_left')}")
    t.expect_fact("http.attempted", True)
    t.expect_fact("http.result", "response")
    t.expect_fact("http.status", 400)
    t.expect_fact("http.expected_status", "400")
    t.expect_fact("http.status_matches", True)
    t.expect_fact("http.statuses", ["400"])
    t.expect_fact("http.proxy_would_be_used", False)
    t.expect_service_probe("http", ZONE_A, result="response", status=400, ended_by="result")
    summary = t.diagnosis("ok")["summary"]
    for words in ("TLS TLSv1.3", "answers 400 (expected: 400)"):
        expect_in(words, summary, "the ok summary")
    expect_nginx_saw(lab, nginx, 1, 400)


@scenario("http.unexpected_status.403")
def http_unexpected_status_403(lab):
    # TLS is fine, the service answers, but 403 (an allow-list refusing this client)
    # where a working Zilliz link answers 400.
    nginx = _https_service(lab, lab.certs.good(), status=403)
    run = lab.run(f"https://{NAME}:{PORT}", extra=["--expect-status", "400", *_cacert(lab)])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("http.unexpected_status")
    expect_tcp_open(t)
    expect_tls_ok(t)
    t.expect_fact("http.status", 403)
    t.expect_fact("http.expected_status", "400")
    t.expect_fact("http.status_matches", False)
    t.expect_fact("http.responded_count", 1)
    t.expect_fact("http.statuses", ["403"])
    t.expect_service_probe("http", ZONE_A, result="response", status=403)
    d = t.diagnosis("http.unexpected_status")
    expect_eq(d.get("title"), "The service answered 403, expected 400", "title")
    for words in (f"got: 403 (from {ZONE_A})", "Expected 400", CLIENT_IP):
        expect_in(words, d.get("summary", ""), "the summary")
    expect_eq(d.get("evidence", {}).get("http.statuses"), ["403"], "evidence http.statuses")
    expect_eq(d.get("evidence", {}).get("http.expected_status"), "400",
              "evidence http.expected_status")
    expect_nginx_saw(lab, nginx, 1, 403)


@scenario("tls.not_tls")
def tls_not_tls(lab):
    # The port serves plain HTTP, the target says https: nginx answers the ClientHello
    # with an HTTP 400 page, which linkdoctor quotes.
    lab.start_nginx(L.Site(ZONE_A, PORT, 400))
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(f"https://{NAME}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tls.not_tls")
    expect_tcp_open(t)
    t.expect_fact("tls.result", "not_tls")
    t.expect_fact("tls.ok_count", 0)
    t.expect_fact("tls.failed_addresses", [ZONE_A])
    peer = t.fact("tls.peer_bytes")
    expect(peer.startswith("HTTP/1.1 400"), f"tls.peer_bytes should start with the HTTP "
                                            f"status line: {peer!r}")
    t.expect_service_probe("tls", ZONE_A, result="not_tls", peer_bytes=peer)
    d = t.diagnosis("tls.not_tls")
    expect_in(f"with: \"{peer}\"", d.get("summary", ""), "the summary (the reply quoted)")
    expect_eq(d.get("evidence", {}).get("tls.peer_bytes"), peer, "evidence tls.peer_bytes")


@scenario("tls.handshake_stalled", timed=True)
def tls_handshake_stalled(lab):
    # A peer that accepts and never says a word: the ClientHello goes unanswered until
    # --connect-timeout (1 s). The HTTP request waits alongside, not after it: the run
    # takes ~1 s, not 2, and its no-response finding is the stall's consequence.
    lab.start_listener(ZONE_A, PORT, silent=True)
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(f"https://{NAME}:{PORT}", connect_timeout=1)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tls.handshake_stalled")
    t.expect_suppressed("http.no_response", "tls.handshake_stalled")
    expect_tcp_open(t)
    t.expect_fact("tls.result", "stalled")
    t.expect_fact("tls.failed_addresses", [ZONE_A])
    t.expect_fact("tls.sni", NAME)
    t.expect_service_probe("tls", ZONE_A, result="stalled", ended_by="timeout")
    t.expect_fact("http.result", "no_response")
    t.expect_fact("http.no_response_addresses", [ZONE_A])
    t.expect_service_probe("http", ZONE_A, result="no_response", ended_by="timeout")
    expect_bounded_by_connect_timeout(run, 1.0)


@scenario("http.no_response", timed=True)
def http_no_response(lab):
    # Plain HTTP to a peer that accepts and never answers (a hung service behind the
    # endpoint): the GET goes out and nothing comes back by --connect-timeout (1 s).
    lab.start_listener(ZONE_A, PORT, silent=True)
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(f"http://{NAME}:{PORT}/healthz", connect_timeout=1)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("http.no_response")
    expect_tcp_open(t)
    t.expect_fact("tls.attempted", False)
    t.expect_fact("http.attempted", True)
    t.expect_fact("http.result", "no_response")
    t.expect_fact("http.no_response_addresses", [ZONE_A])
    t.expect_service_probe("http", ZONE_A, result="no_response", ended_by="timeout")
    d = t.diagnosis("http.no_response")
    expect_eq(d.get("title"), f"Port {PORT} accepts the connection but sends no HTTP response",
              "title")
    expect_in("sent no response to GET /healthz", d.get("summary", ""), "the summary")
    expect_bounded_by_connect_timeout(run, 1.0)


@scenario("tls.handshake_failed")
def tls_handshake_failed(lab):
    # The peer speaks TLS but ends every handshake with an alert (nginx
    # ssl_reject_handshake: unrecognized_name, as a server that does not serve the name).
    lab.start_nginx(L.Site(ZONE_A, PORT, reject_tls=True))
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(f"https://{NAME}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tls.handshake_failed")
    expect_tcp_open(t)
    t.expect_fact("tls.result", "failed")
    t.expect_fact("tls.failed_addresses", [ZONE_A])
    expect_in("unrecognized name", t.fact("tls.error"), "tls.error")
    t.expect_service_probe("tls", ZONE_A, result="failed")
    expect_in(f"The name sent (SNI) was {NAME}", t.diagnosis("tls.handshake_failed")["summary"],
              "the summary")


@scenario("tls.name_mismatch")
def tls_name_mismatch(lab):
    # A certificate of the lab CA, but for another name: trusted, and not for this one.
    # Sending that other name (--sni) is the control: then the same server is fine.
    _https_service(lab, lab.certs.other_name())
    run = lab.run(f"https://{NAME}:{PORT}", extra=_cacert(lab))
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tls.name_mismatch")
    t.expect_fact("tls.result", "ok")
    t.expect_fact("tls.sni", NAME)
    t.expect_fact("tls.name_matches", False)
    t.expect_fact("tls.trusted", True)
    t.expect_fact("tls.cert_names", [L.OTHER_NAME])
    t.expect_fact("tls.cert_subject", f"CN={L.OTHER_NAME}")
    t.expect_service_probe("tls", ZONE_A, result="ok", name_matches=False,
                           cert_names=[L.OTHER_NAME])
    d = t.diagnosis("tls.name_mismatch")
    expect_eq(d.get("title"), f"The certificate does not cover {NAME}", "title")
    expect_in(f"covers only: {L.OTHER_NAME}", d.get("summary", ""), "the summary")
    expect_eq(d.get("evidence", {}).get("tls.cert_names"), [L.OTHER_NAME],
              "evidence tls.cert_names")

    run = lab.run(f"https://{NAME}:{PORT}", extra=[*_cacert(lab), "--sni", L.OTHER_NAME])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    expect_tls_ok(t, sni=L.OTHER_NAME, cert_names=[L.OTHER_NAME])


@scenario("tls.untrusted")
def tls_untrusted(lab):
    # 1. A self-signed certificate for the right name: nothing vouches for it, even with
    #    the lab CA given. 2. The lab CA's good certificate, without --cacert: this host's
    #    trust store does not know the lab CA.
    lab.start_nginx(L.Site(ZONE_A, PORT, 400, lab.certs.self_signed()),
                    L.Site(ZONE_A, PORT + 1, 400, lab.certs.good()))
    lab.start_dns({NAME: [ZONE_A]})
    cases = [("self-signed, --cacert the lab CA", PORT, _cacert(lab), 18,
              "self-signed certificate", f"CN={NAME}"),
             ("the lab CA's leaf without --cacert", PORT + 1, [], 20,
              "unable to get local issuer certificate", LAB_CA_ISSUER)]
    for what, port, extra, code, reason, issuer in cases:
        run = lab.run(f"https://{NAME}:{port}", extra=extra)
        try:
            run.expect_outcome(2, "critical")
            t = run.target()
            t.expect_only_diagnoses("tls.untrusted")
            t.expect_fact("tls.result", "ok")
            t.expect_fact("tls.trusted", False)
            t.expect_fact("tls.verify_code", code)
            t.expect_fact("tls.verify", reason)
            t.expect_fact("tls.name_matches", True)
            t.expect_fact("tls.cert_subject", f"CN={NAME}")
            t.expect_fact("tls.cert_issuer", issuer)
            t.expect_service_probe("tls", ZONE_A, result="ok", verify_code=code)
            d = t.diagnosis("tls.untrusted")
            expect_eq(d.get("title"), f"The certificate chain does not verify: {reason}", "title")
            expect_in(f"issued by {issuer}", d.get("summary", ""), "the summary")
        except L.CheckFailed as exc:
            raise L.CheckFailed(f"{what}: {exc}")


@scenario("tls.expired")
def tls_expired(lab):
    # A certificate of the lab CA whose validity ended in 2020 (made with `openssl ca`
    # and explicit dates): expired, not untrusted.
    cert = lab.certs.expired()
    _https_service(lab, cert)
    before = _days_left(cert.not_after)
    run = lab.run(f"https://{NAME}:{PORT}", extra=_cacert(lab))
    after = _days_left(cert.not_after)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tls.expired")
    t.expect_fact("tls.result", "ok")
    t.expect_fact("tls.not_before", _iso(cert.not_before))
    t.expect_fact("tls.not_after", _iso(cert.not_after))
    t.expect_fact("tls.not_yet_valid", False)
    t.expect_fact("tls.verify_code", 10)
    t.expect_fact("tls.verify", "certificate has expired")
    t.expect_fact("tls.name_matches", True)
    t.expect_fact("tls.cert_issuer", LAB_CA_ISSUER)
    days = t.fact("tls.days_left")
    expect(days in (before, after) and days < 0,
           f"tls.days_left {days}, expected {before} (whole days since {_iso(cert.not_after)})")
    d = t.diagnosis("tls.expired")
    expect_eq(d.get("title"), f"The certificate is not valid now (valid {_iso(cert.not_before)} "
                              f"to {_iso(cert.not_after)})", "title")
    expect_in(f"({days} days left)", d.get("summary", ""), "the summary")


@scenario("tls.expiring_soon")
def tls_expiring_soon(lab):
    # Valid today, expiring in 5 days (and 12 hours): inside the default 14-day window,
    # outside a 3-day one.
    cert = lab.certs.expiring(days=5)
    _https_service(lab, cert)
    run = lab.run(f"https://{NAME}:{PORT}", extra=_cacert(lab))
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("tls.expiring_soon")
    t.expect_fact("tls.result", "ok")
    t.expect_fact("tls.trusted", True)
    t.expect_fact("tls.days_left", 5)
    t.expect_fact("tls.warn_days", 14)
    t.expect_fact("tls.not_after", _iso(cert.not_after))
    d = t.diagnosis("tls.expiring_soon")
    expect_eq(d.get("title"), "The certificate expires in 5 days", "title")
    expect_in(f"expires on {_iso(cert.not_after)}, in 5 days", d.get("summary", ""), "the summary")

    run = lab.run(f"https://{NAME}:{PORT}", extra=[*_cacert(lab), "--cert-warn-days", "3"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("tls.days_left", 5)
    t.expect_fact("tls.warn_days", 3)


@scenario("http.proxy_in_use")
def http_proxy_in_use(lab):
    # The environment names a proxy (nothing listens at 127.0.0.9:9, the client's own
    # loopback): applications would go there, linkdoctor still goes direct - nginx sees
    # its request - and warns. NO_PROXY exempting the domain makes it ok.
    nginx = _https_service(lab, lab.certs.good(), status=400)
    proxy = "http://127.0.0.9:9"
    args = [f"https://{NAME}:{PORT}", "--expect-status", "400", *_cacert(lab)]
    run = lab.run(*args[:1], extra=args[1:], env={"HTTPS_PROXY": proxy})
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("http.proxy_in_use")
    t.expect_fact("http.proxy_would_be_used", True)
    t.expect_fact("http.proxy", proxy)
    t.expect_fact("http.proxy_variable", "HTTPS_PROXY")
    expect("http.no_proxy" not in t.facts,
           f"http.no_proxy without NO_PROXY: {t.facts.get('http.no_proxy')!r}")
    t.expect_fact("http.status", 400)
    t.expect_fact("http.status_matches", True)
    expect_tls_ok(t)
    d = t.diagnosis("http.proxy_in_use")
    expect_eq(d.get("title"), "HTTPS_PROXY would send this request through a proxy", "title")
    expect_in(f"HTTPS_PROXY is {proxy}, and {NAME} is not exempted by NO_PROXY",
              d.get("summary", ""), "the summary")
    expect_nginx_saw(lab, nginx, 1, 400)          # linkdoctor itself went direct

    run = lab.run(*args[:1], extra=args[1:], env={"HTTPS_PROXY": proxy, "NO_PROXY": "lab.test"})
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("http.proxy_would_be_used", False)
    t.expect_fact("http.no_proxy", "lab.test")
    t.expect_fact("http.status", 400)
    expect_nginx_saw(lab, nginx, 2, 400)


def expect_redis(t, kind, reply, ok):
    t.expect_fact("redis.attempted", True)
    t.expect_fact("redis.ok", ok)
    t.expect_fact("redis.reply_kind", kind)
    t.expect_fact("redis.reply", reply)
    t.expect_fact("redis.failed_addresses", [] if ok else [ZONE_A])
    t.expect_service_probe("redis", ZONE_A, reply_kind=kind, reply=reply, ended_by="result")


@scenario("redis.ok")
def redis_ok(lab):
    # EMQX's Redis resource through the link: PING answered +PONG.
    _service(lab, lambda: lab.start_redis(ZONE_A, REDIS_PORT))
    run = lab.run(NAME, extra=["--profile", "emqx-redis"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("target.profile", "emqx-redis")
    t.expect_fact("target.scheme", "redis")
    t.expect_fact("target.port", REDIS_PORT)
    expect_tcp_open(t)
    expect_redis(t, "pong", "+PONG", True)
    expect_in("Redis answers +PONG", t.diagnosis("ok")["summary"], "the ok summary")


@scenario("redis.ok.noauth")
def redis_ok_noauth(lab):
    # A Redis that wants a password answers -NOAUTH: still a Redis at the end of the
    # path, so the link is fine (the password is the application's business).
    _service(lab, lambda: lab.start_redis(ZONE_A, REDIS_PORT, password="lab-secret"))
    run = lab.run(NAME, extra=["--profile", "emqx-redis"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    expect_redis(t, "noauth", "-NOAUTH Authentication required.", True)


@scenario("redis.unexpected_reply")
def redis_unexpected_reply(lab):
    # Something else listens on the Redis port: nginx answers PING with an HTTP 400.
    lab.start_nginx(L.Site(ZONE_A, REDIS_PORT, 400))
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(NAME, extra=["--profile", "emqx-redis"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("redis.unexpected_reply")
    expect_tcp_open(t)
    expect_redis(t, "other", "HTTP/1.1 400 Bad Request", False)
    d = t.diagnosis("redis.unexpected_reply")
    expect_eq(d.get("title"), f"Port {REDIS_PORT} does not answer PING as Redis does (other)",
              "title")
    expect_in(f'PING to {ZONE_A} on port {REDIS_PORT} got "HTTP/1.1 400 Bad Request" (other)',
              d.get("summary", ""), "the summary")


@scenario("redis.unexpected_reply.protected_mode")
def redis_unexpected_reply_protected_mode(lab):
    # A Redis without a password, reached from another host: Redis 7's protected mode
    # answers every command with -DENIED (a ~1 KB error line). It is Redis, refusing:
    # reply kind "error" (a RESP error other than NOAUTH), not "other" (not RESP).
    _service(lab, lambda: lab.start_redis(ZONE_A, REDIS_PORT, protected_mode=True))
    run = lab.run(NAME, extra=["--profile", "emqx-redis"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("redis.unexpected_reply")
    reply = t.fact("redis.reply")
    expect(reply.startswith("-DENIED Redis is running in protected mode"),
           f"redis.reply should be Redis's -DENIED line: {reply!r}")
    t.expect_fact("redis.ok", False)
    t.expect_fact("redis.reply_kind", "error")


@scenario("rediss.ok")
def rediss_ok(lab):
    # Redis's own TLS listener (rediss://, port 6379): TLS verifies against the lab CA,
    # then PING over it gets +PONG.
    _service(lab, lambda: lab.start_redis(ZONE_A, REDIS_PORT, cert=lab.certs.good()))
    run = lab.run(f"rediss://{NAME}", extra=_cacert(lab))
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("target.scheme", "rediss")
    t.expect_fact("target.port", REDIS_PORT)
    expect_tls_ok(t)
    expect_redis(t, "pong", "+PONG", True)


def expect_mqtt(t, result, code=None, reason=None):
    t.expect_fact("mqtt.attempted", True)
    t.expect_fact("mqtt.result", result)
    if code is None:
        expect("mqtt.connack_code" not in t.facts, f"mqtt.connack_code without a CONNACK: "
                                                   f"{t.facts.get('mqtt.connack_code')!r}")
    else:
        t.expect_fact("mqtt.connack_code", code)
        t.expect_fact("mqtt.connack_reason", reason)
    t.expect_fact("mqtt.failed_addresses", [] if result == "accepted" else [ZONE_A])
    return t.expect_service_probe("mqtt", ZONE_A, result=result,
                                  **({"connack_code": code} if code is not None else {}))


def _mosquitto_log(proc):
    with open(proc.log, errors="replace") as f:
        return f.read()


@scenario("mqtt.ok")
def mqtt_ok(lab):
    # An EMQX-style broker (mosquitto) that lets anonymous clients in: CONNACK 0.
    broker = _service(lab, lambda: lab.start_mosquitto(ZONE_A, MQTT_PORT))
    run = lab.run(NAME, extra=["--profile", "emqx-mqtt"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("target.profile", "emqx-mqtt")
    t.expect_fact("target.scheme", "mqtt")
    t.expect_fact("target.port", MQTT_PORT)
    expect_tcp_open(t)
    expect_mqtt(t, "accepted", 0, "accepted")
    expect_in("The MQTT broker answers: accepted", t.diagnosis("ok")["summary"], "the ok summary")
    expect_in(f"New client connected from {CLIENT_IP}", _mosquitto_log(broker), "mosquitto's log")


@scenario("mqtt.connect_refused")
def mqtt_connect_refused(lab):
    # The broker requires a user name and password (allow_anonymous false, a password
    # file): mosquitto 2.0 answers an anonymous MQTT 3.1.1 CONNECT with CONNACK return
    # code 5, "not authorized" (not 4, which is for credentials given and wrong).
    broker = _service(lab, lambda: lab.start_mosquitto(ZONE_A, MQTT_PORT,
                                                       users={"emqx": "lab-secret"}))
    run = lab.run(NAME, extra=["--profile", "emqx-mqtt"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("mqtt.connect_refused")
    expect_tcp_open(t)
    expect_mqtt(t, "refused", 5, "not authorized")
    d = t.diagnosis("mqtt.connect_refused")
    expect_eq(d.get("title"), "The MQTT broker refused the connection: not authorized", "title")
    expect_in(f"{ZONE_A} answered CONNECT with return code 5 (not authorized)",
              d.get("summary", ""), "the summary")
    expect_in("disconnected, not authorised", _mosquitto_log(broker), "mosquitto's log")


@scenario("mqtt.unexpected_reply", timed=True)
def mqtt_unexpected_reply(lab):
    # Something accepts on 1883 and never answers: no CONNACK by --connect-timeout (1 s).
    lab.start_listener(ZONE_A, MQTT_PORT, silent=True)
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(NAME, connect_timeout=1, extra=["--profile", "emqx-mqtt"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("mqtt.unexpected_reply")
    expect_tcp_open(t)
    expect_mqtt(t, "no_connack")
    t.expect_service_probe("mqtt", ZONE_A, ended_by="timeout")
    d = t.diagnosis("mqtt.unexpected_reply")
    expect_eq(d.get("title"), f"Port {MQTT_PORT} does not answer an MQTT CONNECT (no_connack)",
              "title")
    expect_in(f"CONNECT to {ZONE_A} on port {MQTT_PORT} got no CONNACK (no_connack).",
              d.get("summary", ""), "the summary")
    expect_bounded_by_connect_timeout(run, 1.0)     # --connect-timeout 1, not the default 2


@scenario("mqtts.ok")
def mqtts_ok(lab):
    # mosquitto's own TLS listener on 8883 with the lab CA's certificate: TLS verifies,
    # then the CONNECT over it is accepted.
    broker = _service(lab, lambda: lab.start_mosquitto(ZONE_A, MQTTS_PORT, cert=lab.certs.good()))
    run = lab.run(f"mqtts://{NAME}", extra=_cacert(lab))
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("target.scheme", "mqtts")
    t.expect_fact("target.port", MQTTS_PORT)
    expect_tls_ok(t)
    expect_mqtt(t, "accepted", 0, "accepted")
    expect_in(f"New client connected from {CLIENT_IP}", _mosquitto_log(broker), "mosquitto's log")


# --- the run as a whole ----------------------------------------------------------------

@scenario("deadline", timed=True)
def deadline(lab):
    # --timeout is a promise: the whole run ends by then, whatever is pending, and still
    # says what it saw.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    run = lab.run(TARGET, timeout=0.5, connect_timeout=2)
    run.expect_wall(0.45, 0.5 + 0.2)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    t.expect_fact("tcp.cut_by_deadline", True)
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    # Cut before the first retransmission: the SYN was seen leaving, but nothing proves
    # it unanswered yet, so the finding rests on timing.
    t.expect_attempt(ZONE_A, state="timeout", ended_by="run_deadline", conn_state="S0",
                     syn_seen=True)
    expect_live_capture(t, syn_unanswered=0)
    expect_confidence(t, "tcp.syn_dropped", "medium")


@scenario("multi_target")
def multi_target(lab):
    # One run, three targets: the exit code is the worst verdict, each target keeps its own.
    lab.start_service(PORT, [ZONE_A], NAME)
    targets = [TARGET, f"{NAME}:{PORT + 1}", f"missing.lab.test:{PORT}"]
    run = lab.run(*targets)
    run.expect_outcome(2, "critical")
    expect_eq([t["target"] for t in run.report["targets"]], targets, "targets, in order")
    want = [("ok", ["ok"]), ("critical", ["tcp.refused"]), ("critical", ["dns.no_record"])]
    for i, (verdict, ids) in enumerate(want):
        t = run.target(i)
        t.expect_verdict(verdict)
        t.expect_only_diagnoses(*ids)


# --- packet capture: permission, --capture on / off --------------------------------------

def _dnsmasq_queries(lab, name):
    """How many queries for `name` the lab's resolver has logged."""
    path = os.path.join(lab.tmp, f"dnsmasq-{L.RESOLVER_IP}.log")
    with open(path, errors="replace") as f:
        return sum(1 for line in f if "query[" in line and f" {name} " in line)


def _linkdoctor_samples(run_or_samples, what):
    """The /proc/PID/status samples taken while the PID was linkdoctor itself (before,
    it was `ip netns exec` or setpriv)."""
    samples = getattr(run_or_samples, "status_samples", run_or_samples)
    expect(samples, f"{what}: /proc/PID/status could not be sampled at all")
    mine = [(t, s) for t, s in samples if s.get("Name") == "linkdoctor"]
    expect(mine, f"{what}: never saw the process as linkdoctor: {json.dumps(samples)}")
    return mine


def _expect_privileges(samples, what, uid, caps_dropped_by=0.5):
    """While linkdoctor ran, it shed every capability, set no_new_privs and, for uid != 0,
    became that user (all four uids and gids), within `caps_dropped_by` s of starting,
    and stayed so until it exited."""
    samples = getattr(samples, "status_samples", samples)
    mine = _linkdoctor_samples(samples, what)
    final_t, final = mine[-1]
    ids = " ".join([str(uid)] * 4)
    expect_eq(final.get("Uid"), ids, f"{what}: Uid (real, effective, saved, fs) at the end")
    expect_eq(final.get("Gid"), ids, f"{what}: Gid (real, effective, saved, fs) at the end")
    for cap in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        expect_eq(final.get(cap), NO_CAPS, f"{what}: {cap} at the end")
    expect_eq(final.get("NoNewPrivs"), "1", f"{what}: NoNewPrivs at the end")
    if uid != 0:
        expect("0" not in (final.get("Groups") or "").split(),
               f"{what}: still in group root: Groups {final.get('Groups')!r}")
    # The drop comes right after the capture is open, not at the end of the run: the
    # first sample in the final state is early, and the run went on long after it.
    first_t = next(t for t, s in mine if s == final)
    caps_dropped_by += L.TIME_SLACK
    expect(first_t <= caps_dropped_by,
           f"{what}: privileges dropped only {first_t:.3f} s after the start "
           f"(samples: {json.dumps(samples)})")
    return final


@scenario("capture.unavailable", timed=True)
def capture_unavailable(lab):
    # linkdoctor started by an ordinary user (nobody, no capability at all): no capture,
    # said once as an info diagnosis; the verdict rests on what the sockets say.
    L.need_tools("setpriv")
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_listener(ZONE_A, PORT + 1)
    lab.block("endpoint", ZONE_A, PORT + 1, "drop")

    run = lab.run(TARGET, prefix=L.UNPRIVILEGED, watch=True)
    # The harness really ran it unprivileged.
    first = _linkdoctor_samples(run, "unprivileged run")[0][1]
    expect_eq((first.get("Uid"), first.get("CapEff")), (" ".join([str(NOBODY)] * 4), NO_CAPS),
              "linkdoctor's Uid and CapEff under setpriv")
    run.expect_outcome(0, "ok")         # info does not change the verdict
    t = run.target()
    t.expect_only_diagnoses("ok", "capture.unavailable")
    d = t.diagnosis("capture.unavailable")
    expect_eq(d.get("severity"), "info", "capture.unavailable severity")
    reason = t.fact("capture.unavailable_reason")
    expect("permission" in reason, f"capture.unavailable_reason should say why: {reason!r}")
    expect(reason in d.get("summary", ""), f"the summary should carry the reason: {d.get('summary')!r}")
    expect_no_capture(t, "auto")
    t.expect_attempt(ZONE_A, state="open", ended_by="result")

    # A dropped SYN without packets: timing alone, medium confidence, at --connect-timeout.
    run = lab.run(f"{NAME}:{PORT + 1}", prefix=L.UNPRIVILEGED)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped", "capture.unavailable")
    expect_confidence(t, "tcp.syn_dropped", "medium")
    expect_no_capture(t, "auto")
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    t.expect_fact("tcp.cut_by_deadline", False)
    a = t.expect_attempt(ZONE_A, state="timeout", ended_by="timeout")
    expect(a.get("syns_sent", 0) >= 2, f"attempt syns_sent >= 2, got {a.get('syns_sent')}")
    run.expect_wall(1.95, 2.6)          # --connect-timeout (2 s), not more


@scenario("capture.on_without_permission", timed=True)
def capture_on_without_permission(lab):
    # --capture on is a demand: without permission the run must not start at all.
    L.need_tools("setpriv")
    lab.start_service(PORT, [ZONE_A], NAME)
    args = ["check", TARGET, "--capture", "on", "--format", "json", "--cloud", "none"]
    before = _dnsmasq_queries(lab, NAME)
    _, code, out, err, wall = lab.run_raw(args, prefix=L.UNPRIVILEGED)
    expect_one_stderr_line(code, out, err, "--capture on", "permission")
    expect(wall < 1.0 + L.TIME_SLACK, f"a refused --capture on took {wall:.3f} s")
    expect_eq(_dnsmasq_queries(lab, NAME), before, "DNS queries made by a run that must not start")
    # The control: as root, --capture on runs, captures, and asks the resolver.
    run = lab.run(TARGET, extra=["--capture", "on"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("capture.mode", "on")
    t.expect_fact("capture.available", True)
    t.expect_fact("capture.established", 1)
    expect(_dnsmasq_queries(lab, NAME) > before, "the resolver's log shows the root run's query")


@scenario("capture.off", timed=True)
def capture_off(lab):
    # --capture off: no capture, nothing counted, and not reported as unavailable (the
    # user asked for it). TCP findings rest on timing, as without permission.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_listener(ZONE_A, PORT + 1)
    lab.block("client", ZONE_A, PORT + 1, "drop")
    run = lab.run(TARGET, extra=["--capture", "off"])
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    expect_no_capture(t, "off")
    reason = t.fact("capture.unavailable_reason")
    expect("off" in reason, f"capture.unavailable_reason should say it was turned off: {reason!r}")
    t.expect_attempt(ZONE_A, state="open")
    # Without packets, the instance's own drop cannot be told from one on the path: a
    # dropped SYN at --connect-timeout, medium confidence (tcp.local_firewall.drop is
    # the same lab with the capture on).
    run = lab.run(f"{NAME}:{PORT + 1}", extra=["--capture", "off"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "medium")
    expect_no_capture(t, "off")
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    a = t.expect_attempt(ZONE_A, state="timeout", ended_by="timeout")
    expect(a.get("syns_sent", 0) >= 2, f"attempt syns_sent >= 2, got {a.get('syns_sent')}")
    run.expect_wall(1.95, 2.6)


SUDO_NOBODY = {"SUDO_UID": str(NOBODY), "SUDO_GID": str(NOBODY)}


def _report_file(lab, argv, code, out, err, path):
    """The report a run wrote with -o: exit 2 (a dropped SYN), nothing on stdout, the
    file valid; returns (report, its TargetReport)."""
    expect_eq(code, 2, f"exit code of {' '.join(argv)} (stderr: {err.strip()!r})")
    expect_eq(out, "", "stdout of a run with -o")
    expect(os.path.exists(path), f"no report written to {path}; stderr: {err.strip()!r}")
    with open(path) as f:
        report = json.load(f)
    L.validate_report(report, lab.source_dir)
    expect_eq(report.get("command"), "check", "the report's command")
    expect_eq(os.listdir(os.path.dirname(path)), [os.path.basename(path)],
              "files in the report's directory (no temporary file left)")
    return report, L.TargetReport(report["targets"][0])


@scenario("privileges.dropped", timed=True)
def privileges_dropped(lab):
    # After opening the capture (and the report's temporary file), linkdoctor drops what
    # it does not need: as root it becomes nobody; under sudo (SUDO_UID/SUDO_GID) the
    # user who ran sudo - whatever directory the report goes to. The endpoint drops the port so
    # that each run lives ~1.2 s while /proc/PID/status is sampled; each run must still
    # prove the drop from its packets (the capture survives the drop of privileges).
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")

    def proven(t, what):
        expect_eq([(d["id"], d.get("confidence")) for d in t.data.get("diagnoses", [])],
                  [("tcp.syn_dropped", "high")], f"{what}: diagnoses")
        t.expect_fact("capture.available", True)

    # 1. Root, not through sudo: becomes nobody.
    run = lab.run(TARGET, watch=True)
    run.expect_outcome(2, "critical")
    _expect_privileges(run, "as root", NOBODY)
    proven(run.target(), "as root")

    # 2. Through sudo, no -o: becomes the user who ran sudo.
    run = lab.run(TARGET, env=SUDO_NOBODY, watch=True)
    run.expect_outcome(2, "critical")
    _expect_privileges(run, "SUDO_UID=SUDO_GID=65534", NOBODY)
    proven(run.target(), "SUDO_UID=SUDO_GID=65534")

    # 3. Through sudo, -o into a root-only (0700) directory: that user could not write
    #    there, yet becomes that user; the report, made before and renamed by the helper
    #    that keeps the right to, is written, and stays root's.
    root_only = tempfile.mkdtemp(prefix="root-only-", dir=lab.tmp)
    os.chmod(root_only, 0o700)
    path = os.path.join(root_only, "report.json")
    args = ["check", TARGET, "--format", "json", "--cloud", "none", "-o", path]
    argv, code, out, err, _ = lab.run_raw(args, env=SUDO_NOBODY, watch=True)
    _expect_privileges(lab.last_status_samples, "SUDO_UID=65534, -o into a root-only dir", NOBODY)
    _, t = _report_file(lab, argv, code, out, err, path)
    proven(t, "-o into a root-only dir")
    expect_eq(os.stat(path).st_uid, 0, "owner of the report")

    # 4. Through sudo, -o into a directory that user owns (and can reach): becomes that
    #    user, and the report is theirs.
    os.chmod(lab.tmp, 0o711)            # reachable, not listable; deleted at teardown
    theirs = tempfile.mkdtemp(prefix="user-", dir=lab.tmp)
    os.chown(theirs, NOBODY, NOBODY)
    path = os.path.join(theirs, "report.json")
    args = ["check", TARGET, "--format", "json", "--cloud", "none", "-o", path]
    argv, code, out, err, _ = lab.run_raw(args, env=SUDO_NOBODY, watch=True)
    _expect_privileges(lab.last_status_samples, "SUDO_UID=65534, -o into that user's dir", NOBODY)
    _, t = _report_file(lab, argv, code, out, err, path)
    proven(t, "-o into that user's dir")
    expect_eq(os.stat(path).st_uid, NOBODY, "owner of the report")


@scenario("privileges.sudo_output_unreachable", timed=True)
def privileges_sudo_output_unreachable(lab):
    # Through sudo, -o into a directory the sudo user owns, but inside a root-only (0700)
    # directory: that user cannot reach it, so it could not write the report there. The
    # report must still be written, and linkdoctor still becomes that user without any
    # capability (it once stayed root with CAP_DAC_OVERRIDE for the whole run): the
    # temporary file is made first, and the helper that renames it keeps the right to.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    os.chmod(lab.tmp, 0o700)
    theirs = tempfile.mkdtemp(prefix="user-", dir=lab.tmp)
    os.chown(theirs, NOBODY, NOBODY)
    path = os.path.join(theirs, "report.json")
    args = ["check", TARGET, "--format", "json", "--cloud", "none", "-o", path]
    argv, code, out, err, _ = lab.run_raw(args, env=SUDO_NOBODY, watch=True)
    _, t = _report_file(lab, argv, code, out, err, path)
    _expect_privileges(lab.last_status_samples, "SUDO_UID=65534, -o into an unreachable dir",
                       NOBODY)
    expect_eq(os.stat(path).st_uid, 0, "owner of the report (that user cannot reach it)")
    expect_eq([(d["id"], d.get("confidence")) for d in t.data.get("diagnoses", [])],
              [("tcp.syn_dropped", "high")], "diagnoses")


@scenario("privileges.cap_net_raw_only", timed=True)
def privileges_cap_net_raw_only(lab):
    # Not root, but granted CAP_NET_RAW (as `setcap cap_net_raw+ep` would): the capture
    # works (a drop is proven in ~1.2 s), and the capability is gone once it is open.
    L.need_tools("setpriv")
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    net_raw_only = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                    "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
                    "--bounding-set=-all,+net_raw")
    run = lab.run(TARGET, prefix=net_raw_only, watch=True)
    first = _linkdoctor_samples(run, "CAP_NET_RAW only")[0][1]
    expect_eq(int(first.get("CapEff") or "0", 16), CAP_NET_RAW,
              "linkdoctor's CapEff at its start (CAP_NET_RAW alone)")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "high")
    expect_live_capture(t, syn_not_seen=0)
    expect_syn_unanswered(t, ZONE_A)
    run.expect_wall(1.0, 1.5)
    _expect_privileges(run, "CAP_NET_RAW only", NOBODY)


# --- linkdoctor analyze: the same diagnosis from a recording -------------------------

def _record(lab, path, fn):
    """Records the client's veth with tcpdump while fn() runs; returns fn's result."""
    proc = lab.start_tcpdump(path)
    try:
        result = fn()
    finally:
        said = lab.stop(proc)
    expect(os.path.exists(path), f"tcpdump wrote no {path}: {said.strip()}")
    return result


def _diagnoses(t):
    return sorted((d["id"], d.get("confidence")) for d in t.data.get("diagnoses", []))


def _conn_class(attempt):
    """conn_state, with every established handshake as one (the live capture may end its
    attempt before the close: S2 where the whole recording shows SF)."""
    state = attempt.get("conn_state")
    return "established" if state in ESTABLISHED else state


@scenario("analyze.same_as_check")
def analyze_same_as_check(lab):
    # Each case: tcpdump records the client's veth while `linkdoctor check` runs; then
    # `linkdoctor analyze` of that file must say what the live check said (ids,
    # confidence, exit code, verdict), with the same evidence per address.
    L.need_tools("tcpdump")
    two = "two.lab.test"
    for port in (PORT, PORT + 2, PORT + 3):
        lab.start_listener(ZONE_A, port)
    lab.start_listener(ZONE_B, PORT + 3)
    lab.start_dns({NAME: [ZONE_A], two: [ZONE_A, ZONE_B]})
    lab.block("endpoint", ZONE_A, PORT, "drop")                 # PORT + 1: nothing listens
    lab.block("endpoint", ZONE_A, PORT + 2, ADMIN_PROHIBITED)
    lab.block("endpoint", ZONE_B, PORT + 3, "drop")
    cases = [  # what, check target, analyze --target, expected (id, confidence), exit
        ("endpoint drop", f"{NAME}:{PORT}", f"{ZONE_A}:{PORT}", [("tcp.syn_dropped", "high")], 2),
        ("refused", f"{NAME}:{PORT + 1}", f"{ZONE_A}:{PORT + 1}", [("tcp.refused", "high")], 2),
        ("ICMP reject", f"{NAME}:{PORT + 2}", f"{ZONE_A}:{PORT + 2}",
         [("tcp.icmp_rejected", "high")], 2),
        # Two addresses: an IP:PORT target would pick one of them; a name matches by port.
        ("two-zone partial", f"{two}:{PORT + 3}", f"{two}:{PORT + 3}", [("tcp.partial", "high")], 1),
    ]
    for i, (what, target, offline_target, want, code) in enumerate(cases):
        pcap = os.path.join(lab.tmp, f"case{i}.pcap")
        live = _record(lab, pcap, lambda: lab.run(target))
        lt = live.target()
        expect_eq(_diagnoses(lt), want, f"{what}: the live check's diagnoses")
        expect_eq(live.exit_code, code, f"{what}: the live check's exit code")
        runs = [(f"{what}: analyze --target {offline_target}", lab.analyze(pcap, offline_target)),
                (f"{what}: analyze without --target", lab.analyze(pcap))]
        for label, offline in runs:
            expect_eq(len(offline.report["targets"]), 1, f"{label}: targets")
            ot = offline.target()
            expect_eq(_diagnoses(ot), _diagnoses(lt), f"{label}: diagnoses (id, confidence) vs check")
            offline.expect_outcome(live.exit_code, live.report["verdict"])
            ot.expect_fact("capture.source", "file")
            ot.expect_fact("capture.file", pcap)
            for fact in ("capture.syn_unanswered", "capture.rejected", "capture.established",
                         "tcp.timeout_count", "tcp.refused_count", "tcp.icmp_count", "tcp.open_count"):
                expect_eq(ot.fact(fact), lt.fact(fact), f"{label}: {fact} vs check")
            for fact in ("tcp.open_addresses", "tcp.timeout_addresses", "tcp.refused_addresses",
                         "tcp.icmp_addresses"):
                expect_eq(sorted(ot.fact(fact)), sorted(lt.fact(fact)), f"{label}: {fact} vs check")
            expect_eq(sorted(a["address"] for a in ot.tcp_attempts),
                      sorted(a["address"] for a in lt.tcp_attempts), f"{label}: addresses")
            for la in lt.tcp_attempts:
                oa = ot.tcp_attempt(la["address"])
                for key in ("state", "syn_seen"):
                    expect_eq(oa.get(key), la.get(key), f"{label}: {la['address']} {key} vs check")
                expect_eq(_conn_class(oa), _conn_class(la),
                          f"{label}: {la['address']} conn_state vs check")
                expect_eq(len(syn_times(oa)), len(syn_times(la)),
                          f"{label}: {la['address']} SYNs captured vs check")
        if what == "two-zone partial":
            # --target IP:PORT picks one address: each zone on its own.
            for address, ids in ((ZONE_A, [("ok", "high")]), (ZONE_B, [("tcp.syn_dropped", "high")])):
                one = lab.analyze(pcap, f"{address}:{PORT + 3}")
                expect_eq(_diagnoses(one.target()), ids, f"analyze --target {address}:{PORT + 3}")
                expect_eq([a["address"] for a in one.target().tcp_attempts], [address],
                          f"analyze --target {address}:{PORT + 3}: attempts")


def _cut_mid_packet(src, dst):
    """Copies the pcap `src` to `dst` cut in the middle of its last packet's data."""
    with open(src, "rb") as f:
        data = f.read()
    expect(len(data) > 24, f"{src}: no packets recorded")
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
    expect(endian is not None, f"{src}: not a pcap (magic {data[:4].hex()})")
    offset, records = 24, []
    while offset + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        records.append((offset, incl))
        offset += 16 + incl
    expect(len(records) >= 2 and offset == len(data), f"{src}: {len(records)} whole packets")
    last, incl = records[-1]
    with open(dst, "wb") as f:
        f.write(data[:last + 16 + incl // 2])
    return len(records)


@scenario("analyze.bad_files")
def analyze_bad_files(lab):
    # A capture file that cannot be analyzed: exit 3, one line on stderr naming the
    # file, nothing on stdout, and with -o nothing written.
    L.need_tools("tcpdump")
    lab.start_service(PORT, [ZONE_A], NAME)
    recorded = os.path.join(lab.tmp, "recorded.pcap")
    _record(lab, recorded, lambda: lab.run(TARGET).expect_outcome(0, "ok"))
    # The control: the whole recording analyzes.
    lab.analyze(recorded, f"{ZONE_A}:{PORT}").expect_outcome(0, "ok")

    files = {name: os.path.join(lab.tmp, name) for name in
             ("empty.pcap", "truncated.pcap", "not-a-pcap.pcap", "missing.pcap")}
    open(files["empty.pcap"], "wb").close()
    packets = _cut_mid_packet(recorded, files["truncated.pcap"])
    with open(files["not-a-pcap.pcap"], "w") as f:
        f.write("GET / HTTP/1.1\r\nHost: svc.lab.test\r\n\r\n" * 8)
    out_dir = tempfile.mkdtemp(prefix="out-", dir=lab.tmp)
    for name, path in files.items():
        for with_o in (False, True):
            args = ["analyze", path, "--target", f"{ZONE_A}:{PORT}", "--format", "json"]
            if with_o:
                args += ["-o", os.path.join(out_dir, "report.json")]
            _, code, out, err, _ = lab.run_raw(args)
            try:
                expect_one_stderr_line(code, out, err, path)
                expect_eq(os.listdir(out_dir), [], "written by a run that failed")
            except L.CheckFailed as exc:
                raise L.CheckFailed(f"analyze {name} ({packets} packets recorded)"
                                    f"{' with -o' if with_o else ''}: {exc}")


# --- the harness itself ------------------------------------------------------------------

@scenario("_fail", listed=False)
def deliberately_fail(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    raise L.CheckFailed("deliberate failure (harness self-test)")


@scenario("_hang", listed=False)
def hang(lab):
    # Every kind of server the lab starts (those installed), nginx's worker included:
    # none may outlive it.
    lab.start_service(PORT, [ZONE_A], NAME)
    if shutil.which("openssl") and shutil.which("nginx"):
        lab.start_nginx(L.Site(ZONE_A, PORT + 1, 400, lab.certs.good()))
    if shutil.which("redis-server"):
        lab.start_redis(ZONE_A, REDIS_PORT)
    if shutil.which("mosquitto"):
        lab.start_mosquitto(ZONE_A, MQTT_PORT)
    print("hanging", flush=True)
    time.sleep(120)


def _leftovers(output):
    """What a child lab announced (namespaces, /etc/netns dirs, temp dir, PIDs) and still exists."""
    left = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    for line in output.splitlines():
        words = line.split()
        if line.startswith("lab ") and "client=" in line:
            fields = dict(w.split("=", 1) for w in words if "=" in w)
            for ns in (fields["client"], fields["endpoint"]):
                if ns in netns:
                    left.append(f"netns {ns}")
                if os.path.exists(os.path.join(L.NETNS_ETC, ns)):
                    left.append(f"{L.NETNS_ETC}/{ns}")
            if os.path.exists(fields["dir"]):
                left.append(fields["dir"])
        elif "started" in words and "(pid" in words:
            pid = int(words[-1].rstrip(")"))
            if os.path.exists(f"/proc/{pid}"):
                left.append(f"pid {pid} ({line})")
    expect("client=" in output, f"the child lab announced no names:\n{output}")
    return left


def _hang_and_signal(me, sig):
    """Starts the hanging scenario, sends it `sig` once its lab is up; returns (exit
    code, everything it printed)."""
    child = subprocess.Popen(me + ["_hang"], stdout=subprocess.PIPE, text=True)
    try:
        out, deadline = "", time.monotonic() + 30
        while "hanging" not in out and time.monotonic() < deadline:
            if select.select([child.stdout], [], [], 1)[0]:
                line = child.stdout.readline()
                if not line:
                    break
                out += line
        expect("hanging" in out, f"the hanging scenario never got ready:\n{out}")
        child.send_signal(sig)
        rest, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(out + rest, end="")
    return child.returncode, out + rest


@scenario("harness.teardown", own_lab=False)
def harness_teardown(args):
    """A failing scenario, a SIGTERMed one and a SIGKILLed one leave no namespace, file
    or process behind."""
    me = [sys.executable, os.path.abspath(__file__), "--binary", args.binary,
          "--source-dir", args.source_dir]
    failed = subprocess.run(me + ["_fail"], capture_output=True, text=True, timeout=60)
    print(failed.stdout, end="")
    expect_eq(failed.returncode, 1, "exit code of a failing scenario")
    expect("deliberate failure" in failed.stdout, "the failure was reported")
    expect_eq(_leftovers(failed.stdout), [], "left behind by a failing scenario")

    code, out = _hang_and_signal(me, signal.SIGTERM)
    expect_eq(code, 128 + signal.SIGTERM, "exit code of a SIGTERMed scenario")
    expect_eq(_leftovers(out), [], "left behind by a SIGTERMed scenario")

    # No finally block runs on SIGKILL: the servers die by PR_SET_PDEATHSIG and the
    # reaper deletes the rest, a moment later.
    code, out = _hang_and_signal(me, signal.SIGKILL)
    expect_eq(code, -signal.SIGKILL, "a SIGKILLed scenario's status")
    deadline = time.monotonic() + 5
    while _leftovers(out) and time.monotonic() < deadline:
        time.sleep(0.1)
    expect_eq(_leftovers(out), [], "left behind by a SIGKILLed scenario after 5 s")


# --- scenarios of other topics ---------------------------------------------------------

def _load_topic_files():
    """Imports every scenarios_*.py beside this file (sorted): each registers its
    scenarios with @scenario as they are defined."""
    import glob
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(here, "scenarios_*.py"))):
        name = os.path.basename(path)[:-3]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


_load_topic_files()


# --- running one scenario ------------------------------------------------------------

def _watchdog(signum, frame):
    raise L.Interrupted(signum, "watchdog: the scenario ran too long")


def run_scenario(args):
    fn = SCENARIOS[args.name]
    if not fn.own_lab:
        fn(args)
        return
    lab = L.Lab(args.binary, args.source_dir)
    try:
        with lab:
            fn(lab)
    except L.CheckFailed:
        if getattr(lab, "last_run", None):
            print("--- the last linkdoctor run ---\n" + lab.last_run.describe(), flush=True)
        raise
    run = getattr(lab, "last_run", None)
    if run:
        ids = [[d["id"] for d in t.get("diagnoses", [])] for t in run.report.get("targets", [])]
        print(f"linkdoctor: exit {run.exit_code}, diagnoses {ids}, {run.wall:.3f} s")
        print("report: " + ("valid against " + L.schema_path(args.source_dir) if run.schema_validated
                            else "NOT validated: " + L.schema_path(args.source_dir) + " does not exist"))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print the scenario names")
    ap.add_argument("--list-timed", action="store_true",
                    help="print the names of the scenarios that assert wall-clock bounds")
    ap.add_argument("--binary", help="the linkdoctor binary")
    ap.add_argument("--source-dir", help="the source tree (for report/report.schema.json)")
    ap.add_argument("--watchdog", type=float, default=45,
                    help="fail (and tear down) after this many seconds; keep it below ctest's TIMEOUT")
    ap.add_argument("name", nargs="?", choices=sorted(SCENARIOS), metavar="NAME")
    args = ap.parse_args()
    if args.list or args.list_timed:
        check_timed_marks()
        print("\n".join(n for n, fn in SCENARIOS.items()
                        if fn.listed and (fn.timed or not args.list_timed)))
        return 0
    if not (args.name and args.binary and args.source_dir):
        ap.error("NAME, --binary and --source-dir are needed")

    try:
        L.preflight()
    except L.Skip as why:
        return L.cannot_run(why)
    if not os.access(args.binary, os.X_OK):
        print(f"FAIL: no linkdoctor binary at {args.binary}")
        return 1

    signal.signal(signal.SIGALRM, _watchdog)
    signal.setitimer(signal.ITIMER_REAL, args.watchdog)
    try:
        with L.signals_raise():
            run_scenario(args)
    except L.Skip as why:               # a tool only this scenario needs is missing
        return L.cannot_run(why)
    except L.Interrupted as why:
        print(f"INTERRUPTED {args.name}: {why}")
        return 1 if why.signum == signal.SIGALRM else 128 + why.signum
    except Exception:
        traceback.print_exc(file=sys.stdout)
        print(f"FAIL {args.name}")
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"PASS {args.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
