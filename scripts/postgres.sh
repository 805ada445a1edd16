#!/usr/bin/env bash
# A throwaway PostgreSQL for Tinybatch's integration tests and demo, on 127.0.0.1.
#
#   eval "$(scripts/postgres.sh start)"   # installs (Debian/Ubuntu, as root) if missing, starts, exports TINYBATCH_PG
#   scripts/postgres.sh stop              # stops it and deletes its data
#
# Data lives under $TINYBATCH_PG_DIR (default /tmp/tinybatch-pg); the port is $TINYBATCH_PG_PORT (default 55432).
set -euo pipefail

PGPORT="${TINYBATCH_PG_PORT:-55432}"
PGROOT="${TINYBATCH_PG_DIR:-/tmp/tinybatch-pg}"

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgbin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

install_if_missing() {
  if [ -z "$(pgbin)" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "postgres.sh: PostgreSQL is not installed; run as root (apt-get) or install the 'postgresql' package" >&2
      exit 1
    fi
    echo "postgres.sh: installing PostgreSQL with apt-get" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
  fi
}

start() {
  install_if_missing
  local bin; bin="$(pgbin)"
  if [ -f "$PGROOT/data/postmaster.pid" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
    echo "postgres.sh: already running on 127.0.0.1:$PGPORT" >&2
  else
    rm -rf "$PGROOT"
    mkdir -p "$PGROOT"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGROOT"; fi
    as_pg "$bin/initdb" -D "$PGROOT/data" -U postgres -A trust -E UTF8 --no-instructions >/dev/null
    as_pg "$bin/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=on -c max_connections=200" start >/dev/null
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 30
    "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres tinybatch
    echo "postgres.sh: started on 127.0.0.1:$PGPORT (data in $PGROOT)" >&2
  fi
  echo "export TINYBATCH_PG='Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=tinybatch'"
}

stop() {
  local bin; bin="$(pgbin)"
  if [ -n "$bin" ] && [ -d "$PGROOT/data" ]; then
    as_pg "$bin/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PGROOT"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
