#!/usr/bin/python3
"""Fails when a layer includes a layer above it.

core ← device ← observability ← actors ← api ← python: a file may include its own layer and
the layers below. Nothing below actors/ may include CAF, and the
binding talks to api/ only (and core's types that api's headers name).
"""
import pathlib
import re
import sys

ORDER = ["core", "device", "observability", "actors", "api", "python"]
API_DIRS = {"actorrt": "api", "dxrt": "api"}  # public include roots of api/
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)

root = pathlib.Path(__file__).resolve().parent.parent
bad = []
for layer in ORDER:
    rank = ORDER.index(layer)
    for path in (root / layer).rglob("*"):
        if path.suffix not in {".cpp", ".hpp", ".h"}:
            continue
        for target in INCLUDE.findall(path.read_text()):
            top = target.split("/")[0]
            used = API_DIRS.get(top, top)
            if used in ORDER and ORDER.index(used) > rank:
                bad.append(f"{path.relative_to(root)} includes {target} ({used} is above {layer})")
            if layer == "python" and used in ("device", "observability", "actors"):
                bad.append(f"{path.relative_to(root)} includes {target} (the binding talks to api/ only)")
            if top == "caf" and rank < ORDER.index("actors"):
                bad.append(f"{path.relative_to(root)} includes {target} (no CAF below actors/)")
for line in bad:
    print(line)
print(f"layering: {'violations: ' + str(len(bad)) if bad else 'clean'}")
sys.exit(1 if bad else 0)
