"""scenarios_monitoring.py - linkdoctor as a health check (issue 9), through the real
binary in the lab: Nagios plugin output checked by a strict checker of the guidelines'
syntax (tests/nagios_check.py), Prometheus output checked by promtool, targets files,
and --watch seeing a security group change and ending on SIGINT.
"""

import json
import os
import signal
import subprocess
import sys
import time

import scenarios as S
from scenarios import NAME, PORT, ZONE_A, ZONE_B, expect, expect_eq, expect_in

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import nagios_check  # noqa: E402

TARGET = f"{NAME}:{PORT}"


def plugin(lab, *args, limit=30):
    """Runs `linkdoctor check ARGS --format nagios`; returns (exit code, state, perfdata,
    output), the output checked against the guidelines."""
    argv, code, out, err, _ = lab.run_raw(["check", *args, "--format", "nagios", "--cloud",
                                           "none"], limit=limit)
    expect(err == "", f"nothing on stderr: {err!r}")
    try:
        state, perf = nagios_check.check(out)
    except ValueError as e:
        raise S.L.CheckFailed(f"not plugin output: {e}\n{out}")
    expect_eq(code, {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state],
              "the exit code is the plugin's state")
    return code, state, perf, out


@S.scenario("monitoring.nagios.critical")
def nagios_critical(lab):
    # A dropped SYN: CRITICAL naming the diagnosis and the target, perfdata with the
    # SYNs sent and the whole check's time.
    lab.start_service(PORT, [ZONE_A], NAME)
    lab.block("endpoint", ZONE_A, PORT)
    code, state, perf, out = plugin(lab, TARGET)
    expect_eq(state, "CRITICAL", "state")
    expect(out.startswith(f"LINKDOCTOR CRITICAL - tcp.syn_dropped on {TARGET}: "), out)
    expect(perf.get("syns", (0,))[0] >= 2, f"SYNs sent in the perfdata: {perf}")
    expect_eq(perf["total"][1], "s", "total is in seconds")
    expect_in("Fix:", out, "the long text has the fix")


@S.scenario("monitoring.nagios.ok_and_thresholds")
def nagios_ok_and_thresholds(lab):
    lab.start_service(PORT, [ZONE_A], NAME)
    code, state, perf, out = plugin(lab, TARGET, "--warning", "connect=1", "--critical", "5")
    expect_eq(state, "OK", "state")
    expect_eq(perf["connect"][2:4], ("1", ""), "the connect perfdata's warn and crit")
    expect_eq(perf["total"][2:4], ("", "5"), "the total perfdata's warn and crit")
    expect(0 < perf["connect"][0] < 0.5, f"a connect time in seconds: {perf['connect']}")
    # A range every connect is inside of, alerting inside ('@'): WARNING, by threshold.
    code, state, perf, out = plugin(lab, TARGET, "--warning", "connect=@0:10")
    expect_eq(state, "WARNING", "state past the warning range")
    expect(out.startswith(f"LINKDOCTOR WARNING - time.connect_warning on {TARGET}"), out)
    code, state, perf, out = plugin(lab, TARGET, "--warning", "connect=@0:10",
                                    "--critical", "@0:10")
    expect_eq(state, "CRITICAL", "state past the critical range of the whole check")
    expect_in("time.total_critical", out.split("\n")[0], "the status line")


@S.scenario("monitoring.prometheus_targets_file")
def prometheus_targets_file(lab):
    # A targets file with its own options per line, the output written atomically with
    # -o (what node_exporter's textfile collector reads), checked by promtool.
    lab.start_service(PORT, [ZONE_A, ZONE_B], NAME, records={NAME: [ZONE_A]})
    lab.block("endpoint", ZONE_B, PORT)
    targets = os.path.join(lab.tmp, "targets")
    with open(targets, "w") as f:
        f.write("# the private links of the lab\n\n"
                f"{TARGET}   # healthy\n"
                f"{ZONE_B}:{PORT} --endpoint-ip {ZONE_B}  # its security group drops\n")
    out = os.path.join(lab.tmp, "linkdoctor.prom")
    argv, code, stdout, err, _ = lab.run_raw(["check", "--targets", targets, "--format",
                                              "prometheus", "--cloud", "none", "-o", out])
    expect_eq(code, 2, f"exit code (stderr {err!r})")
    text = open(out).read()
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    expect_eq((p.returncode, p.stdout + p.stderr), (0, ""), "promtool check metrics")
    expect_in(f'linkdoctor_diagnosis{{target="{ZONE_B}:{PORT}",id="tcp.syn_dropped",'
              f'severity="critical",confidence="high"}} 1\n', text, "the drop's series")
    expect_in(f'linkdoctor_diagnosis{{target="{TARGET}",id="ok",severity="ok",'
              f'confidence="high"}} 1\n', text, "the healthy target's series")
    expect_in(f'linkdoctor_verdict{{target="{ZONE_B}:{PORT}"}} 2\n', text, "verdict")
    expect_in(f'linkdoctor_up{{target="{TARGET}"}} 1\n', text, "up")
    expect_in(f'linkdoctor_phase_duration_seconds{{target="{TARGET}",phase="connect"}} ',
              text, "the connect phase")
    expect_eq([f for f in os.listdir(lab.tmp) if ".tmp." in f], [], "temporary files left")


@S.scenario("monitoring.targets_file_bad_line")
def targets_file_bad_line(lab):
    # One bad line: nothing is checked, one line names the file and the line.
    lab.start_service(PORT, [ZONE_A], NAME)
    targets = os.path.join(lab.tmp, "targets")
    with open(targets, "w") as f:
        f.write(f"{TARGET}\n{TARGET} --expect-status 600\n")
    argv, code, out, err, _ = lab.run_raw(["check", "--targets", targets, "--cloud", "none"])
    expect_eq((code, out), (3, ""), "exit code and stdout")
    expect_eq(err.count("\n"), 1, f"one line: {err!r}")
    expect_in(f"{targets}:2: --expect-status '600'", err, "the error")


@S.scenario("monitoring.watch", timed=True)
def watch(lab):
    # --watch sees the security group close and open again within a round, then ends on
    # SIGINT within a second with the last round's exit code.
    # Beside it, the same watch as JSON Lines and as Prometheus: each round says when it
    # started (started_at, host.time, linkdoctor_last_run_timestamp_seconds), not when
    # the first one did.
    lab.start_service(PORT, [ZONE_A], NAME)
    argv = [lab.binary, "check", TARGET, "--cloud", "none", "--watch", "0.5",
            "--connect-timeout", "1"]
    env = dict(os.environ, LINKDOCTOR_DMI_DIR=lab.dmi_dir)
    procs = [subprocess.Popen(lab.exec_argv(lab.client, *argv, *fmt), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
             for fmt in ((), ("--format", "json"), ("--format", "prometheus"))]
    p = procs[0]
    try:
        time.sleep(1.2)
        lab.block("endpoint", ZONE_A, PORT)
        time.sleep(2.5)
        S.L._sh(*lab.exec_argv(lab.endpoint, "nft", "flush", "table", "inet", "lab_sg"))
        time.sleep(1.5)
        sent = time.monotonic()
        for q in procs:
            q.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=5)
        ended = time.monotonic() - sent
        json_out, _ = procs[1].communicate(timeout=5)
        prom_out, _ = procs[2].communicate(timeout=5)
    finally:
        for q in procs:
            if q.poll() is None:
                q.kill()
                q.wait()
    reports = [json.loads(line) for line in json_out.splitlines()]
    started = [r["started_at"] for r in reports]
    expect(len(started) >= 6 and started == sorted(set(started)),
           f"every JSON round has its own, later started_at: {started}")
    expect(reports[0]["host"]["time"] < reports[-1]["host"]["time"],
           f"host.time moves: {reports[0]['host']['time']} .. {reports[-1]['host']['time']}")
    stamps = [float(line.split()[1]) for line in prom_out.splitlines()
              if line.startswith("linkdoctor_last_run_timestamp_seconds ")]
    expect(len(stamps) >= 6 and stamps == sorted(set(stamps)),
           f"every Prometheus round has its own, later timestamp: {stamps}")
    expect(ended < 1.0 + S.L.TIME_SLACK, f"ended {ended:.2f} s after SIGINT")
    expect_eq((p.returncode, err), (0, ""), "exit code (the last round's: ok) and stderr")
    rounds = [line for line in out.split("\n") if line[:2].isdigit() and "Z  " in line]
    verdicts = [r.split()[1] for r in rounds]
    expect(len(rounds) >= 6, f"a line per round: {rounds}")
    # ok, then critical (tcp.syn_dropped), then ok again: each change once, in order.
    changes = [v for i, v in enumerate(verdicts) if i == 0 or v != verdicts[i - 1]]
    expect_eq(changes, ["ok", "critical", "ok"], f"the state changes ({verdicts})")
    expect_in("tcp.syn_dropped", out, "the drop named")
    # The full report is printed at each change: three times, not every round.
    expect_eq(out.count("\nTimeline:\n") + out.startswith("Timeline:"), 3,
              "full reports (one per change)")
