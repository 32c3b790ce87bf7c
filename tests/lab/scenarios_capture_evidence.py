"""scenarios_capture_evidence.py - the packet evidence read fully.

Four faults the packets themselves decide, none of them the endpoint's security group:

- tcp.reply_dropped: this host's own inbound firewall drops the endpoint's SYN-ACK. The
  capture sees it arrive and the SYN go out again: proven at the first retransmission.
- tcp.no_route (no neighbour): an address on the client's own subnet that nobody owns.
  ARP goes unanswered, the SYN never leaves - like a local firewall drop, but the kernel's
  neighbour entry (INCOMPLETE) and the ARP requests captured tell it apart.
- tcp.local_firewall still, when the next hop is fine: and it says what it ruled out.
- A SYN flood fills the capture's flow table: the attempts are still tracked (flows no
  watch needs are evicted), so no false "the SYN never left".

And `linkdoctor analyze` of recordings: the reply-dropped case gives the same diagnosis as
check; a recording that ends right after a lone SYN is undecided, not a drop.
"""
import os
import select
import struct
import sys

import scenarios as S
from scenarios import NAME, PORT, TARGET, expect_confidence, expect_live_capture, expect_ms, syn_times
from lab import ROUTER_IP, UNUSED_IP, ZONE_A, expect, expect_eq

L = S.L
NO_HOST = "10.0.1.99"       # on the client's own subnet (10.0.1.0/24); nobody has it
FLOOD_PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "flood_peers.py")


def client_input_rule(lab, rule):
    """An nftables rule on the client's INPUT (this host's own inbound firewall), the way
    a user writes it: `nft add rule inet filter input RULE`."""
    script = ("add table inet filter\n"
              "add chain inet filter input { type filter hook input priority filter; "
              "policy accept; }\n"
              f"add rule inet filter input {rule}\n")
    L._sh(*lab.exec_argv(lab.client, "nft", "-f", "-"), input=script)


def expect_no_security_group(t):
    """No diagnosis of this fault may send the user to a security group."""
    for d in t.data.get("diagnoses", []):
        for field in ("title", "summary", "remediation"):
            text = d.get(field) or ""
            expect("security group" not in text.lower(),
                   f"{t.name}: {d['id']} {field} mentions a security group: {text!r}")


def expect_reply_dropped(t, address):
    """What the capture proves about an answer this host discarded: it saw the SYN-ACK
    arrive, then the SYN leave again ~1 s later (the socket never got the answer), and
    the attempt ended on that retransmission - not at --connect-timeout."""
    a = t.expect_attempt(address, state="reply_dropped", ended_by="capture", syn_seen=True)
    expect(a.get("conn_state") in S.ESTABLISHED,
           f"{address}: conn_state {a.get('conn_state')!r}: the capture saw the SYN-ACK")
    expect_ms(a, "synack_rtt_ms", 0, 500)
    times = syn_times(a)
    expect(len(times) >= 2 and 900 <= times[1] <= 1500,
           f"{address}: the SYN should go out again ~1 s later, got {times}")
    expect_ms(a, "elapsed_ms", 900, 1500)
    return a


@S.scenario("tcp.reply_dropped", timed=True)
def tcp_reply_dropped(lab):
    # The endpoint answers; this host's own input firewall drops the SYN-ACK.
    lab.start_service(PORT, [ZONE_A], NAME)
    client_input_rule(lab, f"tcp sport {PORT} drop")
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.reply_dropped")
    expect_confidence(t, "tcp.reply_dropped", "high")
    expect_no_security_group(t)
    t.expect_fact("tcp.reply_dropped_addresses", [ZONE_A])
    t.expect_fact("tcp.timeout_count", 0)
    expect_live_capture(t, attempts=1, established=1, syn_unanswered=0, syn_not_seen=0,
                        lossy=False, drops=0)
    a = expect_reply_dropped(t, ZONE_A)
    # The evidence per cause: where the answer came in (the SYN left the same way),
    # the reverse-path filter there.
    t.expect_fact("tcp.reply_interface", lab.veth_c)
    t.expect_fact("tcp.reply_other_interface", False)
    expect_eq(a.get("syn_interface"), lab.veth_c, "the SYN's interface")
    expect(t.fact("tcp.rp_filter") in (0, 1, 2), f"tcp.rp_filter {t.fact('tcp.rp_filter')}")
    d = t.diagnosis("tcp.reply_dropped")
    for words in ("nft list ruleset", "iptables -S INPUT", "nf_conntrack_count", "rp_filter"):
        expect(words in d["remediation"], f"the fix should name {words!r}: {d['remediation']!r}")
    # Decided at the first retransmission (~1 s), not at --connect-timeout (2 s).
    run.expect_wall(1.0, 1.5)

    # A --connect-timeout shorter than the retransmission: the SYN-ACK the capture saw
    # arrive long before the socket gave up is the proof.
    run = lab.run(TARGET, connect_timeout=0.5)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.reply_dropped")
    a = t.expect_attempt(ZONE_A, state="reply_dropped", ended_by="timeout", syn_seen=True)
    expect_eq(syn_times(a), [0.0], "one SYN before the socket gave up")
    run.expect_wall(0.5, 1.0)


@S.scenario("tcp.no_route.no_neighbour", timed=True)
def tcp_no_route_no_neighbour(lab):
    # Nobody has NO_HOST on the client's subnet: ARP goes unanswered and the SYN waits
    # inside the client. Not a firewall: the neighbour entry is INCOMPLETE and the
    # capture saw the ARP requests go out, unanswered.
    lab.start_service(PORT, [ZONE_A], NAME)
    run = lab.run(f"{NO_HOST}:{PORT}")
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.no_route")
    expect_confidence(t, "tcp.no_route", "high")
    expect_no_security_group(t)
    t.expect_fact("tcp.no_route_addresses", [NO_HOST])
    t.expect_fact("tcp.local_block_count", 0)
    t.expect_fact("tcp.next_hop", NO_HOST)
    t.expect_fact("tcp.next_hop_gateway", False)
    t.expect_fact("tcp.neighbour_unresolved", True)
    expect(t.fact("tcp.neighbour_state") in ("incomplete", "failed"),
           f"tcp.neighbour_state {t.fact('tcp.neighbour_state')!r}")
    expect(t.fact("tcp.neighbour_requests") >= 2,
           f"two ARP requests went unanswered, got {t.fact('tcp.neighbour_requests')}")
    expect_live_capture(t, syn_not_seen=1, established=0, lossy=False)
    a = t.expect_attempt(NO_HOST, state="no_route", syn_seen=False, ended_by="capture")
    # The first look (200 ms) found the neighbour unresolved and looked again once the
    # second ARP request (1 s) had gone unanswered: ~1.2 s, not --connect-timeout.
    expect_ms(a, "elapsed_ms", 1000, 1600)
    d = t.diagnosis("tcp.no_route")
    expect(f"no host at {NO_HOST} on this subnet" in d["remediation"],
           f"the fix should say there is no host there: {d['remediation']!r}")
    run.expect_wall(1.0, 1.7)

    # Without a capture the kernel's neighbour entry alone decides, at --connect-timeout.
    run = lab.run(f"{NO_HOST}:{PORT}", connect_timeout=1, extra=["--capture", "off"])
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.no_route")
    t.expect_fact("tcp.neighbour_unresolved", True)
    t.expect_attempt(NO_HOST, state="no_route", ended_by="timeout")


@S.scenario("tcp.local_firewall.rules_out_the_neighbour", timed=True)
def tcp_local_firewall_rules_out_the_neighbour(lab):
    # The instance's own output firewall drops the SYN: still tcp.local_firewall, as
    # fast as before, and now it says why it is not a missing neighbour.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("client", ZONE_A, PORT, "drop")
    run = lab.run(TARGET)
    run.expect_outcome(2, "critical")
    t = run.target()
    t.expect_only_diagnoses("tcp.local_firewall")
    expect_confidence(t, "tcp.local_firewall", "high")
    t.expect_fact("tcp.next_hop", ROUTER_IP)
    t.expect_fact("tcp.next_hop_gateway", True)
    t.expect_fact("tcp.neighbour_unresolved", False)
    expect_live_capture(t, syn_not_seen=1, lossy=False, drops=0)
    summary = t.diagnosis("tcp.local_firewall")["summary"]
    for words in ("the capture lost no packet", f"the next hop {ROUTER_IP} has neighbour state",
                  "not waiting for an ARP answer"):
        expect(words in summary, f"the summary should say {words!r}: {summary!r}")
    t.expect_attempt(ZONE_A, state="local_block", syn_seen=False, ended_by="capture")
    run.expect_wall(0.15, 0.999)


def _start_gated_dns(lab, go, done):
    """The lab's resolver, answering NAME only once `done` exists (flood_peers.py dns)."""
    lab.add_endpoint_address(L.RESOLVER_IP)
    proc = lab._start("gated DNS", lab.exec_argv(lab.endpoint, sys.executable, FLOOD_PEERS, "dns",
                                                   L.RESOLVER_IP, NAME, ZONE_A, go, done))
    ready, _, _ = select.select([proc.popen.stdout], [], [], 5)
    line = proc.popen.stdout.readline().decode(errors="replace") if ready else ""
    if line.strip() != "ready":
        raise proc.failed_to_start(f"said {line.strip()!r}")
    return proc


@S.scenario("capture.syn_flood", timed=True)
def capture_syn_flood(lab):
    # 100,000 spoofed SYNs to the port fill the capture's flow table (65,536 flows) before
    # linkdoctor's own attempts start (DNS answers only once the flood is over). The
    # table evicts flood flows no watch needs: the attempts are tracked, the healthy one
    # is ok and the dropped one is a dropped SYN - never "the SYN never left".
    lab.start_listener(ZONE_A, PORT)
    lab.block("endpoint", ZONE_A, PORT + 1, "drop")
    go, done = os.path.join(lab.tmp, "flood.go"), os.path.join(lab.tmp, "flood.done")
    _start_gated_dns(lab, go, done)
    flooder = lab._start("SYN flood", lab.exec_argv(lab.client, sys.executable, FLOOD_PEERS,
                                                      "flood", UNUSED_IP, str(PORT), "100000",
                                                      go, done, "8"))
    run = lab.run(TARGET, f"{NAME}:{PORT + 1}", connect_timeout=8, timeout=20)
    said = lab.stop(flooder).strip()
    expect(said.startswith("sent "), f"the flooder says {said!r}")
    sent = int(said.split()[1])
    expect(sent > 65536, f"the flood sent {sent} SYNs, not enough to fill the table")
    run.expect_outcome(2, "critical")
    ok, dropped = run.target(0), run.target(1)
    ok.expect_only_diagnoses("ok")
    ok.expect_attempt(ZONE_A, state="open", syn_seen=True)
    # The table was full when the attempt came: room was made for it.
    expect(ok.fact("capture.evicted") >= 1,
           f"capture.evicted {ok.fact('capture.evicted')}: the flood did not fill the table")
    dropped.expect_diagnoses(present=["tcp.syn_dropped"], absent=["tcp.local_firewall"])
    a = dropped.expect_attempt(ZONE_A, state="timeout")
    if not dropped.fact("capture.lossy"):
        # Nothing lost: the capture saw both SYNs and proves the drop.
        expect_confidence(dropped, "tcp.syn_dropped", "high")
        expect_eq(a.get("syn_seen"), True, "the dropped attempt's SYN was seen")


# --- linkdoctor analyze ------------------------------------------------------------------

@S.scenario("analyze.reply_dropped")
def analyze_reply_dropped(lab):
    # tcpdump records the client (its veth: Ethernet; and "any": Linux cooked v2) while
    # check runs against an endpoint whose SYN-ACKs this host drops: analyze of either
    # file says what check said.
    L.need_tools("tcpdump")
    lab.start_service(PORT, [ZONE_A], NAME)
    client_input_rule(lab, f"tcp sport {PORT} drop")
    eth, sll2 = os.path.join(lab.tmp, "reply.eth.pcap"), os.path.join(lab.tmp, "reply.sll2.pcap")
    bpf = ["tcp", "port", str(PORT)]
    # tcpdump 4.99 writes Linux cooked v2 on "any" by default (an older one writes v1,
    # which says the direction but not the interface: checked below).
    dumps = [lab.start_tcpdump(eth, bpf=bpf), lab.start_tcpdump(sll2, interface="any", bpf=bpf)]
    try:
        live = lab.run(TARGET)
    finally:
        for proc in dumps:
            lab.stop(proc)
    lt = live.target()
    lt.expect_only_diagnoses("tcp.reply_dropped")
    for path in (eth, sll2):
        offline = lab.analyze(path, f"{ZONE_A}:{PORT}")
        offline.expect_outcome(2, "critical")
        ot = offline.target()
        ot.expect_only_diagnoses("tcp.reply_dropped")
        expect_confidence(ot, "tcp.reply_dropped", "high")
        expect_no_security_group(ot)
        ot.expect_fact("tcp.reply_dropped_addresses", [ZONE_A])
        a = ot.expect_attempt(ZONE_A, state="reply_dropped", syn_seen=True)
        expect(len(syn_times(a)) >= 2, f"{path}: the SYN and its retransmission")
        if path == sll2 and _link_type(path) == 276:
            # The cooked v2 header carries the interface: the answer came in where the
            # SYN left.
            expect_eq(a.get("reply_other_interface"), False, f"{path}: reply_other_interface")


def _link_type(path):
    """The link type in a pcap file's header."""
    with open(path, "rb") as f:
        header = f.read(24)
    endian = "<" if header[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    return struct.unpack(endian + "I", header[20:24])[0]


@S.scenario("analyze.lone_syn_is_undecided")
def analyze_lone_syn_is_undecided(lab):
    # A recording that ends half a second after a lone SYN (check cut short by --timeout)
    # proves nothing about the SYN: undecided (exit 3, unknown), no dropped SYN claimed.
    L.need_tools("tcpdump")
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    pcap = os.path.join(lab.tmp, "lone.pcap")
    proc = lab.start_tcpdump(pcap, bpf=["tcp", "port", str(PORT)])
    try:
        lab.run(TARGET, timeout=0.5)
    finally:
        lab.stop(proc)
    offline = lab.analyze(pcap, f"{ZONE_A}:{PORT}")
    offline.expect_outcome(3, "unknown")
    t = offline.target()
    t.expect_only_diagnoses()
    t.expect_fact("tcp.undecided_addresses", [ZONE_A])
    t.expect_fact("tcp.timeout_count", 0)
    a = t.expect_attempt(ZONE_A, state="undecided", syn_seen=True)
    expect_eq(syn_times(a), [0.0], "one SYN")
    # The text report says why instead of "no rule matched".
    _, code, out, _, _ = lab.run_raw(["analyze", pcap, "--target", f"{ZONE_A}:{PORT}"])
    expect_eq(code, 3, "text report exit code")
    expect("undecided" in out, f"the text report should say undecided: {out!r}")
