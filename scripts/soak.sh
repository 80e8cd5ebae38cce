#!/usr/bin/env bash
# Soak: can-send, batch and send-options for N minutes (default 10) on a
# release build, while the rule files — a ConfigMap-style copy of rules/
# (`..data -> ..vN`, visible entries linked through it) — are rewritten
# every 200-400 ms: valid edits, broken edits, `..data` swaps. Prints
# requests, non-2xx (must be 0), p50/p99, reloads applied/rejected and RSS
# at start and end, as one JSON line (scripts/soak.py does the driving).
#
#   scripts/soak.sh            # 10 minutes
#   scripts/soak.sh 1          # 1 minute
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
ADDR=${ADDR:-127.0.0.1:18091}
# BIN=path: an already built binary (no build).
if [ -z "${BIN:-}" ]; then cargo build --release --quiet --bin cansend; fi
BIN=${BIN:-target/release/cansend}

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# The layout a ConfigMap volume has: the files in a hidden version
# directory, `..data` pointing at it, every visible name a link through it.
mkdir "$work/rules"
cp -r rules "$work/rules/..v0"
ln -s ..v0 "$work/rules/..data"
for entry in rules/*; do
  name=$(basename "$entry")
  ln -s "..data/$name" "$work/rules/$name"
done
RUST_LOG=error "$BIN" serve --rules "$work/rules" --listen "$ADDR" --poll-interval 500ms 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done
python3 scripts/soak.py "$ADDR" "$pid" "$work/rules" "$MINUTES"
kill -TERM "$pid"
wait "$pid"
echo "serve exited with $?" >&2
pid=""
