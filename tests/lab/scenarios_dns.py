"""scenarios_dns.py - what the application's resolver experiences, in the lab.

A resolver that answers with a broken message (a compression loop, a false answer count)
or with a truncated reply whose retry over TCP breaks is not unreachable; a stale
/etc/hosts entry (dns.hosts_override, critical) is the root cause of the connection
failures to its address; a nameserver listed first that drops queries makes every glibc
lookup wait, which linkdoctor computes from what each nameserver did - and which glibc
itself (getent, in the client namespace) is measured to wait.
"""

import scenarios as S
from lab import (RESOLVER_IP, ROUTER_IP, STALE_IP, TIME_SLACK, UNUSED_IP, ZONE_A, ZONE_B,
                 expect, expect_eq)

NAME, PORT, TARGET = S.NAME, S.PORT, S.TARGET
RESOLVER = f"{RESOLVER_IP}:53"
SECOND_RESOLVER_IP = "10.0.1.3"       # a second DNS server of the "VPC"
NEIGHBOUR_NOBODY_IP = "10.0.1.99"     # on the client's own subnet; no host holds it
HOSTS_LINE = 3                        # lab.set_hosts: localhost on lines 1 and 2


def _texts(d):
    return " ".join(str(d.get(k, "")) for k in ("title", "summary", "remediation"))


def _answered_but_broken(lab, mode, rcode, rule):
    """A DNS peer in `mode` is the VPC resolver: it answers, wrongly. linkdoctor must say
    the resolver answered with something unusable - not that it is unreachable."""
    lab.start_dns_peer(mode)
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses(rule)
    t.expect_fact("dns.rcode", rcode)
    t.expect_fact("dns.system_responding_count", 1)
    t.expect_fact("dns.silent_resolvers", [])
    t.expect_fact("dns.answer_resolver", RESOLVER)
    probe = t.dns_probe(RESOLVER_IP)
    expect_eq(probe.get("rcode"), rcode, "the resolver's rcode")
    expect(probe.get("latency_ms") is not None, f"the resolver answered, so it has a latency: {probe}")
    expect_eq(t.tcp_attempts, [], "TCP attempts without an address")
    return run, t, probe


@S.scenario("dns.malformed_answer.compression_loop")
def dns_malformed_answer_compression_loop(lab):
    _, t, probe = _answered_but_broken(lab, "loop", "MALFORMED", "dns.malformed_answer")
    expect_eq(probe.get("a_rcode"), "MALFORMED", "the A query's rcode")
    expect(RESOLVER in t.diagnosis("dns.malformed_answer")["title"], "the title names the resolver")


@S.scenario("dns.malformed_answer.answer_count")
def dns_malformed_answer_answer_count(lab):
    _answered_but_broken(lab, "count", "MALFORMED", "dns.malformed_answer")


@S.scenario("dns.tcp_fallback_failed")
def dns_tcp_fallback_failed(lab):
    # The reply over UDP is truncated; over TCP the peer promises 256 bytes, sends four
    # and closes. Before, that ended as "ICMP port unreachable".
    run, t, probe = _answered_but_broken(lab, "tc", "TCP_FAILED", "dns.tcp_fallback_failed")
    expect_eq(probe.get("truncated"), True, "the resolver's reply was truncated")
    expect_eq(probe.get("tcp_failure"), "closed", "how the TCP retry failed")
    t.expect_fact("dns.tcp_failure", "closed")
    # The text report says what happened, and nothing about ICMP.
    _, code, out, err, _ = lab.run_raw(["check", TARGET, "--format", "text", "--cloud", "none"])
    expect_eq(code, 2, f"exit code of the text run (stderr: {err.strip()})")
    expect("ICMP" not in out, f"the text report speaks of ICMP:\n{out}")
    expect("truncated reply over UDP; the retry over TCP: closed" in out,
           f"the resolver line does not say what happened:\n{out}")


# --- /etc/hosts ---------------------------------------------------------------------------

def _expect_stale(lab, stale, tcp_rule, dns_state="open"):
    """DNS says ZONE_B; the client's /etc/hosts pins `stale`, which fails (as `tcp_rule`).
    dns.hosts_override is the one finding, critical, and hides that failure - whether
    ZONE_B works or not (its attempt ends `dns_state`), which its summary says."""
    dns_works = dns_state == "open"
    lab.set_hosts({NAME: stale})
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.hosts_override")
    d = t.diagnosis("dns.hosts_override")
    expect_eq(d["severity"], "critical", "dns.hosts_override severity")
    hidden = sorted(i for i in t.suppressed if i.startswith("tcp."))
    expect_eq(hidden, [tcp_rule], f"the failure of {stale}, hidden by dns.hosts_override")
    t.expect_suppressed(tcp_rule, "dns.hosts_override")
    t.expect_fact("dns.hosts_addresses", [stale])
    t.expect_fact("dns.addresses", [ZONE_B])
    t.expect_fact("dns.hosts_not_in_dns", [stale])
    t.expect_fact("dns.hosts_file", "/etc/hosts")
    t.expect_fact("dns.hosts_line", HOSTS_LINE)
    t.expect_fact("tcp.hosts_failed_addresses", [stale])
    t.expect_fact("tcp.dns_open_addresses", [ZONE_B] if dns_works else [])
    # Where applications connect (expected), and DNS's address tried for comparison only.
    a = t.expect_attempt(stale, origin=["hosts"], expected=True)
    expect(a.get("state") != "open", f"the pinned address must fail: {a}")
    t.expect_attempt(ZONE_B, state=dns_state, origin=["dns"], expected=False)
    expect(f"sends {NAME} to {stale}; DNS says {ZONE_B}" in d["title"],
           f"the title does not name both addresses: {d['title']}")
    for needle in (stale, ZONE_B, f"/etc/hosts line {HOSTS_LINE}"):
        expect(needle in d["summary"], f"the summary does not name {needle}: {d['summary']}")
    works = "The network path to the endpoint works: the hosts entry is stale."
    expect((works in d["summary"]) == dns_works,
           f"the summary {'does not say' if dns_works else 'says'} DNS's address works: "
           f"{d['summary']}")
    expect(f"Delete line {HOSTS_LINE} of /etc/hosts" in d["remediation"],
           f"the fix does not name the line: {d['remediation']}")
    expect("security group" not in _texts(d).lower(),
           f"a stale hosts entry is no security group problem: {_texts(d)}")
    return run, t


@S.scenario("dns.hosts_override.stale")
def dns_hosts_override_stale(lab):
    lab.start_service(PORT, [ZONE_B], NAME)
    # A neighbour address nobody holds: ARP goes unanswered and the SYN never leaves.
    # Before, the headline was tcp.local_firewall and the stale entry only a warning;
    # the hidden verdict is tcp.no_route (no host answers ARP), never a local firewall.
    _expect_stale(lab, NEIGHBOUR_NOBODY_IP, "tcp.no_route")
    # An old address routed away from the client, where packets vanish: dropped SYNs.
    _expect_stale(lab, STALE_IP, "tcp.syn_dropped")
    # With --endpoint-ip the endpoint's address (DNS's too) is expected and works: the
    # stale entry is still what applications hit, and the one finding.
    lab.set_hosts({NAME: STALE_IP})
    run = lab.run(TARGET, endpoint_ips=[ZONE_B])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("dns.hosts_override")
    expect_eq(t.diagnosis("dns.hosts_override")["severity"], "critical",
              "dns.hosts_override severity")
    t.expect_attempt(ZONE_B, state="open", origin=["endpoint", "dns"], expected=True)
    t.expect_attempt(STALE_IP, origin=["hosts"], expected=False)
    t.expect_fact("tcp.dns_open_addresses", [ZONE_B])
    # DNS's address refuses too: the stale entry is still what every application hits
    # first, so it stays the critical root cause, and says DNS's address failed as well.
    lab.firewall("endpoint", f"ip daddr {ZONE_B} tcp dport {PORT} reject with tcp reset")
    _expect_stale(lab, NEIGHBOUR_NOBODY_IP, "tcp.no_route", dns_state="refused")


@S.scenario("dns.hosts_override.same_as_dns")
def dns_hosts_override_same_as_dns(lab):
    # A hosts entry that says what DNS says: nothing is stale, and it works.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.set_hosts({NAME: ZONE_A})
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.hosts_override")
    t.expect_fact("dns.hosts_not_in_dns", [])
    t.expect_fact("dns.hosts_line", HOSTS_LINE)
    # One address, tried once, for both sources.
    t.expect_attempt(ZONE_A, state="open", origin=["hosts", "dns"], expected=True)
    expect_eq(len(t.tcp_attempts), 1, "attempts")


@S.scenario("dns.hosts_override.dns_down")
def dns_hosts_override_dns_down(lab):
    # No nameserver answers, but /etc/hosts has the name: applications resolve it and
    # connect. A warning that says so, not "applications cannot resolve the name".
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.set_resolv_conf(UNUSED_IP)
    lab.set_hosts({NAME: ZONE_A})
    run = lab.run(TARGET, connect_timeout=1)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.hosts_override")
    t.expect_fact("dns.system_responding_count", 0)
    t.expect_attempt(ZONE_A, state="open", origin=["hosts"], expected=True)
    d = t.diagnosis("dns.hosts_override")
    expect("No nameserver of /etc/resolv.conf answered" in d["summary"],
           f"the summary does not say DNS is down: {d['summary']}")
    expect("cannot resolve" not in _texts(d), f"the report contradicts itself: {_texts(d)}")


# --- the nameserver order -----------------------------------------------------------------

def _dropping_first_resolver(lab, options=()):
    """resolv.conf lists SECOND_RESOLVER_IP first - a DNS server behind a rule that drops
    its queries - then the VPC resolver, which answers."""
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=SECOND_RESOLVER_IP)
    lab.firewall("endpoint", f"ip daddr {SECOND_RESOLVER_IP} udp dport 53 drop")
    lab.set_resolv_conf(SECOND_RESOLVER_IP, RESOLVER_IP, options=options)


def _expect_slow(t, ms, severity, timeout_s):
    t.expect_only_diagnoses("dns.slow_resolution")
    d = t.diagnosis("dns.slow_resolution")
    expect_eq(d["severity"], severity, "dns.slow_resolution severity")
    t.expect_fact("dns.slow_resolvers", [f"{SECOND_RESOLVER_IP}:53"])
    t.expect_fact("dns.slow_resolution_ms", ms)
    t.expect_fact("dns.resolver_timeout_s", timeout_s)
    t.expect_fact("dns.answer_resolver", RESOLVER)
    t.expect_fact("dns.addresses", [ZONE_A])
    silent = t.dns_probe(SECOND_RESOLVER_IP)
    expect_eq(silent.get("rcode"), "TIMEOUT", "the first nameserver's rcode")
    expect_eq(silent.get("wait_ms"), ms, "what a lookup waits on the first nameserver")
    expect(t.dns_probe(RESOLVER_IP).get("latency_ms") is not None, "the second one answered")
    t.expect_attempt(ZONE_A, state="open", expected=True)
    expect(RESOLVER in d["title"] and SECOND_RESOLVER_IP in d["title"],
           f"the title names both nameservers: {d['title']}")
    return d


def _getent_seconds(lab):
    """How long glibc itself takes to resolve NAME in the client namespace (getent ahosts:
    getaddrinfo, A and AAAA), with an nsswitch.conf of files then dns only."""
    lab.set_client_etc("nsswitch.conf", "hosts: files dns\n")
    p, took = lab.run_in_client("getent", "ahosts", NAME)
    expect_eq(p.returncode, 0, f"getent ahosts {NAME} (stderr: {p.stderr.strip()})")
    expect(ZONE_A in p.stdout, f"getent resolved {NAME} to {p.stdout.strip()!r}")
    return took


@S.scenario("dns.slow_resolution", timed=True)
def dns_slow_resolution(lab):
    # glibc's default timeout (5 s) per lookup: critical.
    _dropping_first_resolver(lab)
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    d = _expect_slow(run.target(), 5000, "critical", 5)
    expect("5000 ms" in d["title"], f"the title gives the delay: {d['title']}")
    # options timeout:1: a warning, and glibc is measured to wait what linkdoctor computed.
    lab.set_resolv_conf(SECOND_RESOLVER_IP, RESOLVER_IP, options=("timeout:1", "attempts:2"))
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    _expect_slow(t, 1000, "warning", 1)
    t.expect_fact("dns.resolver_options", ["timeout:1", "attempts:2"])
    t.expect_fact("dns.resolver_attempts", 2)
    _expect_glibc_waits(lab, 1.0)
    # Two silent nameservers before the good one, options timeout:2: glibc waits 2 s for
    # the first and (2 << 1) / 3 = 1 s for the second (res_send.c), not 2 s each.
    lab.set_resolv_conf(SECOND_RESOLVER_IP, UNUSED_IP, RESOLVER_IP, options=("timeout:2",))
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_fact("dns.slow_resolvers", [f"{SECOND_RESOLVER_IP}:53", f"{UNUSED_IP}:53"])
    t.expect_fact("dns.slow_resolution_ms", 3000)
    expect_eq(t.dns_probe(UNUSED_IP).get("wait_ms"), 1000, "the wait on the second nameserver")
    _expect_glibc_waits(lab, 3.0)


def _expect_glibc_waits(lab, computed):
    """glibc itself, asked in the client namespace, waits what linkdoctor computed."""
    took = _getent_seconds(lab)
    expect(computed - 0.1 <= took <= computed + 0.5 + TIME_SLACK,
           f"glibc took {took:.3f} s to resolve {NAME}; linkdoctor computed {computed:.3f} s")


@S.scenario("dns.slow_resolution.silent_controls")
def dns_slow_resolution_silent_controls(lab):
    # Two nameservers that both answer: nothing to wait for.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_dns({NAME: [ZONE_A]}, listen=SECOND_RESOLVER_IP)
    lab.set_resolv_conf(SECOND_RESOLVER_IP, RESOLVER_IP)
    run = lab.run(TARGET)
    run.expect_outcome(0, "ok")
    t = run.target()
    t.expect_only_diagnoses("ok")
    t.expect_fact("dns.slow_resolver_count", 0)
    t.expect_fact("dns.slow_resolution_ms", 0)
    # A dropping nameserver listed after the one that answers costs nothing (no rotate).
    lab.firewall("endpoint", f"ip daddr {SECOND_RESOLVER_IP} udp dport 53 drop")
    lab.set_resolv_conf(RESOLVER_IP, SECOND_RESOLVER_IP)
    run = lab.run(TARGET, connect_timeout=1)
    run.expect_outcome(0, "ok")
    run.target().expect_fact("dns.slow_resolver_count", 0)
    # A first nameserver that refuses (ICMP port unreachable) costs next to nothing: still
    # worth a warning - nothing serves DNS there - with its measured cost.
    lab.set_resolv_conf(ROUTER_IP, RESOLVER_IP)
    run = lab.run(TARGET)
    run.expect_outcome(1, "warning")
    t = run.target()
    t.expect_only_diagnoses("dns.slow_resolution")
    t.expect_fact("dns.slow_resolvers", [f"{ROUTER_IP}:53"])
    ms = t.fact("dns.slow_resolution_ms")
    expect(0 <= ms < 500, f"a refusing nameserver costs its measured time, not a timeout: {ms} ms")
    expect_eq(t.dns_probe(ROUTER_IP).get("rcode"), "UNREACHABLE", "the refusing nameserver's rcode")
