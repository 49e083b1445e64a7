#!/usr/bin/env bash
# Schema conformance: PyPI schemathesis fuzzes every operation of the committed openapi.json
# against a real Rapport server and checks that every answer is one the document describes —
# no 5xx, a documented status (or the `default` error), the documented content type, a body
# that validates against the documented schema (error bodies included: `details` is an object,
# `code` one of the catalogue's), documented headers, authentication where the document asks
# for it, 405 for methods a path does not take. Inputs stricter than the schema (a name that
# must not be empty, …) are the server's business, so the checks that expect the server to
# accept every schema-valid input (or refuse every schema-invalid one) are not run.
#
# seed.py first fills the workspace with one of everything (a contact, a custom object, a view,
# a source with events, a segment with snapshots, …) and pins every path parameter to those, so
# the fuzz reaches the handlers instead of 404. Requests carry an administrator's API token
# (made with `rapport token create`), the write key on the tracking API and the metrics token
# on /metrics.
#
# Expects target/debug/rapport (or $RAPPORT_BIN) to be built already. Installs schemathesis into
# .venv here (PyPI, versions pinned in requirements.txt). Runs on SQLite; also on PostgreSQL in
# a fresh database when RAPPORT_TEST_DATABASE_URL is set (as scripts/test.sh does); the two run
# side by side. CONFORMANCE_EXAMPLES (default 5) is the number of generated cases per operation
# and phase. The seed is fixed (20261207) so make test is repeatable; CONFORMANCE_SEED=random
# explores new cases (every run prints its seed, to repeat a finding).
#
# One schemathesis worker per backend: with two worker threads, hypothesis parses lambda sources
# (ast.parse) from both at once, and CPython before 3.12.4 / 3.11.10 (gh-106905) can fail that
# with "AST constructor recursion depth mismatch" — a crash of the fuzzer, not a finding.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${RAPPORT_BIN:-$ROOT/target/debug/rapport}
EXAMPLES=${CONFORMANCE_EXAMPLES:-5}
SEED=${CONFORMANCE_SEED:-20261207}
if [ "$SEED" = random ]; then SEED=$((RANDOM * 32768 + RANDOM)); fi
ADMIN=admin@rapport.local
START=$SECONDS

fail() {
    echo "conformance: FAIL: $*" >&2
    exit 1
}

[ -x "$BIN" ] || fail "$BIN is missing; build it first: cargo build -p rapport"
command -v python3 >/dev/null || fail "python3 is required"

# ---- schemathesis (reinstalled only when the pinned versions change)

VENV=$HERE/.venv
PY=$VENV/bin/python
want=$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$PY" ] || [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$want" ]; then
    echo "== conformance: installing schemathesis into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" ||
        fail "pip install -r requirements.txt failed"
    echo "$want" >"$VENV/.installed"
fi

# ---- one server per backend

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
# shellcheck source=../../scripts/lib/serve.sh
source "$ROOT/scripts/lib/serve.sh"

# run_backend LABEL [rapport flags naming the database...]: exit status 1 if the fuzz failed.
run_backend() {
    local label=$1
    shift
    local dir=$WORK/$label token status=0
    echo "== conformance on $label (seed $SEED, $EXAMPLES examples per operation)"
    start_server "$dir" --metrics-token "$METRICS_TOKEN" "$@"
    token=$("$BIN" token create --email "$ADMIN" --name conformance "$@") || fail "rapport token create failed"
    "$PY" "$HERE/seed.py" --url "$URL" --token "$token" --metrics-token "$METRICS_TOKEN" \
        --out "$dir/schemathesis.toml"
    (cd "$dir" && "$VENV/bin/schemathesis" --config-file "$dir/schemathesis.toml" run "$ROOT/openapi.json" \
        --checks all --exclude-checks negative_data_rejection,positive_data_acceptance \
        --phases examples,coverage,fuzzing --max-examples "$EXAMPLES" --seed "$SEED" \
        --workers 1 --no-color --output-truncate false >"$dir/fuzz.log" 2>&1) || status=1
    sed -n '/=== SUMMARY ===/,$p' "$dir/fuzz.log"
    if [ "$status" != 0 ]; then
        echo "--- $label: failures"
        sed -n '/=== FAILURES ===/,/=== \(WARNINGS\|SUMMARY\) ===/p' "$dir/fuzz.log" | head -n 400
        sed -n '/=== ERRORS ===/,/=== \(FAILURES\|WARNINGS\|SUMMARY\) ===/p' "$dir/fuzz.log" | head -n 100
        echo "--- $label server log (last 40 lines)"
        tail -n 40 "$dir/server.log"
        echo "== conformance on $label: FAILED (repeat with CONFORMANCE_SEED=$SEED)"
    fi
    kill "$(cat "$dir/server.pid")" 2>/dev/null || true
    return "$status"
}

PASSWORD="conf-$(free_port)-$RANDOM$RANDOM"
METRICS_TOKEN="metrics-$RANDOM$RANDOM"

BACKENDS=(sqlite)
FLAGS=("--data-dir $WORK/sqlite/data")
if [ -n "${RAPPORT_TEST_DATABASE_URL:-}" ]; then
    command -v psql >/dev/null || fail "RAPPORT_TEST_DATABASE_URL is set but psql is missing"
    PG_DB="conformance_$$_$RANDOM"
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
    fail "responses that disagree with openapi.json on ${FAILED[*]} (see above)"
fi
echo "== conformance: every answer matched openapi.json in $((SECONDS - START))s"
