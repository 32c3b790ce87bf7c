#!/usr/bin/python3
"""The man page and the shell completions keep up with the binary.

usage: doc_check.py LINKDOCTOR_BINARY SOURCE_DIR

Fails when a command of `linkdoctor --help`, a long option printed by a command's
--help, or a diagnosis ID printed by `linkdoctor rules list` is missing from the man
page (packaging/man/linkdoctor.1, as rendered) or from a completion (the commands and
options), and when the man page's linters complain (mandoc -T lint, groff -ww). The
completions are also run: bash through bash-completion's own helpers, zsh in a real
interactive shell on a pseudo-terminal.

A tool this needs (mandoc or groff, bash-completion, zsh) missing: that part is
skipped with the reason, except under CI=true, where it fails.
"""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = None
SOURCE = None


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def need(test, *tools):
    """Skips test (fails it under CI) unless every tool is installed."""
    missing = [t for t in tools if not (shutil.which(t) if "/" not in t else os.path.exists(t))]
    if missing:
        why = "needs " + ", ".join(missing) + " (packaging/install-deps installs them)"
        if in_ci():
            test.fail(why + "; CI is set, so a check that cannot run fails")
        test.skipTest(why)


def linkdoctor(*args):
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"linkdoctor {' '.join(args)}: exit {p.returncode}: {p.stderr}")
    return p.stdout


def commands():
    """The commands `linkdoctor --help` lists ("linkdoctor check TARGET...": check)."""
    found = re.findall(r"^(?:usage:)?[ \t]+linkdoctor ([a-z]+)\b", linkdoctor("--help"), re.M)
    if "check" not in found:
        raise AssertionError(f"no commands found in linkdoctor --help: {found}")
    return list(dict.fromkeys(found))


def long_options(text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])", text))


def all_options():
    """{option: the commands whose --help prints it}, the top level's included."""
    found = {o: {"(top)"} for o in long_options(linkdoctor("--help"))}
    for cmd in commands():
        for o in long_options(linkdoctor(cmd, "--help")):
            found.setdefault(o, set()).add(cmd)
    return found


def diagnosis_ids():
    lines = linkdoctor("rules", "list").splitlines()
    if not lines or lines[0].split()[0] != "ID":
        raise AssertionError(f"rules list: unexpected header {lines[:1]}")
    ids = [line.split()[0] for line in lines[1:] if line.strip()]
    if len(ids) < 10:
        raise AssertionError(f"rules list printed only {ids}")
    return ids


def contains_word(text, word):
    return re.search(r"(?<![\w.-])" + re.escape(word) + r"(?![\w-])", text) is not None


class ManPage(unittest.TestCase):
    page = None

    def setUp(self):
        self.page = os.path.join(SOURCE, "packaging", "man", "linkdoctor.1")

    def rendered(self):
        """The page as plain text, one long line per paragraph (nothing hyphenated)."""
        if shutil.which("mandoc"):
            argv = ["mandoc", "-T", "ascii", "-O", "width=400", self.page]
        else:
            need(self, "groff")
            argv = ["groff", "-mandoc", "-T", "ascii", "-rLL=400n", "-rHY=0", "-P", "-cbu",
                    self.page]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return re.sub(r".\x08", "", p.stdout)

    def section(self, text, name):
        m = re.search(rf"^{name}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.M | re.S)
        self.assertIsNotNone(m, f"the man page has no {name} section")
        return m.group(1)

    def test_mandoc_lint(self):
        need(self, "mandoc")
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", self.page],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""), "mandoc -T lint")

    def test_groff_warnings(self):
        need(self, "groff")
        p = subprocess.run(["groff", "-ww", "-z", "-mandoc", self.page],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stderr), (0, ""), "groff -ww -z")

    def test_every_command(self):
        synopsis = self.section(self.rendered(), "SYNOPSIS")
        missing = [c for c in commands() if f"linkdoctor {c}" not in synopsis]
        self.assertEqual(missing, [], "commands of linkdoctor --help missing from SYNOPSIS")

    def test_every_long_option(self):
        text = self.rendered()
        missing = sorted(f"{o} ({', '.join(sorted(cmds))})" for o, cmds in all_options().items()
                         if not contains_word(text, o))
        self.assertEqual(missing, [], "long options of the --help outputs missing from the "
                                      "man page")

    def test_every_diagnosis(self):
        diagnoses = self.section(self.rendered(), "DIAGNOSES")
        missing = [i for i in diagnosis_ids() if not contains_word(diagnoses, i)]
        self.assertEqual(missing, [], "IDs of linkdoctor rules list missing from DIAGNOSES")

    def test_capability_removal(self):
        self.assertIn("setcap -r /usr/bin/linkdoctor", self.rendered())


BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


class Completions(unittest.TestCase):
    def setUp(self):
        base = os.path.join(SOURCE, "packaging", "completions")
        self.bash = os.path.join(base, "linkdoctor.bash")
        self.zsh = os.path.join(base, "_linkdoctor")

    def test_every_command_and_option(self):
        for path in (self.bash, self.zsh):
            with open(path) as f:
                text = f.read()
            missing = [c for c in commands() if not contains_word(text, c)]
            missing += sorted(o for o in all_options() if not contains_word(text, o))
            self.assertEqual(missing, [], f"{os.path.basename(path)} lacks these")

    def bash_complete(self, line):
        """What the bash completion offers for `line` (the cursor at its end)."""
        script = f"""
            source {BASH_COMPLETION}
            source {self.bash}
            compopt() {{ :; }}   # needs a real completion in progress
            read -ra COMP_WORDS <<<"$LINE"
            [[ $LINE == *" " ]] && COMP_WORDS+=("")
            COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
            COMP_LINE=$LINE COMP_POINT=${{#LINE}}
            _linkdoctor
            printf '%s\\n' "${{COMPREPLY[@]}}"
        """
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30,
                           cwd=SOURCE, env=dict(os.environ, LINE=line))
        self.assertEqual(p.stderr, "", f"bash completion of {line!r}")
        return sorted(w for w in p.stdout.splitlines() if w)

    def test_bash(self):
        need(self, "bash", BASH_COMPLETION)
        b = BINARY
        offered = self.bash_complete(f"{b} ")
        missing = set(commands() + ["--help", "--version"]) - set(offered)
        self.assertEqual(missing, set(), f"commands not offered (offered: {offered})")
        ids = diagnosis_ids()
        self.assertEqual(self.bash_complete(f"{b} explain "), sorted(ids))
        self.assertEqual(self.bash_complete(f"{b} explain tcp.syn_d"), ["tcp.syn_dropped"])
        profiles = re.findall(r"^(\S+)$", linkdoctor("profiles"), re.M)
        self.assertIn("zilliz", profiles)
        self.assertEqual(self.bash_complete(f"{b} check --profile "), sorted(profiles))
        self.assertEqual(self.bash_complete(f"{b} check --capture "), ["auto", "off", "on"])
        self.assertEqual(self.bash_complete(f"{b} check --format=pro"), ["prometheus"])
        self.assertEqual(self.bash_complete(f"{b} check h:1 --connect-t"), ["--connect-timeout"])
        self.assertEqual(self.bash_complete(f"{b} rules "), ["--help", "facts", "lint", "list"])
        self.assertEqual(self.bash_complete(f"{b} rules lint tests/data/site-"),
                         ["tests/data/site-rules.json"])
        self.assertEqual(self.bash_complete(f"{b} check --cacert tests/data/site-"), [],
                         "--cacert offers PEM files only")
        self.assertEqual(self.bash_complete(f"{b} analyze tests/data/pcap/dropped.e"),
                         ["tests/data/pcap/dropped.eth.pcap"])

    def test_zsh_syntax(self):
        need(self, "zsh")
        p = subprocess.run(["zsh", "-n", self.zsh], capture_output=True, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def test_zsh(self):
        """Types each line and a TAB into an interactive zsh, with the completion from
        the source tree and `linkdoctor` on PATH being the binary under test, and reads
        back the command line the completion left."""
        need(self, "zsh")
        cases = {
            "linkdoctor ana": "linkdoctor analyze ",
            "linkdoctor explain tcp.syn_d": "linkdoctor explain tcp.syn_dropped ",
            "linkdoctor check --profile zil": "linkdoctor check --profile zilliz ",
            "linkdoctor check --capture=of": "linkdoctor check --capture=off ",
            "linkdoctor serve --max-p": "linkdoctor serve --max-probes=",
            "linkdoctor rules fa": "linkdoctor rules facts ",
            "linkdoctor show tests/data/site-": "linkdoctor show tests/data/site-rules.json ",
        }
        with tempfile.TemporaryDirectory() as d:
            os.symlink(os.path.abspath(BINARY), os.path.join(d, "linkdoctor"))
            buffers = os.path.join(d, "buffers")
            env = dict(os.environ, HOME=d, TERM="dumb", PATH=f"{d}:/usr/bin:/bin")
            master, slave = pty.openpty()
            shell = subprocess.Popen(["zsh", "-f", "-i"], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=SOURCE, env=env, start_new_session=True)
            os.close(slave)
            transcript = []

            def drain(seconds):
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    if select.select([master], [], [], 0.05)[0]:
                        try:
                            transcript.append(os.read(master, 65536))
                        except OSError:
                            return

            def lines_written():
                if not os.path.exists(buffers):
                    return []
                with open(buffers) as f:
                    return f.read().split("\0")[:-1]

            try:
                # ^T writes the command line (NUL-terminated) and clears it.
                os.write(master, (
                    f"fpath=({SOURCE}/packaging/completions $fpath); autoload -Uz compinit; "
                    f"compinit -u -d {d}/zcompdump; bindkey -e; "
                    f"ld-dump() {{ print -rn -- \"$BUFFER\"$'\\0' >> {buffers}; BUFFER= }}; "
                    "zle -N ld-dump; bindkey '^T' ld-dump\n").encode())
                drain(0.5)
                for n, line in enumerate(cases, 1):
                    os.write(master, (line + "\t").encode())
                    drain(0.3)
                    os.write(master, b"\x14")
                    deadline = time.monotonic() + 10
                    while len(lines_written()) < n and time.monotonic() < deadline:
                        drain(0.1)
                os.write(master, b"exit\n")
                drain(0.2)
            finally:
                if shell.poll() is None:
                    shell.send_signal(signal.SIGKILL)
                shell.wait()
                os.close(master)
            got = dict(zip(cases, lines_written()))
        output = b"".join(transcript).decode(errors="replace")
        self.assertEqual(got, cases, f"zsh completions (the terminal showed:\n{output[-2000:]})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    BINARY, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.dont_write_bytecode = True
    unittest.main(argv=sys.argv[:1], verbosity=2)
