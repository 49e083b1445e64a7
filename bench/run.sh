#!/usr/bin/env bash
# Rapport's benchmark (`make bench`): builds the release binary, runs the suites on SQLite and on
# PostgreSQL, and writes their sections into bench/RESULTS.md:
#   crm      `rapport-bench crm`: the CRM API (get, list, create, update) against bare SQL
#   ingest   `rapport-bench ingest`: event ingestion (`POST /v1/batch`) against bare inserts
#   jobs     `rapport-bench jobs`: the durable job queue against a bare INSERT + SKIP LOCKED/DELETE
#            queue (SQLite: the single writer's DELETE … RETURNING) on the same database
#   deliveries `rapport-bench deliveries`: webhook deliveries to a loopback receiver against a
#            bare HTTP client posting the same bodies, and what one destination that times out
#            costs four healthy ones
#   segments `rapport-bench segments`: segment evaluation against DuckDB (from PyPI) over the same
#            events, membership delay while events stream in, and the server's memory; not run
#            by default (a large fill: ~0.5 GB of disk per million events on each backend)
# In the results file each suite stands between `<!-- suite:NAME -->` and `<!-- /suite:NAME -->`,
# and each backend's section inside it between `<!-- backend:NAME -->` and `<!-- /backend:NAME -->`.
# A run replaces only the suites and backends it ran; everything else in the file (other suites,
# hand-written sections) stays. A missing file is created with the header below.
#
# Environment overrides:
#   BENCH_SUITES        "crm ingest" (default), or any of crm, ingest, jobs, deliveries and segments
#   BENCH_BACKENDS      "sqlite postgres" (default), or one of them
#   BENCH_OUT           the results file (default bench/RESULTS.md)
#   BENCH_NOTE          a remark added under each section's heading
# The crm suite:
#   BENCH_CONTACTS      contacts in the workspace (default 1000000)
#   BENCH_PG_CONTACTS   contacts on PostgreSQL (default: BENCH_CONTACTS)
#   BENCH_SECONDS       measured seconds per scenario (default 10)
#   BENCH_CONCURRENCY   concurrent connections (default 64)
#   BENCH_FILL          demo (default: the demo data set) or contacts (contacts only)
#   BENCH_SQLITE_DIR    SQLite data directory, kept between runs so the fill happens once
#                       (default /tmp/rapport-bench-sqlite)
# The ingest suite:
#   BENCH_INGEST_SECONDS      measured seconds of each run (default 20)
#   BENCH_INGEST_USERS        distinct users sending events (default 1000000)
#   BENCH_INGEST_CONCURRENCY  concurrent connections (default 32)
#   BENCH_INGEST_BATCH        events per request (default 100)
#   BENCH_INGEST_SQLITE_DIR   SQLite data directory, emptied before every run
#                             (default /tmp/rapport-bench-ingest-sqlite)
# The jobs suite:
#   BENCH_JOBS_N              jobs of each saturated run (default 100000)
#   BENCH_JOBS_BATCH          jobs per enqueueing transaction (default 100)
#   BENCH_JOBS_CONCURRENCY    jobs the runner runs at once (default 256)
#   BENCH_JOBS_PACED_SECS     seconds of each paced (latency) run (default 10)
#   BENCH_JOBS_SQLITE_DIR     SQLite data directory, emptied before every run
#                             (default /tmp/rapport-bench-jobs-sqlite)
# The deliveries suite:
#   BENCH_DELIVERIES_RECORDS  records created in each run, one message per endpoint (default 5000)
#   BENCH_DELIVERIES_SQLITE_DIR  SQLite data directory, emptied before every run
#                             (default /tmp/rapport-bench-deliveries-sqlite)
# The segments suite (the SQLite directory and the PostgreSQL cluster's files are deleted after
# its run, as is DuckDB's working directory, so the two backends never hold the data at once):
#   BENCH_SEG_PROFILES        profiles (default 1000000)
#   BENCH_SEG_EVENTS          events over the last 90 days (default 50000000)
#   BENCH_SEG_SAMPLES         measured membership changes while events stream in (default 300)
#   BENCH_SEG_STREAM_RATE     events/s of the background load meanwhile (default 2000)
#   BENCH_SEG_SQLITE_DIR      SQLite data directory, emptied before and deleted after the run
#                             (default /tmp/rapport-bench-segments-sqlite)
#   BENCH_SEG_WORK_DIR        DuckDB's database and Parquet files (default
#                             /tmp/rapport-bench-segments-work)
#   BENCH_SEG_VENV            Python virtual environment with DuckDB (bench/segments/
#                             requirements.txt), created when missing (default
#                             /tmp/rapport-bench-venv)
# The PostgreSQL cluster is scripts/pg-test-cluster.sh on its own directory and port
# (RAPPORT_PG_DIR=/tmp/rapport-bench-pg, RAPPORT_PG_PORT=55433): it is wiped on every start, so
# every suite starts from an empty PostgreSQL database (the crm suite fills it each time).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITES="${BENCH_SUITES:-crm ingest}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
OUT="${BENCH_OUT:-bench/RESULTS.md}"
CONTACTS="${BENCH_CONTACTS:-1000000}"
PG_CONTACTS="${BENCH_PG_CONTACTS:-$CONTACTS}"
DURATION="${BENCH_SECONDS:-10}"
CONCURRENCY="${BENCH_CONCURRENCY:-64}"
FILL="${BENCH_FILL:-demo}"
SQLITE_DIR="${BENCH_SQLITE_DIR:-/tmp/rapport-bench-sqlite}"
INGEST_DURATION="${BENCH_INGEST_SECONDS:-20}"
INGEST_USERS="${BENCH_INGEST_USERS:-1000000}"
INGEST_CONCURRENCY="${BENCH_INGEST_CONCURRENCY:-32}"
INGEST_BATCH="${BENCH_INGEST_BATCH:-100}"
INGEST_SQLITE_DIR="${BENCH_INGEST_SQLITE_DIR:-/tmp/rapport-bench-ingest-sqlite}"
JOBS_N="${BENCH_JOBS_N:-100000}"
JOBS_BATCH="${BENCH_JOBS_BATCH:-100}"
JOBS_CONCURRENCY="${BENCH_JOBS_CONCURRENCY:-256}"
JOBS_PACED_SECS="${BENCH_JOBS_PACED_SECS:-10}"
JOBS_SQLITE_DIR="${BENCH_JOBS_SQLITE_DIR:-/tmp/rapport-bench-jobs-sqlite}"
DELIVERIES_RECORDS="${BENCH_DELIVERIES_RECORDS:-5000}"
DELIVERIES_SQLITE_DIR="${BENCH_DELIVERIES_SQLITE_DIR:-/tmp/rapport-bench-deliveries-sqlite}"
SEG_PROFILES="${BENCH_SEG_PROFILES:-1000000}"
SEG_EVENTS="${BENCH_SEG_EVENTS:-50000000}"
SEG_SAMPLES="${BENCH_SEG_SAMPLES:-300}"
SEG_STREAM_RATE="${BENCH_SEG_STREAM_RATE:-2000}"
SEG_SQLITE_DIR="${BENCH_SEG_SQLITE_DIR:-/tmp/rapport-bench-segments-sqlite}"
SEG_WORK_DIR="${BENCH_SEG_WORK_DIR:-/tmp/rapport-bench-segments-work}"
SEG_VENV="${BENCH_SEG_VENV:-/tmp/rapport-bench-venv}"
export RAPPORT_PG_DIR="${RAPPORT_PG_DIR:-/tmp/rapport-bench-pg}"
export RAPPORT_PG_PORT="${RAPPORT_PG_PORT:-55433}"
# Slow-statement and slow-acquire warnings from sqlx would flood the output under this load.
export RAPPORT_LOG="${RAPPORT_LOG:-warn,sqlx=error}"

for suite in $SUITES; do
    case "$suite" in
    crm | ingest | jobs | deliveries | segments) ;;
    *)
        echo "unknown suite $suite (crm, ingest, jobs, deliveries or segments)" >&2
        exit 2
        ;;
    esac
done
for backend in $BACKENDS; do
    case "$backend" in
    sqlite | postgres) ;;
    *)
        echo "unknown backend $backend (sqlite or postgres)" >&2
        exit 2
        ;;
    esac
done

# DuckDB for the segments suite, from PyPI, in its own virtual environment.
case " $SUITES " in
*" segments "*)
    if [ ! -x "$SEG_VENV/bin/python" ]; then python3 -m venv "$SEG_VENV"; fi
    "$SEG_VENV/bin/pip" install -q -r bench/segments/requirements.txt
    ;;
esac

cargo build --release -p rapport -p rapport-bench

note=()
if [ -n "${BENCH_NOTE:-}" ]; then note=(--note "$BENCH_NOTE"); fi
crm=(--duration-secs "$DURATION" --concurrency "$CONCURRENCY" --fill "$FILL" "${note[@]}")
ingest=(--duration-secs "$INGEST_DURATION" --users "$INGEST_USERS"
    --concurrency "$INGEST_CONCURRENCY" --batch "$INGEST_BATCH" "${note[@]}")
jobs=(--jobs "$JOBS_N" --batch "$JOBS_BATCH" --concurrency "$JOBS_CONCURRENCY"
    --paced-secs "$JOBS_PACED_SECS" "${note[@]}")
deliveries=(--records "$DELIVERIES_RECORDS" "${note[@]}")
segments=(--profiles "$SEG_PROFILES" --events "$SEG_EVENTS" --samples "$SEG_SAMPLES"
    --stream-rate "$SEG_STREAM_RATE" --work-dir "$SEG_WORK_DIR" --python "$SEG_VENV/bin/python"
    --duckdb-script bench/segments/duckdb_eval.py "${note[@]}")

work=$(mktemp -d)
pg_running=
cleanup() {
    rm -rf "$work"
    if [ -n "$pg_running" ]; then ./scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
# The bench runs copies of the binaries, so a build elsewhere during the run cannot replace them
# (the segments suite starts the `rapport` beside `rapport-bench`).
cp ./target/release/rapport ./target/release/rapport-bench "$work/"
BIN="$work/rapport-bench"

# The header of a new results file (an existing file keeps its own).
cat >"$work/header" <<EOF
# Rapport benchmark results

Produced by \`make bench\` (\`./bench/run.sh\`), which builds the release binary and runs two
suites on each backend (SQLite, PostgreSQL): \`crm\` (\`rapport-bench crm\`: the CRM API against bare
SQL) and \`ingest\` (\`rapport-bench ingest\`: event ingestion through \`POST /v1/batch\` against
bare inserts into \`cdp_events\`); \`jobs\` (\`rapport-bench jobs\`: the durable job queue against a
bare \`INSERT\` + \`SELECT … FOR UPDATE SKIP LOCKED\` / \`DELETE\` queue, \`BENCH_SUITES=jobs\`); a third suite, \`segments\` (\`rapport-bench segments\`: segment
evaluation against DuckDB over the same events, membership delay while events stream in, the
server's memory), runs when asked (\`BENCH_SUITES=segments make bench\`; \`BENCH_SEG_PROFILES\`,
\`BENCH_SEG_EVENTS\`, default 1,000,000 profiles and 50,000,000 events). Each section below is one
run of one suite on one backend.
\`BENCH_SUITES\` and \`BENCH_BACKENDS\` pick what runs (e.g. \`BENCH_SUITES=ingest ./bench/run.sh\`);
only the sections of what ran are replaced (they stand between \`<!-- suite:… -->\` and
\`<!-- backend:… -->\` markers), and the rest of this file stays. Other overrides:
\`BENCH_CONTACTS\`, \`BENCH_PG_CONTACTS\`, \`BENCH_SECONDS\`, \`BENCH_CONCURRENCY\` and \`BENCH_FILL\`
for the CRM suite (1,000,000 contacts, 10 s per scenario, 64 connections, demo data);
\`BENCH_INGEST_SECONDS\`, \`BENCH_INGEST_USERS\`, \`BENCH_INGEST_CONCURRENCY\` and
\`BENCH_INGEST_BATCH\` for the ingestion suite (20 s, 1,000,000 users, 32 connections, 100
events per request). One backend by hand:

    ./target/release/rapport-bench crm --data-dir /tmp/rapport-bench-sqlite --contacts 1000000 --out bench/RESULTS.md
    ./target/release/rapport-bench ingest --database-url postgres://… --out bench/RESULTS.md

How the CRM suite measures: the server runs in the same process as the load generator (one
reqwest client, HTTP/1.1 keep-alive, 64 connections over loopback), so both share the machine's
cores. Each scenario is a closed loop: every connection sends its next request when the previous
one has answered; latencies are of successful requests, and any non-2xx answer counts as an
error. "Bare SQL" runs through sqlx on the store's own connection pools (SQLite: one writer,
eight readers; PostgreSQL: sixteen connections). The first table compares with the scenario's
single statement: the same SELECT Rapport generates, or for writes one INSERT / UPDATE. The second
table compares with every statement Rapport runs for the request: the token lookup, then the
SELECT, or for writes the whole transaction with its field history and outbox rows.

How the ingestion suite measures: on an empty database, the same in-process server and client
send \`POST /v1/batch\` requests of 100 events (80% track, 15% page, 5% identify, from 1,000,000
users drawn Zipf-like) from 32 connections in a closed loop; a request is answered once its
events are committed by the group commit. The run checks that \`cdp_events\` holds exactly the
acknowledged events and measures how many events each commit wrote. The baseline inserts the same
kind of rows, prepared in memory, with sqlx's multi-row \`INSERT … ON CONFLICT DO NOTHING\`: one
transaction per 100 rows (what one request commits), then transactions of the group size Rapport
achieved.

The PostgreSQL cluster is the throw-away test cluster (\`scripts/pg-test-cluster.sh\`: fsync,
synchronous_commit and full_page_writes off); SQLite runs as Rapport configures it (WAL,
synchronous=NORMAL).
EOF

# Puts one section in its place: the backend's block inside the suite's block, replacing what was
# there; a new suite goes after the last suite already in the file. Called after every run, so a
# failure later on keeps what was measured before it.
cat >"$work/merge.py" <<'PY'
import os
import re
import sys

out, header, part, suite, backend = sys.argv[1:6]
ORDER = ["sqlite", "postgres"]
with open(out if os.path.exists(out) else header, encoding="utf-8") as f:
    text = f.read()
with open(part, encoding="utf-8") as f:
    section = f.read()


def block(name, inner):
    return f"<!-- {name} -->\n{inner.strip()}\n<!-- /{name} -->"


found = re.search(rf"<!-- suite:{suite} -->\n(.*?)\n?<!-- /suite:{suite} -->", text, re.S)
sections = {}
if found:
    for m in re.finditer(r"<!-- backend:(\w+) -->\n(.*?)\n?<!-- /backend:\1 -->", found.group(1), re.S):
        sections[m.group(1)] = m.group(2)
sections[backend] = section
order = [b for b in ORDER if b in sections] + [b for b in sections if b not in ORDER]
whole = block(f"suite:{suite}", "\n\n".join(block(f"backend:{b}", sections[b]) for b in order))
if found:
    text = text[: found.start()] + whole + text[found.end():]
else:
    ends = list(re.finditer(r"<!-- /suite:[\w-]+ -->", text))
    at = ends[-1].end() if ends else len(text.rstrip("\n"))
    text = text[:at] + "\n\n" + whole + text[at:]
with open(out, "w", encoding="utf-8") as f:
    f.write(text.rstrip("\n") + "\n")
PY
mkdir -p "$(dirname "$OUT")"

for suite in $SUITES; do
    for backend in $BACKENDS; do
        part="$work/$suite.$backend.md"
        : >"$part"
        status=0
        case "$suite:$backend" in
        crm:sqlite)
            echo "== crm, SQLite ($SQLITE_DIR)"
            "$BIN" crm --data-dir "$SQLITE_DIR" --contacts "$CONTACTS" --out "$part" "${crm[@]}"
            ;;
        crm:postgres)
            echo "== crm, PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT)"
            pg_running=1
            url=$(./scripts/pg-test-cluster.sh start)
            "$BIN" crm --database-url "$url" --contacts "$PG_CONTACTS" --out "$part" "${crm[@]}"
            ./scripts/pg-test-cluster.sh stop
            pg_running=
            ;;
        ingest:sqlite)
            echo "== ingest, SQLite ($INGEST_SQLITE_DIR, emptied first)"
            rm -rf "$INGEST_SQLITE_DIR"
            "$BIN" ingest --data-dir "$INGEST_SQLITE_DIR" --out "$part" "${ingest[@]}"
            ;;
        ingest:postgres)
            echo "== ingest, PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT)"
            pg_running=1
            url=$(./scripts/pg-test-cluster.sh start)
            "$BIN" ingest --database-url "$url" --out "$part" "${ingest[@]}"
            ./scripts/pg-test-cluster.sh stop
            pg_running=
            ;;
        jobs:sqlite)
            echo "== jobs, SQLite ($JOBS_SQLITE_DIR, emptied first)"
            rm -rf "$JOBS_SQLITE_DIR"
            "$BIN" jobs --data-dir "$JOBS_SQLITE_DIR" --out "$part" "${jobs[@]}"
            ;;
        jobs:postgres)
            echo "== jobs, PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT)"
            pg_running=1
            url=$(./scripts/pg-test-cluster.sh start)
            "$BIN" jobs --database-url "$url" --out "$part" "${jobs[@]}"
            ./scripts/pg-test-cluster.sh stop
            pg_running=
            ;;
        deliveries:sqlite)
            echo "== deliveries, SQLite ($DELIVERIES_SQLITE_DIR, emptied first)"
            rm -rf "$DELIVERIES_SQLITE_DIR"
            "$BIN" deliveries --data-dir "$DELIVERIES_SQLITE_DIR" --out "$part" "${deliveries[@]}"
            ;;
        deliveries:postgres)
            echo "== deliveries, PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT)"
            pg_running=1
            url=$(./scripts/pg-test-cluster.sh start)
            "$BIN" deliveries --database-url "$url" --out "$part" "${deliveries[@]}"
            ./scripts/pg-test-cluster.sh stop
            pg_running=
            ;;
        segments:sqlite)
            # A failed run still writes its section when it got that far (e.g. members that
            # differ from DuckDB's); the script stops after merging it.
            echo "== segments, SQLite ($SEG_SQLITE_DIR, emptied first, deleted after)"
            rm -rf "$SEG_SQLITE_DIR"
            "$BIN" segments --data-dir "$SEG_SQLITE_DIR" --out "$part" "${segments[@]}" || status=$?
            rm -rf "$SEG_SQLITE_DIR" "$SEG_WORK_DIR"
            ;;
        segments:postgres)
            echo "== segments, PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT, deleted after)"
            pg_running=1
            url=$(./scripts/pg-test-cluster.sh start)
            "$BIN" segments --database-url "$url" --out "$part" "${segments[@]}" || status=$?
            ./scripts/pg-test-cluster.sh stop
            pg_running=
            rm -rf "$RAPPORT_PG_DIR" "$SEG_WORK_DIR"
            ;;
        esac
        if [ -s "$part" ]; then
            python3 "$work/merge.py" "$OUT" "$work/header" "$part" "$suite" "$backend"
            echo "wrote the $suite section for $backend into $OUT"
        fi
        if [ "$status" -ne 0 ]; then
            echo "the $suite suite failed on $backend (exit status $status)" >&2
            exit "$status"
        fi
    done
done
