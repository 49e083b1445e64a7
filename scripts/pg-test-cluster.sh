#!/usr/bin/env bash
# Starts (start) or stops (stop) a throw-away PostgreSQL cluster on loopback for the tests.
# Installs PostgreSQL from Debian's packages when missing. Prints the database URL on start.
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres` user.
set -euo pipefail
DIR="${RAPPORT_PG_DIR:-/tmp/rapport-test-pg}"
PORT="${RAPPORT_PG_PORT:-55432}"

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    echo "$bin"
}

# Runs from / so the postgres user never needs access to the caller's directory.
as_pg() {
    if [ "$(id -u)" = "0" ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

case "${1:-start}" in
start)
    if [ -z "$(pg_bin)" ]; then
        echo "installing PostgreSQL from Debian's packages..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    fi
    BIN=$(pg_bin)
    if [ -f "$DIR/data/postmaster.pid" ]; then
        as_pg "$BIN/pg_ctl" -D "$DIR/data" stop -m immediate >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    if [ "$(id -u)" = "0" ]; then chown postgres "$DIR"; fi
    as_pg "$BIN/initdb" -D "$DIR/data" -U rapport --auth=trust --encoding=UTF8 --locale=C >/dev/null
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null
    echo "postgres://rapport@127.0.0.1:$PORT/postgres"
    ;;
stop)
    BIN=$(pg_bin)
    if [ -n "$BIN" ] && [ -f "$DIR/data/postmaster.pid" ]; then
        as_pg "$BIN/pg_ctl" -D "$DIR/data" stop -m fast >/dev/null || true
    fi
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
