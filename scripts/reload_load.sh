#!/usr/bin/env bash
# Decisions during reloads: wrk hammers POST /v1/can-send on a
# watched rule directory, alternately quiet and while a writer saves a
# tenant file every 50 ms (by rename; every third save is broken, so the
# watcher applies some and rejects others). Reports throughput, p50/p99,
# failed requests, and the reloads applied/rejected during each run, from
# /metrics. Correctness under reload (every answer from a valid revision,
# with that revision's decision) is asserted by tests/http_reload.rs; this
# measures the cost.
#
#   scripts/reload_load.sh               # 3 rounds × 10 s
#   ROUNDS=5 DURATION=20s scripts/reload_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
ADDR=127.0.0.1:18081
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk (or run scripts/load.sh once)" >&2; exit 1; }
cargo build --release --quiet --bin cansend

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp -r rules "$work/rules"
RUST_LOG=error target/release/cansend serve --rules "$work/rules" --listen "$ADDR" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.1; done

counter() { curl -s "http://$ADDR/metrics" | awk -v k="cansend_rule_reloads_total{outcome=\"$1\"}" '$1 == k { print $2 }'; }

writer() { # save tenants/default.yaml every 50 ms until killed
  local i=0 f="$work/rules/tenants/default.yaml"
  while true; do
    i=$((i + 1))
    if ((i % 3 == 0)); then
      printf 'kind: tenant\ntenant: [broken %d\n' "$i" >"$f.tmp"
    else
      printf 'kind: tenant\ntenant: default\ndescription: save %d\n' "$i" >"$f.tmp"
    fi
    mv "$f.tmp" "$f"
    sleep 0.05
  done
}

printf '| round | mode | req/s | p50 µs | p99 µs | failed | reloads applied | rejected |\n|---:|---|---:|---:|---:|---:|---:|---:|\n'
for round in $(seq "$ROUNDS"); do
  for mode in quiet reloading; do
    a0=$(counter applied); r0=$(counter rejected)
    wpid=""
    if [ "$mode" = reloading ]; then writer & wpid=$!; fi
    line=$(BODY=scripts/load/single.json wrk -t2 -c"$CONNS" -d"$DURATION" -s scripts/load/wrk.lua "http://$ADDR/v1/can-send" | grep '^RESULT')
    if [ -n "$wpid" ]; then kill "$wpid"; wait "$wpid" 2>/dev/null || true; fi
    # Leave the directory valid for the next run.
    printf 'kind: tenant\ntenant: default\n' >"$work/rules/tenants/default.yaml.tmp" && mv "$work/rules/tenants/default.yaml.tmp" "$work/rules/tenants/default.yaml"
    sleep 0.5
    a1=$(counter applied); r1=$(counter rejected)
    read -r _ reqs dur p50 p99 non2xx sockerr <<<"$line"
    rps=$(python3 -c "print(f'{$reqs / ($dur / 1e6):,.0f}')")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$round" "$mode" "$rps" "$p50" "$p99" "$((non2xx + sockerr))" "$((a1 - a0))" "$((r1 - r0))"
  done
done
