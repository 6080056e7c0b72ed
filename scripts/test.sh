#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh machine, then runs
# every test. Needs the Rust toolchain, Node.js with npm, and ../shared/eval/ beside the
# checkout.
#   - Debian's chromium, for the browser tests of the web client (apt-get, as root or
#     through sudo), unless CHROMIUM points to one already;
#   - playwright-core, pinned by web/tests/package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)

cargo test --workspace --locked
