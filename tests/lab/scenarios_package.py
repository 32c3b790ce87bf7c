"""scenarios_package.py - the installed Debian package in the lab.

packaging/test-deb installs the package and runs these against /usr/bin/linkdoctor
(scenarios.py --binary /usr/bin/linkdoctor --source-dir . package.NAME). They are not
listed for ctest: they need the package installed, which the test suite never does.

Both run linkdoctor as nobody the way an ordinary user's shell starts it: no capability
of its own, but the bounding set left whole (L.UNPRIVILEGED clears it too, which would
also block a file capability). What it can capture then is what the package granted.
"""

import subprocess

import scenarios as S
from scenarios import NAME, NOBODY, PORT, TARGET, ZONE_A, expect, expect_eq

L = S.L

# nobody, no capability in any set but the bounding one.
AS_NOBODY = ("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             "--inh-caps=-all")


def _file_caps(path):
    """What getcap says of path: '' when it has no file capability."""
    p = subprocess.run(["getcap", path], capture_output=True, text=True, timeout=10)
    expect(p.returncode == 0, f"getcap {path} failed: {p.stderr.strip()}")
    return p.stdout.replace(path, "", 1).strip()


def _dropped_syn_as_nobody(lab):
    """An endpoint whose security group drops the SYNs, checked by nobody; returns the
    run and its target."""
    L.need_tools("setpriv", "getcap")
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT, "drop")
    run = lab.run(TARGET, prefix=AS_NOBODY, watch=True)
    first = S._linkdoctor_samples(run, "run as nobody")[0][1]
    expect_eq(first.get("Uid"), " ".join([str(NOBODY)] * 4), "linkdoctor's Uid")
    run.expect_outcome(2, "critical")
    return run, first, run.target()


@S.scenario("package.file_capability", listed=False)
def package_file_capability(lab):
    # The postinst's `setcap cap_net_raw+ep`: nobody captures, so the drop is proven
    # by packets (high confidence, decided at the first retransmission), and the
    # capability is gone once the capture is open.
    expect_eq(_file_caps(lab.binary), "cap_net_raw=ep", f"file capability of {lab.binary}")
    run, first, t = _dropped_syn_as_nobody(lab)
    expect_eq(int(first.get("CapEff") or "0", 16), S.CAP_NET_RAW,
              "CapEff at the start: CAP_NET_RAW from the file capability alone")
    t.expect_only_diagnoses("tcp.syn_dropped")
    S.expect_confidence(t, "tcp.syn_dropped", "high")
    S.expect_live_capture(t, syn_not_seen=0)
    S.expect_syn_unanswered(t, ZONE_A)
    S._expect_privileges(run, "file capability, as nobody", NOBODY)


@S.scenario("package.no_capability", listed=False)
def package_no_capability(lab):
    # The package installed where setcap failed (no extended attributes): linkdoctor
    # still works, says why it could not capture, and the drop rests on timing.
    expect_eq(_file_caps(lab.binary), "", f"file capability of {lab.binary}")
    run, first, t = _dropped_syn_as_nobody(lab)
    expect_eq(first.get("CapEff"), S.NO_CAPS, "CapEff at the start")
    t.expect_only_diagnoses("tcp.syn_dropped", "capture.unavailable")
    S.expect_confidence(t, "tcp.syn_dropped", "medium")
    reason = t.fact("capture.unavailable_reason")
    expect("permission" in (reason or ""), f"capture.unavailable_reason should say why: {reason!r}")
    S.expect_no_capture(t, "auto")
