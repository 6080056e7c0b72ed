#!/usr/bin/env bash
# The test command (README): installs what the tests need on a fresh machine, then runs
# every test. Needs the Rust toolchain, Node.js with npm, and ../shared/eval/ beside the
# checkout.
#   - Debian's chromium, for the browser tests of the web client (apt-get, as root or
#     through sudo), unless CHROMIUM points to one already;
#   - Debian's Hunspell dictionaries for en, fr, es, pt, it and de, which language tagging reads
#     (the accuracy tests need them);
#   - playwright-core and axe-core, pinned by web/tests/package-lock.json (npm ci);
#   - aiosmtpd, from PyPI, the SMTP server the email tests run (needs python3 and pip);
#   - Debian's nginx, openssl and curl (the proxy tests put deploy/nginx.conf with TLS in
#     front of the server), promtool from Debian's prometheus (it checks the alert rules
#     in deploy/prometheus) and systemd-analyze (it checks deploy/collective-brain.service).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=""
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then PACKAGES="chromium"; fi
for dict in en_US fr_FR es_ES pt_PT pt_BR it_IT de_DE; do
  if [ ! -e "/usr/share/hunspell/$dict.dic" ]; then
    PACKAGES="$PACKAGES hunspell-en-us hunspell-fr hunspell-es hunspell-pt-pt hunspell-pt-br hunspell-it hunspell-de-de"
    break
  fi
done
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || PACKAGES="$PACKAGES nginx"
command -v openssl >/dev/null || PACKAGES="$PACKAGES openssl"
command -v curl >/dev/null || PACKAGES="$PACKAGES curl"
command -v promtool >/dev/null || PACKAGES="$PACKAGES prometheus"
command -v systemd-analyze >/dev/null || PACKAGES="$PACKAGES systemd"
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
