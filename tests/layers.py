#!/usr/bin/python3
"""tests/layers.py SOURCE_DIR - the layers only look down.

    core  <-  probes  <-  plan
    core  <-  rules   <-  report
    cli uses them all

A file may include headers of its own layer and of the layers below it, never one
from a layer above (or beside) it. Within probes/, a probe includes no other probe's
header: only the interface (probe.h) and the shared pieces every probe may build on
(SHARED_PROBE_HEADERS). Prints one line per violation and exits 1 when there is any.
"""
import pathlib
import re
import sys

# What each layer may include, besides itself.
BELOW = {
    "core": set(),
    "probes": {"core"},
    "plan": {"core", "probes"},
    "rules": {"core"},
    "report": {"core", "rules"},
    "cli": {"core", "probes", "plan", "rules", "report"},
}
# Headers of probes/ that are not a probe of their own: the interface, the packet
# decoder the capture and `analyze` share, the request/reply skeleton, libcurl's multi
# handle in the loop (HTTP and metadata), and the metadata services' parsers.
SHARED_PROBE_HEADERS = {"probe.h", "handshake.h", "reqrep.h", "curlmulti.h", "imds.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def violations(root):
    for layer, allowed in BELOW.items():
        for path in sorted((root / layer).glob("*.[ch]")):
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                where = f"{path.relative_to(root)}:{lineno}"
                if "/" not in inc:
                    target_layer, name = layer, inc
                else:
                    target_layer, name = inc.split("/", 1)
                if target_layer not in BELOW:
                    yield f"{where}: includes {inc!r}, which is in no layer"
                    continue
                if target_layer != layer and target_layer not in allowed:
                    yield (f"{where}: {layer}/ includes {inc!r}: {target_layer}/ is not below "
                           f"{layer}/")
                    continue
                if layer == "probes" and target_layer == "probes":
                    own = {path.stem + ".h"}
                    if name not in own | SHARED_PROBE_HEADERS:
                        yield f"{where}: probe {path.name} includes another probe's header {inc!r}"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    found = list(violations(root))
    for v in found:
        print(v)
    if not found:
        print(f"layers: no upward include in {', '.join(BELOW)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
