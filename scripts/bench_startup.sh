#!/usr/bin/env bash
# Startup benchmark: time from `sextant serve` (embedded default, no DATABASE_URL) to the first
# 200 from /healthz — on a new data folder (initdb included) and on an existing one — and the
# server's idle resident memory. Usage: bench_startup.sh [path/to/sextant] [runs]
# Only loopback traffic; every run stops its server and private cluster.
set -euo pipefail
bin="${1:-target/release/sextant}"
runs="${2:-5}"
port=$(( 20000 + RANDOM % 20000 ))

now_ms() { date +%s%3N; }

wait_healthy() {
  local deadline=$(( $(now_ms) + 120000 ))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "no 200 from /healthz" >&2; return 1; }
    sleep 0.02
  done
}

stop() {
  kill -TERM "$1"
  wait "$1" || true
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

cold=(); warm=(); rss=()
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /tmp/sextant-bench-XXXXXX)
  chmod 755 "$dir"
  # Cold: a new data folder, so the private cluster is created (initdb) and started.
  t0=$(now_ms)
  SEXTANT_DATA_DIR="$dir" RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" >/dev/null &
  pid=$!
  wait_healthy
  cold+=( $(( $(now_ms) - t0 )) )
  # Idle memory after a handful of requests.
  for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "http://127.0.0.1:$port/login"; done
  sleep 1
  rss+=( "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")" )
  stop "$pid"
  # Warm: the same folder again; the cluster exists and only starts.
  t0=$(now_ms)
  SEXTANT_DATA_DIR="$dir" RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$port" >/dev/null &
  pid=$!
  wait_healthy
  warm+=( $(( $(now_ms) - t0 )) )
  stop "$pid"
  rm -rf "$dir"
done

echo "runs=$runs binary=$bin"
echo "cold_start_ms_median=$(printf '%s\n' "${cold[@]}" | median)  (all: ${cold[*]})"
echo "warm_start_ms_median=$(printf '%s\n' "${warm[@]}" | median)  (all: ${warm[*]})"
echo "idle_rss_kib_median=$(printf '%s\n' "${rss[@]}" | median)  (all: ${rss[*]})"
