#!/usr/bin/env python3
"""Regenerate the committed seed corpus fuzz/seeds/<target>/ from the
repository: the shipped rules/ (and examples/next-rules/), the requests of
the rule tests, and scripts/load/*.json. Needs PyYAML.

    python3 fuzz/gen_seeds.py

Seed names say where each came from. The fuzzers' own finds go to
fuzz/corpus/ (ignored); a bug's minimized input is kept by hand as
fuzz/seeds/<target>/regression-*, which this script leaves alone.
"""

import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"

# The order of cansend::rules::source::builtin(): the embedded rules,
# sorted by path (see build.rs). The first byte of a rule_file input picks
# one: (index << 1) | toml; one past the last adds tenants/fuzz.*.
BUILTIN = sorted(p.relative_to(ROOT / "rules").as_posix() for p in (ROOT / "rules").rglob("*") if p.suffix in (".yaml", ".yml", ".toml"))

# fuzz/src/lib.rs ROUTES: the first byte of an http input picks one.
CAN_SEND, CAN_SEND_EXPLAIN, BATCH, BATCH_EXPLAIN, SEND_OPTIONS = range(5)


def merge(base, over):
    """Deep merge as the rule tests do (src/rules/compile/rules.rs)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if k in out else v
        return out
    return over


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def toml_key(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def toml_inline(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_inline(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_inline(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(v)


def to_toml(tree):
    """A JSON tree as TOML: scalars first, then a [table] per map and a
    [[table]] per list of maps at the top level, inline below that."""
    lines, tables = [], []
    for k, v in tree.items():
        if v is None:
            continue
        if isinstance(v, dict) and v:
            tables.append(f"\n[{toml_key(k)}]")
            tables += [f"{toml_key(sk)} = {toml_inline(sv)}" for sk, sv in v.items() if sv is not None]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                tables.append(f"\n[[{toml_key(k)}]]")
                tables += [f"{toml_key(sk)} = {toml_inline(sv)}" for sk, sv in item.items() if sv is not None]
        else:
            lines.append(f"{toml_key(k)} = {toml_inline(v)}")
    return "\n".join(lines + tables) + "\n"


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def rule_tests():
    """(name, request) of every shipped rule test, base merged in."""
    for f in sorted((ROOT / "rules" / "tests").glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        base = doc.get("base", {})
        for t in doc.get("tests", []):
            yield f"{f.stem}-{slug(t['name'])}", merge(base, t.get("request", {}))


def main():
    # Start afresh, but keep the regressions (minimized finds of the fuzzers).
    for f in SEEDS.glob("*/*"):
        if not f.name.startswith("regression-"):
            f.unlink()

    # request: can-send bodies.
    single = (ROOT / "scripts" / "load" / "single.json").read_text()
    write("request", "load-single.json", single)
    requests = list(rule_tests())
    for name, req in requests:
        write("request", f"test-{name}.json", json.dumps(req, ensure_ascii=False))
    bad = {
        "malformed": '{"sender": {"role": "agent"}, "client": ',
        "duplicate-key": '{"sender": {"role": "agent"}, "client": {"status": "new", "blocked": true, "blocked": false}, "channel": "email", "message": {}}',
        "unknown-field": '{"sender": {"role": "agent"}, "client": {"status": "new", "blockd": true}, "channel": "email", "message": {}}',
        "array-struct": '{"sender": ["agent"], "client": {"status": "new"}, "channel": "email", "message": {}}',
        "negative-size": '{"sender": {"role": "agent"}, "client": {"status": "new"}, "channel": "email", "message": {"attachments": [{"name": "a.pdf", "size": -1}]}}',
        "unknown-names": '{"tenant": "acme", "action": "delete", "sender": {"role": "boss"}, "client": {"status": "old", "attributes": {"a/b~c": 1}}, "channel": "fax", "message": {}}',
        "bad-instants": '{"at": "yesterday", "sender": {"role": "agent"}, "client": {"status": "existing", "last_inbound_at": "2026-13-01"}, "channel": "email", "message": {"text": "x"}}',
        "not-object": '[{"role": "agent"}, {"status": "new"}, "email", {}]',
    }
    for name, body in bad.items():
        write("request", f"bad-{name}.json", body)

    # http: a selector byte, then a body.
    options = {k: v for k, v in json.loads(single).items() if k in ("tenant", "sender", "client")}
    write("http", "can-send-single.json", bytes([CAN_SEND]) + single.encode())
    write("http", "can-send-explain-single.json", bytes([CAN_SEND_EXPLAIN]) + single.encode())
    write("http", "send-options-single.json", bytes([SEND_OPTIONS]) + json.dumps(options).encode())
    write("http", "send-options-new.json", bytes([SEND_OPTIONS]) + b'{"tenant": "demo-tags", "sender": {"role": "supervisor"}, "client": {"status": "new", "phone": "+1"}}')
    few = {"requests": [r for _, r in requests[:4]] + [json.loads(bad["unknown-names"]), 7]}
    write("http", "batch-few.json", bytes([BATCH]) + json.dumps(few, ensure_ascii=False).encode())
    write("http", "batch-explain-few.json", bytes([BATCH_EXPLAIN]) + json.dumps(few, ensure_ascii=False).encode())
    for name, body in list(bad.items())[:4]:
        write("http", f"can-send-bad-{name}.json", bytes([CAN_SEND]) + body.encode())
    for i, (name, req) in enumerate(requests[::8]):
        write("http", f"can-send-test-{name}.json", bytes([CAN_SEND_EXPLAIN if i % 2 else CAN_SEND]) + json.dumps(req, ensure_ascii=False).encode())

    # rule_file: a selector byte, then one rule file, YAML and TOML.
    for i, path in enumerate(BUILTIN):
        text = (ROOT / "rules" / path).read_text()
        is_toml = path.endswith(".toml")
        stem = slug(path.rsplit(".", 1)[0])
        write("rule_file", f"builtin-{stem}.{'toml' if is_toml else 'yaml'}", bytes([(i << 1) | is_toml]) + text.encode())
        if not is_toml:
            write("rule_file", f"builtin-{stem}-as.toml", bytes([(i << 1) | 1]) + to_toml(yaml.safe_load(text)).encode())
    new_file = len(BUILTIN) << 1
    for f in sorted((ROOT / "examples" / "next-rules").rglob("*.yaml")):
        rel = f.relative_to(ROOT / "examples" / "next-rules").as_posix()
        sel = (BUILTIN.index(rel) << 1) if rel in BUILTIN else new_file
        write("rule_file", f"next-rules-{slug(rel.rsplit('.', 1)[0])}.yaml", bytes([sel]) + f.read_bytes())
    tenant = BUILTIN.index("tenants/default.yaml") << 1
    bomb = "kind: tenant\ntenant: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
    )
    write("rule_file", "evil-alias-bomb.yaml", bytes([tenant]) + bomb.encode())
    write("rule_file", "evil-deep.yaml", bytes([tenant]) + ("kind: tenant\nx: " + "[" * 200 + "]" * 200 + "\n").encode())
    write("rule_file", "evil-deep.toml", bytes([tenant | 1]) + ("kind = 'tenant'\nx = " + "[" * 200 + "]" * 200 + "\n").encode())
    write("rule_file", "evil-two-documents.yaml", bytes([tenant]) + b"kind: tenant\ntenant: default\n---\nkind: tenant\n")
    write("rule_file", "evil-crlf.yaml", bytes([tenant]) + b"kind: tenant\r\ntenant: default\r\nchannels:\r  vk: { connected: nope }\r\n")


if __name__ == "__main__":
    main()
