"""scenarios_process.py - process hygiene and privileges where root or namespaces are
needed (the rest is tests/cli/test_process.py):

  process.output_device          -o at a device node, in a mount namespace whose /dev is
                                 a tmpfs of its own (the real /dev is never at stake)
  process.deadline_many_targets  10,000 targets cut by --timeout 1: report written and
                                 the process gone by --timeout + 0.1 s
  privileges.output_directories  started as root, linkdoctor runs as nobody, yet writes
                                 its report into root-only, read-only, sticky and other
                                 users' directories
  privileges.user_option         --user NAME (as tcpdump's -Z), and what it refuses
  privileges.file_capability     a copy given cap_net_raw+ep by setcap, run as nobody

The privileges scenarios watch /proc/PID/status while linkdoctor runs (lab.StatusWatcher):
uid and gid unprivileged, CapEff/CapPrm/CapInh/CapAmb empty, NoNewPrivs 1, soon after the
start and until the end. The endpoint drops the port so that each run lives ~1.2 s.
"""
import json
import os
import shutil
import tempfile

import lab as L
import scenarios as S
from lab import ZONE_A, expect, expect_eq

PORT, NAME, TARGET, NOBODY = S.PORT, S.NAME, S.TARGET, L.NOBODY
DAEMON = 1    # uid and gid of the "daemon" user: someone else than root and nobody


def _dropped_port(lab):
    """The lab of the privileges scenarios: TARGET resolves, its SYNs are dropped."""
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")


def _proven(t, what):
    """The capture proved the drop: it survived the loss of every privilege."""
    expect_eq([(d["id"], d.get("confidence")) for d in t.data.get("diagnoses", [])],
              [("tcp.syn_dropped", "high")], f"{what}: diagnoses")
    t.expect_fact("capture.available", True)


@S.scenario("process.output_device")
def output_device(lab):
    # -o naming a device: refused before any work, the node left as it is (a build that
    # renamed its report over it turned /dev/null into a file, as root). The run gets a
    # mount namespace of its own whose /dev is a fresh tmpfs with nodes made by mknod, and
    # says afterwards what they are.
    L.need_tools("unshare", "mknod", "stat")
    nodes = "/dev/null /dev/full /dev/ldtest-block"
    script = ('mount -t tmpfs -o mode=0755 ldtest /dev && mknod -m 666 /dev/null c 1 3 && '
              'mknod -m 666 /dev/full c 1 7 && mknod -m 600 /dev/ldtest-block b 7 200 && '
              f'"$0" "$@"; rc=$?; stat -c "%n: %F" {nodes} >&2; exit $rc')
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
    for dev in nodes.split():
        args = ["check", "127.0.0.1:1", "--capture", "off", "--cloud", "none", "-o", dev]
        argv, code, out, err, _ = lab.run_raw(args, prefix=prefix)
        lines = err.splitlines()
        expect_eq(code, 3, f"-o {dev}: exit code (stderr {err!r})")
        expect_eq(out, "", f"-o {dev}: stdout")
        expect(lines and lines[0].startswith(f"linkdoctor: -o {dev}: is a device"),
               f"-o {dev}: the refusal, got {lines[:1]}")
        expect_eq(lines[1:], ["/dev/null: character special file",
                              "/dev/full: character special file",
                              "/dev/ldtest-block: block special file"],
                  f"-o {dev}: the nodes afterwards")


@S.scenario("process.deadline_many_targets", timed=True)
def deadline_many_targets(lab):
    # 10,000 targets, each an HTTP request that a silent peer never answers: --timeout 1
    # cuts them all. The run's own deadline comes early by what ending it costs per
    # target, so that rendering, writing and freeing fit too: the process has written its
    # report and exited by --timeout + 0.1 s.
    lab.start_listener(ZONE_A, PORT, silent=True)
    out_dir = tempfile.mkdtemp(prefix="out-", dir=lab.tmp)
    path = os.path.join(out_dir, "report.json")
    targets = [f"http://{ZONE_A}:{PORT}/{i}" for i in range(10000)]
    for fmt in ("json", "text"):
        args = ["check", *targets, "--timeout", "1", "--format", fmt, "--capture", "off",
                "--cloud", "none", "-o", path]
        _, code, out, err, wall = lab.run_raw(args)
        print(f"--format {fmt}: 10,000 targets, ended after {wall:.3f} s", flush=True)
        expect(code in (2, 3), f"--format {fmt}: exit code {code} (stderr {err[:300]!r})")
        expect_eq((out, err), ("", ""), f"--format {fmt}: stdout and stderr")
        expect(wall <= 1.1 + L.TIME_SLACK,
               f"--format {fmt}: ended {wall:.3f} s after the start, over --timeout 1 + 0.1 s")
        with open(path) as f:
            text = f.read()
        if fmt == "json":
            report = json.loads(text)
            expect_eq(len(report["targets"]), 10000, "targets in the report")
            expect(report["duration_ms"] <= 1000 * (1.1 + L.TIME_SLACK),
                   f"duration_ms {report['duration_ms']}")
        else:
            expect(text.count(f"http://{ZONE_A}:{PORT}/") >= 10000, "targets in the text report")
        expect_eq(os.listdir(out_dir), ["report.json"], "files beside the report")


@S.scenario("privileges.output_directories", timed=True)
def output_directories(lab):
    # Started as plain root, linkdoctor runs as nobody with no capability, yet its report
    # lands wherever root could put it: the temporary file is made before the drop and a
    # helper that keeps the right to renames it. Each directory once failed or cost a
    # privilege: read-only (0555) failed after the run; another user's kept
    # CAP_DAC_OVERRIDE for the whole run; a sticky one holding another user's report.
    _dropped_port(lab)
    dirs = {}
    for name, mode, owner in (("root-0700", 0o700, 0), ("root-0555", 0o555, 0),
                              ("sticky-1777", 0o1777, 0), ("daemon-0700", 0o700, DAEMON)):
        d = os.path.join(lab.tmp, name)
        os.mkdir(d)
        os.chown(d, owner, owner)
        os.chmod(d, mode)
        dirs[name] = d
    # In the sticky directory, the report to replace is nobody's: renaming over it takes
    # CAP_FOWNER, which only the helper keeps.
    theirs = os.path.join(dirs["sticky-1777"], "report.json")
    with open(theirs, "w") as f:
        f.write("nobody's old report\n")
    os.chown(theirs, NOBODY, NOBODY)
    for name, d in dirs.items():
        path = os.path.join(d, "report.json")
        args = ["check", TARGET, "--format", "json", "--cloud", "none", "-o", path]
        argv, code, out, err, _ = lab.run_raw(args, watch=True)
        S._expect_privileges(lab.last_status_samples, f"-o into {name}", NOBODY)
        _, t = S._report_file(lab, argv, code, out, err, path)
        _proven(t, f"-o into {name}")
        expect_eq(os.stat(path).st_uid, 0, f"{name}: owner of the report")


@S.scenario("privileges.user_option", timed=True)
def user_option(lab):
    # --user NAME picks whom root becomes (a name or a number); root itself, an unknown
    # user, or --user without root are refused before the run starts.
    _dropped_port(lab)
    for user in ("daemon", str(DAEMON)):
        run = lab.run(TARGET, extra=["--user", user], watch=True)
        run.expect_outcome(2, "critical")
        S._expect_privileges(run, f"--user {user}", DAEMON)
        _proven(run.target(), f"--user {user}")
    for args, prefix, words in ((["--user", "root"], (), ("--user root", "is root")),
                                (["--user", "0"], (), ("--user 0", "is root")),
                                (["--user", "no-such-user"], (), ("no such user",)),
                                (["--user", "daemon"], L.UNPRIVILEGED, ("started as root",))):
        _, code, out, err, wall = lab.run_raw(["check", TARGET, "--cloud", "none", *args],
                                              prefix=prefix)
        S.expect_one_stderr_line(code, out, err, *words)
        expect(wall < 0.5 + L.TIME_SLACK, f"{args}: refused only after {wall:.3f} s")


@S.scenario("privileges.file_capability", timed=True)
def file_capability(lab):
    # The packaging alternative to root: a binary given cap_net_raw+ep, run by an ordinary
    # user. It captures (the drop is proven in ~1.2 s), then keeps no capability at all.
    L.need_tools("setcap", "setpriv")
    _dropped_port(lab)
    os.chmod(lab.tmp, 0o711)                # reachable by nobody, not listable
    bin_dir = os.path.join(lab.tmp, "bin")
    os.mkdir(bin_dir, 0o755)
    copy = os.path.join(bin_dir, "linkdoctor")
    shutil.copy2(lab.binary, copy)
    os.chmod(copy, 0o755)
    L._sh("setcap", "cap_net_raw+ep", copy)
    as_nobody = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
    binary, lab.binary = lab.binary, copy
    try:
        run = lab.run(TARGET, prefix=as_nobody, watch=True)
    finally:
        lab.binary = binary
    first = S._linkdoctor_samples(run, "file capability")[0][1]
    expect_eq(int(first.get("CapPrm") or "0", 16), S.CAP_NET_RAW,
              "linkdoctor's CapPrm at its start (cap_net_raw from the file)")
    run.expect_outcome(2, "critical")
    _proven(run.target(), "file capability")
    S._expect_privileges(run, "file capability, as nobody", NOBODY)
