#!/usr/bin/env bash
# Runs Sextant's whole test suite: unit tests, the integration tests against a private PostgreSQL
# cluster (or TEST_DATABASE_URL), and the browser tests in headless Chromium.
# Installs what the tests need when it is missing (Debian/Ubuntu: chromium, chromium-driver,
# poppler-utils for pdftotext and fonts-noto-cjk so printed Chinese renders, postgresql). Extra arguments go to `cargo test`, e.g. `bash scripts/test.sh rls::`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
if [ -z "${TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    && ! command -v pg_config >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo test --locked "$@"
