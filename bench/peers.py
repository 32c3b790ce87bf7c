#!/usr/bin/python3
"""bench/peers.py [LINKDOCTOR] [--runs N] [--slow-runs N] [--cap SEC] - linkdoctor next to
its peers (nmap, the Monitoring Plugins, curl, nc, getent), side by side in one run on the
same lab targets, and the performance goals of issue 11 checked on the numbers.

It builds the lab once (tests/lab/lab.py). Inside the endpoint namespace:
  svc.lab.test -> 10.0.2.23 (the lab's resolver, dnsmasq; nope.lab.test is NXDOMAIN)
    19530  nginx, TLS with a certificate of the lab's CA, answering 400 (a Zilliz link)
    19531  a TCP listener                        (healthy TCP)
    19532  nothing listens                       (refused: a reset)
    19533  nft reject with icmp admin-prohibited (ICMP-rejected)
    19534  a listener behind nft drop            (dropped: the endpoint's security group)
  two fleets of 1,000 ports, 20001-21000: the even ports listen (one process with 500
  sockets on 0.0.0.0: tests/lab/listeners.py), the odd ones are
    dropped   on 10.0.3.23 (fleet-sg.lab.test: nft drop of the odd ports), or
    refused   on 10.0.5.23 (fleet-closed.lab.test: nothing listens on them).

The client namespace gets the lab's resolv.conf, hosts and an nsswitch.conf of `files dns`,
so that every tool resolves through the lab only. Each case runs linkdoctor (`check
TARGET --cloud none`, capture as root by default; --profile zilliz --cacert CA for HTTPS)
and the peers that answer the same question: `nmap -sT -Pn -p PORT` (and -T4),
check_tcp and check_http (monitoring-plugins-basic; check_http -S does not verify the
certificate), curl, `nc -z` (netcat-openbsd), `getent hosts` for the NXDOMAIN. The fleets:
`linkdoctor check IP:20001 ... IP:21000` and `nmap -sT -Pn -p 20001-21000 IP`.

First every command runs once and its answer is checked: linkdoctor's JSON report (each
dropped port of the fleet must say tcp.syn_dropped with confidence high - proven by
packets - each listening one ok), nmap's XML (open / closed / filtered counts), the
others' exit codes and messages. A peer that answers wrongly means the lab is broken:
nothing is timed (exit 2). Then wall time with hyperfine -N run inside the client
namespace (so entering the namespace is not part of any time): --runs runs (default 20,
3 warm-ups) of the fast commands, --slow-runs (default 5, 1 warm-up) of those taking
about a second or more, 10 of linkdoctor's dropped-SYN check (goal 2 is on its median).
Peers that wait for the kernel's SYN retries (~130 s: curl, nc) or their own timeout
(check_tcp, 10 s) on the dropped port run once, at the same time, stopped after --cap
seconds (default 15) and shown as ">15 s". Measured here, check_tcp's blocking connect()
reports the ICMP admin-prohibited error only with the SYN retransmitted at ~1 s, where the
non-blocking curl and nc report the first one at once. Peak RSS: /usr/bin/time -f %M around the
command inside the namespace (the maximum of 1 to 3 runs).

It prints a table of medians, peak RSS and ratios linkdoctor / peer (per case; < 1 means
linkdoctor is faster), then each goal of issue 11 with PASS or FAIL:
  1. 1,000 targets, half dropped: <= 0.6 x nmap -sT's median, every drop tcp.syn_dropped
     (high), <= 64 MB peak RSS; half refused: <= 2 x nmap -sT's median;
  2. a dropped SYN with default options: median <= 1.12 s, tcp.syn_dropped (high);
  3. healthy HTTPS with capture on <= 1.5 x curl; healthy TCP with capture on <= 3 x
     check_tcp;
and whether linkdoctor said what it should in every case. Exit 0 when all pass, 1 when
one fails, 2 when the lab or a peer misbehaved, 77 when a tool is missing. Needs root.
Nothing leaves the lab: the client namespace has no default route and its own resolver.
A full run takes about 3 minutes on a 2-core machine.
"""
import argparse
import collections
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True     # no __pycache__ beside the scripts
import benchlib as B  # noqa: E402

L = B.L

PLUGINS = "/usr/lib/nagios/plugins"
CHECK_TCP = os.path.join(PLUGINS, "check_tcp")
CHECK_HTTP = os.path.join(PLUGINS, "check_http")
LISTENERS = os.path.join(B.HERE, "..", "tests", "lab", "listeners.py")

NAME = L.LAB_NAME
NX_NAME = "nope.lab.test"
HTTPS_PORT, TCP_PORT, REFUSED_PORT, REJECTED_PORT, DROPPED_PORT = range(19530, 19535)
FLEET_FIRST, FLEET_LAST = 20001, 21000          # odd ports: dropped or refused
FLEET_SG = ("fleet-sg.lab.test", L.ZONE_B)      # the odd ports dropped by its SG
FLEET_CLOSED = ("fleet-closed.lab.test", "10.0.5.23")  # nothing listens on the odd ports
FLEET_SIZE = FLEET_LAST - FLEET_FIRST + 1

GOAL_FLEET_DROP = 0.6       # x nmap -sT's median
GOAL_FLEET_REFUSED = 2.0    # x nmap -sT's median
GOAL_FLEET_RSS_KB = 64 * 1024
GOAL_DROP_S = 1.12
GOAL_HTTPS = 1.5            # x curl's median
GOAL_TCP = 3.0              # x check_tcp's median
DROP_RUNS = 10

EXIT_GOAL_FAILED, EXIT_LAB_BROKEN = 1, 2


class Cmd:
    """One command of a case. `mode`: "fast" (--runs), "slow" (--slow-runs), "once" (run
    once with the others of its case, stopped at --cap), or a number of runs. `verify`:
    extra arguments for the run that checks the answer (e.g. --format json); `judge(code,
    stdout, stderr) -> (right, answer)` says whether that answer is the expected one."""

    def __init__(self, label, argv, judge, mode="fast", verify=(), ld=False):
        self.label, self.argv, self.judge = label, argv, judge
        self.mode, self.verify, self.ld = mode, list(verify), ld
        self.answer = self.right = None
        self.result = None      # hyperfine's, or {"median": s, "capped": bool} for "once"
        self.peaks = []         # peak RSS of each measured run, KiB


class Case:
    def __init__(self, key, title, cmds):
        self.key, self.title, self.cmds = key, title, cmds

    def cmd(self, label):
        return next(c for c in self.cmds if c.label == label)


# --- what each command should answer ----------------------------------------------------

def first_line(*texts):
    for text in texts:
        for line in (text or "").splitlines():
            if line.strip():
                return line.strip()
    return ""


def exits(codes, contains=None):
    """A plain command: right when it exits with one of `codes` (and prints `contains`)."""
    def judge(code, out, err):
        said = first_line(out, err)
        right = code in codes and (contains is None or contains in out + err)
        return right, f"exit {code}" + (f": {said[:60]}" if said else "")
    return judge


def nmap_states(want):
    """nmap with -oX -: right when its port states count as `want` ({state: count}; {}:
    no host scanned, the name did not resolve)."""
    def judge(code, out, err):
        counts = collections.Counter()
        try:
            for host in ET.fromstring(out).iter("host"):
                for extra in host.iter("extraports"):
                    counts[extra.get("state")] += int(extra.get("count"))
                for port in host.iter("port"):
                    counts[port.find("state").get("state")] += 1
        except ET.ParseError:
            return False, f"exit {code}, no XML: {first_line(err)[:60]}"
        answer = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or first_line(err)
        return code == 0 and counts == collections.Counter(want), answer
    return judge


def ld_report(out):
    try:
        return json.loads(out)
    except ValueError:
        return None


def ld_says(want, capture=None):
    """linkdoctor with --format json, one target: right when its diagnoses include
    `want` (an id, or (id, confidence)) - exactly ["ok"] for a healthy one - and, with
    `capture`, the fact capture.available is that."""
    def judge(code, out, err):
        report = ld_report(out)
        if not report or not report.get("targets"):
            return False, f"exit {code}, no report: {first_line(err)[:60]}"
        target = report["targets"][0]
        said = [(d["id"], d.get("confidence")) for d in target["diagnoses"]]
        answer = ", ".join(f"{i} ({c})" for i, c in said)
        seen = target.get("facts", {}).get("capture.available")
        if capture is not None:
            answer += f"; capture.available {str(seen).lower()}"
        if want == "ok":
            right = [i for i, _ in said] == ["ok"]
        elif isinstance(want, tuple):
            right = want in said
        else:
            right = want in [i for i, _ in said]
        return right and (capture is None or seen is capture), answer
    return judge


def ld_fleet(odd_want):
    """linkdoctor on the fleet: right when every even (listening) port says ok and every
    odd one says `odd_want` ((id, confidence)), and nothing else."""
    def judge(code, out, err):
        report = ld_report(out)
        if not report:
            return False, f"exit {code}, no report: {first_line(err)[:60]}"
        counts, wrong = collections.Counter(), []
        for t in report.get("targets", []):
            said = [(d["id"], d.get("confidence")) for d in t["diagnoses"]]
            want = [("ok", "high")] if t["port"] % 2 == 0 else [odd_want]
            counts[" + ".join(f"{i} ({c})" for i, c in said)] += 1
            if [s for s in said if s[0] == want[0][0]] != want or \
                    (want[0][0] == "ok" and len(said) != 1):
                wrong.append(t["target"])
        answer = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        if wrong:
            answer += f"; WRONG for {len(wrong)}, e.g. {wrong[:3]}"
        return not wrong and sum(counts.values()) == FLEET_SIZE, answer
    return judge


# --- the cases ----------------------------------------------------------------------------

def cases(binary, ca):
    ld = [binary, "check"]
    opts = ["--cloud", "none"]
    json_out = ["--format", "json"]

    def nmap(host, ports, mode="fast", t4=False, states=None):
        argv = ["nmap", "-sT", "-Pn", *(["-T4"] if t4 else []), "-p", ports, host]
        return Cmd(f"nmap -sT -Pn{' -T4' if t4 else ''}", argv, nmap_states(states),
                   mode, verify=["-oX", "-"])

    def port_peers(port, nmap_state, tcp, curl, nc, mode="fast"):
        host = NAME
        return [nmap(host, str(port), mode, states={nmap_state: 1} if nmap_state else {}),
                nmap(host, str(port), mode, t4=True, states={nmap_state: 1} if nmap_state else {}),
                Cmd("check_tcp", [CHECK_TCP, "-H", host, "-p", str(port)], tcp, mode),
                *([Cmd("curl", ["curl", "-sS", "-o", "/dev/null", f"http://{host}:{port}/"],
                       curl, mode)] if curl else []),
                Cmd("nc -z", ["nc", "-z", host, str(port)], nc, mode)]

    def fleet(key, title, name_ip, odd_want, nmap_odd, mode):
        _, ip = name_ip
        targets = [f"{ip}:{p}" for p in range(FLEET_FIRST, FLEET_LAST + 1)]
        states = {"open": FLEET_SIZE // 2, nmap_odd: FLEET_SIZE // 2}
        ports = f"{FLEET_FIRST}-{FLEET_LAST}"
        return Case(key, title, [
            Cmd("linkdoctor check IP:P1 ... IP:P1000", ld + targets + opts, ld_fleet(odd_want),
                mode, json_out, ld=True),
            nmap(ip, ports, mode, states=states),
            nmap(ip, ports, mode, t4=True, states=states)])

    return [
        Case("tcp", f"healthy TCP: {NAME}:{TCP_PORT}, a listener", [
            Cmd("linkdoctor check (capture on)", ld + [f"{NAME}:{TCP_PORT}"] + opts,
                ld_says("ok", capture=True), verify=json_out, ld=True),
            Cmd("linkdoctor check --capture off",
                ld + [f"{NAME}:{TCP_PORT}"] + opts + ["--capture", "off"],
                ld_says("ok", capture=False), verify=json_out, ld=True),
            *port_peers(TCP_PORT, "open", exits({0}, "TCP OK"), None, exits({0}))]),
        Case("https", f"healthy HTTPS: https://{NAME}:{HTTPS_PORT}/, nginx answering 400", [
            Cmd("linkdoctor check --profile zilliz (capture on)",
                ld + ["--profile", "zilliz", NAME, "--cacert", ca] + opts,
                ld_says("ok", capture=True), verify=json_out, ld=True),
            Cmd("linkdoctor ... --capture off",
                ld + ["--profile", "zilliz", NAME, "--cacert", ca] + opts + ["--capture", "off"],
                ld_says("ok", capture=False), verify=json_out, ld=True),
            Cmd("curl --cacert", ["curl", "--cacert", ca, "-sS", "-o", "/dev/null",
                                  f"https://{NAME}:{HTTPS_PORT}/"],
                exits({0}, "400"), verify=["-w", "%{http_code}\\n"]),
            Cmd("check_http -S --sni -e 400",
                [CHECK_HTTP, "-H", NAME, "-p", str(HTTPS_PORT), "-S", "--sni", "-e", "400"],
                exits({0}, "HTTP OK"))]),
        Case("refused", f"refused: {NAME}:{REFUSED_PORT}, nothing listens", [
            Cmd("linkdoctor check", ld + [f"{NAME}:{REFUSED_PORT}"] + opts,
                ld_says("tcp.refused"), verify=json_out, ld=True),
            *port_peers(REFUSED_PORT, "closed", exits({2}, "refused"), exits({7}), exits({1}))]),
        Case("rejected", f"ICMP-rejected: {NAME}:{REJECTED_PORT}, nft reject admin-prohibited", [
            Cmd("linkdoctor check", ld + [f"{NAME}:{REJECTED_PORT}"] + opts,
                ld_says("tcp.icmp_rejected"), verify=json_out, ld=True),
            *port_peers(REJECTED_PORT, "filtered", exits({2}, "No route to host"), exits({7}),
                        exits({1}))]),
        Case("dropped", f"dropped: {NAME}:{DROPPED_PORT}, nft drop (the endpoint's SG)", [
            Cmd("linkdoctor check (default options)", ld + [f"{NAME}:{DROPPED_PORT}"] + opts,
                ld_says(("tcp.syn_dropped", "high")), DROP_RUNS, json_out, ld=True),
            Cmd("linkdoctor check --capture off",
                ld + [f"{NAME}:{DROPPED_PORT}"] + opts + ["--capture", "off"],
                ld_says(("tcp.syn_dropped", "medium")), 3, json_out, ld=True),
            nmap(NAME, str(DROPPED_PORT), "slow", states={"filtered": 1}),
            nmap(NAME, str(DROPPED_PORT), "slow", t4=True, states={"filtered": 1}),
            Cmd("check_tcp", [CHECK_TCP, "-H", NAME, "-p", str(DROPPED_PORT)],
                exits({2}, "timeout"), "once"),
            Cmd("curl", ["curl", "-sS", "-o", "/dev/null", f"http://{NAME}:{DROPPED_PORT}/"],
                exits({7, 28}), "once"),
            Cmd("nc -z", ["nc", "-z", NAME, str(DROPPED_PORT)], exits({1}), "once")]),
        Case("nxdomain", f"NXDOMAIN: {NX_NAME}:{TCP_PORT}", [
            Cmd("linkdoctor check", ld + [f"{NX_NAME}:{TCP_PORT}"] + opts,
                ld_says("dns.no_record"), verify=json_out, ld=True),
            Cmd("getent hosts", ["getent", "hosts", NX_NAME], exits({2})),
            nmap(NX_NAME, str(TCP_PORT), states={}),
            Cmd("check_tcp", [CHECK_TCP, "-H", NX_NAME, "-p", str(TCP_PORT)],
                exits({2}, "Invalid hostname")),
            Cmd("curl", ["curl", "-sS", "-o", "/dev/null", f"http://{NX_NAME}:{TCP_PORT}/"],
                exits({6})),
            Cmd("nc -z", ["nc", "-z", NX_NAME, str(TCP_PORT)], exits({1}))]),
        fleet("fleet_dropped", f"1,000 ports of {FLEET_SG[1]}: 500 listen, 500 dropped by its SG",
              FLEET_SG, ("tcp.syn_dropped", "high"), "filtered", "slow"),
        fleet("fleet_refused", f"1,000 ports of {FLEET_CLOSED[1]}: 500 listen, 500 refused",
              FLEET_CLOSED, ("tcp.refused", "high"), "closed", "fast"),
    ]


# --- the lab ------------------------------------------------------------------------------

def build_lab(lab):
    # glibc's tools (curl, nc, check_tcp, getent) resolve through files, then the lab's DNS.
    lab.set_client_etc("nsswitch.conf", "hosts: files dns\n")
    lab.set_hosts({})
    lab.start_nginx(L.Site(L.ZONE_A, HTTPS_PORT, 400, lab.certs.good()))
    lab.start_listener(L.ZONE_A, TCP_PORT)
    lab.start_listener(L.ZONE_A, DROPPED_PORT)
    lab.block("endpoint", L.ZONE_A, REJECTED_PORT, "reject with icmp type admin-prohibited")
    # The kernel sends at most one ICMP error per peer per second (net.ipv4.icmp_ratelimit):
    # runs back to back would then time the rate limiter - the SYN retransmitted at 1 s
    # getting the only answer - instead of the tools. A firewall that rejects answers each.
    subprocess.run(lab.exec_argv(lab.endpoint, "sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"),
                   check=True)
    lab.block("endpoint", L.ZONE_A, DROPPED_PORT, "drop")
    for _, ip in (FLEET_SG, FLEET_CLOSED):
        lab.add_endpoint_address(ip)
    lab.start_server("500 listeners", [sys.executable, LISTENERS, "0.0.0.0",
                                       f"{FLEET_FIRST + 1}-{FLEET_LAST}/2"])
    odd = ", ".join(str(p) for p in range(FLEET_FIRST, FLEET_LAST + 1, 2))
    lab.firewall("endpoint", f"ip daddr {FLEET_SG[1]} tcp dport {{ {odd} }} drop")
    # Names for the fleets' addresses too: nmap looks each scanned address up (PTR), and a
    # resolver that cannot answer would cost it seconds no real VPC charges.
    lab.start_dns({NAME: [L.ZONE_A], FLEET_SG[0]: [FLEET_SG[1]],
                   FLEET_CLOSED[0]: [FLEET_CLOSED[1]]})


# --- measuring ----------------------------------------------------------------------------

def show_argv(argv, names):
    """argv as a shell line, with the paths of `names` ({path: name}) and of the plugins
    shortened."""
    words = [names.get(a) or (os.path.basename(a) if a.startswith(PLUGINS) else a)
             for a in argv]
    if len(words) > 12:     # a fleet: the first and last targets
        words = words[:3] + ["..."] + words[-4:]
    return shlex.join(words)


def verify(lab, case, env, cap):
    """Runs each command of `case` once (the "once" ones together, capped) and judges its
    answer; returns the commands that answered wrongly."""
    wrong = []
    once = [c for c in case.cmds if c.mode == "once"]
    for c in case.cmds:
        if c in once:
            continue
        p = subprocess.run(lab.exec_argv(lab.client, *c.argv, *c.verify), capture_output=True,
                           text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
                           preexec_fn=L._die_with_parent)
        c.right, c.answer = c.judge(p.returncode, p.stdout, p.stderr)
    if once:
        print(f"  waiting for {', '.join(c.label for c in once)}: once each, at the same "
              f"time, at most {cap:g} s...", flush=True)
        slow = B.run_slow({c.label: lab.exec_argv(lab.client, *c.argv) for c in once}, cap, env)
        for c in once:
            secs, code, last = slow[c.label]
            c.result = {"median": secs, "capped": code is None, "runs": 1}
            if code is None:
                c.right, c.answer = True, f"still waiting after {cap:g} s"
            else:
                c.right, c.answer = c.judge(code, last, "")
    for c in case.cmds:
        print(f"  {'ok   ' if c.right else 'WRONG'} {c.label}: {c.answer}", flush=True)
        if not c.right:
            wrong.append(c)
    return wrong


def measure(lab, case, env, args):
    inside = lab.exec_argv(lab.client)
    for c in case.cmds:
        if c.mode == "once":
            continue
        runs = {"fast": args.runs, "slow": args.slow_runs}.get(c.mode, c.mode)
        warmup = 3 if c.mode == "fast" else 1
        c.result = B.hyperfine(c.argv, runs, warmup=warmup, env=env, inside=inside,
                               ignore_failure=True)
        c.result["runs"] = runs
        rss_runs = 3 if c.result["median"] < 0.5 else 2 if c.ld else 1
        c.peaks = B.peak_rss_kb(lab, c.argv, rss_runs, env, check=False)


def fmt_s(seconds, capped=False):
    if capped:
        return f">{seconds:.0f} s"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_table(all_cases, names):
    print(f"\n{'case / command':48} {'runs':>4} {'median':>9} {'min':>9} {'max':>9} "
          f"{'peak RSS':>9} {'ld/this':>8}  answer")
    for case in all_cases:
        print(case.title)
        ref = case.cmds[0]
        for c in case.cmds:
            r = c.result
            capped = r.get("capped", False)
            ratio = "" if c is ref else \
                f"{'<' if capped else ''}{ref.result['median'] / r['median']:.2f}x"
            rng = ("", "") if "min" not in r else (fmt_s(r["min"]), fmt_s(r["max"]))
            rss = f"{max(c.peaks) / 1024:.1f} MB" if c.peaks else ""
            print(f"  {c.label:46} {r['runs']:>4} {fmt_s(r['median'], capped):>9} "
                  f"{rng[0]:>9} {rng[1]:>9} {rss:>9} {ratio:>8}  {c.answer}")
    print("\nld/this: linkdoctor's median (the first row of the case) / this command's "
          "median; < 1: linkdoctor is faster")
    print("commands:")
    for case in all_cases:
        for c in case.cmds:
            print(f"  {case.key:13} {show_argv(c.argv, names)}")


def goals(by_key):
    """Checks issue 11's goals on the measured numbers; returns [(name, passed, detail)]."""
    out = []
    fd, fr = by_key["fleet_dropped"], by_key["fleet_refused"]
    ld, nm = fd.cmds[0], fd.cmd("nmap -sT -Pn")
    rss = max(ld.peaks)
    ok = (ld.result["median"] <= GOAL_FLEET_DROP * nm.result["median"] and ld.right
          and rss <= GOAL_FLEET_RSS_KB)
    out.append(("1a. 1,000 targets, half dropped", ok,
                f"linkdoctor {fmt_s(ld.result['median'])} = "
                f"{ld.result['median'] / nm.result['median']:.2f} x nmap -sT's "
                f"{fmt_s(nm.result['median'])} (goal <= {GOAL_FLEET_DROP}); every drop "
                f"tcp.syn_dropped (high): {'yes' if ld.right else 'NO'}; peak RSS "
                f"{rss / 1024:.1f} MB (goal <= {GOAL_FLEET_RSS_KB // 1024} MB)"))
    ld, nm = fr.cmds[0], fr.cmd("nmap -sT -Pn")
    ok = ld.result["median"] <= GOAL_FLEET_REFUSED * nm.result["median"] and ld.right
    out.append(("1b. 1,000 targets, half refused", ok,
                f"linkdoctor {fmt_s(ld.result['median'])} = "
                f"{ld.result['median'] / nm.result['median']:.2f} x nmap -sT's "
                f"{fmt_s(nm.result['median'])} (goal <= {GOAL_FLEET_REFUSED}); answers right: "
                f"{'yes' if ld.right else 'NO'}"))
    ld = by_key["dropped"].cmds[0]
    ok = ld.result["median"] <= GOAL_DROP_S and ld.right
    out.append(("2.  dropped-SYN verdict", ok,
                f"median {fmt_s(ld.result['median'])} from process start over "
                f"{ld.result['runs']} runs (goal <= {GOAL_DROP_S} s); {ld.answer}"))
    https = by_key["https"]
    ld, curl = https.cmds[0], https.cmd("curl --cacert")
    tcp = by_key["tcp"]
    ld2, ct = tcp.cmds[0], tcp.cmd("check_tcp")
    ratio_https = ld.result["median"] / curl.result["median"]
    ratio_tcp = ld2.result["median"] / ct.result["median"]
    ok = ratio_https <= GOAL_HTTPS and ratio_tcp <= GOAL_TCP and ld.right and ld2.right
    out.append(("3.  capture off the critical path", ok,
                f"HTTPS {fmt_s(ld.result['median'])} = {ratio_https:.2f} x curl's "
                f"{fmt_s(curl.result['median'])} (goal <= {GOAL_HTTPS}); TCP "
                f"{fmt_s(ld2.result['median'])} = {ratio_tcp:.2f} x check_tcp's "
                f"{fmt_s(ct.result['median'])} (goal <= {GOAL_TCP}); capture on in both: "
                f"{'yes' if ld.right and ld2.right else 'NO'}"))
    wrong = [f"{case.key}: {c.label}" for case in by_key.values() for c in case.cmds
             if c.ld and not c.right]
    out.append(("    linkdoctor's answers in every case", not wrong,
                "all as expected" if not wrong else "WRONG: " + "; ".join(wrong)))
    return out


def versions(binary):
    def first(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return first_line(p.stdout, p.stderr)
        except OSError as exc:
            return str(exc)
    return [first([binary, "--version"]), first(["nmap", "--version"]),
            first([CHECK_TCP, "-V"]), first(["curl", "--version"]), first(["hyperfine", "-V"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default=B.DEFAULT_BINARY,
                    help="the linkdoctor binary (default: build/linkdoctor)")
    ap.add_argument("--runs", type=int, default=20,
                    help="hyperfine runs of each fast command (>= 10, default 20)")
    ap.add_argument("--slow-runs", type=int, default=5,
                    help="hyperfine runs of each command taking ~1 s or more (default 5)")
    ap.add_argument("--cap", type=float, default=15,
                    help="stop the peers waiting on a dropped SYN after this many s (default 15)")
    args = ap.parse_args()
    if args.runs < 10 or args.slow_runs < 1:
        ap.error("--runs must be >= 10 and --slow-runs >= 1")
    binary = os.path.abspath(args.binary)
    missing = B.cannot_run("hyperfine", "nmap", "curl", "nc", "getent", "nginx", "openssl",
                           B.TIME, CHECK_TCP, CHECK_HTTP, binary=binary)
    if missing:
        return missing

    started = time.monotonic()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}: "
          f"{os.cpu_count()} CPUs, {cpu_model()}, Linux {platform.release()}")
    for v in versions(binary):
        print(f"  {v}")
    with L.Lab(binary, B.SOURCE_DIR, verbose=False) as lab:
        build_lab(lab)
        env = B.clean_env(LINKDOCTOR_DMI_DIR=lab.dmi_dir)
        all_cases = cases(binary, lab.certs.ca)
        names = {binary: "linkdoctor", lab.certs.ca: "CA.pem"}
        wrong = []
        for case in all_cases:
            print(f"\n{case.title}", flush=True)
            wrong += [c for c in verify(lab, case, env, args.cap) if not c.ld]
        if wrong:
            print("\nthe lab is broken: a peer answered wrongly (" +
                  "; ".join(c.label for c in wrong) + "); nothing timed")
            return EXIT_LAB_BROKEN
        print(f"\ntiming (hyperfine -N inside the client namespace; --runs {args.runs}, "
              f"--slow-runs {args.slow_runs})...", flush=True)
        for case in all_cases:
            measure(lab, case, env, args)
    print_table(all_cases, names)
    print(f"\ngoals of issue 11 ({time.monotonic() - started:.0f} s for this run):")
    results = goals({c.key: c for c in all_cases})
    for name, passed, detail in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {detail}")
    return 0 if all(passed for _, passed, _ in results) else EXIT_GOAL_FAILED


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    sys.exit(main())
