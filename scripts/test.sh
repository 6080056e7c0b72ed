#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh machine, then runs
# every test. Needs the Rust toolchain, Node.js with npm, and ../shared/eval/ beside the
# checkout.
#   - Debian's chromium, for the browser tests of the web client (apt-get, as root or
#     through sudo), unless CHROMIUM points to one already;
#   - Debian's Hunspell dictionaries for en, fr, es and pt, which language tagging reads
#     (the accuracy tests need them);
#   - playwright-core and axe-core, pinned by web/tests/package-lock.json (npm ci);
#   - aiosmtpd, from PyPI, the SMTP server the email tests run (needs python3 and pip).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=""
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then PACKAGES="chromium"; fi
for dict in en_US fr_FR es_ES pt_PT pt_BR; do
  if [ ! -e "/usr/share/hunspell/$dict.dic" ]; then
    PACKAGES="$PACKAGES hunspell-en-us hunspell-fr hunspell-es hunspell-pt-pt hunspell-pt-br"
    break
  fi
done
if [ -n "$PACKAGES" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  # shellcheck disable=SC2086 # a list of package names
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $PACKAGES
fi
(cd web/tests && npm ci --no-audit --no-fund --loglevel=error)
# aiosmtpd: the real SMTP server the email tests deliver to (PyPI).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
fi

cargo test --workspace --locked
