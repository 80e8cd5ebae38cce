#!/usr/bin/env bash
# HTTP load on loopback: `cansend serve` single decisions (as shipped: the
# replay ring on, the access log at its default level, written to
# target/load/access.log), batches of 100, its /healthz, and the HTTP floor
# (examples/http_floor.rs),
# in alternation — every round runs each target once, so drift on a shared
# machine hits all of them alike. Prints a markdown table of medians over
# the rounds (and the range), and the ratios BENCHMARKS.md states.
#
#   scripts/load.sh                      # 3 rounds × 10 s, 1/32/64/128 connections
#   ROUNDS=5 DURATION=20s CONNS="32 128" scripts/load.sh
#   BASELINE=old/cansend scripts/load.sh # also an older build, in the same rounds
#                                        # (targets base-can-send, base-batch100)
#
# Needs wrk (installed with apt-get when missing). Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"1 32 64 128"}
OUT=${OUT:-target/load}
CANSEND_ADDR=127.0.0.1:18080
FLOOR_ADDR=127.0.0.1:18090
BASELINE_ADDR=127.0.0.1:18081
BASELINE=${BASELINE:-}

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y wrk >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

cargo build --release --quiet --bin cansend --example http_floor
mkdir -p "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Every default kept, the access log included (the floor logs nothing).
env -u RUST_LOG target/release/cansend serve --rules rules --listen "$CANSEND_ADDR" --no-watch 2>"$OUT/access.log" &
pids+=($!)
target/release/examples/http_floor "$FLOOR_ADDR" 2>/dev/null &
pids+=($!)
urls=("http://$CANSEND_ADDR/healthz" "http://$FLOOR_ADDR/healthz")
if [ -n "$BASELINE" ]; then
  env -u RUST_LOG "$BASELINE" serve --rules rules --listen "$BASELINE_ADDR" --no-watch 2>"$OUT/baseline-access.log" &
  pids+=($!)
  urls+=("http://$BASELINE_ADDR/healthz")
fi
for url in "${urls[@]}"; do
  for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
done

# The bodies must be answered 200 before they are worth timing.
check() { # url body
  local code
  code=$(curl -s -o "$OUT/check.json" -w '%{http_code}' -H 'content-type: application/json' --data-binary @"$2" "$1")
  [ "$code" = 200 ] || { echo "$1 answered $code: $(cat "$OUT/check.json")" >&2; exit 1; }
}
check "http://$CANSEND_ADDR/v1/can-send" scripts/load/single.json
check "http://$CANSEND_ADDR/v1/can-send/batch" scripts/load/batch100.json
check "http://$FLOOR_ADDR/v1/can-send" scripts/load/single.json

# target name, URL, body ("" for GET), decisions per request
targets=(
  "floor|http://$FLOOR_ADDR/v1/can-send|scripts/load/single.json|1"
  "can-send|http://$CANSEND_ADDR/v1/can-send|scripts/load/single.json|1"
  "healthz|http://$CANSEND_ADDR/healthz||0"
  "batch100|http://$CANSEND_ADDR/v1/can-send/batch|scripts/load/batch100.json|100"
)
if [ -n "$BASELINE" ]; then
  check "http://$BASELINE_ADDR/v1/can-send" scripts/load/single.json
  targets+=(
    "base-can-send|http://$BASELINE_ADDR/v1/can-send|scripts/load/single.json|1"
    "base-batch100|http://$BASELINE_ADDR/v1/can-send/batch|scripts/load/batch100.json|100"
  )
fi

raw="$OUT/raw.tsv"
printf 'round\tconns\ttarget\trequests\tduration_us\tp50_us\tp99_us\tnon2xx\tsocket_errors\tdecisions_per_req\n' >"$raw"
for round in $(seq "$ROUNDS"); do
  for c in $CONNS; do
    t=$((c < 2 ? 1 : 2))
    for spec in "${targets[@]}"; do
      IFS='|' read -r name url body per <<<"$spec"
      line=$(BODY="$body" wrk -t"$t" -c"$c" -d"$DURATION" -s scripts/load/wrk.lua "$url" | grep '^RESULT')
      read -r _ reqs dur p50 p99 non2xx sockerr <<<"$line"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$c" "$name" "$reqs" "$dur" "$p50" "$p99" "$non2xx" "$sockerr" "$per" >>"$raw"
      echo "round $round c=$c $name: $reqs requests, p99 ${p99} µs, non-2xx $non2xx" >&2
    done
  done
done

python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    rps = int(r["requests"]) / (int(r["duration_us"]) / 1e6)
    by.setdefault((int(r["conns"]), r["target"]), []).append((rps, int(r["p50_us"]), int(r["p99_us"]), int(r["non2xx"]) + int(r["socket_errors"]), int(r["decisions_per_req"])))
print("| conns | target | req/s median (min–max) | decisions/s | p50 µs | p99 µs | non-2xx + errors |")
print("|---:|---|---:|---:|---:|---:|---:|")
med = {}
for (c, t), v in sorted(by.items()):
    rps = [x[0] for x in v]
    m = statistics.median(rps)
    med[(c, t)] = (m, v[0][4])
    print(f"| {c} | {t} | {m:,.0f} ({min(rps):,.0f}–{max(rps):,.0f}) | {m * v[0][4]:,.0f} | "
          f"{statistics.median(x[1] for x in v):,.0f} | {statistics.median(x[2] for x in v):,.0f} | {sum(x[3] for x in v)} |")
print()
for c in sorted({c for c, _ in med}):
    g = lambda t: med.get((c, t), (float("nan"), 0))[0]
    print(f"- {c} connections: can-send / floor = {g('can-send') / g('floor'):.2f}; "
          f"floor / healthz = {g('floor') / g('healthz'):.2f}; "
          f"batch-of-100 decisions/s ÷ single decisions/s = {g('batch100') * 100 / g('can-send'):.1f}")
    if (c, "base-can-send") in med:
        print(f"  - against the baseline build: can-send {g('can-send') / g('base-can-send'):.3f}, "
              f"batch100 {g('batch100') / g('base-batch100'):.3f} (1.0 = as fast)")
PY
