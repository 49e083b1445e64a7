# Rapport's commands. `make run` builds and starts Rapport with demo data on SQLite;
# `make test` installs what the tests need and runs them all, on SQLite and PostgreSQL.
CARGO ?= cargo
DATA_DIR ?= ./rapport-data

.PHONY: run web test lint fmt openapi error-codes bench pg-start pg-stop

run: web
	$(CARGO) build --release -p rapport
	./target/release/rapport serve --demo --data-dir $(DATA_DIR) --admin-password rapport-demo

# Builds the web app into web/dist, which the binary embeds; touching web.rs makes cargo embed
# the new files.
web:
	cd web && npm ci && npm run build
	touch crates/rapport-server/src/web.rs

test:
	./scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Rewrites the committed OpenAPI document from the code, and the web app's types from it.
openapi:
	$(CARGO) run -q -p rapport -- openapi > openapi.json
	cd web && npm run gen:api

# Rewrites docs/API.md's tables of codes and the web app's catalogue from
# crates/rapport-core/src/codes.rs.
error-codes:
	$(CARGO) run -q -p rapport -- error-codes --splice docs/API.md
	$(CARGO) run -q -p rapport -- error-codes --typescript > web/src/api/errorCodes.ts

bench:
	./bench/run.sh
