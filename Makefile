# Guild developer commands. `make run` serves on http://127.0.0.1:8080 with a
# SQLite file under ./data; `make test` runs every test (set
# GUILD_TEST_POSTGRES_URL to run the PostgreSQL variants too).

CARGO ?= cargo
GUILD = $(CARGO) run -q -p guild-api --bin guild --

.PHONY: run test openapi check-openapi fmt lint ci

run:
	$(CARGO) run -p guild-api --bin guild -- serve

test:
	$(CARGO) test --workspace --no-fail-fast

# Regenerate the committed OpenAPI document (API-7). Written through a temp
# file so a failed build never leaves a truncated document behind.
openapi:
	@$(GUILD) openapi > openapi/openapi.json.tmp || { rm -f openapi/openapi.json.tmp; exit 1; }
	@mv openapi/openapi.json.tmp openapi/openapi.json
	@echo "wrote openapi/openapi.json"

check-openapi:
	@tmp=$$(mktemp) && \
	{ $(GUILD) openapi > "$$tmp" || { rm -f "$$tmp"; exit 1; }; } && \
	if diff -u openapi/openapi.json "$$tmp"; then \
		rm -f "$$tmp"; echo "openapi/openapi.json is up to date"; \
	else \
		rm -f "$$tmp"; echo "openapi/openapi.json is out of date; run make openapi" >&2; exit 1; \
	fi

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

ci:
	bash .ci/run

# Throughput and latency of the hot paths on PostgreSQL and SQLite with the
# release build (docs/benchmarks.md); needs wrk, curl, psql and sqlite3 and a
# PostgreSQL server (BENCH_POSTGRES_URL). Not part of `make test`.
.PHONY: bench
bench:
	bash bench/run.sh
