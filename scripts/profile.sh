#!/usr/bin/env bash
# Where a request's server CPU goes: runs `cansend serve` (defaults kept:
# access log on, replay ring on) under wrk, measures its CPU per request
# from /proc (user + system), records a perf profile with DWARF call
# graphs, and splits the samples by stage (scripts/profile_split.py).
#
#   scripts/profile.sh                         # can-send, 32 connections
#   URL=/v1/can-send/batch BODY=scripts/load/batch100.json scripts/profile.sh
#
# Needs perf and wrk (installed with apt-get when missing). Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${URL:-/v1/can-send}
BODY=${BODY:-scripts/load/single.json}
CONNS=${CONNS:-32}
ADDR=127.0.0.1:18085
OUT=${OUT:-target/profile}
for tool in wrk perf; do
  command -v "$tool" >/dev/null || { SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo); $SUDO apt-get install -y "$([ "$tool" = perf ] && echo linux-perf || echo wrk)" >/dev/null; }
done
cargo build --release --quiet --bin cansend
mkdir -p "$OUT"
env -u RUST_LOG target/release/cansend serve --rules rules --listen "$ADDR" --no-watch 2>"$OUT/access.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done
tick=$(getconf CLK_TCK)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
line=$(BODY="$BODY" wrk -t2 -c"$CONNS" -d5s -s scripts/load/wrk.lua "http://$ADDR$URL" | grep '^RESULT')
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
read -r _ reqs dur _ <<<"$line"
us=$(python3 -c "r=$reqs; print(f'{(($u1-$u0)+($s1-$s0))/$tick/r*1e6:.1f}')")
python3 -c "r=$reqs; print(f'{r/($dur/1e6):,.0f} req/s; server CPU per request: user {($u1-$u0)/$tick/r*1e6:.1f} µs, system {($s1-$s0)/$tick/r*1e6:.1f} µs')"
(BODY="$BODY" wrk -t2 -c"$CONNS" -d10s -s scripts/load/wrk.lua "http://$ADDR$URL" >/dev/null &)
sleep 2
perf record -q -F 499 --call-graph dwarf,16384 -p "$pid" -o "$OUT/perf.data" -- sleep 5 2>/dev/null
sleep 4
perf script -i "$OUT/perf.data" -F ip,sym 2>/dev/null >"$OUT/stacks.txt"
python3 scripts/profile_split.py "$OUT/stacks.txt" "$us"
