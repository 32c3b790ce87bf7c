"""benchlib.py - what the benchmarks in bench/ share: the lab module, the environment
linkdoctor runs in, wall time with hyperfine, peak RSS with GNU time, and slow commands
run once with a cap.

Every helper takes the argv to run and, where it matters, the prefix that puts it inside
a network namespace (lab.exec_argv(lab.client)); nothing here starts or stops the lab.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.join(HERE, "..")
DEFAULT_BINARY = os.path.join(SOURCE_DIR, "build", "linkdoctor")
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "lab"))
sys.dont_write_bytecode = True     # and none for lab.py either
import lab as L  # noqa: E402

TIME = "/usr/bin/time"
EXIT_MISSING_TOOL = 77  # what ctest and automake read as "skipped"


def cannot_run(*tools, binary=None):
    """Why this machine cannot run a benchmark that builds the lab and needs `tools` (and
    the executable `binary`), printed; returns EXIT_MISSING_TOOL then, None when it can."""
    try:
        L.preflight(need_jsonschema=False)
        L.need_tools(*tools)
        if binary is not None and not os.access(binary, os.X_OK):
            raise L.Skip(f"no linkdoctor binary at {binary}")
    except L.Skip as why:
        print(f"cannot run: {why}")
        return EXIT_MISSING_TOOL
    return None


def clean_env(**extra):
    """Our environment less what must not change what the measured commands do: proxies
    (curl and linkdoctor would use them) and sudo's variables (linkdoctor would switch to
    SUDO_UID after opening its capture). `extra` adds variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("SUDO_")}
    env.update(extra)
    return env


def hyperfine(argv, runs, *, warmup=3, env=None, inside=(), ignore_failure=False):
    """Times argv (no shell: hyperfine -N) over `runs` runs after `warmup` runs and returns
    hyperfine's result for it (median, mean, min, max in seconds, exit_codes).

    `inside` is a prefix that hyperfine itself runs under (e.g. `ip netns exec NS`): then
    each timed run is argv alone, without what entering the namespace costs. With
    `ignore_failure`, a non-zero exit is part of what is measured (a check that says
    critical); otherwise it stops the benchmark with hyperfine's message."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        p = subprocess.run([*inside, "hyperfine", "-N", "--runs", str(runs),
                            "--warmup", str(warmup), "--style", "none",
                            *(["-i"] if ignore_failure else []),
                            "--export-json", out.name, shlex.join(argv)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if p.returncode != 0:
            raise SystemExit(f"hyperfine {shlex.join(argv)[:200]} failed: "
                             f"{p.stderr.decode(errors='replace').strip()}")
        with open(out.name) as f:
            return json.load(f)["results"][0]


def peak_rss_kb(lab, argv, runs, env, *, check=True, timeout=60):
    """Peak RSS (KiB) of each of `runs` runs of argv inside the client namespace, measured
    by /usr/bin/time -f %M around the command itself (not around `ip netns exec`). With
    `check`, a run that exits non-zero stops the benchmark."""
    path = os.path.join(lab.tmp, "rss")
    peaks = []
    for _ in range(runs):
        p = subprocess.run(lab.exec_argv(lab.client, TIME, "-f", "%M", "-o", path, *argv),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, timeout=timeout)
        if check and p.returncode != 0:
            raise SystemExit(f"{shlex.join(argv)[:200]} failed ({p.returncode}): "
                             f"{p.stderr.decode(errors='replace').strip()}")
        with open(path) as f:     # "Command exited with non-zero status N" may come first
            peaks.append(int(f.read().split()[-1]))
    return peaks


def run_slow(commands, max_seconds, env=None):
    """Starts every argv of `commands` ({label: argv}) at once and times each process
    (a thread waits for each, so each time is its own) until it exits, or until
    max_seconds (then it is stopped by its PID; None: no cap). Returns {label: (seconds,
    exit code or None when stopped, last line it printed or why it was stopped)}."""
    procs, results, logs = {}, {}, {}
    start = time.monotonic()

    def wait_for(label, p):
        try:
            p.wait(timeout=max_seconds)
            results[label] = (time.monotonic() - start, p.returncode)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            p.wait()
            results[label] = (time.monotonic() - start, None)

    try:
        for label, argv in commands.items():
            # Output to a file, not a pipe that nobody reads while it runs.
            logs[label] = tempfile.TemporaryFile()
            procs[label] = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                            stdout=logs[label], stderr=subprocess.STDOUT,
                                            env=env, preexec_fn=L._die_with_parent)
        waiters = [threading.Thread(target=wait_for, args=item, daemon=True)
                   for item in procs.items()]
        for w in waiters:
            w.start()
        for w in waiters:
            while w.is_alive():
                w.join(0.5)
    finally:
        for p in procs.values():
            if p.poll() is None:    # interrupted: stop what we started, by its PID
                p.kill()
                p.wait()
    out = {}
    for label, log in logs.items():
        log.seek(0)
        said = log.read().decode(errors="replace").strip().splitlines()
        log.close()
        secs, code = results[label]
        out[label] = (secs, code, f"stopped after {max_seconds:g} s" if code is None
                      else (said[-1] if said else ""))
    return out
