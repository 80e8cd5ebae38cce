#!/usr/bin/env bash
# Take the built-in rules from rules/: the default rules every `cansend`
# binary carries (what `serve` and `check` use where there is no ./rules).
#
#   scripts/builtin-rules.sh
#
# Only rules that `cansend check --strict` passes are taken (their
# diagnostics are printed otherwise, and nothing changes). The snapshot goes
# to src/builtin/rules/ and its revision to src/builtin/REVISION, which the
# build checks: a snapshot edited by hand does not build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
out=$(./target/debug/cansend check --strict rules/) || {
  echo "error: rules/ does not pass \`cansend check --strict\`: the built-in rules are unchanged" >&2
  exit 1
}
revision=$(printf '%s\n' "$out" | grep -o 'revision sha256:[0-9a-f]*' | head -1 | cut -d' ' -f2)
rm -rf src/builtin/rules
mkdir -p src/builtin
cp -r rules src/builtin/rules
printf '%s\n' "$revision" > src/builtin/REVISION
echo "built-in rules: $revision (from rules/)"
