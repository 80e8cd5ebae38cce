#!/usr/bin/env python3
"""The rooms of src/ and what each may import (docs/architecture.md): prints
every `crate::X` import (outside comments and test modules) that the table
does not allow, and every cycle between rooms. Exits 1 when there is any.
Run from the repository root: `python3 scripts/arrows.py`."""
import os
import re
import sys

# room -> the rooms it may import (docs/architecture.md, "The rooms").
ALLOWED = {
    "engine": set(),
    "text": {"engine"},
    "rules": {"engine", "text"},
    "request": {"engine", "text"},
    "render": {"engine", "request", "text"},
    "facade": {"engine", "rules", "request", "render", "text"},
    "check": {"facade", "engine", "rules", "request", "render", "text"},
    "recent": {"request"},
    "impact": {"facade", "recent", "render", "request"},
    "reload": {"facade", "rules", "check", "impact", "recent", "text", "analysis"},
    "analysis": {"engine", "facade", "impact", "request"},
    "service": {"engine", "text", "rules", "request", "render", "facade", "check", "recent", "impact", "reload", "analysis"},
    "cli": {"service", "analysis", "check", "facade", "render", "request", "rules"},
}
USE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")


def room(path):
    first = os.path.relpath(path, "src").split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


edges, bad = {}, []
for root, _, files in os.walk("src"):
    for fn in sorted(files):
        if not fn.endswith(".rs"):
            continue
        p = os.path.join(root, fn)
        m = room(p)
        if m in ("lib", "main"):
            continue
        for i, line in enumerate(open(p, encoding="utf-8"), 1):
            s = line.strip()
            if s.startswith("#[cfg(test)]"):
                break
            if s.startswith("//"):
                continue
            for dep in USE.findall(s.split("//")[0]):
                if dep in (m, "now_ms"):
                    continue
                edges.setdefault(m, set()).add(dep)
                if m not in ALLOWED:
                    bad.append(f"{p}:{i}: room `{m}` is not in the table of docs/architecture.md")
                elif dep not in ALLOWED[m]:
                    bad.append(f"{p}:{i}: {m} imports crate::{dep}")


def reaches(a, b, seen):
    for d in edges.get(a, ()):
        if d == b or (d not in seen and not seen.add(d) and reaches(d, b, seen)):
            return True
    return False


cycles = sorted({" <-> ".join(sorted((a, b))) for a in edges for b in edges[a] if reaches(b, a, set())})
for b in bad:
    print("  against the grain:", b)
for c in cycles:
    print("  cycle between rooms:", c)
sys.exit(1 if bad or cycles else 0)
