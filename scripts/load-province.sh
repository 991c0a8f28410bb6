#!/usr/bin/env bash
# Load test with the province exercise loaded (issue 12): need reports, case reads and the pages a
# province officer opens, with wrk, against one or more `bangfu serve` processes on one database.
#
#   scripts/load-province.sh BASE_DB [SERVERS] [SECONDS] [CONNECTIONS]
#
# BASE_DB is a SQLite file with the exercise loaded (`bangfu demo --scale province --db
# sqlite://FILE`); each run works on a fresh copy of it, so the base stays as loaded. With a
# postgres:// URL instead, the database is used as it is (load it first; reports add to it).
# SERVERS (default 1) processes share the database and wrk spreads its connections over them.
# Prints wrk's summary and latency distribution for:
#   need reports: POST /api/v1/cases/{random exercise case}/needs — sterilisation, melt-blown
#                 fabric or mechanics, with distance and time limits half of the time, sourced
#                 against the 100,000-capability registry;
#   case reads:   GET  /api/v1/cases/{random case};
#   pages (8 connections each, as a province officer with a cookie session): the dashboard, the
#                 registry search, a case page, a need page, and the needs queue's default view.
# The machine and the binary's commit are printed first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/province-requests.sh
BASE=${1:?usage: scripts/load-province.sh BASE_DB [SERVERS] [SECONDS] [CONNECTIONS]}
SERVERS=${2:-1}
SECONDS_EACH=${3:-20}
CONNECTIONS=${4:-64}
BIN=${BANGFU_BIN:-target/release/bangfu}
[ -x "$BIN" ] || cargo build --release -p bangfu-cli
WORK=$(mktemp -d)
cleanup() { for p in ${PIDS:-}; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

case "$BASE" in
  postgres://*) DB=$BASE ;;
  *) BASE=${BASE#sqlite://}; cp "$BASE" "$WORK/bangfu.db"; DB="sqlite://$WORK/bangfu.db" ;;
esac
echo "== $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load average $(cut -d' ' -f1-3 /proc/loadavg); binary $("$BIN" --version 2>/dev/null || echo "$BIN")"

echo 'load-test-password' | "$BIN" user add --db "$DB" --username "prov$$" --role officer --department 140000 --password-stdin >/dev/null

PIDS=""; ADDRS=()
for i in $(seq 1 "$SERVERS"); do
  "$BIN" serve --db "$DB" --addr 127.0.0.1:0 >"$WORK/serve$i.out" 2>"$WORK/serve$i.err" &
  PIDS="$PIDS $!"
  for _ in $(seq 1 600); do grep -q listening "$WORK/serve$i.out" 2>/dev/null && break; sleep 0.1; done
  ADDRS+=("$(sed -n 's#.*http://##p' "$WORK/serve$i.out")")
  # The server answers before its search index is built: measure after it is (up to 2 min).
  for _ in $(seq 1 1200); do grep -q "search index" "$WORK/serve$i.err" 2>/dev/null && break; sleep 0.1; done
  grep -h "registry index\|search index" "$WORK/serve$i.err" | sed "s#^#  [server $i] #" || true
done
# A fresh copy of the exercise starts with the server's start-up passes (the escalation pass moves
# the needs that went overdue since the exercise was loaded; the morning pass composes the day's
# briefings): wait until every server is idle (under 5 % of a core for a second, at most 2 min),
# so that what follows measures the serving path, not those passes.
for p in $PIDS; do wait_idle "$p"; done
A=${ADDRS[0]}
TOKEN=$(curl -s -X POST "http://$A/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"username\":\"prov$$\",\"password\":\"load-test-password\"}" | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "login failed" >&2; exit 1; }

# The exercise's cases and needs, from the API (ids only).
CASES=$(province_cases "$A" "$TOKEN")
[ -n "$CASES" ] || { echo "no cases visible to the province officer" >&2; exit 1; }
NEED=$(curl -s -H "Authorization: Bearer $TOKEN" "http://$A/api/v1/needs?limit=1&kind=sterilisation" | grep -o '"id":[0-9]*' | head -1 | sed 's/"id"://')
CASE=$(echo "$CASES" | cut -d, -f2)

write_province_lua "$WORK" "$CASES" "$TOKEN"

per=$((CONNECTIONS / SERVERS))
run() { # name script path [connections]
  local c=${4:-$per}
  echo "== $1: $SERVERS server(s), $((c * SERVERS)) connections, ${SECONDS_EACH}s, $DB, load average $(cut -d' ' -f1 /proc/loadavg)" | sed 's#//[^@]*@#//***@#'
  local wrks=()
  for a in "${ADDRS[@]}"; do
    wrk -t2 -c"$c" -d"${SECONDS_EACH}s" --timeout 10s --latency ${2:+-s "$2"} "http://$a$3" >"$WORK/wrk-$a.txt" &
    wrks+=($!)
  done
  wait "${wrks[@]}"
  for a in "${ADDRS[@]}"; do grep -E "Requests/sec|Non-2xx|Socket errors| 50%| 99%|requests in" "$WORK/wrk-$a.txt" | sed "s#^#  [$a] #"; done
}

# One report alone, end to end, before the load (curl's total time, five in a row).
for i in 1 2 3 4 5; do
  curl -s -o /dev/null -w "  single need report: %{http_code} in %{time_total}s\n" -X POST "http://$A/api/v1/cases/$CASE/needs" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    -d '{"kind":"sterilisation","title":"单次灭菌","quantity":90000,"unit":"只","max_distance_km":400}'
done
curl -s -H "Authorization: Bearer $TOKEN" "http://$A/api/v1/needs/$NEED" | wc -c | sed 's/^/  bytes of a need answer: /'

run "need reports" "$WORK/post.lua" /
run "case reads" "$WORK/get.lua" /

# Pages as a province officer: log in through the form (its CSRF cookie and field).
JAR=$WORK/jar
CSRF=$(curl -s -c "$JAR" "http://$A/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://$A/login" --data-urlencode "csrf=$CSRF" \
  --data-urlencode "username=prov$$" --data-urlencode "password=load-test-password" --data-urlencode "next=/"
SESSION=$(awk '$6 == "bangfu_session" {print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "page login failed" >&2; exit 1; }
cat >"$WORK/page.lua" <<LUA
wrk.headers["Cookie"] = "bangfu_session=$SESSION"
LUA
# `/needs` alone redirects to the role's default view of the queue: that view is what is measured.
QUEUE=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: bangfu_session=$SESSION" "http://$A/needs" | sed "s#^http://$A##")
for page in "/" "/registry?kind=sterilisation" "/registry?q=%E7%86%94%E5%96%B7" "/cases/$CASE" "/needs/$NEED" "${QUEUE:-/needs}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: bangfu_session=$SESSION" "http://$A$page")
  if [ "$code" != 200 ]; then echo "== page $page answers $code: skipped"; continue; fi
  run "page $page" "$WORK/page.lua" "$page" 8
done
