#!/usr/bin/python3
"""suite.py - linkdoctor's checks against every misbehaviour of the hostile peers.

    suite.py --list                                  every case, one per line
    suite.py --list-groups                           the groups (one ctest test each)
    suite.py --binary PATH --source-dir DIR [-v] [SELECTOR...]
                                                     run the cases SELECTOR names (all
                                                     by default; needs root)

A SELECTOR is a case name (http.drip), a group (http: every case of that check) or a
shell pattern (https.app.*, *.drip). A case is one check (dns, http, https, redis,
rediss, mqtt, mqtts) against one server of hostile.py misbehaving one way (a "move").
The cases of a check share one lab (lab.py: linkdoctor in the client namespace, the
servers in the endpoint namespace, the client's resolv.conf the hostile DNS server's
address); each case starts its servers, runs

    linkdoctor check TARGET --timeout 3 --connect-timeout 1 --cloud none -v --format F

once with --format json ("json") and once with --format text ("text"); when the json run
waited on its peer (0.5 s or more), once more with --timeout 1.5 --connect-timeout 10
--format json ("cut": only the run's deadline ends it). Then it stops its servers and
asserts, of each run:

    crash      the exit code is 0-3 (no signal, no abort) in both runs
    sanitizer  stderr has no AddressSanitizer / LeakSanitizer / UBSan report
    deadline   wall time to the end of the output <= --timeout + 0.1 s (+ the lab's
               LINKDOCTOR_LAB_TIME_SLACK)
    rss        peak RSS (wait4's ru_maxrss) below RSS_LIMIT_MB (more for an ASan build)
    json       stdout is strict UTF-8, strict JSON (no NaN, no duplicate key, no lone
               surrogate) and valid against report/report.schema.json; its exit_code
               and verdict agree with the process's
    verdict    (json, text) the exit code is the case's: 1 or 2 (warning, critical)
               for every misbehaviour, 0 for a control, 0-2 where the move is
               legitimate: never 3
    silence    (json) a peer that sent bytes is not reported as silent (no
               dns.resolver_unreachable, tls.result stalled, http.result no_response,
               redis.reply_kind none, mqtt.result no_connack)
    text       the text report has no control character but newline (no ESC, CR, NUL,
               DEL or C1 control)
    stderr     nor has stderr (the -v progress lines), in either run

Every failing case prints one line, `FAIL CASE: assertion (runs): what; ...`, and
again in the summary at the end; -v prints each run's command, stderr and output too.
Exit status: 0 every case passed, 1 some failed, 77 skipped (not root, a tool missing;
never under CI=true), 128+N when stopped by signal N.
"""

import argparse
import collections
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True   # keep the source tree clean of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lab"))
sys.path.insert(0, HERE)
import hostile  # noqa: E402
import lab as L  # noqa: E402

Run = collections.namedtuple("Run", "label fmt timeout connect_timeout")
# Every case runs twice, with the same options but the format; a case whose json run
# waited on its peer (for half the connect timeout or more) runs a third time, "cut",
# where the run's deadline comes before any probe's own: only --timeout ends it.
RUNS = (Run("json", "json", 3, 1), Run("text", "text", 3, 1))
CUT = Run("cut", "json", 1.5, 10)
WAITED_S = 0.5
DEADLINE_GRACE_S = 0.1  # DESIGN.md: every run ends by --timeout + 100 ms
RSS_LIMIT_MB = 64       # peak RSS of one run (DESIGN.md's bar for 1,000 targets)
# An ASan+UBSan build carries shadow memory and a quarantine of freed blocks: its bound
# is looser, and still catches a reply read without limit (the floods send gigabytes).
ASAN_RSS_LIMIT_MB = 256
RUN_LIMIT_S = 20        # a run still going after this is killed (and fails `deadline`)

NAME = L.LAB_NAME
SERVICE = L.ZONE_A
PORTS = {"dns": 19530, "http": 8080, "https": 8443, "redis": 6379, "rediss": 6380,
         "mqtt": 1883, "mqtts": 8883}
HOSTILE = os.path.join(HERE, "hostile.py")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")
# C0 controls but newline, DEL, and the C1 controls (as UTF-8: U+0080..U+009F).
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]")

# What each layer's report says when it saw nothing at all from the peer: a claim that
# is false for a peer that sent bytes (facts.def documents each value).
SILENCE = {
    "dns": lambda t: (["dns.resolver_unreachable"] if "dns.resolver_unreachable" in _ids(t) else [])
    + (["dns.responding_count 0"] if t["facts"].get("dns.responding_count") == 0 else []),
    "tls": lambda t: ["tls.result stalled"] if t["facts"].get("tls.result") == "stalled" else [],
    "http": lambda t: ["http.result no_response"] if t["facts"].get("http.result") == "no_response" else [],
    "redis": lambda t: ["redis.reply_kind none"] if t["facts"].get("redis.reply_kind") == "none" else [],
    "mqtt": lambda t: ["mqtt.result no_connack"] if t["facts"].get("mqtt.result") == "no_connack" else [],
}


def _ids(target):
    return [d.get("id") for d in target.get("diagnoses", [])]


# --- the cases ---------------------------------------------------------------------------

Case = collections.namedtuple("Case", "name check kind move app cert verdict layer extra")
Case.__doc__ = """One check against one move. kind, move, app, cert: the hostile.py server
(kind dns, http, redis, mqtt or tls, and its move; app: what answers after a tls move's
handshake; cert: "good" to put the kind's move under a good TLS layer, or a
hostile.CERTS certificate for a tls move instead of the lab CA's good one). verdict: the
exit codes allowed. layer: whose report must not claim silence (the `silence`
assertion), None when the peer sends nothing. extra: more options for linkdoctor."""

PROBLEM, OK, ANY = (1, 2), (0,), (0, 1, 2)
TLS_CHECKS = ("https", "rediss", "mqtts")
# Moves that send nothing at all, or nothing the client can take for a reply (a DNS
# answer with another query's id is what a spoofer sends: rightly ignored).
SILENT_MOVES = {"silent", "reset", "close", "reset_after_request", "close_after_request"}
SILENT_DNS_MOVES = {"silent", "wrong_id"}
# Moves that are legitimate, whatever else they do: linkdoctor may say ok.
LEGITIMATE = {
    ("dns", "hostile_cname"),   # the name has the address; binary labels are legal DNS
    ("dns", "long_cname"),      # the name has the address
    ("http", "endless_body"),   # 200 is a fine status; the body is the service's business
    ("redis", "hostile_noauth"),  # -NOAUTH: a Redis that wants a password
}
# The good peers: linkdoctor must say ok (proof that the lab and the servers work).
CONTROLS = {("dns", "ok"), ("http", "ok"), ("redis", "ok"), ("redis", "noauth"),
            ("mqtt", "ok"), ("tls", "ok")}
# Options a case adds: the hostile strings of an HTTP reply reach the report's prose
# only when the status is unexpected.
EXTRA = {("http", name): ["--expect-status", "200"]
         for name in hostile.HTTP if name.startswith(("hostile_", "long_"))}
# What the TLS checks run of the application's moves (under a good TLS layer) and of
# the TLS moves (https runs every TLS move; http, redis and mqtt every move of theirs).
APP_OVER_TLS = ("garbage", "hostile_bytes", "drip", "truncated", "endless_line")
APP_OVER_TLS_EXTRA = {"http": ("header_flood", "continue_forever", "hostile_location",
                               "status_000"),
                      "redis": ("hostile_error", "long_error"),
                      "mqtt": ("connack_long", "huge_remaining_length")}
TLS_FOR_REDIS_MQTT = ("ok", "silent", "close_after_request", "garbage", "drip", "truncated",
                      "alert", "huge_record", "garbage_after_handshake",
                      "reset_after_handshake", "close_after_handshake")


def _case(name, check, kind, move, app=None, cert=None):
    tls_on_plain = kind == "tls" and check not in TLS_CHECKS   # a TLS-only port
    if (kind, move) in CONTROLS and cert in (None, "good") and not tls_on_plain:
        verdict = OK
    elif (kind, move) in LEGITIMATE:
        verdict = ANY
    else:
        verdict = PROBLEM
    silent = move in (SILENT_DNS_MOVES if kind == "dns" else SILENT_MOVES) or tls_on_plain
    return Case(name, check, kind, move, app, cert, verdict, None if silent else kind,
                EXTRA.get((kind, move), []))


def build_cases():
    cases = [_case(f"dns.{move}", "dns", "dns", move) for move in hostile.DNS]
    for app in ("http", "redis", "mqtt"):
        cases += [_case(f"{app}.{move}", app, app, move) for move in hostile.STREAM[app]]
        # A TLS-only port behind a plain target (issue 13, item 6): its TLS server
        # closes without a word when the first bytes are not a ClientHello.
        cases.append(_case(f"{app}.tls_port", app, "tls", "ok", app=app))
    for check, app in zip(TLS_CHECKS, ("http", "redis", "mqtt")):
        tls_moves = hostile.TLS if app == "http" else TLS_FOR_REDIS_MQTT
        cases += [_case(f"{check}.{move}", check, "tls", move, app=app) for move in tls_moves]
        cases += [_case(f"{check}.cert.{kind}", check, "tls", "ok", app=app, cert=kind)
                  for kind in hostile.CERTS]
        cases += [_case(f"{check}.app.{move}", check, app, move, cert="good")
                  for move in APP_OVER_TLS + APP_OVER_TLS_EXTRA[app]]
    return {c.name: c for c in cases}


CASES = build_cases()
GROUPS = list(PORTS)


def select(selectors):
    """The cases the selectors name, in catalogue order; an unknown selector is an error."""
    if not selectors:
        return list(CASES.values())
    chosen = []
    for sel in selectors:
        hit = [c for c in CASES.values()
               if c.name == sel or c.check == sel or fnmatch.fnmatchcase(c.name, sel)]
        if not hit:
            raise SystemExit(f"suite.py: no case matches {sel!r} (see suite.py --list)")
        chosen += [c for c in hit if c not in chosen]
    return [c for c in CASES.values() if c in chosen]


# --- running a case ------------------------------------------------------------------

Outcome = collections.namedtuple("Outcome", "run argv code out err wall rss_kb")


def _is_asan(binary):
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


def _server_argv(case, lab, port):
    """hostile.py's command line for the case's service (not DNS)."""
    argv = [sys.executable, HOSTILE, case.kind, case.move, "--listen", f"{SERVICE}:{port}"]
    if case.kind == "tls" and not case.cert:
        argv += ["--tls", lab.certs.good().cert, lab.certs.good().key, "--app", case.app]
    elif case.kind == "tls":
        argv += ["--tls", *hostile.hostile_cert(lab.certs, case.cert), "--app", case.app]
    elif case.cert:
        argv += ["--tls", lab.certs.good().cert, lab.certs.good().key]
    return argv


def _target(case):
    port = PORTS[case.check]
    return f"{NAME}:{port}" if case.check == "dns" else f"{case.check}://{NAME}:{port}/"


class Group:
    """The lab of one check and the servers that live as long as it: the good DNS server
    (every check but dns) or a plain listener at the address the DNS cases answer."""

    def __init__(self, lab, check):
        self.lab = lab
        self.check = check
        if check == "dns":
            lab.start_listener(SERVICE, PORTS["dns"])
        else:
            self.start_dns("ok")

    def start_dns(self, move):
        return self.lab.start_server(
            f"hostile DNS ({move})",
            [sys.executable, HOSTILE, "dns", move, "--listen", L.RESOLVER_IP, "--name", NAME,
             "--address", SERVICE], addresses=[L.RESOLVER_IP])

    def run(self, case):
        lab = self.lab
        if case.check == "dns":
            server = self.start_dns(case.move)
        else:
            port = PORTS[case.check]
            server = lab.start_server(f"hostile {case.kind} {case.move} on {SERVICE}:{port}",
                                      _server_argv(case, lab, port), addresses=[SERVICE])
        try:
            outcomes = [self._run(case, run) for run in RUNS]
            if outcomes[0].wall >= WAITED_S:
                outcomes.append(self._run(case, CUT))
        finally:
            said = lab.stop(server).strip()
        if said:    # a traceback of a move's own bug: the case may not test what it says
            print(f"  {case.name}: the server said: {said}")
        return outcomes

    def _run(self, case, run):
        args = ["check", _target(case), "--timeout", str(run.timeout), "--connect-timeout",
                str(run.connect_timeout), "--cloud", "none", "-v", "--format", run.fmt,
                *case.extra]
        if case.check in TLS_CHECKS:
            args += ["--cacert", self.lab.certs.ca]
        try:
            argv, code, out, err, wall = self.lab.run_raw(args, raw=True, limit=RUN_LIMIT_S)
        except L.CheckFailed as exc:     # still running at RUN_LIMIT_S: killed
            return Outcome(run, args, None, b"", str(exc).encode(), RUN_LIMIT_S, 0)
        return Outcome(run, argv, code, out, err, wall, self.lab.last_rusage.ru_maxrss)


# --- the assertions ------------------------------------------------------------------

def _short(value, width=100):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[:width] + "..."


def _strict_json(data):
    """Parses bytes as a strict JSON document: strict UTF-8, no NaN/Infinity, no
    duplicate key, no lone surrogate in a string. Raises ValueError saying why."""
    text = data.decode("utf-8")   # UnicodeDecodeError is a ValueError

    def no_constant(name):
        raise ValueError(f"non-JSON constant {name}")

    def pairs(items):
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate key in {keys}")
        return dict(items)

    doc = json.loads(text, parse_constant=no_constant, object_pairs_hook=pairs)

    def walk(v):
        if isinstance(v, str):
            v.encode("utf-8")     # a lone surrogate (\ud800) raises here
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
    walk(doc)
    return doc


def _controls(data):
    text = data.decode("utf-8", errors="replace")
    found = sorted(set(CONTROL.findall(text)))
    return ", ".join(f"U+{ord(c):04X}" for c in found)


VERDICT_NAMES = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}


def assess(case, outcomes, source_dir, rss_limit_mb):
    """The failed assertions of a case: [(assertion, run label, what)]."""
    fails = []
    for o in outcomes:
        label, err = o.run.label, o.err.decode("utf-8", errors="replace")
        limit = o.run.timeout + DEADLINE_GRACE_S + L.TIME_SLACK
        if o.code is None:
            fails.append(("deadline", label, f"still running after {RUN_LIMIT_S} s: killed"))
            continue
        if not 0 <= o.code <= 3:
            fails.append(("crash", label, f"exit {o.code}" + (f" (killed by signal {-o.code})"
                          if o.code < 0 else "") + f"; stderr: {_short(err[-300:])}"))
        marks = [m for m in SANITIZER_MARKS if m in err]
        if marks:
            line = next((ln for ln in err.splitlines() if any(m in ln for m in marks)), "")
            fails.append(("sanitizer", label, _short(line.strip(), 160)))
        if o.wall > limit:
            fails.append(("deadline", label, f"{o.wall:.3f} s > --timeout {o.run.timeout} + "
                          f"{limit - o.run.timeout:.1f} s"))
        if o.rss_kb > rss_limit_mb * 1024:
            fails.append(("rss", label, f"peak RSS {o.rss_kb / 1024:.1f} MB > {rss_limit_mb} MB"))
        # Cut short by the run's deadline, what is concluded depends on when: the cut
        # run asserts what holds whatever the timing, not the verdict.
        if o.run is not CUT and o.code not in case.verdict:
            fails.append(("verdict", label, f"exit {o.code} ({VERDICT_NAMES.get(o.code, '?')}), "
                          f"expected {' or '.join(map(str, case.verdict))}"
                          + _diagnoses_note(o if o.run.fmt == "json" else outcomes[0])))
        bad = _controls(o.err)
        if bad:
            fails.append(("stderr", label, f"control characters {bad}"))
        if o.run.fmt == "text":
            bad = _controls(o.out)
            if bad:
                fails.append(("text", label, f"control characters {bad}"))
        else:
            fails += _assess_json(case, o, source_dir)
    return fails


def _diagnoses_note(o):
    """"; diagnoses [...]" of a json run's report, when it has one."""
    if o.run.fmt != "json":
        return ""
    try:
        doc = json.loads(o.out.decode("utf-8", errors="replace"))
        return f"; diagnoses {[i for t in doc.get('targets', []) for i in _ids(t)]}"
    except (ValueError, AttributeError):
        return ""


def _assess_json(case, o, source_dir):
    label, fails = o.run.label, []
    try:
        doc = _strict_json(o.out)
    except ValueError as exc:
        where = ""
        if isinstance(exc, UnicodeDecodeError):
            where = f" near {o.out[max(0, exc.start - 40):exc.start + 8]!r}"
        return [("json", label, _short(f"{type(exc).__name__}: {exc}", 140) + where)]
    try:
        L.validate_report(doc, source_dir)
    except L.CheckFailed as exc:
        fails.append(("json", label, _short(str(exc).replace("\n", " "), 200)))
    if doc.get("exit_code") != o.code or doc.get("verdict") != VERDICT_NAMES.get(o.code):
        fails.append(("json", label, f"the report says exit_code {doc.get('exit_code')} and "
                      f"verdict {doc.get('verdict')}, the process exited {o.code}"))
    if case.layer and o.run is not CUT:
        for t in doc.get("targets", []):
            claims = SILENCE[case.layer](t) if isinstance(t.get("facts"), dict) else []
            if claims:
                fails.append(("silence", label, f"the peer sent bytes, the report says "
                              f"{', '.join(claims)}; diagnoses {_ids(t)}"))
    return fails


# --- main --------------------------------------------------------------------------------

def _describe(o):
    return "\n".join([
        f"  [{o.run.label}] $ {' '.join(o.argv)}",
        f"  exit {o.code}, {o.wall:.3f} s, peak RSS {o.rss_kb / 1024:.1f} MB",
        "  stderr: " + _short(o.err.decode("utf-8", errors="backslashreplace"), 3000),
        "  stdout: " + _short(o.out.decode("utf-8", errors="backslashreplace"), 6000),
    ])


def _merge(fails):
    """{(assertion, what): [run labels]}: one entry for what failed alike in several runs."""
    merged = collections.OrderedDict()
    for assertion, label, what in fails:
        merged.setdefault((assertion, what), []).append(label)
    return merged


def run_cases(args, cases):
    rss_limit = ASAN_RSS_LIMIT_MB if _is_asan(args.binary) else RSS_LIMIT_MB
    failed, started = [], time.monotonic()
    by_check = collections.OrderedDict()
    for c in cases:
        by_check.setdefault(c.check, []).append(c)
    for check, group_cases in by_check.items():
        with L.Lab(args.binary, args.source_dir, verbose=args.verbose) as lab:
            group = Group(lab, check)
            for case in group_cases:
                t0 = time.monotonic()
                outcomes = group.run(case)
                fails = assess(case, outcomes, args.source_dir, rss_limit)
                walls = "/".join(f"{o.wall:.2f}" for o in outcomes)
                codes = "/".join(str(o.code) for o in outcomes)
                rss = max(o.rss_kb for o in outcomes) / 1024
                if fails:
                    line = f"FAIL {case.name}: " + "; ".join(
                        f"{a} ({', '.join(labels)}): {what}" for (a, what), labels in
                        _merge(fails).items())
                    failed.append(line)
                    print(line, flush=True)
                else:
                    print(f"ok   {case.name} ({'/'.join(o.run.label for o in outcomes)}: "
                          f"exit {codes}, {walls} s, peak {rss:.0f} MB; "
                          f"{time.monotonic() - t0:.1f} s)", flush=True)
                if args.verbose or (fails and args.show_failures):
                    for o in outcomes:
                        print(_describe(o), flush=True)
    print(f"--- {len(cases) - len(failed)} of {len(cases)} cases passed "
          f"({time.monotonic() - started:.0f} s)")
    for line in failed:
        print(line)
    return 1 if failed else 0


def self_test():
    """The assertions can fail, and the measurements measure: assess() on made-up runs
    (each bad one must fail exactly the assertion named, the good one none), and
    lab._wait_rusage on a process that allocates 100 MB. No root, no lab, no linkdoctor."""
    problem = _case("http.x", "http", "http", "garbage")
    control = _case("http.ok", "http", "http", "ok")
    answered_dns = _case("dns.x", "dns", "dns", "compression_loop")
    text, json_run = RUNS[1], RUNS[0]
    limit = text.timeout + DEADLINE_GRACE_S + L.TIME_SLACK
    good = Outcome(text, ["linkdoctor"], 2, b"CRITICAL caf\xc3\xa9 - fine\n", b"", 0.5, 20 * 1024)
    report = (b'{"verdict": "critical", "exit_code": 2, "targets": [{"facts": '
              b'{"dns.responding_count": 0}, "diagnoses": [{"id": "dns.resolver_unreachable"}]}]}')
    cases = [  # (what, case, outcome, the assertions that must fail)
        ("a good run", problem, good, set()),
        ("a segfault", problem, good._replace(code=-11), {"crash", "verdict"}),
        ("exit 4", problem, good._replace(code=4), {"crash", "verdict"}),
        ("ASan", problem, good._replace(err=b"==9==ERROR: AddressSanitizer: heap-use-after-free"),
         {"sanitizer"}),
        ("UBSan", problem, good._replace(err=b"x.c:3:5: runtime error: signed integer overflow"),
         {"sanitizer"}),
        ("late", problem, good._replace(wall=limit + 0.02), {"deadline"}),
        ("just in time", problem, good._replace(wall=limit - 0.02), set()),
        ("killed", problem, good._replace(code=None), {"deadline"}),
        ("fat", problem, good._replace(rss_kb=(RSS_LIMIT_MB + 1) * 1024), {"rss"}),
        ("unknown", problem, good._replace(code=3), {"verdict"}),
        ("ok for a misbehaviour", problem, good._replace(code=0), {"verdict"}),
        ("critical for a control", control, good, {"verdict"}),
        ("unknown, cut", problem, good._replace(run=CUT, code=3, out=b"{"), {"json"}),
        ("ESC", problem, good._replace(out=b"a\x1b[2Jb\n"), {"text"}),
        ("CR", problem, good._replace(out=b"a\rb\n"), {"text"}),
        ("NUL", problem, good._replace(out=b"a\x00b\n"), {"text"}),
        ("tab", problem, good._replace(out=b"a\tb\n"), {"text"}),
        ("C1", problem, good._replace(out=b"a\xc2\x9b1mb\n"), {"text"}),
        ("ESC on stderr", problem, good._replace(err=b"linkdoctor: \x1b]0;x\x07\n"), {"stderr"}),
        ("not UTF-8", problem, good._replace(run=json_run, out=b'{"a": "\xff\xfe"}'), {"json"}),
        ("NaN", problem, good._replace(run=json_run, out=b'{"a": NaN}'), {"json"}),
        ("a duplicate key", problem, good._replace(run=json_run, out=b'{"a": 1, "a": 2}'), {"json"}),
        ("a lone surrogate", problem, good._replace(run=json_run, out=b'{"a": "\\ud800"}'), {"json"}),
        ("cut short", problem, good._replace(run=json_run, out=b'{"a": '), {"json"}),
        ("said silent", answered_dns, good._replace(run=json_run, out=report), {"json", "silence"}),
    ]
    wrong = []
    for what, case, outcome, want in cases:
        got = {a for a, _, _ in assess(case, [outcome], os.path.join(HERE, "..", ".."), RSS_LIMIT_MB)}
        if got != want:
            wrong.append(f"{what}: failed {sorted(got)}, expected {sorted(want)}")
    child = subprocess.Popen([sys.executable, "-c", "x = bytearray(100 << 20)\n"
                              "for i in range(0, len(x), 4096): x[i] = 1"])
    usage = L._wait_rusage(child, 30)
    if child.returncode != 0 or usage.ru_maxrss < 100 * 1024:
        wrong.append(f"_wait_rusage: exit {child.returncode}, ru_maxrss {usage.ru_maxrss} KiB of a "
                     "process that touched 100 MB")
    for line in wrong:
        print(f"FAIL self-test: {line}")
    print(f"self-test: {len(cases) + 1 - len(wrong)} of {len(cases) + 1} checks passed")
    return 1 if wrong else 0


def check_readme():
    """Every move and certificate is documented in README.md: refuse to list the cases
    (and so to configure the ctest tests) while one is not."""
    with open(os.path.join(HERE, "README.md")) as f:
        readme = f.read()
    tables = [("dns", hostile.DNS), ("certificate", hostile.CERTS),
              *((kind, table) for kind, table in hostile.STREAM.items())]
    missing = [f"{kind} {name}" for kind, table in tables for name in table
               if f"| `{name}` |" not in readme]
    if missing:
        raise SystemExit(f"suite.py: README.md does not document these moves: "
                         f"{', '.join(missing)} (add a row to its tables)")


def _watchdog(signum, frame):
    raise L.Interrupted(signum, "watchdog: the suite ran too long")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print every case name")
    ap.add_argument("--list-groups", action="store_true", help="print the group names")
    ap.add_argument("--self-test", action="store_true",
                    help="check the assertions and measurements themselves (no root needed)")
    ap.add_argument("--binary", help="the linkdoctor binary")
    ap.add_argument("--source-dir", help="the source tree (for report/report.schema.json)")
    ap.add_argument("--watchdog", type=float, default=0,
                    help="fail (and tear down) after this many seconds (0: never)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the lab's steps and every run's command, stderr and output")
    ap.add_argument("--show-failures", action="store_true",
                    help="print the runs of failing cases (command, stderr, output)")
    ap.add_argument("selectors", nargs="*", metavar="SELECTOR")
    args = ap.parse_args()
    if args.list or args.list_groups:
        check_readme()
        print("\n".join(GROUPS if args.list_groups else
                        (c.name for c in select(args.selectors))))
        return 0
    if args.self_test:
        check_readme()
        return self_test()
    if not (args.binary and args.source_dir):
        ap.error("--binary and --source-dir are needed")
    cases = select(args.selectors)
    try:
        L.preflight()
        L.need_tools("openssl")
    except L.Skip as why:
        return L.cannot_run(why)
    if not os.access(args.binary, os.X_OK):
        print(f"FAIL: no linkdoctor binary at {args.binary}")
        return 1
    signal.signal(signal.SIGALRM, _watchdog)
    signal.setitimer(signal.ITIMER_REAL, args.watchdog)
    try:
        with L.signals_raise():
            return run_cases(args, cases)
    except L.Interrupted as why:
        print(f"INTERRUPTED: {why}")
        return 1 if why.signum == signal.SIGALRM else 128 + why.signum
    except Exception:
        traceback.print_exc(file=sys.stdout)
        print("FAIL: the suite itself failed")
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


if __name__ == "__main__":
    sys.exit(main())
