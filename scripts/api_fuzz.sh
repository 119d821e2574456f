#!/usr/bin/env bash
# Fuzzes the JSON API with schemathesis (pinned) against the served OpenAPI document: a server on
# the embedded default with the demo seeded, a write token of the demo owner and then an account
# manager's staff token (made with `sextant api-token`), a fixed number of examples per operation and a fixed seed; checks that no
# answer is a 5xx and that every answer matches its documented schema. Prints the operations,
# examples and failures (schemathesis's summary). Phases: the schema's examples, the coverage phase
# (boundary and negative values, deterministic) and fuzzing. Usage: api_fuzz.sh [sextant] [examples]
# Only loopback traffic; the server and its private cluster are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/sextant}"
examples="${2:-25}"
SCHEMATHESIS_VERSION=4.32.5
venv="${SEXTANT_TOOLS:-$HOME/.cache/sextant-tools}/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/st" --version

port=$(( 20000 + RANDOM % 20000 ))
dir=$(mktemp -d /tmp/sextant-fuzz-XXXXXX)
chmod 755 "$dir"
export SEXTANT_DATA_DIR="$dir" RUST_LOG=warn SEXTANT_API_REQUESTS_PER_MINUTE=1000000
unset DATABASE_URL
"$bin" serve --demo --addr "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap cleanup EXIT
deadline=$(( $(date +%s) + 900 ))
until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
    echo "the server did not come up:" >&2; tail -20 "$dir/serve.log" >&2; exit 1
  fi
  sleep 0.5
done
token=$("$bin" api-token --tenant lumi --email owner@lumi-home.example --scope write --name fuzz)
# The agency's steps (matching, shortlists, terms, the creator pool) are an account manager's:
# a second pass with a staff token assigned to the same company.
staff=$("$bin" api-token --staff --email am@sextant.example --scope write --name fuzz)

# One pass: the owner's token, then the account manager's (naming the company).
fuzz() {
  local who="$1"; shift
  set +e
  "$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --url "http://127.0.0.1:$port" \
    "$@" \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" --seed 42 \
    --checks not_a_server_error,response_schema_conformance \
    --continue-on-failure --no-color \
    --report junit --report-junit-path "$dir/schemathesis-$who.xml"
  local rc=$?
  set -e
  if [ -f "$dir/schemathesis-$who.xml" ]; then
    python3 - "$dir/schemathesis-$who.xml" "$who" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
n = failures = 0
for c in root.iter("testcase"):
    n += 1
    if c.find("failure") is not None or c.find("error") is not None:
        failures += 1
print(f"api fuzz ({sys.argv[2]}): {n} operations, {failures} with failures")
PY
  fi
  return $rc
}
status=0
fuzz owner -H "Authorization: Bearer $token" || status=$?
fuzz staff -H "Authorization: Bearer $staff" -H "Sextant-Tenant: lumi" || status=$?
if grep -q "panicked" "$dir/serve.log"; then
  echo "the server panicked:" >&2; grep -n "panicked" "$dir/serve.log" >&2; exit 1
fi
exit $status
