#!/usr/bin/env bash
# Real Segment client libraries against a real Rapport server, through the tracking API:
#   PyPI segment-analytics-python 2.4 (writeKey in the body and HTTP Basic auth),
#   PyPI segment-analytics-python 2.3 (writeKey in the body only),
#   PyPI rudder-sdk-python (gzip, HTTP Basic auth),
#   npm @segment/analytics-node (HTTP Basic auth),
# each pointed at the server with its `host` option. Each sends identify, track (with Chinese
# text), page, screen, group, alias and an unregistered track with messageIds of our choosing,
# then a burst at a rate-limited source that must be answered 429 at least once and retried by
# the library. harness.py checks through the admin API that every messageId is stored exactly
# once, that the unregistered event is quarantined, and that identify made a profile with the
# email.
#
# Expects target/debug/rapport (or $RAPPORT_BIN) to be built already. Installs the clients into
# .venv and node_modules here (PyPI and npm). Runs on SQLite; also on PostgreSQL in a fresh
# database when RAPPORT_TEST_DATABASE_URL is set (as scripts/test.sh does).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${RAPPORT_BIN:-$ROOT/target/debug/rapport}
CLIENTS=(segment-python segment-python-2.3 rudder-python segment-node)
START=$SECONDS

fail() {
    echo "cdp-clients: FAIL: $*" >&2
    exit 1
}

[ -x "$BIN" ] || fail "$BIN is missing; build it first: cargo build -p rapport"
command -v python3 >/dev/null || fail "python3 is required"
command -v node >/dev/null || fail "node (20 or newer) is required"
command -v npm >/dev/null || fail "npm is required"

# ---- the clients (reinstalled only when the pinned versions change)

VENV=$HERE/.venv
PY=$VENV/bin/python
want=$(cat "$HERE/requirements.txt" "$HERE/requirements-legacy.txt" | sha256sum | cut -d' ' -f1)
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
    echo "== cdp-clients: installing the Python clients into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" ||
        fail "pip install -r requirements.txt failed"
    # segment-analytics-python 2.3 beside 2.4: its own directory, put first on PYTHONPATH.
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$VENV/segment-2.3" \
        -r "$HERE/requirements-legacy.txt" || fail "pip install -r requirements-legacy.txt failed"
    echo "$want" >"$VENV/.installed"
fi
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$HERE/node_modules/.installed" 2>/dev/null)" != "$want" ]; then
    echo "== cdp-clients: installing the Node client (npm ci)"
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
    echo "$want" >"$HERE/node_modules/.installed"
fi

# ---- one server, all the clients

WORK=$(mktemp -d)
PIDS=()
PG_DB=
cleanup() {
    local f
    for f in "${PIDS[@]}"; do kill "$f" 2>/dev/null || true; done
    for f in "$WORK"/*/server.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ -n "$PG_DB" ]; then
        psql -q "$RAPPORT_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# free_port, start_server
# shellcheck source=../../../scripts/lib/serve.sh
source "$ROOT/scripts/lib/serve.sh"

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        rm -f "$1/server.pid"
    fi
    SERVER_PID=
}

run_client() { # NAME URL SOURCES PLAN STATS
    local name=$1 url=$2 sources=$3 plan=$4 stats=$5 key retry_key
    key=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["main"]["write_key"])' "$sources" "$name")
    retry_key=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["retry"]["write_key"])' "$sources" "$name")
    local common=(--name "$name" --host "$url" --write-key "$key" --retry-write-key "$retry_key" --plan "$plan" --stats "$stats")
    case $name in
    segment-python) timeout 180 "$PY" "$HERE/py_client.py" --lib segment "${common[@]}" ;;
    segment-python-2.3) PYTHONPATH="$VENV/segment-2.3" timeout 180 "$PY" "$HERE/py_client.py" --lib segment "${common[@]}" ;;
    rudder-python) timeout 180 "$PY" "$HERE/py_client.py" --lib rudder "${common[@]}" ;;
    segment-node) (cd "$HERE" && timeout 180 node node_client.mjs "${common[@]}") ;;
    *) fail "unknown client $name" ;;
    esac
}

# run_backend LABEL [rapport serve flags...]: one server, every client in turn (so the server's
# 429 counter is attributable to one client). Prints to $WORK/LABEL/output.log; exit status 1 if
# any client failed.
run_backend() {
    local label=$1
    shift
    local dir=$WORK/$label
    local failed=()
    echo "== cdp-clients on $label"
    start_server "$dir" "$@"
    "$PY" "$HERE/harness.py" setup --url "$URL" --password "$PASSWORD" \
        --clients "$(IFS=,; echo "${CLIENTS[*]}")" --out "$dir/sources.json"
    local name before ok t0
    for name in "${CLIENTS[@]}"; do
        t0=$SECONDS
        "$PY" "$HERE/harness.py" plan --client "$name" --run "$RUN" --out "$dir/$name.plan.json"
        before=$("$PY" "$HERE/harness.py" count429 --url "$URL")
        ok=1
        run_client "$name" "$URL" "$dir/sources.json" "$dir/$name.plan.json" "$dir/$name.stats.json" || ok=0
        if [ "$ok" = 1 ]; then
            "$PY" "$HERE/harness.py" verify --url "$URL" --password "$PASSWORD" --sources "$dir/sources.json" \
                --client "$name" --plan "$dir/$name.plan.json" --stats "$dir/$name.stats.json" \
                --before429 "$before" || ok=0
        fi
        if [ "$ok" = 1 ]; then
            echo "   $name on $label: ok ($((SECONDS - t0))s)"
        else
            failed+=("$name")
            echo "   $name on $label: FAILED ($((SECONDS - t0))s)"
        fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
        echo "--- $label server log (last 40 lines)"
        tail -n 40 "$dir/server.log"
        echo "== cdp-clients on $label: FAILED: ${failed[*]}"
    fi
    stop_server "$dir"
    [ ${#failed[@]} -eq 0 ]
}

PASSWORD="e2e-$(free_port)-$RANDOM$RANDOM"
# /metrics is off without a token; harness.py reads the 429 counters with this one.
export RAPPORT_METRICS_TOKEN="metrics-$RANDOM$RANDOM"
RUN="r$(date +%s)"

# SQLite, and PostgreSQL beside it (each backend has its own server, run in the background).
BACKENDS=(sqlite)
FLAGS=("--data-dir $WORK/sqlite/data")
if [ -n "${RAPPORT_TEST_DATABASE_URL:-}" ]; then
    command -v psql >/dev/null || fail "RAPPORT_TEST_DATABASE_URL is set but psql is missing"
    PG_DB="cdp_clients_$$_$RANDOM"
    psql -q "$RAPPORT_TEST_DATABASE_URL" -c "CREATE DATABASE $PG_DB" >/dev/null ||
        fail "could not create database $PG_DB at $RAPPORT_TEST_DATABASE_URL"
    BACKENDS+=(postgresql)
    FLAGS+=("--data-dir $WORK/postgresql/data --database-url ${RAPPORT_TEST_DATABASE_URL%/*}/$PG_DB")
fi
for i in "${!BACKENDS[@]}"; do
    mkdir -p "$WORK/${BACKENDS[$i]}"
    # shellcheck disable=SC2086 # FLAGS[i] is a list of flags without spaces inside
    (run_backend "${BACKENDS[$i]}" ${FLAGS[$i]} >"$WORK/${BACKENDS[$i]}/output.log" 2>&1) &
    PIDS+=($!)
done
FAILED=()
for i in "${!BACKENDS[@]}"; do
    wait "${PIDS[$i]}" || FAILED+=("${BACKENDS[$i]}")
    cat "$WORK/${BACKENDS[$i]}/output.log"
done
PIDS=()

if [ ${#FAILED[@]} -gt 0 ]; then
    fail "client runs failed on ${FAILED[*]} (see above)"
fi
echo "== cdp-clients: all passed in $((SECONDS - START))s"
