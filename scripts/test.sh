#!/usr/bin/env bash
# `make test`: lint, check the committed OpenAPI document, and run every test on SQLite and on
# a throw-away PostgreSQL cluster started here (and stopped on exit); then the real tracking
# clients, the schemathesis fuzz of every endpoint against openapi.json (tests/conformance), the
# web app's unit tests and the browser tests (Debian's chromium driven by playwright-core)
# against the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
# One clean build: incremental state would only double the target directory.
export CARGO_INCREMENTAL=0

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The web app is built first, so every binary built below embeds it.
echo "== web app: API types in sync, unit tests, build"
(cd web && npm ci --no-audit --no-fund && npm run check:api && npm test && npm run build)
touch crates/rapport-server/src/web.rs

if ! command -v cargo-nextest >/dev/null 2>&1 && ! cargo nextest --version >/dev/null 2>&1; then
    cargo install cargo-nextest --locked
fi
if ! command -v cargo-deny >/dev/null 2>&1 && ! cargo deny --version >/dev/null 2>&1; then
    cargo install cargo-deny --locked
fi

echo "== format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== dependencies: licences, banned and duplicate crates, sources (deny.toml)"
# Security advisories need the RustSec database from the network: `cargo deny check advisories`
# where one is available (docs/SECURITY.md).
cargo deny --locked check licenses bans sources

echo "== PostgreSQL for the tests"
RAPPORT_TEST_DATABASE_URL=$(./scripts/pg-test-cluster.sh start)
export RAPPORT_TEST_DATABASE_URL
trap './scripts/pg-test-cluster.sh stop' EXIT

echo "== the connectors' loopback counterparts (aiosmtpd, the SMS providers' SDKs)"
if [ ! -x tests/connectors/.venv/bin/python ]; then
    python3 -m venv tests/connectors/.venv
fi
tests/connectors/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/connectors/requirements.txt

echo "== tests (SQLite and PostgreSQL)"
cargo nextest run --workspace --no-fail-fast

echo "== tracking API with the real Segment / RudderStack client libraries"
cargo build -p rapport
tests/e2e/cdp-clients/run.sh

echo "== every endpoint fuzzed against openapi.json (schemathesis, both backends)"
tests/conformance/run.sh

echo "== browser tests (Playwright, chromium)"
# Chinese fonts too, or the screenshots show empty boxes; sqlite3 for the jobs test, which
# writes jobs into the server's database (the binary runs no job workers yet).
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=zh 2>/dev/null)" ] || ! command -v sqlite3 >/dev/null; then
    as_root apt-get install -y chromium fonts-noto-cjk sqlite3 || { as_root apt-get update && as_root apt-get install -y chromium fonts-noto-cjk sqlite3; }
fi
cargo build -p rapport
(cd tests/e2e && npm ci --no-audit --no-fund && npm test)
