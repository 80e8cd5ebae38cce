#!/usr/bin/env bash
# Memory under a burst of large bodies: a release `cansend serve` with its
# default budgets takes 2,000 concurrent ~1 MB can-sends (a 100,000-item
# `client.channels`), 500 at a time, while small can-sends are sent
# alongside; scripts/burst.py prints peak RSS (VmRSS sampled every 20 ms,
# and VmHWM), RSS 5 s after, what the large bodies got, and the fraction of
# small requests answered 200. RUNS runs (default 3), each on a fresh
# process; the median of each figure last.
#
#   scripts/burst.sh
#   RUNS=1 BODIES=1000 scripts/burst.sh
#   FLAGS="--max-inflight-bytes 32MiB" scripts/burst.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BODIES=${BODIES:-2000}
PARALLEL=${PARALLEL:-500}
ADDR=${ADDR:-127.0.0.1:18093}
# BIN=path: an already built binary (no build).
if [ -z "${BIN:-}" ]; then cargo build --release --quiet --bin cansend; fi
BIN=${BIN:-target/release/cansend}
ulimit -n 8192 2>/dev/null || ulimit -n 4096

out=$(mktemp)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -f "$out"; }
trap cleanup EXIT
for run in $(seq "$RUNS"); do
  # shellcheck disable=SC2086 # FLAGS is a list of flags
  RUST_LOG=error "$BIN" serve --listen "$ADDR" ${FLAGS:-} &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done
  python3 scripts/burst.py "$ADDR" "$pid" --bodies "$BODIES" --parallel "$PARALLEL" | tee -a "$out"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda k: statistics.median(r[k] for r in runs)
print(json.dumps({"runs": len(runs), "median_peak_rss_mib": med("peak_rss_mib"), "median_rss_after_mib": med("rss_after_mib"),
                  "median_small_ok_fraction": med("small_ok_fraction"), "median_seconds": med("seconds")}))
PY
