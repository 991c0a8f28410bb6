#!/usr/bin/env bash
# Load test of one or more `bangfu serve` processes on one database, with wrk at 64 connections.
#
#   scripts/load.sh [DB_URL] [SERVERS] [SECONDS]
#
# DB_URL defaults to a fresh SQLite file; SERVERS (default 1) processes share it, and wrk spreads
# its connections over them. Prints wrk's summary and latency distribution for:
#   reads:   GET  /api/v1/cases/1                (the reference case, with team, needs and events)
#   writes:  POST /api/v1/cases/1/needs          (a need report, routed and sourced from the registry)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${1:-}
SERVERS=${2:-1}
SECONDS_EACH=${3:-20}
BIN=${BANGFU_BIN:-target/release/bangfu}
[ -x "$BIN" ] || cargo build --release -p bangfu-cli
WORK=$(mktemp -d)
if [ -z "$DB" ]; then DB="sqlite://$WORK/bangfu.db"; fi
cleanup() { for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" demo --db "$DB" >/dev/null
echo 'load-test-password' | "$BIN" user add --db "$DB" --username "load$$" --role officer --department 141021 --password-stdin >/dev/null

PIDS=""; ADDRS=()
for i in $(seq 1 "$SERVERS"); do
  "$BIN" serve --db "$DB" --addr 127.0.0.1:0 >"$WORK/serve$i.out" 2>"$WORK/serve$i.err" &
  PIDS="$PIDS $!"
  for _ in $(seq 1 100); do grep -q listening "$WORK/serve$i.out" 2>/dev/null && break; sleep 0.1; done
  ADDRS+=("$(sed -n 's#.*http://##p' "$WORK/serve$i.out")")
done
TOKEN=$(curl -s -X POST "http://${ADDRS[0]}/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"username\":\"load$$\",\"password\":\"load-test-password\"}" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"kind":"labour","title":"load test","quantity":1,"requires":{"skill":"包装"}}'
LUA
cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

per=$((64 / SERVERS))
run() { # name script path
  echo "== $1: $SERVERS server(s), 64 connections, ${SECONDS_EACH}s, $DB" | sed 's#//[^@]*@#//***@#'
  local wrks=()
  for a in "${ADDRS[@]}"; do
    wrk -t2 -c"$per" -d"${SECONDS_EACH}s" --timeout 10s --latency -s "$2" "http://$a$3" >"$WORK/wrk-$a.txt" &
    wrks+=($!)
  done
  wait "${wrks[@]}"
  for a in "${ADDRS[@]}"; do grep -E "Requests/sec|Non-2xx|Socket errors| 50%| 99%|Latency |requests in" "$WORK/wrk-$a.txt" | sed "s#^#  [$a] #"; done
}
run "case reads" "$WORK/get.lua" /api/v1/cases/1
run "need reports" "$WORK/post.lua" /api/v1/cases/1/needs
