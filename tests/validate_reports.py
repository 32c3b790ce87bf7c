#!/usr/bin/python3
"""Validates linkdoctor JSON reports against report/report.schema.json.

usage: validate_reports.py SCHEMA REPORT.json...   (exit 0 when all are valid)
Used by ctest (the reports the unit tests render) and by the lab tests.
"""
import json
import sys

import jsonschema


def validate(schema, path):
    """Returns a list of 'path: where: problem' strings (empty when valid)."""
    with open(path) as f:
        report = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{path}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(report)]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    problems = [p for path in argv[2:] for p in validate(schema, path)]
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(argv) - 2} report(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
