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

# apt as root, else through sudo.
apt_get() {
  if [[ $(id -u) -eq 0 ]]; then DEBIAN_FRONTEND=noninteractive apt-get "$@"
  elif command -v sudo >/dev/null; then sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
  else echo "error: installing $* needs root (or sudo)" >&2; exit 2
  fi
}
updated=
apt_install() {
  echo "==> installing $* (Debian)"
  if [[ -z $updated ]]; then apt_get update -q; updated=1; fi
  apt_get install -y -q --no-install-recommends "$@"
}

[[ -x /usr/bin/chromium ]] || apt_install chromium
command -v npm >/dev/null || apt_install nodejs npm
# playwright-core needs Node.js 20.10 or later (`node --test --test-concurrency` too).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)'; then
  echo "error: Node.js $(node --version) is too old: the browser tests need 20.10 or later (Debian 13's nodejs, or NodeSource's on Debian 12)" >&2
  exit 2
fi

if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

echo "==> console browser tests ($(/usr/bin/chromium --version 2>/dev/null || echo chromium))"
exec node --test --test-concurrency=1 --test-reporter=spec console.test.js
