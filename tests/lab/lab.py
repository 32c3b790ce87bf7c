"""lab.py - network-namespace labs for linkdoctor's scenario tests.

A lab is two network namespaces joined by a veth pair:

    client (the instance)                        endpoint (the service side)
    10.0.1.10/24  ── veth ──────────────────────  10.0.1.1/24   the "VPC router"
    resolv.conf → 10.0.1.2                        10.0.1.2      the "VPC resolver" (dnsmasq)
    route 10.0.0.0/16 via 10.0.1.1                10.0.2.23 ... endpoint addresses (one per zone)
    no default route                              52.94.0.10    "public" addresses (client gets a /32 route)

linkdoctor runs in the client namespace, which has its own /etc/netns/<client>/resolv.conf
(and hosts file when a scenario wants one); servers run in the endpoint namespace; nftables
rules play the security groups (endpoint input = the endpoint's, client output = the
instance's).

The network rule of DESIGN.md holds by construction: the client namespace has no default
route, so every packet linkdoctor sends either stays on the veth or fails with "no route";
its resolv.conf is always the lab's (checked from inside the namespace before each run);
the cloud probe is pinned with --cloud none and a DMI directory of no cloud.

Services for the application checks run in the endpoint namespace too, each with its
configuration, logs and state in the lab's temporary directory: nginx (start_nginx: TLS
with a chosen certificate and/or plain HTTP, a chosen status), redis-server (start_redis,
optionally with a password or TLS) and mosquitto (start_mosquitto, optionally requiring a
password or speaking TLS); `listener.py --silent` is a peer that accepts and never
answers; start_server runs any server of a test's own that says "ready" (the hostile
peers of tests/hostile, and `dnspeer.py`, a DNS server that answers every query wrongly:
a compression loop, a false answer count, a truncated reply with a broken TCP retry).
Certificates are made by the lab with the openssl CLI (lab.certs: a lab CA, a good leaf
for LAB_NAME, one for another name, a self-signed one, an expired one, one expiring soon).

Some scenarios need more than root in the client namespace: linkdoctor run as nobody
without capabilities (UNPRIVILEGED, through setpriv), with sudo's SUDO_UID/SUDO_GID
(run(..., env=...)), its /proc/PID/status sampled while it runs (run(..., watch=True),
StatusWatcher), or the client's packets recorded by tcpdump for `linkdoctor analyze`
(start_tcpdump / stop / analyze).

Every lab is torn down whatever happens: Lab is a context manager, the teardown runs in a
finally, SIGTERM/SIGINT/SIGHUP become exceptions so it runs on those too (and are held
back while it runs). For SIGKILL, which no finally survives, servers get PR_SET_PDEATHSIG
and a detached reaper deletes the namespaces and files. Only the PIDs the lab started are
ever signalled.

Standard library only, plus jsonschema for validating reports (imported when first needed).
"""

import collections
import contextlib
import ctypes
import datetime
import importlib.util
import ipaddress
import json
import os
import secrets
import select
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

# --- the addressing plan (identical in every lab: each lab has its own namespaces) ----
CLIENT_IP = "10.0.1.10"     # the instance; what a security group rule must allow
ROUTER_IP = "10.0.1.1"      # endpoint side of the veth; has nothing on port 53
RESOLVER_IP = "10.0.1.2"    # the VPC resolver's address (dnsmasq listens here)
VPC_NET = "10.0.0.0/16"     # the client routes all of it to the endpoint namespace
ZONE_A = "10.0.2.23"        # endpoint network interface in zone a
ZONE_B = "10.0.3.23"        # endpoint network interface in zone b
STALE_IP = "10.0.4.5"       # an address a stale DNS record points at
PUBLIC_IP = "52.94.0.10"    # a "public" address of the service, kept inside the lab
UNUSED_IP = "10.0.9.53"     # routed to the endpoint namespace, held by nobody: packets vanish
UNROUTED_IP = "10.123.0.1"  # the client has no route to it at all
LAB_NAME = "svc.lab.test"   # the service's name in the lab (what the lab CA's good leaf is for)
OTHER_NAME = "other.lab.test"   # a name the service is not reached by (a wrong certificate's)

NOBODY = 65534              # uid and gid of the unprivileged runs (nobody / nogroup)
# Runs what follows as nobody with no capability at all (not even in the bounding set):
# what linkdoctor sees when an ordinary user starts it.
UNPRIVILEGED = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all")



def _time_slack():
    """Seconds added to every upper time bound: LINKDOCTOR_LAB_TIME_SLACK, which
    `tests/run --sanitize` sets because ASan+UBSan make start-up and exit slower. The
    bounds themselves are what the uninstrumented binary must meet."""
    raw = os.environ.get("LINKDOCTOR_LAB_TIME_SLACK") or "0"
    try:
        slack = float(raw)
    except ValueError:
        slack = -1.0
    if not 0 <= slack <= 5:
        raise SystemExit(f"lab: LINKDOCTOR_LAB_TIME_SLACK={raw!r}: not a number of seconds "
                         "from 0 to 5")
    return slack


TIME_SLACK = _time_slack()
# The binary is built with ASan+UBSan (`tests/run --sanitize`): its resident memory is
# mostly the sanitizer's shadow and quarantine, so memory bounds are not checked.
SANITIZED = os.environ.get("LINKDOCTOR_LAB_SANITIZED") == "1"

NETNS_ETC = "/etc/netns"
TOOLS = ("ip", "nft", "dnsmasq", "ss")
# Where the tools live even when PATH lacks the sbin directories (sudo, cron, some CI).
os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
LISTENER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "listener.py")
LISTENERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "listeners.py")
DNSPEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dnspeer.py")

_PR_SET_PDEATHSIG = 1


class LabError(Exception):
    """The lab itself could not be built or torn down (not a linkdoctor failure)."""


class CheckFailed(AssertionError):
    """linkdoctor's report does not say what the scenario expects."""


class Skip(Exception):
    """This machine cannot run labs (not root, a tool missing)."""


class Interrupted(BaseException):
    """A signal asked us to stop; BaseException so that no `except Exception` eats it."""

    def __init__(self, signum, why=None):
        super().__init__(why or f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def in_ci():
    """CI=true (or any value but empty/0/false) turns every skip into a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def cannot_run(why):
    """Says why this machine cannot run a lab test; returns its exit status: 77 (skipped),
    or 1 under CI, where a lab test that cannot run fails."""
    if in_ci():
        print(f"FAIL: {why} (CI is set: a lab test that cannot run fails)")
        return 1
    print(f"SKIP: {why}")
    return 77


def preflight(need_jsonschema=True):
    """Raises Skip with the reason when this machine cannot run a lab."""
    if os.geteuid() != 0:
        raise Skip("lab tests need root (network namespaces, nftables, /etc/netns)")
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise Skip("lab tests need these tools: " + ", ".join(missing))
    if need_jsonschema and importlib.util.find_spec("jsonschema") is None:
        raise Skip("lab tests need python3-jsonschema to validate reports "
                   "(apt-get install python3-jsonschema)")


def need_tools(*tools):
    """Raises Skip unless these tools exist (for scenarios needing more than TOOLS, e.g.
    tcpdump or setpriv)."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        raise Skip("this scenario needs these tools: " + ", ".join(missing))


# --- signals: turn "please stop" into an exception so that finally blocks run -----------

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise():
    """While active, SIGTERM, SIGINT and SIGHUP raise Interrupted."""
    old = {s: signal.signal(s, _raise_interrupted) for s in _STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _die_with_parent():
    # Runs in the child between fork and exec: if the test process dies, even by
    # SIGKILL (a ctest timeout), the kernel sends this child SIGTERM.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _sh(*argv, input=None, check=True):
    """Runs a short command; a failure is a LabError naming the command and its stderr."""
    p = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def _text(output):
    return output.decode(errors="replace") if output is not None else ""


def _delete_lab(client, endpoint, tmp):
    """Deletes a lab's namespaces, /etc/netns directories and temporary directory;
    returns what could not be deleted."""
    problems = []
    for ns in (client, endpoint):
        if ns in _sh("ip", "netns", "list").stdout.split():
            p = _sh("ip", "netns", "del", ns, check=False)
            if p.returncode:
                problems.append(f"ip netns del {ns}: {p.stderr.strip()}")
        shutil.rmtree(os.path.join(NETNS_ETC, ns), ignore_errors=True)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    listed = _sh("ip", "netns", "list").stdout.split()
    left = [ns for ns in (client, endpoint)
            if ns in listed or os.path.exists(os.path.join(NETNS_ETC, ns))]
    if tmp and os.path.exists(tmp):
        left.append(tmp)
    if left:
        problems.append(f"still present after teardown: {left}")
    return problems


def _reaper_main(client, endpoint, tmp):
    """`lab.py reap CLIENT ENDPOINT TMP`, started by Lab.up(): see Lab._start_reaper."""
    if os.fork():
        os._exit(0)
    # Now an orphan in its own session: a kill of the test's process tree or group,
    # or a Ctrl-C in its terminal, does not reach it.
    os.setsid()
    if sys.stdin.buffer.read().strip() != b"clean":
        _delete_lab(client, endpoint, tmp)


# --- reports ------------------------------------------------------------------------

_schema_validator = None


def schema_path(source_dir):
    return os.path.join(source_dir, "report", "report.schema.json")


def validate_report(report, source_dir):
    """Validates a report against report/report.schema.json (the shipped schema: a missing
    one is a failure too). An invalid report raises CheckFailed listing the violations."""
    global _schema_validator
    path = schema_path(source_dir)
    if _schema_validator is None:
        if not os.path.exists(path):
            raise CheckFailed(f"the report schema {path} is missing")
        sys.path.insert(0, os.path.join(source_dir, "tests"))
        import validate_reports
        _schema_validator = validate_reports.load_validator(path)
    import validate_reports
    errors = validate_reports.problems(_schema_validator, report)
    if errors:
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise CheckFailed(f"report does not validate against {path}:\n  " +
                          "\n  ".join(errors[:20]) + more)
    return True


def _show(value):
    return json.dumps(value, sort_keys=True)


def expect(cond, what):
    """The one assertion primitive: `what` says what should have been true."""
    if not cond:
        raise CheckFailed(what)


def expect_eq(actual, expected, what):
    expect(actual == expected, f"{what}: expected {_show(expected)}, got {_show(actual)}")


class TargetReport:
    """One entry of report["targets"], with the look-ups scenarios need."""

    def __init__(self, data):
        self.data = data
        self.name = data.get("target")

    @property
    def facts(self):
        return self.data.get("facts", {})

    @property
    def diagnosis_ids(self):
        return [d["id"] for d in self.data.get("diagnoses", [])]

    @property
    def suppressed(self):
        return {s["id"]: s["by"] for s in self.data.get("suppressed", [])}

    def fact(self, name):
        expect(name in self.facts, f"{self.name}: fact {name} is missing "
                                   f"(facts: {', '.join(sorted(self.facts))})")
        return self.facts[name]

    def expect_fact(self, name, value):
        expect_eq(self.fact(name), value, f"{self.name}: fact {name}")

    def expect_verdict(self, verdict):
        expect_eq(self.data.get("verdict"), verdict, f"{self.name}: verdict")

    def expect_diagnoses(self, present=(), absent=()):
        ids = self.diagnosis_ids
        for i in present:
            expect(i in ids, f"{self.name}: diagnosis {i} missing; diagnoses are {ids}, "
                             f"suppressed {self.suppressed}")
        for i in absent:
            expect(i not in ids, f"{self.name}: diagnosis {i} should not be reported; "
                                 f"diagnoses are {ids}")

    def expect_only_diagnoses(self, *ids):
        """Exactly these ids are reported (order aside): nothing spurious rides along."""
        expect_eq(sorted(self.diagnosis_ids), sorted(ids), f"{self.name}: reported diagnoses")

    def expect_suppressed(self, rule_id, by):
        expect_eq(self.suppressed.get(rule_id), by, f"{self.name}: {rule_id} suppressed by")

    def diagnosis(self, rule_id):
        for d in self.data.get("diagnoses", []):
            if d["id"] == rule_id:
                return d
        raise CheckFailed(f"{self.name}: no diagnosis {rule_id} (have {self.diagnosis_ids})")

    def service_probes(self, kind):
        """probes.KIND of the report: the per-address entries of the tls, http, redis or
        mqtt probe."""
        return self.data.get("probes", {}).get(kind, [])

    def expect_service_probe(self, kind, address, **fields):
        """The one probes.KIND entry for `address` has these field values; returns it."""
        found = [e for e in self.service_probes(kind) if e.get("address") == address]
        expect(len(found) == 1, f"{self.name}: expected one probes.{kind} entry for {address}, "
                                f"found {len(found)} ({self.service_probes(kind)})")
        for key, value in fields.items():
            expect_eq(found[0].get(key), value, f"{self.name}: probes.{kind} {address}: {key}")
        return found[0]

    def dns_probes(self, source=None):
        return [d for d in self.data.get("probes", {}).get("dns", [])
                if source is None or d.get("source") == source]

    def dns_probe(self, server):
        """The resolver entry whose server is `server` (an address, with or without port)."""
        for d in self.dns_probes():
            if d.get("server") == server or d.get("server", "").rsplit(":", 1)[0] == server:
                return d
        raise CheckFailed(f"{self.name}: no DNS probe of {server} "
                          f"(have {[d.get('server') for d in self.dns_probes()]})")

    @property
    def tcp_attempts(self):
        return self.data.get("probes", {}).get("tcp", [])

    def tcp_attempt(self, address):
        found = [a for a in self.tcp_attempts if a.get("address") == address]
        expect(len(found) == 1, f"{self.name}: expected one TCP attempt to {address}, found "
                                f"{len(found)} (attempts: {[a.get('address') for a in self.tcp_attempts]})")
        return found[0]

    def expect_attempt(self, address, **fields):
        """The TCP attempt to `address` has these field values (e.g. state="timeout");
        returns it for further checks."""
        attempt = self.tcp_attempt(address)
        for key, value in fields.items():
            expect_eq(attempt.get(key), value, f"{self.name}: TCP attempt to {address}: {key}")
        return attempt


class Run:
    """One linkdoctor invocation: exit code, parsed report, stderr, wall seconds."""

    def __init__(self, argv, exit_code, report, stdout, stderr, wall, validated):
        self.argv = argv
        self.exit_code = exit_code
        self.report = report
        self.stdout = stdout
        self.stderr = stderr
        self.wall = wall
        self.schema_validated = validated
        self.status_samples = None     # with watch=True: see StatusWatcher
        self.text = None               # the text report it printed, when it saved the JSON

    def target(self, index=0):
        targets = self.report.get("targets", [])
        expect(index < len(targets), f"report has {len(targets)} targets, wanted #{index}")
        return TargetReport(targets[index])

    def expect_outcome(self, exit_code, verdict):
        """Process exit code, the report's own exit_code and its verdict agree with the scenario."""
        expect_eq(self.exit_code, exit_code, "exit code")
        expect_eq(self.report.get("exit_code"), exit_code, "report exit_code")
        expect_eq(self.report.get("verdict"), verdict, "report verdict")
        if len(self.report.get("targets", [])) == 1:
            self.target().expect_verdict(verdict)

    def expect_wall(self, low, high):
        high += TIME_SLACK
        expect(low <= self.wall <= high,
               f"run took {self.wall:.3f} s of wall time, expected between {low} and {high} s")

    def describe(self):
        """Everything needed to reproduce and judge a failure by hand."""
        return "\n".join([
            "command: " + " ".join(self.argv),
            f"exit code {self.exit_code}, {self.wall:.3f} s wall",
            "stderr: " + (self.stderr.strip() or "(empty)"),
            *([f"/proc/PID/status while it ran: {json.dumps(self.status_samples)}"]
              if self.status_samples is not None else []),
            "report:",
            json.dumps(self.report, indent=2) if self.report is not None else self.stdout,
        ])


class StatusWatcher(threading.Thread):
    """Samples /proc/PID/status of a process the lab started, every 2 ms until it exits:
    each change of its name, ids or capability sets becomes one sample
    [seconds since the watch began, {field: value}] (whitespace in values made single
    spaces, e.g. "Uid": "0 0 0 0"). `ip netns exec` and setpriv exec what they run, so
    the PID is linkdoctor's once "Name" says so."""

    FIELDS = ("Name", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapAmb", "NoNewPrivs")

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self._done = threading.Event()
        self._t0 = time.monotonic()
        self.start()

    def run(self):
        last = None
        while not self._done.is_set():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    text = f.read()
            except OSError:
                return
            fields = {}
            for line in text.splitlines():
                key, _, value = line.partition(":")
                fields[key] = " ".join(value.split())
            if fields.get("State", "").startswith(("Z", "X")):
                return     # exited: what a zombie shows is not what the process ran with
            snap = {k: fields.get(k) for k in self.FIELDS}
            if snap != last:
                self.samples.append([round(time.monotonic() - self._t0, 4), snap])
                last = snap
            self._done.wait(0.002)

    def finish(self):
        self._done.set()
        self.join(timeout=5)
        return self.samples


# --- certificates ---------------------------------------------------------------------

Site = collections.namedtuple("Site", "address port status cert reject_tls",
                              defaults=(400, None, False))
Site.__doc__ = """One nginx server block (Lab.start_nginx): listen on address:port, TLS with
`cert` (a Cert) or plain HTTP without, and answer every request with `status`; with
`reject_tls`, TLS that ends every handshake with an alert (ssl_reject_handshake)."""

Cert = collections.namedtuple("Cert", "cert key names not_before not_after")
Cert.__doc__ = """A certificate the lab made: its PEM file, its key's, the names it covers,
and its validity (aware datetimes, UTC)."""

_OPENSSL_CNF = """\
# The lab's own openssl configuration: nothing of this host's openssl.cnf is used.
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = linkdoctor lab
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = lab_ca
[ lab_ca ]
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
certificate = {dir}/ca.pem
private_key = {dir}/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
"""

# A server certificate's extensions; authorityKeyIdentifier only when a CA signs it.
_LEAF_EXT = """\
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = {san}
{aki}"""


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _asn1_time(when):
    return when.astimezone(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


class Certs:
    """Certificates made by the lab with the openssl CLI, in a directory of its temporary
    directory: a lab CA (`ca`, the file for --cacert) and the server certificates the TLS
    scenarios need, each made once per lab, on first use. EC P-256 keys (fast to make),
    and the lab's own openssl configuration.

        good()          a leaf for LAB_NAME signed by the lab CA (30 days)
        other_name()    a leaf for OTHER_NAME only, signed by the lab CA
        self_signed()   a self-signed leaf for LAB_NAME
        expired()       a leaf for LAB_NAME valid 2020-01-01 .. 2020-02-01, signed by the
                        lab CA with `openssl ca -startdate -enddate`
        expiring(days)  a leaf for LAB_NAME signed by the lab CA that expires `days` days
                        and 12 hours from now (so that whole days left = `days`)
    """

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(os.path.join(directory, "issued"))
        open(os.path.join(directory, "index.txt"), "w").close()
        with open(os.path.join(directory, "serial"), "w") as f:
            f.write("1000\n")
        self.cnf = os.path.join(directory, "openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(_OPENSSL_CNF.format(dir=directory))
        self._made = {}
        self._serial = 0x2000
        now = _utc_now()
        key, pem = self._path("ca.key"), self._path("ca.pem")
        _sh("openssl", "req", "-config", self.cnf, "-x509", "-new", *self._newkey(key),
            "-out", pem, "-subj", "/CN=linkdoctor lab CA", "-extensions", "v3_ca", "-days", "30")
        self.ca = pem
        self.ca_cert = Cert(pem, key, [], now, now + datetime.timedelta(days=30))

    def _path(self, name):
        return os.path.join(self.dir, name)

    @staticmethod
    def _newkey(key):
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key]

    def _ext(self, label, names, signed_by_ca=True):
        """Writes the leaf's extension section; returns its file."""
        path = self._path(f"{label}.ext")
        with open(path, "w") as f:
            aki = "authorityKeyIdentifier = keyid\n" if signed_by_ca else ""
            f.write(_LEAF_EXT.format(san=", ".join(f"DNS:{n}" for n in names), aki=aki))
        return path

    def _csr(self, label, names):
        key, csr = self._path(f"{label}.key"), self._path(f"{label}.csr")
        _sh("openssl", "req", "-config", self.cnf, "-new", *self._newkey(key), "-out", csr,
            "-subj", f"/CN={names[0]}")
        return key, csr

    def _once(self, label, make):
        if label not in self._made:
            self._made[label] = make()
        return self._made[label]

    def leaf(self, label, names, days=30):
        """A leaf for `names` signed by the lab CA (`openssl x509 -req`), valid from now."""
        def make():
            key, csr = self._csr(label, names)
            pem = self._path(f"{label}.pem")
            now = _utc_now()
            self._serial += 1
            _sh("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_cert.key,
                "-set_serial", str(self._serial), "-days", str(days), "-sha256",
                "-extfile", self._ext(label, names), "-extensions", "leaf", "-out", pem)
            return Cert(pem, key, list(names), now, now + datetime.timedelta(days=days))
        return self._once(label, make)

    def dated(self, label, names, not_before, not_after):
        """A leaf for `names` signed by the lab CA with exactly this validity (`openssl ca`
        with explicit -startdate and -enddate; in the past for an expired certificate)."""
        def make():
            key, csr = self._csr(label, names)
            pem = self._path(f"{label}.pem")
            _sh("openssl", "ca", "-config", self.cnf, "-batch", "-notext", "-in", csr,
                "-out", pem, "-startdate", _asn1_time(not_before), "-enddate",
                _asn1_time(not_after), "-extfile", self._ext(label, names), "-extensions", "leaf")
            return Cert(pem, key, list(names), not_before, not_after)
        return self._once(label, make)

    def self_signed_leaf(self, label, names, days=30):
        """A leaf for `names` signed by its own key (`openssl req -x509`, no CA)."""
        def make():
            key, pem = self._path(f"{label}.key"), self._path(f"{label}.pem")
            # req -x509 takes its extensions from its configuration: the lab's plus the
            # leaf's section.
            cnf = self._path(f"{label}.cnf")
            ext = self._ext(label, names, signed_by_ca=False)
            with open(self.cnf) as base, open(ext) as leaf, open(cnf, "w") as out:
                out.write(base.read() + leaf.read())
            now = _utc_now()
            _sh("openssl", "req", "-config", cnf, "-x509", "-new", *self._newkey(key),
                "-out", pem, "-subj", f"/CN={names[0]}", "-days", str(days), "-extensions", "leaf")
            return Cert(pem, key, list(names), now, now + datetime.timedelta(days=days))
        return self._once(label, make)

    # --- the certificates of the TLS scenarios --------------------------------------

    def good(self):
        return self.leaf("good", [LAB_NAME])

    def other_name(self):
        return self.leaf("other-name", [OTHER_NAME])

    def self_signed(self):
        return self.self_signed_leaf("self-signed", [LAB_NAME])

    def expired(self):
        utc = datetime.timezone.utc
        return self.dated("expired", [LAB_NAME], datetime.datetime(2020, 1, 1, tzinfo=utc),
                          datetime.datetime(2020, 2, 1, tzinfo=utc))

    def expiring(self, days=5):
        now = _utc_now()
        return self.dated(f"expiring-{days}d", [LAB_NAME], now - datetime.timedelta(days=1),
                          now + datetime.timedelta(days=days, hours=12))


# --- servers --------------------------------------------------------------------------

def _start_time(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None when PID is gone:
    with the PID it names one process, whatever PID reuse happens later."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _children(pid):
    """The PIDs of PID's children (/proc/PID/task/*/children)."""
    kids = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    return kids


class _Process:
    """A server the lab started inside a namespace; stopped by its PID only. A server that
    forks workers (nginx) has them recorded (track_children) once it is ready: stop()
    checks that they ended with it."""

    def __init__(self, what, argv, log=None):
        self.what = what
        self.argv = argv
        self.log = log
        self.children = []      # (pid, start time) of the workers it forked
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    @property
    def pid(self):
        return self.popen.pid

    def track_children(self, count, within=5.0):
        """Waits (bounded) until the server has forked `count` children and records them."""
        deadline = time.monotonic() + within
        while True:
            kids = [(pid, _start_time(pid)) for pid in _children(self.pid)]
            kids = [(pid, st) for pid, st in kids if st is not None]
            if len(kids) >= count:
                self.children = kids
                return kids
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise self.failed_to_start(f"{len(kids)} of its {count} workers after {within} s")
            time.sleep(0.01)

    def _children_left(self, within=2.0):
        deadline = time.monotonic() + within
        while True:
            left = [(pid, st) for pid, st in self.children if _start_time(pid) == st]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.01)

    def failed_to_start(self, why):
        out = self.stop()
        if self.log and os.path.exists(self.log):
            with open(self.log) as f:
                out += f.read()
        return LabError(f"{self.what} did not start ({why}): {' '.join(self.argv)}\n{out.strip()}")

    def stop(self):
        """SIGTERM, then SIGKILL after 2 s; returns what the process printed."""
        p = self.popen
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        out = ""
        if p.stdout and not p.stdout.closed:     # stop() may come twice (failed_to_start)
            out = p.stdout.read().decode(errors="replace")
            p.stdout.close()
        # Its workers end with it (nginx's master waits for them); one that did not is
        # killed by its recorded PID (and start time: never a reused PID) and reported.
        left = self._children_left()
        for pid, _ in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.children = []
        if left:
            raise LabError(f"{self.what}: workers {[pid for pid, _ in left]} outlived it "
                           f"(killed)")
        return out


class Lab:
    """A client and an endpoint namespace joined by a veth pair. Use as a context manager:

        with Lab(binary, source_dir) as lab:
            lab.add_endpoint_address(ZONE_A)
            lab.start_listener(ZONE_A, 19530)
            lab.start_dns({"svc.lab.test": [ZONE_A]})
            run = lab.run("svc.lab.test:19530")
    """

    def __init__(self, binary, source_dir, verbose=True):
        self.binary = os.path.abspath(binary)
        self.source_dir = os.path.abspath(source_dir)
        self.verbose = verbose
        self.procs = []
        self.endpoint_addresses = {ROUTER_IP}
        self.tables = set()     # (side, hook) pairs whose nft table/chain exist
        self.client_etc = {}    # file name under the client's /etc -> the text the lab wrote
        self.tmp = None
        self.client = self.endpoint = None
        self.last_status_samples = None
        self.last_rusage = None     # os.wait4's resource usage of the last run_raw
        self._certs = None
        self._saved = 0         # JSON reports saved by runs (--save-json), for their names
        self._service_count = 0
        self._up = False

    # --- life cycle -------------------------------------------------------------------

    def __enter__(self):
        self._signals = signals_raise()
        self._signals.__enter__()
        try:
            self.up()
        except BaseException:
            self.down()
            self._signals.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.down()
        finally:
            self._signals.__exit__(None, None, None)
        return False

    def _pick_names(self):
        existing = [line.split()[0] for line in _sh("ip", "netns", "list").stdout.splitlines() if line]
        while True:
            tag = secrets.token_hex(3)
            client, endpoint = f"ld-{tag}-cli", f"ld-{tag}-ep"
            if client not in existing and endpoint not in existing \
                    and not os.path.exists(os.path.join(NETNS_ETC, client)):
                # veth names live inside their namespaces; unique anyway, and <= 15 chars.
                return tag, client, endpoint, f"ld{tag}-c", f"ld{tag}-e"

    def up(self):
        self.tag, self.client, self.endpoint, self.veth_c, self.veth_e = self._pick_names()
        self.tmp = tempfile.mkdtemp(prefix=f"ldlab-{self.tag}-")
        self._log(f"lab {self.tag}: client={self.client} endpoint={self.endpoint} dir={self.tmp}")
        self._up = True     # from here on, down() has something to undo
        self._start_reaper()
        _sh("ip", "netns", "add", self.client)
        _sh("ip", "netns", "add", self.endpoint)
        # Created directly inside the namespaces: no interface ever appears in the root one.
        _sh("ip", "link", "add", self.veth_c, "netns", self.client, "type", "veth",
            "peer", "name", self.veth_e, "netns", self.endpoint)
        c, e = self._ip(self.client), self._ip(self.endpoint)
        c("link", "set", "lo", "up")
        c("addr", "add", f"{CLIENT_IP}/24", "dev", self.veth_c)
        c("link", "set", self.veth_c, "up")
        c("route", "add", VPC_NET, "via", ROUTER_IP)
        e("link", "set", "lo", "up")
        e("addr", "add", f"{ROUTER_IP}/24", "dev", self.veth_e)
        e("link", "set", self.veth_e, "up")
        # DMI files of no cloud: the cloud probe must not depend on this host.
        self.dmi_dir = os.path.join(self.tmp, "dmi")
        os.mkdir(self.dmi_dir)
        for name in ("sys_vendor", "bios_vendor", "bios_version", "product_name", "chassis_asset_tag"):
            with open(os.path.join(self.dmi_dir, name), "w") as f:
                f.write("linkdoctor lab\n")
        os.makedirs(os.path.join(NETNS_ETC, self.client))
        self.set_resolv_conf(RESOLVER_IP)

    def down(self):
        """Stops what the lab started and deletes what it created; idempotent. Raises
        LabError, after trying every step, if anything is left behind."""
        if not self._up:
            return
        # A second Ctrl-C must not cut the teardown short: hold signals until it is done
        # (a pending one then raises Interrupted as usual).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            self._down()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def _down(self):
        problems = []
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception as exc:  # keep tearing down; report at the end
                problems.append(f"stopping {proc.what} (pid {proc.pid}): {exc}")
        self.procs = []
        problems += _delete_lab(self.client, self.endpoint, self.tmp)
        self._up = False
        self._stop_reaper(clean=not problems)
        self._log(f"lab {self.tag}: torn down" + (" with problems" if problems else ""))
        if problems:
            raise LabError("teardown: " + "; ".join(problems))

    def _start_reaper(self):
        # The safety net for what no finally block survives (SIGKILL, e.g. a ctest
        # TIMEOUT): a detached copy of this module that waits for our end of a pipe to
        # close and then deletes the lab unless we said "clean" first. Our servers need
        # no reaper: PR_SET_PDEATHSIG stops them.
        self.reaper = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "reap", self.client, self.endpoint, self.tmp],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.reaper.wait(timeout=10)     # it forks and its first half exits at once

    def _stop_reaper(self, clean):
        if getattr(self, "reaper", None) and self.reaper.stdin:
            with contextlib.suppress(OSError):
                self.reaper.stdin.write(b"clean\n" if clean else b"")
                self.reaper.stdin.close()   # EOF: the reaper acts (or not) and exits
            self.reaper.stdin = None

    def _log(self, msg):
        if self.verbose:
            print(msg, flush=True)

    def _ip(self, ns):
        return lambda *args: _sh("ip", "-n", ns, *args)

    def exec_argv(self, ns, *argv):
        return ["ip", "netns", "exec", ns, *argv]

    def client_packet_sockets(self):
        """The packet sockets open in the client namespace (/proc/net/packet, one line
        each): a capture linkdoctor left open would be here."""
        out = _sh(*self.exec_argv(self.client, "cat", "/proc/net/packet")).stdout
        return out.strip().splitlines()[1:]

    # --- addresses and name resolution ----------------------------------------------

    def add_endpoint_address(self, address):
        """Gives the endpoint namespace another address (a zone's interface, a public
        address). Addresses outside the lab's VPC get a /32 route on the client, through
        the veth, so that traffic to them stays inside the lab."""
        if address in self.endpoint_addresses:
            return
        self._ip(self.endpoint)("addr", "add", f"{address}/32", "dev", self.veth_e)
        if ipaddress.ip_address(address) not in ipaddress.ip_network(VPC_NET):
            self._ip(self.client)("route", "add", f"{address}/32", "via", ROUTER_IP)
        self.endpoint_addresses.add(address)

    def set_resolv_conf(self, *nameservers, options=()):
        """The client's /etc/resolv.conf: exactly these nameservers (and an `options` line
        of these words), nothing of this host's."""
        self.set_client_etc("resolv.conf", "".join(f"nameserver {ns}\n" for ns in nameservers) +
                            (f"options {' '.join(options)}\n" if options else ""))

    def set_hosts(self, entries):
        """The client's /etc/hosts: localhost (lines 1 and 2) plus {name: address}, one line
        each from line 3 on."""
        self.set_client_etc("hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n" +
                            "".join(f"{addr} {name}\n" for name, addr in entries.items()))

    def set_client_etc(self, name, text):
        """Writes /etc/netns/<client>/NAME, which `ip netns exec` shows as /etc/NAME inside
        the client namespace (e.g. nsswitch.conf for the glibc tools a scenario runs)."""
        path = os.path.join(NETNS_ETC, self.client, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        self.client_etc[name] = text

    def _check_client_etc(self):
        # `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc/*; if that ever failed
        # (e.g. /etc/resolv.conf a dangling symlink), linkdoctor would ask this host's own
        # resolver. Refuse to run rather than break the network rule.
        for name, want in self.client_etc.items():
            seen = _sh(*self.exec_argv(self.client, "cat", f"/etc/{name}")).stdout
            if seen != want:
                raise LabError(f"/etc/{name} inside {self.client} is not the lab's:\n{seen}")

    # --- servers ---------------------------------------------------------------------

    def start_dns(self, records, cnames=None, listen=RESOLVER_IP, ttl=60, local=()):
        """dnsmasq in the endpoint namespace, authoritative for lab.test only (and for the
        domains in `local`, e.g. a provider's "core.windows.net", so that a name there
        without a record is NXDOMAIN rather than REFUSED): `records` maps a name to its
        addresses, `cnames` an alias to its target - any name, a provider's too, is
        answered from here. Any other name under those domains is NXDOMAIN; nothing is
        forwarded anywhere."""
        self.add_endpoint_address(listen)
        log = os.path.join(self.tmp, f"dnsmasq-{listen}.log")
        argv = ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                f"--listen-address={listen}", "--bind-interfaces", "--local=/lab.test/",
                *[f"--local=/{domain}/" for domain in local],
                "--pid-file=", "--user=root", "--group=root", f"--log-facility={log}",
                "--log-queries", f"--local-ttl={ttl}"]
        for name, addresses in records.items():
            for addr in addresses:
                argv.append(f"--host-record={name},{addr}")
        for alias, target in (cnames or {}).items():
            argv.append(f"--cname={alias},{target}")
        proc = self._start(f"dnsmasq on {listen}", self.exec_argv(self.endpoint, *argv), log)
        self._wait_socket(proc, "udp", listen, 53)
        return proc

    def start_listener(self, address, port, silent=False):
        """A TCP service in the endpoint namespace: accepts and closes connections; with
        `silent`, accepts and then neither reads, writes nor closes (a peer that never
        answers)."""
        return self.start_server(f"{'silent ' if silent else ''}listener on {address}:{port}",
                                 [sys.executable, LISTENER, address, str(port),
                                  *(["--silent"] if silent else [])], addresses=[address])

    def start_listeners(self, address, *ranges):
        """Many TCP services in one process (listeners.py): a socket on `address` for
        every port of each range ("FIRST-LAST[/STEP]"), accepting and closing."""
        return self.start_server(f"listeners on {address} {' '.join(ranges)}",
                                 [sys.executable, LISTENERS, address, *ranges],
                                 addresses=[address])

    def start_dns_peer(self, mode, listen=RESOLVER_IP):
        """A DNS server in the endpoint namespace that answers every query wrongly
        (dnspeer.py): `mode` loop (a compression loop), count (a false answer count) or
        tc (a truncated reply, then a broken reply over TCP)."""
        return self.start_server(f"DNS peer ({mode}) on {listen}",
                                 [sys.executable, DNSPEER, listen, mode], addresses=[listen])

    def start_server(self, what, argv, addresses=(), within=5.0):
        """A server of a test's own (a script: listener.py, tests/hostile/hostile.py) in the
        endpoint namespace, given `addresses` first. It must print the line "ready" once
        it listens on everything it serves: no polling needed. Returns the process (a
        server that says anything else, or nothing within `within` s, failed to start)."""
        for address in addresses:
            self.add_endpoint_address(address)
        proc = self._start(what, self.exec_argv(self.endpoint, *argv))
        ready, _, _ = select.select([proc.popen.stdout], [], [], within)
        line = proc.popen.stdout.readline().decode(errors="replace") if ready else ""
        if line.strip() != "ready":
            raise proc.failed_to_start(f"said {line.strip()!r}")
        return proc

    def start_service(self, port, addresses, name=None, records=None):
        """The usual set-up: a listener on `port` at each address, and the VPC resolver
        answering `name` with those addresses (plus any other `records`)."""
        for address in addresses:
            self.start_listener(address, port)
        self.start_dns({**({name: list(addresses)} if name else {}), **(records or {})})

    # --- services: nginx, redis-server, mosquitto --------------------------------------
    #
    # Each runs in the endpoint namespace in the foreground (a child of ours, with
    # PR_SET_PDEATHSIG), with its configuration, logs and state in a directory of the
    # lab's temporary directory, and is used only once its port listens (polled with ss,
    # bounded). Teardown stops it by its PID, like every server of the lab.

    @property
    def certs(self):
        """The lab's certificates (Certs), made on first use in its temporary directory."""
        if self._certs is None:
            need_tools("openssl")
            self._certs = Certs(os.path.join(self.tmp, "certs"))
        return self._certs

    def _service_dir(self, kind):
        self._service_count += 1
        path = os.path.join(self.tmp, f"{kind}-{self._service_count}")
        os.mkdir(path)
        return path

    def start_nginx(self, *sites):
        """nginx (one master, `worker_processes 1`) with one server block per Site: TLS
        with the site's certificate when it has one, plain HTTP otherwise, answering
        every request with the site's status (`return STATUS;`). Returns the process;
        its .access_log records each request as
        `REMOTE SERVER_ADDR:PORT STATUS "REQUEST" sni=NAME` (see nginx_requests)."""
        need_tools("nginx")
        d = self._service_dir("nginx")
        conf, log = os.path.join(d, "nginx.conf"), os.path.join(d, "error.log")
        access = os.path.join(d, "access.log")
        servers = ""
        for site in sites:
            self.add_endpoint_address(site.address)
            if site.reject_tls:
                tls = " ssl;\n        ssl_reject_handshake on;"
            elif site.cert:
                # TLS 1.3 too (nginx 1.22 offers only up to 1.2 by default).
                tls = (f" ssl;\n        ssl_protocols TLSv1.2 TLSv1.3;\n"
                       f"        ssl_certificate {site.cert.cert};\n"
                       f"        ssl_certificate_key {site.cert.key};")
            else:
                tls = ";"
            servers += (f"    server {{\n        listen {site.address}:{site.port}{tls}\n"
                        f"        location / {{ return {site.status}; }}\n    }}\n")
        temp_paths = "".join(f"    {kind}_temp_path {d}/{kind.split('_')[0]};\n"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(conf, "w") as f:
            f.write(f"worker_processes 1;\npid {d}/nginx.pid;\nerror_log {log} info;\n"
                    f"events {{\n    worker_connections 64;\n}}\n"
                    f"http {{\n"
                    f"    log_format lab '$remote_addr $server_addr:$server_port $status "
                    f"\"$request\" sni=$ssl_server_name';\n"
                    f"    access_log {access} lab;\n{temp_paths}{servers}}}\n")
        what = "nginx on " + ", ".join(
            f"{s.address}:{s.port}{' (TLS)' if s.cert or s.reject_tls else ''}" for s in sites)
        proc = self._start(what, self.exec_argv(self.endpoint, "nginx", "-p", d + "/", "-e", log,
                                                "-c", conf, "-g", "daemon off;"), log)
        for site in sites:
            self._wait_socket(proc, "tcp", site.address, site.port)
        for pid, _ in proc.track_children(1):   # its one worker: stop() checks it ends too
            self._log(f"lab {self.tag}: started {what}: worker (pid {pid})")
        proc.access_log = access
        return proc

    @staticmethod
    def nginx_requests(proc):
        """The requests nginx has logged: [{"remote", "local", "status", "request", "sni"}]."""
        entries = []
        if os.path.exists(proc.access_log):
            with open(proc.access_log, errors="replace") as f:
                for line in f:
                    head, _, rest = line.partition(' "')
                    request, _, sni = rest.rpartition('" sni=')
                    remote, local, status = head.split()
                    entries.append({"remote": remote, "local": local, "status": int(status),
                                    "request": request, "sni": sni.strip()})
        return entries

    def start_redis(self, address, port=6379, password=None, cert=None, protected_mode=False):
        """redis-server on address:port: no persistence, in the foreground; with
        `password`, --requirepass (PING then answers -NOAUTH); with `cert` (a Cert), TLS
        on that port instead of plain TCP (its own TLS listener, no client certificates).
        Without a password, protected mode is off unless `protected_mode` (then Redis
        answers this lab's clients -DENIED)."""
        need_tools("redis-server")
        self.add_endpoint_address(address)
        d = self._service_dir("redis")
        log = os.path.join(d, "redis.log")
        argv = ["redis-server", "--port", "0" if cert else str(port), "--bind", address,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", d,
                "--logfile", log]
        if password:
            argv += ["--requirepass", password]
        elif not protected_mode:
            # Redis 7 answers a client that is not on loopback with -DENIED when the
            # default user has no password, whatever --bind says.
            argv += ["--protected-mode", "no"]
        if cert:
            argv += ["--tls-port", str(port), "--tls-cert-file", cert.cert, "--tls-key-file",
                     cert.key, "--tls-ca-cert-file", self.certs.ca, "--tls-auth-clients", "no"]
        proc = self._start(f"redis-server on {address}:{port}{' (TLS)' if cert else ''}",
                           self.exec_argv(self.endpoint, *argv), log)
        self._wait_socket(proc, "tcp", address, port)
        return proc

    def start_mosquitto(self, address, port=1883, users=None, cert=None):
        """mosquitto with one listener on address:port, no persistence, in the foreground.
        Without `users` anonymous clients are allowed; `users` ({name: password}) makes
        a password file (mosquitto_passwd -b -c) and sets allow_anonymous false. With
        `cert` (a Cert) the listener speaks TLS (cafile: the lab CA; no client
        certificates). Returns the process; its .log is the broker's log file."""
        need_tools("mosquitto")
        self.add_endpoint_address(address)
        d = self._service_dir("mosquitto")
        conf, log = os.path.join(d, "mosquitto.conf"), os.path.join(d, "mosquitto.log")
        # `user root`: stay root, so that it can read this 0700 directory (mosquitto
        # otherwise drops to the mosquitto user).
        lines = ["user root", "persistence false", f"log_dest file {log}",
                 "log_type error", "log_type warning", "log_type notice", "log_type information",
                 "connection_messages true", f"listener {port} {address}"]
        if users:
            need_tools("mosquitto_passwd")
            passwd = os.path.join(d, "passwd")
            for i, (name, password) in enumerate(users.items()):
                _sh("mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), passwd, name, password)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines += ["allow_anonymous true"]
        if cert:
            lines += [f"cafile {self.certs.ca}", f"certfile {cert.cert}", f"keyfile {cert.key}",
                      "require_certificate false"]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        proc = self._start(f"mosquitto on {address}:{port}{' (TLS)' if cert else ''}",
                           self.exec_argv(self.endpoint, "mosquitto", "-c", conf), log)
        self._wait_socket(proc, "tcp", address, port)
        return proc

    def start_tcpdump(self, path, interface=None, bpf=()):
        """tcpdump in the client namespace, writing every packet on `interface` (the
        client's veth by default) to `path` as it arrives (-U --immediate-mode: nothing
        waits in a buffer when it is stopped). Returns once tcpdump listens; stop it with
        stop(). Stays root (-Z root) so that it can write into the lab's 0700 directory."""
        interface = interface or self.veth_c
        proc = self._start(f"tcpdump on {interface}",
                           self.exec_argv(self.client, "tcpdump", "-i", interface, "-n", "-U",
                                          "--immediate-mode", "-Z", "root", "-w", path, *bpf))
        # On "any" it first names the link type it writes ("data link type LINUX_SLL2").
        # Opening a packet socket waits for RCU grace periods, which a machine busy
        # tearing other labs down can stretch to seconds. Read the descriptor itself:
        # a buffered readline() may hold the next line where select() cannot see it.
        said = b""
        fd = proc.popen.stdout.fileno()
        deadline = time.monotonic() + 10
        while b"listening on" not in said:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk or len(said) > 4096:
                shown = " / ".join(said.decode(errors="replace").split("\n")).strip(" /")
                raise proc.failed_to_start(f"said {shown!r}")
            said += chunk
        return proc

    def stop(self, proc):
        """Stops one process this lab started (by its PID: SIGTERM, then SIGKILL) and
        returns what it printed; teardown then has nothing left to do for it."""
        out = proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)
        self._log(f"lab {self.tag}: stopped {proc.what} (pid {proc.pid})")
        return out

    def _start(self, what, argv, log=None):
        proc = _Process(what, argv, log)
        self.procs.append(proc)
        self._log(f"lab {self.tag}: started {what} (pid {proc.pid})")
        return proc

    def _wait_socket(self, proc, proto, address, port, within=5.0):
        """Polls (with ss, so without connecting to it) until `proc` itself - its PID, not
        just anyone - listens on address:port (proto tcp or udp), at most `within`
        seconds; a server that exits or does not listen by then fails to start.
        dnsmasq, nginx, redis-server and mosquitto have no readiness signal of their own."""
        want, owner = f"{address}:{port}", f"pid={proc.pid},"
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise proc.failed_to_start(f"exited with {proc.popen.returncode}")
            out = _sh(*self.exec_argv(self.endpoint, "ss", "-H", f"-{proto[0]}lnp")).stdout
            if any(len(line.split()) > 3 and line.split()[3] == want and owner in line
                   for line in out.splitlines()):
                return
            time.sleep(0.02)
        raise proc.failed_to_start(f"not listening on {proto} {want} after {within} s")

    # --- security groups ---------------------------------------------------------------

    def firewall(self, side, rule):
        """Adds an nftables rule: side "endpoint" filters the endpoint namespace's input
        (the endpoint's security group), side "client" the client's output (the
        instance's security group)."""
        ns, hook = {"endpoint": (self.endpoint, "input"), "client": (self.client, "output")}[side]
        script = ""
        if (side, hook) not in self.tables:
            script += (f"table inet lab_sg {{\n  chain {hook} {{\n"
                       f"    type filter hook {hook} priority filter; policy accept;\n  }}\n}}\n")
            self.tables.add((side, hook))
        script += f"add rule inet lab_sg {hook} {rule}\n"
        _sh(*self.exec_argv(ns, "nft", "-f", "-"), input=script)

    def block(self, side, address, port, action="drop"):
        """A security group that does not allow TCP `port` to `address`: `action` is drop
        or e.g. "reject with icmp type admin-prohibited"."""
        self.firewall(side, f"ip daddr {address} tcp dport {port} {action}")

    # --- running linkdoctor ----------------------------------------------------------

    def run(self, *targets, endpoint_ips=(), dns_servers=(), connect_timeout=None,
            timeout=None, extra=(), limit=30, prefix=(), env=None, watch=False):
        """Runs `linkdoctor check TARGETS --format json` in the client namespace and
        returns a Run. The report is validated against the shipped schema. `prefix`,
        `env` and `watch` are run_raw's."""
        # -v: the progress trace on stderr, which a failure's report shows (when each
        # start-up step and each probe ended).
        args = ["check", *targets, "--format", "json", "--cloud", "none", "-v"]
        for ip in endpoint_ips:
            args += ["--endpoint-ip", ip]
        for server in dns_servers:
            args += ["--dns-server", server]
        if connect_timeout is not None:
            args += ["--connect-timeout", str(connect_timeout)]
        if timeout is not None:
            args += ["--timeout", str(timeout)]
        args += list(extra)
        return self._report_run(args, "check", limit=limit, prefix=prefix, env=env, watch=watch)

    def analyze(self, capture_file, target=None, extra=(), limit=30):
        """Runs `linkdoctor analyze FILE [--target TARGET] --format json` (in the client
        namespace too, though it needs no network) and returns a Run, validated."""
        args = ["analyze", capture_file, "--format", "json"]
        if target is not None:
            args += ["--target", target]
        return self._report_run(args + list(extra), "analyze", limit=limit)

    def _report_run(self, args, command, limit=30, prefix=(), env=None, watch=False):
        # One run prints the text report and saves the JSON one (--save-json), and
        # `show` of that file must print the same text: a report read back is the model
        # the run rendered. Runs under another user (prefix) cannot write into the lab's
        # directory: they print JSON, as before.
        saved = None
        at = args.index("--format") if "--format" in args else -1
        if (not prefix and at >= 0 and args[at + 1] == "json" and "-o" not in args
                and "--watch" not in args):
            self._saved += 1
            saved = os.path.join(self.tmp, f"saved-{self._saved}.json")
            args = [*args[:at], "--format", "text", "--save-json", saved, *args[at + 2:]]
        argv, code, out, err, wall = self.run_raw(args, limit=limit, prefix=prefix, env=env,
                                                  watch=watch)
        text = None
        if saved:
            text = out
            try:
                with open(saved, encoding="utf-8") as f:
                    out = f.read()
            except OSError as exc:
                raise CheckFailed(f"linkdoctor saved no JSON report ({exc}); exit {code}\n"
                                  f"command: {' '.join(argv)}\nstdout: {text}\nstderr: {err}")
        try:
            report = json.loads(out)
        except ValueError as exc:
            raise CheckFailed(f"linkdoctor printed no JSON report ({exc}); exit {code}\n"
                              f"command: {' '.join(argv)}\nstdout: {out}\nstderr: {err}")
        if saved:
            self._expect_show_reproduces(saved, text, code)
        run = Run(argv, code, report, out, err, wall, False)
        run.text = text
        run.status_samples = self.last_status_samples
        self.last_run = run
        run.schema_validated = validate_report(report, self.source_dir)
        expect_eq(report.get("command"), command, "the report's command")
        return run

    def _expect_show_reproduces(self, saved, text, code):
        """`linkdoctor show SAVED` prints `text` (what the run printed) and exits `code`."""
        p = subprocess.run([self.binary, "show", saved], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30, preexec_fn=_die_with_parent)
        shown = _text(p.stdout)
        if shown != text or p.returncode != code:
            import difflib
            diff = "".join(difflib.unified_diff(text.splitlines(True), shown.splitlines(True),
                                                "check printed", "show printed"))
            raise CheckFailed(f"show {saved} does not reproduce what check printed: exit "
                              f"{p.returncode} (check: {code}), stderr {_text(p.stderr)!r}\n{diff}")

    def run_in_client(self, *argv, limit=30):
        """Runs a short command (not linkdoctor: e.g. glibc's getent, to measure what an
        application experiences) in the client namespace, once its /etc is checked to be
        the lab's; returns (CompletedProcess with text output, wall seconds)."""
        self._check_client_etc()
        start = time.monotonic()
        p = subprocess.run(self.exec_argv(self.client, *argv), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=limit,
                           preexec_fn=_die_with_parent)
        return p, time.monotonic() - start

    def run_raw(self, args, capture=True, limit=30, prefix=(), env=None, watch=False, raw=False):
        """Runs linkdoctor ARGS in the client namespace; returns (argv, exit code, stdout,
        stderr, wall seconds from its start to the end of its output - see _read_to_eof).
        Without `capture` its output goes straight to ours (and wall ends at its exit). A run longer than `limit` seconds is killed and fails.

        `prefix` goes before the binary (e.g. UNPRIVILEGED); `env` adds environment
        variables (e.g. SUDO_UID). With `watch`, a StatusWatcher samples the process
        while it runs; its samples are left in self.last_status_samples. With `raw`,
        stdout and stderr are the bytes it wrote (not decoded: a test of its encoding
        needs them as they are). The run's resource usage (os.wait4's: ru_maxrss is its
        peak RSS in KiB) is left in self.last_rusage."""
        self._check_client_etc()
        argv = [*prefix, self.binary, *args]
        # Proxies from our environment must not change what linkdoctor does; the DMI
        # directory pins the cloud probe to "no cloud". Neither may sudo's variables
        # (SUDO_UID, SUDO_GID: linkdoctor would switch to that user after opening its
        # capture): the lab runs it as plain root unless a scenario says otherwise.
        env_vars = {k: v for k, v in os.environ.items()
                    if not k.lower().endswith("_proxy") and not k.startswith("SUDO_")}
        env_vars["LINKDOCTOR_DMI_DIR"] = self.dmi_dir
        env_vars.update(env or {})
        shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        self._log("$ " + (shown + " " if shown else "") + " ".join(argv))
        pipe = subprocess.PIPE if capture else None
        self.last_status_samples = None
        self.last_rusage = None
        start = time.monotonic()
        p = subprocess.Popen(self.exec_argv(self.client, *argv), stdin=subprocess.DEVNULL,
                             stdout=pipe, stderr=pipe, env=env_vars, preexec_fn=_die_with_parent)
        watcher = StatusWatcher(p.pid) if watch else None
        try:
            out, err, wall = _read_to_eof(p, start, limit) if capture else (None, None, None)
            self.last_rusage = _wait_rusage(p, max(limit - (time.monotonic() - start), 1))
            wall = wall if wall is not None else time.monotonic() - start
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise CheckFailed(f"linkdoctor still running after {limit} s: {' '.join(argv)}")
        finally:
            if p.poll() is None:  # interrupted while waiting: do not leave it behind
                p.kill()
                p.wait()
            if watcher:
                self.last_status_samples = watcher.finish()
        if raw:
            return argv, p.returncode, out, err, wall
        return argv, p.returncode, _text(out), _text(err), wall


def _wait_rusage(p, timeout):
    """p.wait(timeout), but through os.wait4, which also gives the child's resource usage
    (Popen.wait does not): returns it, and sets p.returncode as p.wait would."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(p.args, timeout)
        time.sleep(0.002)


def _read_to_eof(p, start, limit):
    """Reads p's stdout and stderr until both are at EOF; returns (stdout, stderr, wall
    seconds from `start` to that EOF). Raises subprocess.TimeoutExpired after `limit`.

    The wall time ends at EOF, not at the exit status: a process closes its files before
    its namespaces are released, and the last process of `ip netns exec`'s private mount
    namespace releases it on exit - an unmount that waits for an RCU grace period, which
    took up to 0.9 s on a busy 2-core machine. That is the lab's cost, not linkdoctor's."""
    chunks = {p.stdout.fileno(): [], p.stderr.fileno(): []}
    with selectors.DefaultSelector() as sel:
        for f in (p.stdout, p.stderr):
            sel.register(f, selectors.EVENT_READ)
        while sel.get_map():
            left = limit - (time.monotonic() - start)
            if left <= 0:
                raise subprocess.TimeoutExpired(p.args, limit)
            for key, _ in sel.select(timeout=left):
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    sel.unregister(key.fileobj)
        wall = time.monotonic() - start
    return b"".join(chunks[p.stdout.fileno()]), b"".join(chunks[p.stderr.fileno()]), wall


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "reap":
    _reaper_main(*sys.argv[2:])
