#!/usr/bin/env bash
# Checks that `.sqlx/` (the query metadata every offline build reads) matches the queries in the
# code, against a fresh database on the local PostgreSQL migrated by `sextant migrate`.
# sqlx-cli is pinned to the sqlx version in Cargo.lock and installed, when missing, under a cache
# root outside the clone (SEXTANT_TOOLS, default ~/.cache/sextant-tools).
# `bash scripts/sqlx_check.sh --write` refreshes `.sqlx/` instead of checking it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sextant-target}"
tools="${SEXTANT_TOOLS:-$HOME/.cache/sextant-tools}"
server="${SQLX_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}"
version=$(awk '/^name = "sqlx"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

if [ "$("$tools/bin/cargo-sqlx" sqlx --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  echo "installing sqlx-cli $version under $tools"
  cargo install sqlx-cli --version "=$version" --locked --no-default-features \
    --features rustls,postgres --root "$tools" --quiet
fi
export PATH="$tools/bin:$PATH"

db="sextant_sqlx_check_$$"
export DATABASE_URL="$server/$db"
cleanup() { sqlx database drop -y >/dev/null 2>&1 || true; }
trap cleanup EXIT
sqlx database create

if [ "${1:-}" = "--write" ]; then
  # .sqlx/ may not match the code yet, so the binary cannot build offline: sqlx-cli applies the
  # same migrations (and records them in the same table).
  sqlx migrate run
  SQLX_OFFLINE=false cargo sqlx prepare -- --all-targets
else
  # The binary that runs the migrations builds from .sqlx/ alone (a stale .sqlx/ fails here).
  SQLX_OFFLINE=true cargo build --locked --quiet --bin sextant
  "$CARGO_TARGET_DIR/debug/sextant" migrate
  SQLX_OFFLINE=false cargo sqlx prepare --check -- --all-targets
fi
