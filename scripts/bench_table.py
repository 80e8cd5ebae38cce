#!/usr/bin/env python3
"""Medians of the last `cargo bench --bench engine` run, as markdown tables
for BENCHMARKS.md, with the ratios it states (all from one run).

    cargo bench --bench engine && python3 scripts/bench_table.py
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def median(*parts):
    est = root.joinpath(*parts, "new", "estimates.json")
    if not est.exists():
        return None
    e = json.loads(est.read_text())["median"]
    return e["point_estimate"], e["confidence_interval"]["lower_bound"], e["confidence_interval"]["upper_bound"]


def ns(v):
    if v is None:
        return "—"
    m, lo, hi = v
    return f"{m:,.0f} ({lo:,.0f}–{hi:,.0f})"


def ratio(a, b):
    return f"{a[0] / b[0]:.2f}×" if a and b else "—"


shapes = sorted(d.name for d in root.joinpath("decide").iterdir() if d.is_dir() and d.name != "report") if root.joinpath("decide").exists() else []
print("| shape | engine | engine + explain | bind + engine | floor (data-driven) | floor (constants) | explain ÷ plain | engine ÷ data floor | bind+engine ÷ data floor | engine ÷ const floor |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in shapes:
    d, x, b = median("decide", s), median("decide_explain", s), median("bind_decide", s)
    fd, fc = median("floor_data", s), median("floor", s)
    print(f"| {s} | {ns(d)} | {ns(x)} | {ns(b)} | {ns(fd)} | {ns(fc)} | {ratio(x, d)} | {ratio(d, fd)} | {ratio(b, fd)} | {ratio(d, fc)} |")
print()
for group, label in [("tenants", "tenants in the rule set"), ("attachments", "attachments")]:
    g = root / group
    if not g.exists():
        continue
    rows = sorted((int(p.name), median(group, p.name)) for p in g.iterdir() if p.name.isdigit())
    print(f"| {label} | ns per decision, median (95 % CI) | ÷ first |")
    print("|---:|---:|---:|")
    for n, v in rows:
        print(f"| {n:,} | {ns(v)} | {ratio(v, rows[0][1])} |")
    print()
c = root / "compile"
if c.exists():
    print("| compile | median ms (95 % CI) |")
    print("|---|---:|")
    for p in sorted(c.iterdir()):
        v = median("compile", p.name)
        if v:
            print(f"| {p.name} | {v[0] / 1e6:,.1f} ({v[1] / 1e6:,.1f}–{v[2] / 1e6:,.1f}) |")
