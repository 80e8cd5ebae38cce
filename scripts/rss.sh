#!/usr/bin/env bash
# Memory and start-up (issue 5): the resident set size of `cansend serve`
# idle, with the shipped rules and with 10,000 generated tenants (one small
# file each, as tech support writes them), and how long start-up takes to
# read, check and compile each set (until the `serving` log line).
#
#   scripts/rss.sh
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
