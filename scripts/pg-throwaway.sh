# A throwaway PostgreSQL 15 on 127.0.0.1 in a temporary data directory (Debian's `postgresql`).
# Source this file, then:
#
#   pg_start [EXTRA_SERVER_OPTIONS]   # sets PG_URL (postgres://postgres@127.0.0.1:PORT/postgres),
#                                     # PG_PORT and PG_DATA; ~2 s
#   pg_stop                           # stops the server and removes its directory
#
# The first free port from 55432 up is taken; a port counts as free when nothing answers on it
# (stopped servers can linger as zombies in some sandboxes, so the port is checked, not a PID).
# As root, initdb and the server run as the `postgres` user; otherwise as the current user.
# Authentication is `trust` and the server listens on 127.0.0.1 only.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_as_owner() { # COMMAND... — run as the owner of the data directory
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

pg_start() {
  local extra=${1:-} port=55432
  [ -x "$PG_BIN/initdb" ] || { echo "pg_start: $PG_BIN/initdb not found — apt-get install postgresql" >&2; return 1; }
  while pg_port_in_use "$port"; do port=$((port + 1)); done
  PG_DATA=$(mktemp -d "${TMPDIR:-/tmp}/bangfu-pg.XXXXXX")
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DATA"
  pg_as_owner "$PG_BIN/initdb -D '$PG_DATA' -U postgres -A trust -E UTF8 --locale=C.UTF-8" >"$PG_DATA.initdb.log" 2>&1 \
    || { cat "$PG_DATA.initdb.log" >&2; return 1; }
  pg_as_owner "$PG_BIN/pg_ctl -D '$PG_DATA' -l '$PG_DATA/log' -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p $port -k '$PG_DATA' -c max_connections=300 $extra\" start" >/dev/null \
    || { cat "$PG_DATA/log" >&2; return 1; }
  rm -f "$PG_DATA.initdb.log"
  PG_PORT=$port
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export PG_DATA PG_PORT PG_URL
}

pg_stop() {
  [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ] || return 0
  pg_as_owner "$PG_BIN/pg_ctl -D '$PG_DATA' -m immediate -w stop" >/dev/null 2>&1 || true
  rm -rf "$PG_DATA"
  PG_DATA=""
}
