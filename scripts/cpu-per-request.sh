#!/usr/bin/env bash
# The server's CPU per request under load (issue 12), on a fresh copy of the province exercise:
#
#   scripts/cpu-per-request.sh BIN BASE_DB [SECONDS] [post|get]
#
# starts `BIN serve` on a copy of BASE_DB (a SQLite file with `bangfu demo --scale province`
# loaded), waits for its indexes and its start-up passes, then runs wrk with 64 connections of need
# reports (post) or case reads (get) and prints wrk's rate and latency and the server's CPU time
# (user + system, from /proc/PID/stat) per request. With PERF=1 it also records a perf profile
# with DWARF call graphs to perf-MODE.data in the current directory.
set -euo pipefail
. "$(dirname "$0")/province-requests.sh"
BIN=$1; BASE=$2; SECS=${3:-10}; MODE=${4:-post}
W=$(mktemp -d); cp "$BASE" $W/b.db; DB=sqlite://$W/b.db
echo 'load-test-password' | $BIN user add --db $DB --username profu --role officer --department 140000 --password-stdin >/dev/null
$BIN serve --db $DB --addr 127.0.0.1:0 >$W/out 2>$W/err & PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf $W' EXIT
for _ in $(seq 1 600); do grep -q listening $W/out 2>/dev/null && break; sleep 0.1; done
A=$(sed -n 's#.*http://##p' $W/out)
for _ in $(seq 1 1200); do grep -q "search index" $W/err 2>/dev/null && break; sleep 0.1; done
wait_idle $PID
TOKEN=$(curl -s -X POST "http://$A/api/v1/auth/token" -H 'Content-Type: application/json' -d '{"username":"profu","password":"load-test-password"}' | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
CASES=$(province_cases "$A" "$TOKEN")
write_province_lua "$W" "$CASES" "$TOKEN"
T0=$(awk '{print $14+$15}' /proc/$PID/stat)
if [ -n "${PERF:-}" ]; then perf record -F 199 --call-graph dwarf,32000 -o perf-$MODE.data -p $PID -- sleep $((SECS+1)) 2>/dev/null & PP=$!; fi
wrk -t2 -c64 -d${SECS}s --latency -s $W/$MODE.lua http://$A/ > $W/wrk.txt
T1=$(awk '{print $14+$15}' /proc/$PID/stat)
N=$(grep "requests in" $W/wrk.txt | awk '{print $1}')
grep -E "Requests/sec| 50%| 99%|Non-2xx" $W/wrk.txt
echo "server CPU per request: $(echo "scale=3; ($T1-$T0)*10/$N" | bc) ms ($N requests)"
if [ -n "${PERF:-}" ]; then wait $PP; fi
