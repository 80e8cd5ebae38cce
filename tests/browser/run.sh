#!/usr/bin/env bash
# The console's browser tests: install what is missing (Debian's chromium,
# the npm packages of package-lock.json), build nothing, run them against
# the binary built beforehand (CANSEND_BIN, default target/debug/cansend).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

export CANSEND_BIN="${CANSEND_BIN:-$root/target/debug/cansend}"
if [[ ! -x "$CANSEND_BIN" ]]; then
  echo "error: no cansend binary at $CANSEND_BIN; run \`cargo build\` first (or set CANSEND_BIN)" >&2
  exit 2
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "==> installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
fi

if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

echo "==> console browser tests ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"
exec node --test --test-concurrency=1 --test-reporter=spec console.test.js
