#!/usr/bin/env bash
# The memory of a 1,000,000-row export through the server (issue 14; BENCHMARKS.md): imports a
# registry file into a fresh demo database, starts a server, and exports the providers list (one
# row per capability) as XLSX and CSV over the API, sampling the server's VmRSS every 0.2 s and
# printing VmHWM before and after each export.
#
#   scripts/export-memory.sh REGISTRY.jsonl [DB_PATH]
#   BANGFU_BIN=target/release/bangfu QUERIES="format=xlsx&kind=equipment format=xlsx format=csv" scripts/export-memory.sh …
set -u
REGISTRY=${1:?usage: scripts/export-memory.sh REGISTRY.jsonl [DB_PATH]}
D=${2:-/tmp/export-memory.db}
B=${BANGFU_BIN:-target/release/bangfu}
QUERIES=${QUERIES:-format=xlsx format=csv}
PORT=${PORT:-18931}
OUT=$(mktemp -d)
if [ ! -f "$D.imported" ]; then
  rm -f "$D" "$D-wal" "$D-shm"
  "$B" demo --db "sqlite://$D" > "$OUT/demo.txt" 2>&1
  /usr/bin/time -v "$B" import capabilities "$REGISTRY" --db "sqlite://$D" 2>&1 | grep -E "imported|Elapsed|Maximum resident"
  echo 'export-memory-pass' | "$B" user add --db "sqlite://$D" --username measurer --role admin --password-stdin > /dev/null
  touch "$D.imported"
fi
"$B" serve --db "sqlite://$D" --addr "127.0.0.1:$PORT" > "$OUT/serve.txt" 2>&1 &
PID=$!
for _ in $(seq 1 600); do grep -q "search index" "$OUT/serve.txt" && break; sleep 1; done
sleep 5
TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d '{"username":"measurer","password":"export-memory-pass"}' | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
status() { grep -E "VmHWM|VmRSS" "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '; }
for q in $QUERIES; do
  echo "== $q before: $(status)"
  ( while kill -0 $PID 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$PID/status"; sleep 0.2; done ) > "$OUT/rss.txt" &
  SAMPLER=$!
  /usr/bin/time -f "   %e s wall (curl)" curl -s -o "$OUT/export" -w "   %{http_code}, %{size_download} bytes\n" \
    -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/providers?$q"
  kill $SAMPLER
  echo "== $q after: $(status); VmRSS sampled during it: $(sort -n "$OUT/rss.txt" | head -1)–$(sort -n "$OUT/rss.txt" | tail -1) kB"
  case $q in *csv*) echo "   lines: $(wc -l < "$OUT/export")";; esac
done
kill $PID
rm -rf "$OUT"
