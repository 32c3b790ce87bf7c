#!/usr/bin/python3
"""Process hygiene through the real binary: started with fds 0-2 closed; under a
subreaper parent; interrupted by SIGINT, SIGTERM or SIGHUP during a run and while it
writes its report; with a standard output that cannot be written (every subcommand); and
with -o naming what is not a regular file. Nothing here needs root: the device and
privilege cases are lab scenarios (tests/lab/scenarios_process.py). Traffic stays on
loopback, to servers of this test's own.

usage: test_process.py LINKDOCTOR_BINARY SOURCE_DIR SLOW_FSYNC_SHIM

Exit codes the tests pin down: 3 with one line when standard output cannot be written;
a run ended by SIGINT/SIGTERM/SIGHUP dies of that signal (a shell shows 130/143/129),
leaving the previous report or the whole new one, and never a temporary file.
"""
import ctypes
import glob
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BINARY = None
SOURCE = None
SHIM = None
QUICK = ["--capture", "off", "--cloud", "none"]   # nothing to wait for, no cloud lookup
PR_SET_CHILD_SUBREAPER = 36


class Server(threading.Thread):
    """A loopback TCP server: records what each connection sends; answers each request
    (data ending in `ends`) with `reply`, or holds the connection silently when reply is
    None."""

    def __init__(self, reply=None, ends=b"\r\n\r\n"):
        super().__init__(daemon=True)
        self.reply = reply
        self.ends = ends
        self.received = bytearray()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self._done = False
        self.start()

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while not self._done:
            for key, _ in sel.select(timeout=0.1):
                if key.fileobj is self.sock:
                    conn, _ = self.sock.accept()
                    self.held.append(conn)
                    sel.register(conn, selectors.EVENT_READ)
                    continue
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                self.received += data
                if self.reply is not None and data.endswith(self.ends):
                    key.fileobj.sendall(self.reply)

    def close(self):
        self._done = True
        self.join(timeout=2)
        for c in self.held:
            c.close()
        self.sock.close()


HTTP_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def wait_for(cond, within=5.0, what="condition"):
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.01)


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ld-process-")
        self.out = os.path.join(self.dir, "report.json")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def temporaries(self):
        return glob.glob(os.path.join(self.dir, "*.tmp.*"))

    def one_line(self, p, *phrases):
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"{p.args}: want one line, got {p.stderr!r}")
        self.assertTrue(lines[0].startswith("linkdoctor: "), lines[0])
        for phrase in phrases:
            self.assertIn(phrase, lines[0])
        return lines[0]


class ClosedDescriptors(Case):
    def test_closed_stdio_is_reopened_on_dev_null(self):
        # Started with >&- 2>&- (or <&- too), the event loop and the peer's socket took
        # fds 1 and 2: -v lines went to the Redis server, the report onto the loop's fd.
        # They go to /dev/null instead, and the peer sees only the protocol.
        server = Server(b"+PONG\r\n", ends=b"PING\r\n")
        try:
            for closed in ((1, 2), (0, 1, 2)):
                for capture in ("auto", "off"):   # auto: as root, one more descriptor
                    del server.received[:]
                    def close_stdio():
                        for fd in closed:
                            os.close(fd)
                    argv = [BINARY, "check", f"redis://127.0.0.1:{server.port}", "-v",
                            "--format", "json", "--cloud", "none", "--capture", capture]
                    p = subprocess.run(argv, preexec_fn=close_stdio, timeout=20)
                    what = f"fds {closed} closed, --capture {capture}"
                    self.assertEqual(p.returncode, 0, what)
                    wait_for(lambda: b"PING" in server.received, what=f"{what}: the PING")
                    self.assertEqual(bytes(server.received), b"PING\r\n", what)
        finally:
            server.close()


class Subreaper(Case):
    def test_no_process_is_left_to_a_subreaper(self):
        # Container inits and monitoring agents adopt orphans (PR_SET_CHILD_SUBREAPER) and
        # may never reap them: nothing of a run may outlive it, with or without -o (its
        # rename helper) and with the capture (as root: its release).
        libc = ctypes.CDLL(None, use_errno=True)
        self.assertEqual(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0)
        server = Server()
        try:
            for i in range(10):
                argv = [BINARY, "check", f"127.0.0.1:{server.port}", "--cloud", "none"]
                if i % 2:
                    argv += ["-o", self.out]
                p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
                self.assertEqual(p.returncode, 0, p.stderr)
            time.sleep(0.5)    # what a run left behind has ended by now
            left = children_of(os.getpid())
        finally:
            server.close()
            libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
            while True:        # reap what a failing build left us
                try:
                    if os.waitpid(-1, os.WNOHANG) == (0, 0):
                        break
                except ChildProcessError:
                    break
        self.assertEqual(left, [], "processes left to the subreaper (pid, state)")


def children_of(pid):
    """[(pid, state)] of the processes whose parent is pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(entry), fields[0]))
    return found


class Signals(Case):
    def start(self, argv, env=None):
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)

    def test_signal_during_a_run_keeps_the_old_report_and_leaves_no_temporary(self):
        # The temporary file exists from the start (so that a directory that cannot take
        # the report stops the run there); a signal must remove it before the end.
        server = Server()      # accepts, never answers: the run waits on HTTP
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                with open(self.out, "w") as f:
                    f.write("old\n")
                p = self.start([BINARY, "check", f"http://127.0.0.1:{server.port}/", "-o",
                                self.out, "--connect-timeout", "10", "--timeout", "10", *QUICK])
                try:
                    wait_for(lambda: self.temporaries(), what=f"{sig.name}: the temporary file")
                    time.sleep(0.1)
                    p.send_signal(sig)
                    p.communicate(timeout=10)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                self.assertEqual(p.returncode, -sig, sig.name)
                self.assertEqual(self.temporaries(), [], sig.name)
                with open(self.out) as f:
                    self.assertEqual(f.read(), "old\n", f"{sig.name}: the previous report")
        finally:
            server.close()

    def test_signal_during_the_write_leaves_the_whole_report_or_none(self):
        # The shim makes fsync() (after the report's bytes, before the rename) last 0.5 s
        # and says when it starts: the signal lands in the middle of the write. As root,
        # linkdoctor is nobody by then: the mark goes where nobody may write.
        marks = tempfile.mkdtemp(prefix="ld-mark-")
        self.addCleanup(shutil.rmtree, marks, ignore_errors=True)
        os.chmod(marks, 0o777)
        env = dict(os.environ, LD_PRELOAD=SHIM, LD_SLOW_FSYNC_MARK=os.path.join(marks, "mark"),
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        for sig in (signal.SIGINT, signal.SIGTERM):
            for d in (self.dir, marks):
                for name in os.listdir(d):
                    os.unlink(os.path.join(d, name))
            p = self.start([BINARY, "check", "127.0.0.1:1", "--format", "json", "-o", self.out,
                            *QUICK], env=env)
            try:
                wait_for(lambda: os.path.exists(env["LD_SLOW_FSYNC_MARK"]), within=20,
                         what=f"{sig.name}: fsync of the report")
                p.send_signal(sig)
                _, err = p.communicate(timeout=10)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertEqual(p.returncode, -sig, f"{sig.name}: {err!r}")
            self.assertEqual(self.temporaries(), [], sig.name)
            if os.path.exists(self.out):
                with open(self.out) as f:
                    self.assertEqual(json.load(f)["command"], "check", sig.name)


WATCH = ["check", "127.0.0.1:1", "--watch", "1", *QUICK]   # runs until SIGINT


def subcommands():
    """Every subcommand and help text, with the exit code each gives on a good stdout (a
    --watch, after its first round and SIGINT: the round's)."""
    pcap = os.path.join(SOURCE, "tests/data/pcap/refused.eth.pcap")
    rules = os.path.join(SOURCE, "tests/data/site-rules.json")
    return [
        (["--help"], 0), (["help"], 0), (["--version"], 0),
        (["check", "--help"], 0), (["check", "127.0.0.1:1", *QUICK], 2),
        (["check", "127.0.0.1:1", "--format", "json", *QUICK], 2), (WATCH, 2),
        (["analyze", "--help"], 0), (["analyze", pcap], 2), (["analyze", pcap, "--format", "json"], 2),
        (["rules", "--help"], 0), (["rules", "list"], 0), (["rules", "facts"], 0),
        (["rules", "lint", rules], 0),
        (["explain", "--help"], 0), (["explain", "tcp.syn_dropped"], 0),
        (["profiles", "--help"], 0), (["profiles"], 0),
    ]


class UnwritableStdout(Case):
    def run_with_stdout(self, args, stdout):
        return subprocess.run([BINARY, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                              timeout=20)

    def run_watch_one_round(self):
        p = subprocess.Popen([BINARY, *WATCH], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            first = p.stdout.readline()
            p.send_signal(signal.SIGINT)
            rest, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return subprocess.CompletedProcess(p.args, p.returncode, first + rest, err)

    def test_every_subcommand_succeeds_on_a_good_stdout(self):
        for args, code in subcommands():
            if args is WATCH:
                p = self.run_watch_one_round()
            else:
                p = self.run_with_stdout(args, subprocess.PIPE)
            self.assertEqual(p.returncode, code, f"{args}: {p.stderr!r}")
            self.assertNotEqual(p.stdout, "", args)

    def test_every_subcommand_fails_on_dev_full(self):
        for args, _ in subcommands():
            with open("/dev/full", "w") as full:
                p = self.run_with_stdout(args, full)
            self.assertEqual(p.returncode, 3, f"{args}: {p.stderr!r}")
            self.one_line(p, "standard output", "No space left on device")

    def test_every_subcommand_fails_on_a_closed_pipe(self):
        # `rules facts | head -c1`, made deterministic: the reader is gone before the start.
        for args, _ in subcommands():
            r, w = os.pipe()
            os.close(r)
            try:
                p = self.run_with_stdout(args, w)
            finally:
                os.close(w)
            self.assertEqual(p.returncode, 3, f"{args}: {p.stderr!r}")
            self.one_line(p, "standard output", "Broken pipe")


class OutputThatIsNotAFile(Case):
    def refuse(self, args, *phrases, as_nobody=False):
        def nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=20,
                           preexec_fn=nobody if as_nobody else None)
        self.assertEqual(p.returncode, 3, f"{args}: {p.stderr!r}")
        self.assertEqual(p.stdout, "")
        return self.one_line(p, *phrases)

    def test_fifo_is_refused_not_replaced(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        self.refuse(["check", "127.0.0.1:1", "-o", fifo, *QUICK], fifo, "FIFO")
        self.assertTrue(os.path.exists(fifo) and not os.path.isfile(fifo), "the FIFO is gone")
        self.assertEqual(sorted(os.listdir(self.dir)), ["fifo"])

    def test_symbolic_link_is_refused_not_replaced_nor_followed(self):
        target = os.path.join(self.dir, "target.json")
        with open(target, "w") as f:
            f.write("theirs\n")
        for name, points_to in (("link", target), ("dangling", os.path.join(self.dir, "none"))):
            link = os.path.join(self.dir, name)
            os.symlink(points_to, link)
            self.refuse(["check", "127.0.0.1:1", "-o", link, *QUICK], link, "symbolic link")
            self.assertTrue(os.path.islink(link), f"{name} was replaced")
        with open(target) as f:
            self.assertEqual(f.read(), "theirs\n")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "none")))
        self.assertEqual(self.temporaries(), [])

    def test_analyze_input_is_refused_as_output(self):
        pcap = os.path.join(self.dir, "capture.pcap")
        shutil.copy(os.path.join(SOURCE, "tests/data/pcap/refused.eth.pcap"), pcap)
        with open(pcap, "rb") as f:
            before = f.read()
        hard = os.path.join(self.dir, "same-inode.pcap")
        os.link(pcap, hard)
        for out in (pcap, hard, os.path.join(self.dir, ".", "capture.pcap")):
            self.refuse(["analyze", pcap, "-o", out], "capture file being analyzed")
        with open(pcap, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.temporaries(), [])

    def test_unwritable_directory_stops_the_run_before_it_starts(self):
        # The check up front does what the write will do: create the file. (Root writes
        # anywhere: as root, this runs linkdoctor as nobody; the lab checks root itself.)
        ro = os.path.join(self.dir, "ro")
        os.mkdir(ro, 0o555)
        os.chmod(self.dir, 0o755)
        server = Server()      # would hold the run for --connect-timeout
        try:
            t = time.monotonic()
            self.refuse(["check", f"http://127.0.0.1:{server.port}/", "--connect-timeout", "5",
                         "-o", os.path.join(ro, "r.json"), *QUICK], "cannot create a file in",
                        as_nobody=os.geteuid() == 0)
            self.assertLess(time.monotonic() - t, 2.0)
        finally:
            server.close()


if __name__ == "__main__":
    BINARY, SOURCE, SHIM = sys.argv[1], sys.argv[2], sys.argv[3]
    unittest.main(argv=sys.argv[:1], verbosity=2)
