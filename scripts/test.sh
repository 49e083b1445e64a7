#!/usr/bin/env bash
# `make test`: lint, check the committed OpenAPI document, and run every test on SQLite and on
# a throw-away PostgreSQL cluster started here (and stopped on exit).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-nextest >/dev/null 2>&1 && ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi

echo "== format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== PostgreSQL for the tests"
RAPPORT_TEST_DATABASE_URL=$(./scripts/pg-test-cluster.sh start)
export RAPPORT_TEST_DATABASE_URL
trap './scripts/pg-test-cluster.sh stop' EXIT

echo "== tests (SQLite and PostgreSQL)"
cargo nextest run --workspace --no-fail-fast

echo "== tracking API with the real Segment / RudderStack client libraries"
cargo build -p rapport
tests/e2e/cdp-clients/run.sh
