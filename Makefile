# Rapport's commands. `make run` builds and starts Rapport with demo data on SQLite;
# `make test` installs what the tests need and runs them all, on SQLite and PostgreSQL.
CARGO ?= cargo
DATA_DIR ?= ./rapport-data

.PHONY: run test lint fmt openapi bench pg-start pg-stop

run:
	$(CARGO) build --release -p rapport
	./target/release/rapport serve --demo --data-dir $(DATA_DIR) --admin-password rapport-demo

test:
	./scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Rewrites the committed OpenAPI document from the code.
openapi:
	$(CARGO) run -q -p rapport -- openapi > openapi.json

bench:
	./bench/run.sh
