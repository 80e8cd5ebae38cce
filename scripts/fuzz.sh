#!/usr/bin/env bash
# Coverage-guided fuzzing of every input surface (fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: all of `cargo fuzz list`) for SECONDS
# (default 60) with one job, one after the other, starting from the
# committed seeds (fuzz/seeds/<target>/) and the corpus kept from earlier
# runs (fuzz/corpus/<target>/, ignored by git). Installs cargo-fuzz if it
# is missing. Stable Rust has no sanitizers, hence `-s none`; debug
# assertions are on (`-a`), so an arithmetic overflow — silent wrapping in
# a release build — is a finding too. An input that takes over a second
# is reported in the log ("Slowest unit"); one over FUZZ_TIMEOUT seconds
# (default 5: the machine is shared, and a busy neighbour can stall a
# process for a second) fails as a hang.
#
# A crash or a failed invariant stops that target, leaves the input in
# fuzz/artifacts/<target>/ and makes the script exit non-zero; reproduce
# it with `cargo fuzz run -s none -a <target> <file>`, minimize it with
# `cargo fuzz tmin -s none -a <target> <file>`.
set -euo pipefail

seconds="${1:-60}"
timeout="${FUZZ_TIMEOUT:-5}"
shift || true
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${seconds}s"
    # A dictionary of the input's words (field names, rule keys), if any.
    dict=()
    case "$t" in
        request | http) dict=(-dict=request.dict) ;;
        rule_file) dict=(-dict=rule_file.dict) ;;
    esac
    # The seeds are read, never written: new inputs go to corpus/$t.
    if ! cargo fuzz run -s none -a "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout="$timeout" -report_slow_units=1 -rss_limit_mb=4096 -print_final_stats=1 "${dict[@]}"; then
        failed+=("$t")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failures in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: ${targets[*]}: no failure in ${seconds}s each"
