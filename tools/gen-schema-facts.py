#!/usr/bin/env python3
"""Regenerates the fact definitions of report/report.schema.json from core/facts.def
(the facts, the probes' fields, and host.cloud, which carries the cloud.* facts).

Run it after adding a fact: tools/gen-schema-facts.py. test_schema (a unit test)
fails when the schema and the fact table disagree, so a forgotten run is caught.
"""
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
TYPES = {
    "BOOL": {"type": "boolean"},
    "INT": {"type": "integer"},
    "NUM": {"type": ["number", "null"]},
    "STR": {"type": "string"},
    "LIST": {"type": "array", "items": {"type": "string"}},
}
FACT = re.compile(r'^LD_FACT\(\w+,\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*"(.*)"\)\s*$')


def main():
    target, subjects = {}, {}
    for line in (ROOT / "core/facts.def").read_text().splitlines():
        m = FACT.match(line)
        if not m:
            continue
        name, typ, scope, meaning = m.groups()
        entry = dict(TYPES[typ], description=meaning)
        if scope == "TARGET":
            target[name] = entry
        else:
            kind, _, field = name.split(".", 2)
            subjects.setdefault(kind, {})[field] = entry
    path = ROOT / "report/report.schema.json"
    schema = json.loads(path.read_text())
    schema["$defs"]["facts"]["properties"] = target
    # host.cloud: provider and source, then every other cloud.* fact by its short name.
    cloud = schema["properties"]["host"]["properties"]["cloud"]
    fixed = {k: v for k, v in cloud["properties"].items() if k in ("provider", "source")}
    for name, entry in target.items():
        if name.startswith("cloud.") and name not in ("cloud.provider", "cloud.provider_source"):
            fixed[name[len("cloud."):]] = entry
    cloud["properties"] = fixed
    cloud["additionalProperties"] = False
    for kind, fields in subjects.items():
        schema["$defs"]["probes"]["properties"][kind] = {
            "type": "array",
            "items": {"type": "object", "properties": fields, "additionalProperties": False},
        }
    path.write_text(json.dumps(schema, indent=2) + "\n")


if __name__ == "__main__":
    main()
