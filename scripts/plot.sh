#!/usr/bin/env bash
# The plot of BENCHMARKS.md: decision time (criterion medians of the last
# `cargo bench --bench engine` run) against attachment count and against
# tenant count, as docs/bench/decision_time.png. Needs gnuplot (installed
# with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v gnuplot >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y gnuplot-nox >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for group in ["attachments", "tenants"]:
    rows = []
    for d in pathlib.Path("target/criterion", group).iterdir():
        est = d / "new" / "estimates.json"
        if d.name.isdigit() and est.exists():
            e = json.loads(est.read_text())["median"]
            rows.append((int(d.name), e["point_estimate"], e["confidence_interval"]["lower_bound"], e["confidence_interval"]["upper_bound"]))
    rows.sort()
    (out / f"{group}.dat").write_text("".join(f"{n} {m:.2f} {lo:.2f} {hi:.2f}\n" for n, m, lo, hi in rows))
    print(group, rows)
PY
mkdir -p docs/bench
gnuplot <<GP
set terminal pngcairo size 1100,450 font "sans,10"
set output "docs/bench/decision_time.png"
set multiplot layout 1,2 title "cansend engine: median time per decision (criterion, default rules)"
set grid
set key off
set title "against attachments (email, default tenant)"
set xlabel "attachments"
set ylabel "ns per decision"
set yrange [0:*]
plot "$work/attachments.dat" using 1:2:3:4 with yerrorlines lw 2 pt 7
set title "against tenants in the rule set (1 attachment)"
set xlabel "tenants (log scale)"
set logscale x
set yrange [0:*]
plot "$work/tenants.dat" using 1:2:3:4 with yerrorlines lw 2 pt 7
unset multiplot
GP
echo "wrote docs/bench/decision_time.png"
