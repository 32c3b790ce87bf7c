#!/usr/bin/python3
"""Validates linkdoctor JSON reports against report/report.schema.json.

usage: validate_reports.py SCHEMA REPORT.json...   (exit 0 when all are valid)
Used by ctest (the reports the unit tests render); the lab tests import it.
"""
import json
import sys

import jsonschema


def load_validator(schema_path):
    """A validator for the draft the schema's $schema names (the schema is checked too)."""
    with open(schema_path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=getattr(cls, "FORMAT_CHECKER", None))


def problems(validator, report):
    """Every violation as "at /path: message", in document order (empty when valid)."""
    errors = sorted(validator.iter_errors(report), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    validator = load_validator(argv[1])
    found = 0
    for path in argv[2:]:
        with open(path) as f:
            for p in problems(validator, json.load(f)):
                print(f"{path}: {p}", file=sys.stderr)
                found += 1
    print(f"{len(argv) - 2} report(s) checked, {found} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
