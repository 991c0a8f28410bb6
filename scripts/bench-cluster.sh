#!/usr/bin/env bash
# Need reports per second, in one run: one `bangfu serve` on SQLite, then one and two `bangfu serve`
# processes on one PostgreSQL 15 (a throwaway server with its default, durable settings).
# Each configuration gets a fresh database with the demo loaded, and scripts/load.sh drives it
# with wrk at 64 connections (split evenly over the servers): case reads, then need reports
# (POST /api/v1/cases/1/needs with a bearer token).
#
#   scripts/bench-cluster.sh [SECONDS_PER_LOAD]      # default 20
#
# Prints the machine, each configuration's wrk output and a summary table (requests per second
# summed over the servers). Needs Debian's postgresql and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-20}

cargo build --release -p bangfu-cli 2>&1 | tail -1
. scripts/pg-throwaway.sh
trap pg_stop EXIT
pg_start
WORK=$(mktemp -d)
trap 'pg_stop; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc: $(rustc --version); $(psql --version); wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2)"

bench() { # LABEL DB_URL SERVERS
  echo
  echo "######## $1"
  scripts/load.sh "$2" "$3" "$SECONDS_EACH" | tee "$WORK/$1.txt"
}
pg_db() { # NAME — a fresh database on the throwaway server
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE $1" postgres
  echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"
}

bench sqlite-1 "" 1
bench postgres-1 "$(pg_db bench_one)" 1
bench postgres-2 "$(pg_db bench_two)" 2

# Requests/sec of a section ("case reads" or "need reports"), summed over the servers.
total() { awk -v want="$2" '/^== /{on = index($0, want) > 0} on && /Requests\/sec/{s += $NF} END{printf "%.0f", s}' "$WORK/$1.txt"; }
non2xx() { awk -v want="$2" '/^== /{on = index($0, want) > 0} on && /Non-2xx/{s += $NF} END{printf "%d", s}' "$WORK/$1.txt"; }
# Socket errors (connect, read, write, timeout) of a section, summed.
errors() { awk -v want="$2" '/^== /{on = index($0, want) > 0} on && /Socket errors/{gsub(",", ""); s += $(NF-6) + $(NF-4) + $(NF-2) + $NF} END{printf "%d", s}' "$WORK/$1.txt"; }
# Median latency of a section (the first server's).
median() { awk -v want="$2" '/^== /{on = index($0, want) > 0} on && / 50%/{print $NF; exit}' "$WORK/$1.txt"; }

echo
echo "| configuration | need reports/s | median latency | non-2xx / socket errors | case reads/s |"
echo "|---|---|---|---|---|"
for c in sqlite-1 postgres-1 postgres-2; do
  echo "| $c | $(total "$c" "need reports") | $(median "$c" "need reports") | $(non2xx "$c" "need reports") / $(errors "$c" "need reports") | $(total "$c" "case reads") |"
done
