#!/usr/bin/python3
"""tests/nagios_check.py FILE... - a strict checker of monitoring-plugin output, after the
Monitoring Plugins Development Guidelines: the first line is

    LINKDOCTOR <OK|WARNING|CRITICAL|UNKNOWN> - <text without '|'> [| <perfdata>]

perfdata is space-separated 'label'=value[UOM];[warn];[crit];[min];[max], a label with
no ' or = inside (quoted when it has spaces), a number value, UOM one of s ms us % B KB MB
TB c (or none), warn and crit ranges ([@][~|n]:[n] or n), min and max numbers; labels are
unique. The long text that follows has no '|'. Importable: check(text) returns the state
and a dict label -> (value, uom, warn, crit, min, max); it raises ValueError naming what
is wrong. As a script: exits 0 when every FILE passes."""
import re
import sys

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
UOMS = ("", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c")
NUM = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
RANGE = re.compile(rf"^@?(?:(?:~|{NUM})?:)?(?:{NUM})?$")
LABEL = re.compile(r"'([^'=]+)'|([^'= ]+)")
VALUE = re.compile(rf"^({NUM})([a-zA-Z%]*)$")


def parse_perfdata(data):
    out = {}
    pos = 0
    while pos < len(data):
        if data[pos] == " ":
            pos += 1
            continue
        m = LABEL.match(data, pos)
        if not m or m.end() >= len(data) or data[m.end()] != "=":
            raise ValueError(f"perfdata: bad label at {data[pos:pos + 40]!r}")
        label = m.group(1) or m.group(2)
        end = data.find(" ", m.end())
        end = len(data) if end < 0 else end
        fields = data[m.end() + 1:end].split(";")
        pos = end
        if len(fields) > 5:
            raise ValueError(f"perfdata {label!r}: more than 5 fields")
        fields += [""] * (5 - len(fields))
        v = VALUE.match(fields[0])
        if not v or v.group(2) not in UOMS:
            raise ValueError(f"perfdata {label!r}: bad value/unit {fields[0]!r}")
        for name, f in zip(("warn", "crit"), fields[1:3]):
            if f and not RANGE.match(f):
                raise ValueError(f"perfdata {label!r}: bad {name} range {f!r}")
        for name, f in zip(("min", "max"), fields[3:5]):
            if f and not re.fullmatch(NUM, f):
                raise ValueError(f"perfdata {label!r}: bad {name} {f!r}")
        if label in out:
            raise ValueError(f"perfdata: label {label!r} twice")
        out[label] = (float(v.group(1)), v.group(2), fields[1], fields[2], fields[3], fields[4])
    return out


def check(text):
    lines = text.split("\n")
    m = re.match(r"^LINKDOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*?)(?: \| (.*))?$", lines[0])
    if not m:
        raise ValueError(f"first line is not 'LINKDOCTOR STATE - text | perfdata': {lines[0]!r}")
    if not m.group(2).strip():
        raise ValueError("empty summary")
    perf = parse_perfdata(m.group(3) or "")
    for i, line in enumerate(lines[1:], 2):
        if "|" in line:
            raise ValueError(f"line {i}: '|' in the long text: {line!r}")
    return m.group(1), perf


def main(paths):
    bad = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                state, perf = check(f.read())
            print(f"{path}: {state}, {len(perf)} perfdata values")
        except (ValueError, UnicodeDecodeError) as e:
            print(f"{path}: {e}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
