#!/usr/bin/python3
"""scenarios.py - linkdoctor's lab scenarios: one per diagnosis, each in its own lab.

    scenarios.py --list                                   the scenario names (for CMake)
    scenarios.py --binary PATH --source-dir DIR NAME      run one scenario (needs root)

Each scenario builds the broken (or healthy) service it is named after, runs linkdoctor
once, and asserts the diagnosis ids, the exit code, the report's verdict and the facts
that show the diagnosis is right for the right reason. Every report is validated
against report/report.schema.json (see lab.validate_report).

Exit status: 0 pass, 1 fail, 77 skip (not root or a tool missing; never under CI=true),
128+N when stopped by signal N.
"""

import argparse
import os
import select
import signal
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True   # keep the source tree clean of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402
from lab import (CLIENT_IP, PUBLIC_IP, ROUTER_IP, STALE_IP, UNROUTED_IP,  # noqa: E402
                 UNUSED_IP, ZONE_A, ZONE_B, expect, expect_eq)

PORT = 19530                  # the port a Zilliz private link uses
NAME = "svc.lab.test"
TARGET = f"{NAME}:{PORT}"
ADMIN_PROHIBITED = "reject with icmp type admin-prohibited"

SCENARIOS = {}


def scenario(name, listed=True, own_lab=True):
    """Registers fn(lab) as scenario `name` (fn(args) when not own_lab: it makes its own
    labs); unlisted ones exist for the harness's own test."""
    def register(fn):
        fn.listed = listed
        fn.own_lab = own_lab
        SCENARIOS[name] = fn
        return fn
    return register


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
    t.expect_attempt(ZONE_A, state="open", expected=True)


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
    t.expect_fact("dns.silent_resolvers", [f"{nameserver}:53 ({why})"])
    t.expect_fact("dns.rcode", why)
    expect_eq(t.dns_probe(nameserver).get("rcode"), why, "the resolver's rcode")
    expect_eq(t.tcp_attempts, [], "TCP attempts without an address")
    return run, t


@scenario("dns.resolver_unreachable.port_unreachable")
def dns_resolver_unreachable_icmp(lab):
    # The host exists but nothing listens on port 53: its ICMP port unreachable ends the
    # query at once, no need to wait for --connect-timeout.
    run, _ = _resolver_unreachable(lab, ROUTER_IP, "UNREACHABLE")
    run.expect_wall(0, 1.0)


@scenario("dns.resolver_unreachable.timeout")
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
    t.expect_fact("dns.divergent_resolvers", [f"{custom}:53 (NOERROR: {STALE_IP})"])
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

@scenario("tcp.refused")
def tcp_refused(lab):
    lab.add_endpoint_address(ZONE_A)      # the interface exists; nothing listens on PORT
    lab.start_dns({NAME: [ZONE_A]})
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.refused")
    t.expect_fact("tcp.refused_addresses", [ZONE_A])
    t.expect_attempt(ZONE_A, state="refused", errno="ECONNREFUSED")


def _syn_dropped(lab, side):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block(side, ZONE_A, PORT, "drop")
    run = lab.run(TARGET)               # default --connect-timeout: 2 s
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_eq(t.diagnosis("tcp.syn_dropped").get("confidence"), "medium",
              "confidence without packet capture")
    t.expect_fact("tcp.timeout_addresses", [ZONE_A])
    t.expect_fact("tcp.source_ip", CLIENT_IP)
    expect(t.fact("tcp.syns_sent") >= 2, "the kernel retransmitted the SYN (tcp.syns_sent >= 2)")
    t.expect_fact("tcp.cut_by_deadline", False)
    attempt = t.expect_attempt(ZONE_A, state="timeout", ended_by="timeout")
    expect(attempt.get("syns_sent", 0) >= 2, f"attempt syns_sent >= 2, got {attempt.get('syns_sent')}")
    run.expect_wall(1.95, 2.6)          # the connect timeout, not more


@scenario("tcp.syn_dropped")
def tcp_syn_dropped(lab):
    # The endpoint's security group does not allow the port: SYNs vanish on its input.
    _syn_dropped(lab, "endpoint")


@scenario("tcp.syn_dropped.instance")
def tcp_syn_dropped_instance(lab):
    # The instance's security group has no egress rule: SYNs vanish on the client's output.
    _syn_dropped(lab, "client")


@scenario("tcp.icmp_rejected")
def tcp_icmp_rejected(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, ADMIN_PROHIBITED)
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.icmp_rejected")
    t.expect_fact("tcp.icmp_reason", "admin-prohibited")
    t.expect_fact("tcp.icmp_from", ZONE_A)
    t.expect_fact("tcp.icmp_addresses", [f"{ZONE_A} (admin-prohibited)"])
    t.expect_attempt(ZONE_A, state="icmp", icmp_type=3, icmp_code=13,
                     icmp_reason="admin-prohibited", icmp_from=ZONE_A)


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
    t.expect_attempt(ZONE_A, state="local_block", icmp_from=CLIENT_IP)


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


@scenario("tcp.partial")
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
    t.expect_fact("tcp.failed_addresses", [f"{ZONE_B} (timeout)"])
    t.expect_attempt(ZONE_A, state="open")
    t.expect_attempt(ZONE_B, state="timeout")


# --- the run as a whole ----------------------------------------------------------------

@scenario("deadline")
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
    t.expect_attempt(ZONE_A, state="timeout", ended_by="run_deadline")


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


# --- the harness itself ------------------------------------------------------------------

@scenario("_fail", listed=False)
def deliberately_fail(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    raise L.CheckFailed("deliberate failure (harness self-test)")


@scenario("_hang", listed=False)
def hang(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
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
    ap.add_argument("--binary", help="the linkdoctor binary")
    ap.add_argument("--source-dir", help="the source tree (for report/report.schema.json)")
    ap.add_argument("--watchdog", type=float, default=45,
                    help="fail (and tear down) after this many seconds; keep it below ctest's TIMEOUT")
    ap.add_argument("name", nargs="?", choices=sorted(SCENARIOS), metavar="NAME")
    args = ap.parse_args()
    if args.list:
        print("\n".join(n for n, fn in SCENARIOS.items() if fn.listed))
        return 0
    if not (args.name and args.binary and args.source_dir):
        ap.error("NAME, --binary and --source-dir are needed")

    try:
        L.preflight()
    except L.Skip as why:
        if L.in_ci():
            print(f"FAIL: {why} (CI is set: a lab test that cannot run fails)")
            return 1
        print(f"SKIP: {why}")
        return 77
    if not os.access(args.binary, os.X_OK):
        print(f"FAIL: no linkdoctor binary at {args.binary}")
        return 1

    signal.signal(signal.SIGALRM, _watchdog)
    signal.setitimer(signal.ITIMER_REAL, args.watchdog)
    try:
        with L.signals_raise():
            run_scenario(args)
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
