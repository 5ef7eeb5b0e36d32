# The two commands: `make run` (set up and start the service) and `make test` (set up and test).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test lint typecheck openapi check-openapi install clean bench bench-crm bench-fanout bench-e2e bench-sweep bench-reads bench-export

$(STAMP): pyproject.toml scripts/bootstrap.sh examples/innsyn-connector-newsletter/pyproject.toml \
		support/innsyn-peers/pyproject.toml
	bash scripts/bootstrap.sh $(VENV)
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/innsyn migrate
	$(BIN)/innsyn demo

test: $(STAMP)
	bash scripts/system-packages.sh
	INNSYN_TEST_BACKENDS=sqlite,postgresql bash scripts/with-services.sh \
		$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench examples support scripts
	$(BIN)/ruff format --check app tests bench examples support scripts
	$(BIN)/mypy app
	$(BIN)/python scripts/check_imports.py app

openapi: $(STAMP)
	$(BIN)/innsyn openapi --out openapi/openapi.json

# Access requests through the sql connector over a PostgreSQL CRM of 10k and 1M customers
# (throwaway server; BENCH_ARGS e.g. "--mode connector --sizes 10000"). Writes bench/results/crm.json.
BENCH_ARGS ?=
bench-crm: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.crm $(BENCH_ARGS)

# One access request over 50 connectors of 200 ms (real HTTP servers on loopback), then 200
# at once, on SQLite and PostgreSQL. Writes bench/results/fanout.json.
bench-fanout: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.fanout $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# End to end as deployed: innsyn serve (no in-process workers) + one innsyn worker, default
# settings, PostgreSQL, the 10k CRM; sequential, 20 at once, intake and 304 against a bare
# FastAPI hello. Writes bench/results/e2e.json (BENCH_ARGS e.g. "--runs 5 --profile").
bench-e2e: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.e2e $(BENCH_ARGS)

# The deadline-alert sweep over 10k, 100k and 1M open requests on PostgreSQL (one tick timed
# with nothing due and with 50 due). Writes bench/results/sweep.json.
bench-sweep: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.sweep $(BENCH_ARGS)

# What the staff view costs (304 and 200) after 3 and 3,000 reads of it, on PostgreSQL.
# Writes bench/results/reads.json.
bench-reads: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.reads $(BENCH_ARGS)

# A person with a 1 GB mailbox (Dovecot) gets their zip through the answer link of a real
# innsyn serve; peak RSS of that process while collecting and while downloading (goal
# < 200 MB). Writes bench/results/export.json (BENCH_ARGS e.g. "--database postgresql").
bench-export: $(STAMP)
	bash scripts/system-packages.sh
	bash scripts/with-services.sh $(BIN)/python -m bench.export $(BENCH_ARGS)
