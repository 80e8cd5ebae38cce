#!/usr/bin/env bash
# Instructions per decision, counted by valgrind's callgrind inside the
# functions that decide (examples/instructions.rs): exact and repeatable
# on a shared, noisy machine, where wall-clock medians move by 20 %.
#
#   scripts/instructions.sh            # every shape, every way of deciding, and 0…10,000 tenants
#
# Needs valgrind (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y valgrind >/dev/null
fi
cargo build --release --quiet --example instructions
N=10000
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count() { # shape mode function...
  local shape=$1 mode=$2
  shift 2
  local toggles=()
  for f in "$@"; do toggles+=("--toggle-collect=$f"); done
  valgrind --tool=callgrind "${toggles[@]}" --callgrind-out-file="$out/cg" \
    target/release/examples/instructions "$shape" "$N" "$mode" >/dev/null 2>"$out/log"
  echo $(($(grep -oP 'Collected : \K\d+' "$out/log") / N))
}

engine='cansend::engine::eval::evaluate_scoped'
bind='cansend::request::bind::bind'
echo "| shape | engine | engine + explain | bind + engine | floor (data-driven) | floor (constants) |"
echo "|---|---:|---:|---:|---:|---:|"
for s in allowed_text denied_several email_5_attachments new_client template; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "$s" \
    "$(count $s engine $engine)" "$(count $s explain $engine)" "$(count $s bind $engine $bind)" \
    "$(count $s floor_data '*floor_any')" "$(count $s floor '*common::floor')"
done
echo
echo "| tenants in the rule set | engine instructions per decision |"
echo "|---:|---:|"
for t in 0 100 1000 10000; do
  printf '| %s | %s |\n' "$((t + 3))" "$(count "tenants:$t" engine $engine)"
done
