#!/usr/bin/env bash
# Runs every fuzz target (or those in FUZZ_TARGETS) for a bounded time (FUZZ_SECONDS
# each, default 60), starting
# from the corpus kept in fuzz/corpus/. New inputs the fuzzer finds go to a scratch
# directory, so the run leaves the checkout as it was; `--keep` merges them into the
# committed corpus (minimized) instead. A crash stops the script with libFuzzer's report
# and leaves the input under fuzz/artifacts/.
#
# Needs cargo-fuzz (installed here from crates.io when missing). cargo-fuzz passes
# unstable flags to rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${FUZZ_SECONDS:-60}"
KEEP=0
if [ "${1:-}" = "--keep" ]; then KEEP=1; fi
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi

cd fuzz
cargo fuzz build -s none
for target in ${FUZZ_TARGETS:-ws_frame ws_session http_body documents}; do
  scratch="$(mktemp -d)"
  echo "fuzzing $target for ${SECONDS_EACH}s"
  log="$(mktemp)"
  if ! cargo fuzz run -s none "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=30 -rss_limit_mb=4096 \
    -dict=dicts/protocol.dict -print_final_stats=1 >"$log" 2>&1; then
    # The panic and libFuzzer's report, without the progress lines.
    grep -v -e '^#' -e '^"' "$log" | grep -A 30 -e 'panicked' -e 'ERROR' -e 'SUMMARY' | head -n 80
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep '^stat::' "$log"
  rm -f "$log"
  if [ "$KEEP" = 1 ]; then
    # The smallest set of inputs that covers what the old corpus and this run covered.
    merged="$(mktemp -d)"
    cargo fuzz run -s none "$target" "$merged" "corpus/$target" "$scratch" -- -merge=1 >/dev/null 2>&1
    rm -rf "corpus/$target" && mv "$merged" "corpus/$target"
  fi
  rm -rf "$scratch"
done
