"""scenarios_capture_more.py - SYNs that leave for a link-layer address nobody has.

Shortly after an endpoint's network interface is deleted, this host's neighbour entry
for its address still holds the old MAC (STALE). A SYN to it leaves - the capture sees
it - and reaches no one; the kernel confirms the entry only later (DELAY for
delay_first_probe_time, 5 s, then unicast probes 1 s apart, then FAILED: ~8 s). So
unanswered SYNs do not prove a drop on the path while the next hop is unconfirmed:

- with the default --connect-timeout (2 s) the kernel cannot settle it in time: the
  drop is reported at the first retransmission as before, but with confidence medium
  and the next hop's state named;
- with a --connect-timeout that leaves time for the kernel's probes, linkdoctor waits
  for them: FAILED is tcp.no_route (no host has the address), and a gateway that
  answers its probe (REACHABLE) proves the drop (confidence high) as soon as it does.

And `linkdoctor analyze` of a recording whose last packet is a lone SYN to an address an
earlier attempt reached: the undecided SYN does not hide the earlier answer.
"""
import os

import scenarios as S
from scenarios import NAME, PORT, TARGET, expect_confidence, expect_live_capture, syn_times
from lab import ROUTER_IP, ZONE_A, expect, expect_eq

L = S.L
GONE = "10.0.1.99"          # on the client's own subnet; nobody has it any more
GONE_MAC = "02:00:00:00:00:99"
UNCONFIRMED = ("stale", "delay", "probe")


def stale_neighbour(lab, address, mac):
    """The client's neighbour entry for address holds mac and was not confirmed lately
    (as a deleted endpoint interface leaves it): deleted, then `ip neigh replace ... nud
    stale` - a new entry's last confirmation is put 2 x base_reachable_time (60 s) back,
    where replacing a live one would keep a recent confirmation."""
    L._sh("ip", "-n", lab.client, "neigh", "del", address, "dev", lab.veth_c, check=False)
    L._sh("ip", "-n", lab.client, "neigh", "replace", address, "lladdr", mac, "nud", "stale",
          "dev", lab.veth_c)


def router_mac(lab):
    out = L._sh("ip", "-n", lab.endpoint, "-o", "link", "show", lab.veth_e).stdout
    words = out.split()
    return words[words.index("link/ether") + 1]


def expect_no_proven_drop_claim(t):
    """The drop's summary must not claim the neighbour was ruled out."""
    summary = t.diagnosis("tcp.syn_dropped")["summary"]
    expect("nor a missing neighbour" not in summary,
           f"an unconfirmed next hop is not ruled out: {summary!r}")
    return summary


@S.scenario("tcp.syn_dropped.stale_neighbour", timed=True)
def tcp_syn_dropped_stale_neighbour(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    stale_neighbour(lab, GONE, GONE_MAC)
    # Default --connect-timeout (2 s): the kernel needs ~8 s to settle the entry, so
    # the attempt ends at the first retransmission - with medium confidence, saying why.
    run = lab.run(f"{GONE}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "medium")
    expect_live_capture(t, syn_unanswered=1, syn_not_seen=0, lossy=False)
    t.expect_fact("tcp.neighbour_unconfirmed", True)
    t.expect_fact("tcp.neighbour_unresolved", False)
    t.expect_fact("tcp.next_hop", GONE)
    expect(t.fact("tcp.neighbour_state") in UNCONFIRMED,
           f"tcp.neighbour_state {t.fact('tcp.neighbour_state')!r}")
    summary = expect_no_proven_drop_claim(t)
    for words in (f"the next hop {GONE} was not confirmed", "MAC address nobody has",
                  f"ip neigh show {GONE}"):
        expect(words in summary, f"the summary should say {words!r}: {summary!r}")
    a = t.expect_attempt(GONE, state="timeout", syn_seen=True, ended_by="capture")
    expect(a.get("neighbour_state") in UNCONFIRMED, f"attempt neighbour_state {a!r}")
    run.expect_wall(1.0, 1.6)

    # A --connect-timeout that leaves time for the kernel's probes: it waits for them,
    # and the entry turning FAILED (~8 s: 5 s DELAY + 3 unicast probes 1 s apart) is
    # the answer - no host has the address, not a firewall.
    stale_neighbour(lab, GONE, GONE_MAC)
    run = lab.run(f"{GONE}:{PORT}", connect_timeout=10, timeout=12)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.no_route")
    t.expect_fact("tcp.no_route_addresses", [GONE])
    t.expect_fact("tcp.neighbour_unresolved", True)
    t.expect_fact("tcp.neighbour_state", "failed")
    t.expect_fact("tcp.next_hop", GONE)
    expect(t.fact("tcp.neighbour_requests") >= 3,
           f"the kernel's unicast probes were captured: {t.fact('tcp.neighbour_requests')}")
    a = t.expect_attempt(GONE, state="no_route", syn_seen=True, ended_by="capture")
    d = t.diagnosis("tcp.no_route")
    for words in ("reached no one", "nobody has it any more"):
        expect(words in d["summary"], f"the summary should say {words!r}: {d['summary']!r}")
    expect(f"no host at {GONE} on this subnet" in d["remediation"],
           f"the fix should say there is no host there: {d['remediation']!r}")
    # Ended when the entry failed (~8 s after the first SYN), not at --connect-timeout.
    run.expect_wall(7.5, 9.2)


@S.scenario("tcp.syn_dropped.stale_gateway_confirmed", timed=True)
def tcp_syn_dropped_stale_gateway_confirmed(lab):
    # The endpoint's firewall drops the SYNs and the gateway's entry is stale: with time
    # for the kernel's probe, the gateway answers it (REACHABLE) and that proves the
    # drop (confidence high) at once - ~5 s, not --connect-timeout.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    stale_neighbour(lab, ROUTER_IP, router_mac(lab))
    run = lab.run(TARGET, connect_timeout=10, timeout=12)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "high")
    t.expect_fact("tcp.neighbour_unconfirmed", False)
    t.expect_fact("tcp.next_hop", ROUTER_IP)
    t.expect_fact("tcp.neighbour_state", "reachable")
    summary = t.diagnosis("tcp.syn_dropped")["summary"]
    expect("neither this host's own firewall nor a missing neighbour" in summary,
           f"a confirmed next hop is ruled out: {summary!r}")
    t.expect_attempt(ZONE_A, state="timeout", syn_seen=True, ended_by="capture")
    run.expect_wall(4.8, 6.5)
    expect_eq(t.fact("tcp.timeout_addresses"), [ZONE_A], "tcp.timeout_addresses")


@S.scenario("tcp.syn_dropped.stale_gateway_confirmed_by_the_run", timed=True)
def tcp_syn_dropped_stale_gateway_confirmed_by_the_run(lab):
    # The gateway's entry is stale, and one run checks a port that answers and one the
    # endpoint's firewall drops, through that gateway (a fleet of one endpoint's ports).
    # The answered handshake confirms the gateway to the kernel while its entry still says
    # DELAY (it turns REACHABLE only at its next timer, 5 s on): the drop is proven at
    # the first retransmission, confidence high.
    dropped = PORT + 1
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.start_listener(ZONE_A, dropped)
    lab.block("endpoint", ZONE_A, dropped, "drop")
    stale_neighbour(lab, ROUTER_IP, router_mac(lab))
    run = lab.run(f"{ZONE_A}:{PORT}", f"{ZONE_A}:{dropped}")
    run.expect_outcome(2, "critical")
    ok, t = run.target(0), run.target(1)
    ok.expect_only_diagnoses("ok")
    t.expect_only_diagnoses("tcp.syn_dropped")
    expect_confidence(t, "tcp.syn_dropped", "high")
    t.expect_fact("tcp.neighbour_unconfirmed", False)
    t.expect_fact("tcp.next_hop", ROUTER_IP)
    a = t.expect_attempt(ZONE_A, state="timeout", syn_seen=True, ended_by="capture")
    expect(a.get("neighbour_state") in UNCONFIRMED,
           f"the entry still reads stale/delay/probe: {a.get('neighbour_state')!r}")
    expect(0 <= a.get("neighbour_confirmed_ms", -1) < 2000,
           f"confirmed by the run's own handshake: {a.get('neighbour_confirmed_ms')!r}")
    run.expect_wall(1.0, 1.6)


@S.scenario("analyze.final_lone_syn_keeps_an_earlier_answer")
def analyze_final_lone_syn_keeps_an_earlier_answer(lab):
    # The recording holds a full handshake to ZONE_A:PORT, then - the endpoint's firewall
    # now dropping - one SYN from another source port as its last packet (check cut
    # short by --timeout). That SYN is undecided; the earlier attempt decides the address.
    L.need_tools("tcpdump")
    lab.start_service(PORT, [ZONE_A], NAME)
    pcap = os.path.join(lab.tmp, "open-then-lone.pcap")
    proc = lab.start_tcpdump(pcap, bpf=["tcp", "port", str(PORT)])
    try:
        lab.run(f"{ZONE_A}:{PORT}").expect_outcome(0, "ok")
        lab.block("endpoint", ZONE_A, PORT, "drop")
        lab.run(f"{ZONE_A}:{PORT}", timeout=0.5)
    finally:
        lab.stop(proc)
    offline = lab.analyze(pcap, f"{ZONE_A}:{PORT}")
    offline.expect_outcome(0, "ok")
    t = offline.target()
    t.expect_fact("tcp.open_count", 1)
    t.expect_fact("tcp.open_addresses", [ZONE_A])
    t.expect_fact("tcp.undecided_count", 0)
    t.expect_fact("capture.attempts", 1)
    t.expect_fact("capture.established", 1)
    a = t.expect_attempt(ZONE_A, state="open", syn_seen=True)
    expect_eq(syn_times(a), [0.0], "the handshake's one SYN")
    # Without --target too: the port's target is decided by the handshake.
    offline = lab.analyze(pcap)
    offline.expect_outcome(0, "ok")
    offline.target().expect_fact("tcp.open_count", 1)
