#!/usr/bin/env bash
# The performance gate: instructions per call of every stage of a decision
# (decode, bind, evaluate, explain, render, render with a trace) on the
# benchmark shapes, counted by valgrind's callgrind inside the functions of
# examples/instructions.rs (`gate` mode) and compared with the committed
# benches/instructions.baseline. Instruction counts do not depend on the
# machine's load, so this gate cannot flake on a shared CI machine the way a
# timed one would; it fails when any count grows by more than 5 %.
#
#   scripts/instruction-gate.sh            # print the table; exit 1 on a > 5 % growth
#   scripts/instruction-gate.sh --update   # write the counts into the baseline
#
# A new baseline is an explicit commit that says why the counts moved.
# Needs valgrind (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

BASELINE=benches/instructions.baseline
LIMIT_PCT=${LIMIT_PCT:-5}
N=${N:-2000}
update=0
case "${1:-}" in
  --update) update=1 ;;
  "") ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

if ! command -v valgrind >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y -q valgrind >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q valgrind >/dev/null; }
fi
cargo build --release --quiet --example instructions
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

stages=(decode bind evaluate explain render render_explain)
shapes=(allowed_text denied_several email_5_attachments new_client template)

# One run per shape and stage (only that stage runs), counting inside the
# example's `gate_*` functions only; per call = collected ÷ rounds.
for shape in "${shapes[@]}"; do
  for stage in "${stages[@]}"; do
    valgrind --tool=callgrind '--toggle-collect=*::gate_*' --callgrind-out-file="$out/cg" \
      target/release/examples/instructions "$shape" "$N" "gate:$stage" >/dev/null 2>"$out/log" \
      || { cat "$out/log" >&2; exit 1; }
    printf '%s %s %s\n' "$shape" "$stage" "$(grep -oP 'Collected : \K\d+' "$out/log")" >>"$out/counts"
  done
done

python3 - "$out" "$BASELINE" "$N" "$LIMIT_PCT" "$update" "${stages[*]}" "${shapes[*]}" <<'PY'
import os, sys
out, baseline_path, n, limit, update = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == "1"
stages, shapes = sys.argv[6].split(), sys.argv[7].split()
now = {}
for line in open(os.path.join(out, "counts")):
    shape, stage, collected = line.split()
    now[(shape, stage)] = round(int(collected) / n)

base = {}
if os.path.exists(baseline_path):
    for line in open(baseline_path):
        line = line.split("#", 1)[0].split()
        if len(line) == 3:
            base[(line[0], line[1])] = int(line[2])

if update:
    with open(baseline_path, "w") as f:
        f.write("# Instructions per call of each stage of a decision, on the benchmark shapes:\n")
        f.write("# valgrind callgrind, release build, examples/instructions.rs `gate` mode.\n")
        f.write("# Written by `scripts/instruction-gate.sh --update`; checked by the same script\n")
        f.write("# without --update in .ci/run (fails on a growth over 5 %). Commit a new\n")
        f.write("# baseline on its own, saying why the counts moved.\n")
        f.write("# shape stage instructions\n")
        for shape in shapes:
            for stage in stages:
                f.write(f"{shape} {stage} {now[(shape, stage)]}\n")
    print(f"wrote {baseline_path}")

print(f"| shape | stage | baseline | now | change |")
print("|---|---|---:|---:|---:|")
failed = []
for shape in shapes:
    for stage in stages:
        v, b = now[(shape, stage)], base.get((shape, stage))
        if b is None:
            change = "new"
            if not update:
                failed.append(f"{shape}/{stage}: not in the baseline")
        else:
            pct = (v - b) / b * 100 if b else 0.0
            change = f"{pct:+.1f} %"
            if pct > limit and not update:
                failed.append(f"{shape}/{stage}: {b:,} → {v:,} ({pct:+.1f} %)")
        print(f"| {shape} | {stage} | {'' if b is None else f'{b:,}'} | {v:,} | {change} |")
if failed:
    print(f"\ninstruction gate FAILED (more than {limit:g} % over {baseline_path}):")
    for f in failed:
        print("  " + f)
    print("If the growth is intended, run scripts/instruction-gate.sh --update and commit the baseline with the reason.")
    sys.exit(1)
print(f"\ninstruction gate passed: no count over {limit:g} % above {baseline_path}")
PY
