#!/usr/bin/env bash
# Memory and start-up: the resident set size of `cansend serve`
# idle, with the shipped rules and with 10,000 generated tenants (one small
# file each, as tech support writes them), and how long start-up takes to
# read, check and compile each set (until the `serving` log line); then,
# with the shipped rules, the RSS under HTTP load (wrk on loopback): single
# decisions, batches of 100, and batches of 1000 near the 1 MiB body limit
# — the figures deploy/kubernetes sizes its memory request and limit by.
#
#   scripts/rss.sh
#   LOAD=0 scripts/rss.sh                 # idle and start-up only
#   LOAD_DURATION=30s scripts/rss.sh      # longer load runs (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin cansend

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r rules "$work/default"
cp -r rules "$work/large"
mkdir -p "$work/large/tenants/gen"
for i in $(seq 0 9999); do
  n=$(printf '%05d' "$i")
  printf 'kind: tenant\ntenant: t%s\nchannels:\n  email:\n    max_file_size: { value: %d MB, ticket: SUP-%d }\n    max_total_size: { value: %d MB, ticket: SUP-%d }\n' \
    "$n" $((31 + i % 69)) "$i" $((100 + i % 100)) "$i" \
    >"$work/large/tenants/gen/t$n.yaml"
done

measure() { # name dir
  local log="$work/$1.log" start pid rss ms
  start=$(date +%s%N)
  RUST_LOG=info target/release/cansend serve --rules "$2" --listen 127.0.0.1:0 2>"$log" &
  pid=$!
  until grep -q serving "$log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.01
  done
  ms=$((($(date +%s%N) - start) / 1000000))
  sleep 2 # idle: let the watcher and the runtime settle
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  printf '| %s | %s | %.1f | %.1f |\n' "$1" "$ms" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
}

echo "| rule set | start-up to serving, ms | RSS idle, MiB | peak RSS, MiB |"
echo "|---|---:|---:|---:|"
for round in 1 2 3; do
  measure "shipped rules (3 tenants), run $round" "$work/default"
  measure "10,000 tenants, run $round" "$work/large"
done

[ "${LOAD:-1}" = 1 ] || exit 0

# ---- under load ----------------------------------------------------------
if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y wrk >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi
DURATION=${LOAD_DURATION:-10s}
# 1000 requests with 500 characters of text each: just under the 1 MiB body limit.
python3 - "$work/batch1000.json" <<'PY'
import json, sys
one = json.load(open("scripts/load/single.json"))
one["message"]["text"] = "x" * 500
body = json.dumps({"requests": [one] * 1000})
assert len(body) < 1024 * 1024, len(body)
open(sys.argv[1], "w").write(body)
PY
addr=127.0.0.1:18380
RUST_LOG=warn target/release/cansend serve --rules "$work/default" --listen "$addr" --no-watch 2>"$work/load.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://$addr/healthz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }

echo
echo "| load ($DURATION each, in this order) | requests/s | RSS during, MiB | peak RSS so far, MiB |"
echo "|---|---:|---:|---:|"
echo "| idle, before any request | 0 | $(rss) | $(hwm) |"
run() { # name connections body
  local out="$work/wrk.out" during
  BODY="$3" wrk -t2 -c"$2" -d"$DURATION" -s scripts/load/wrk.lua "http://$addr/v1/can-send${4:-}" >"$out" 2>&1 &
  local w=$!
  sleep "$(( ${DURATION%s} / 2 ))"
  during=$(rss)
  wait "$w"
  local reqs secs
  reqs=$(awk '/^RESULT/ { print $2 }' "$out")
  secs=$(awk '/^RESULT/ { print $3 / 1e6 }' "$out")
  printf '| %s | %.0f | %s | %s |\n' "$1" "$(echo "$reqs / $secs" | bc -l)" "$during" "$(hwm)"
}
run "can-send, 64 connections" 64 scripts/load/single.json
run "batch of 100, 16 connections" 16 scripts/load/batch100.json /batch
run "batch of 1000 (~1 MiB bodies), 64 connections" 64 "$work/batch1000.json" /batch
sleep 2
echo "| idle again, 2 s after | 0 | $(rss) | $(hwm) |"
