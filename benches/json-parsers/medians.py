#!/usr/bin/env python3
"""Medians of the last `cargo bench` run, from criterion's estimates.json,
as a Markdown table with the ratio to serde_json typed of the same body.
Usage: python3 medians.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR or ./target)"""
import json, os, sys

target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target")
root = os.path.join(target, "criterion")
order = ["typed/serde_json", "typed/sonic-rs", "typed/simd-json+copy",
         "value/serde_json__Value", "value/sonic_rs__Value", "value/simd_json__OwnedValue+copy"]
print("| body | decoder | median ns | ratio to serde_json typed |")
print("| --- | --- | ---: | ---: |")
for body in ["single", "batch100"]:
    med = {}
    for k in order:
        f = os.path.join(root, body, *k.split("/"), "new", "estimates.json")
        if os.path.exists(f):
            med[k] = json.load(open(f))["median"]["point_estimate"]
    base = med.get("typed/serde_json")
    for k, v in med.items():
        print(f"| {body} | {k.replace('__', '::')} | {v:,.0f} | {v / base:.2f} |")
