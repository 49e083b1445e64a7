#!/usr/bin/env bash
# Rapport's benchmark (`make bench`): builds the release binary, then runs `rapport bench` on
# SQLite and on PostgreSQL and writes bench/RESULTS.md (replacing it).
#
# Environment overrides:
#   BENCH_CONTACTS      contacts in the workspace (default 1000000)
#   BENCH_PG_CONTACTS   contacts on PostgreSQL (default: BENCH_CONTACTS)
#   BENCH_SECONDS       measured seconds per scenario (default 10)
#   BENCH_CONCURRENCY   concurrent connections (default 64)
#   BENCH_BACKENDS      "sqlite postgres" (default), or one of them
#   BENCH_FILL          demo (default: the demo data set) or contacts (contacts only)
#   BENCH_SQLITE_DIR    SQLite data directory, kept between runs so the fill happens once
#                       (default /tmp/rapport-bench-sqlite)
#   BENCH_OUT           the results file (default bench/RESULTS.md)
#   BENCH_NOTE          a remark added under each section's heading
# The PostgreSQL cluster is scripts/pg-test-cluster.sh on its own directory and port
# (RAPPORT_PG_DIR=/tmp/rapport-bench-pg, RAPPORT_PG_PORT=55433): it is wiped on every start, so
# the PostgreSQL fill happens on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

CONTACTS="${BENCH_CONTACTS:-1000000}"
PG_CONTACTS="${BENCH_PG_CONTACTS:-$CONTACTS}"
DURATION="${BENCH_SECONDS:-10}"
CONCURRENCY="${BENCH_CONCURRENCY:-64}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
FILL="${BENCH_FILL:-demo}"
SQLITE_DIR="${BENCH_SQLITE_DIR:-/tmp/rapport-bench-sqlite}"
OUT="${BENCH_OUT:-bench/RESULTS.md}"
export RAPPORT_PG_DIR="${RAPPORT_PG_DIR:-/tmp/rapport-bench-pg}"
export RAPPORT_PG_PORT="${RAPPORT_PG_PORT:-55433}"
# Slow-statement and slow-acquire warnings from sqlx would flood the output under this load.
export RAPPORT_LOG="${RAPPORT_LOG:-warn,sqlx=error}"

cargo build --release -p rapport
BIN=./target/release/rapport

note=()
if [ -n "${BENCH_NOTE:-}" ]; then note=(--note "$BENCH_NOTE"); fi
common=(--duration-secs "$DURATION" --concurrency "$CONCURRENCY" --fill "$FILL" "${note[@]}")

tmp=$(mktemp)
cleanup() {
    rm -f "$tmp"
    case " $BACKENDS " in
    *" postgres "*) ./scripts/pg-test-cluster.sh stop >/dev/null 2>&1 || true ;;
    esac
}
trap cleanup EXIT

cat >"$tmp" <<EOF
# Rapport benchmark results

Produced by \`make bench\` (\`./bench/run.sh\`), which builds the release binary and runs
\`rapport bench\` once per backend; each section below is one such run. To reproduce, run
\`make bench\`; \`BENCH_CONTACTS\`, \`BENCH_PG_CONTACTS\`, \`BENCH_SECONDS\`, \`BENCH_CONCURRENCY\`,
\`BENCH_BACKENDS\` and \`BENCH_FILL\` override the defaults (1,000,000 contacts, 10 s per
scenario, 64 connections, both backends, demo data). One backend by hand:

    ./target/release/rapport bench --data-dir /tmp/rapport-bench-sqlite --contacts 1000000 --out bench/RESULTS.md
    ./target/release/rapport bench --database-url postgres://… --contacts 1000000 --out bench/RESULTS.md

How it measures: the server runs in the same process as the load generator (one reqwest
client, HTTP/1.1 keep-alive, 64 connections over loopback), so both share the machine's cores.
Each scenario is a closed loop: every connection sends its next request when the previous one
has answered; latencies are of successful requests, and any non-2xx answer counts as an error.
"Bare SQL" runs through sqlx on the store's own connection pools (SQLite: one writer, eight
readers; PostgreSQL: sixteen connections). The first table compares with the scenario's single
statement: the same SELECT Rapport generates, or for writes one INSERT / UPDATE. The second table
compares with every statement Rapport runs for the request: the token lookup, then the SELECT, or
for writes the whole transaction with its field history and outbox rows. The PostgreSQL cluster is the throw-away test
cluster (\`scripts/pg-test-cluster.sh\`: fsync, synchronous_commit and full_page_writes off);
SQLite runs as Rapport configures it (WAL, synchronous=NORMAL).

EOF

for backend in $BACKENDS; do
    case "$backend" in
    sqlite)
        echo "== SQLite ($SQLITE_DIR)"
        "$BIN" bench --data-dir "$SQLITE_DIR" --contacts "$CONTACTS" --out "$tmp" "${common[@]}"
        ;;
    postgres)
        echo "== PostgreSQL ($RAPPORT_PG_DIR, port $RAPPORT_PG_PORT)"
        url=$(./scripts/pg-test-cluster.sh start)
        "$BIN" bench --database-url "$url" --contacts "$PG_CONTACTS" --out "$tmp" "${common[@]}"
        ./scripts/pg-test-cluster.sh stop
        ;;
    *)
        echo "unknown backend $backend (sqlite or postgres)" >&2
        exit 2
        ;;
    esac
done

mkdir -p "$(dirname "$OUT")"
cp "$tmp" "$OUT"
echo "wrote $OUT"
