# Auralumic backend. `make run` and `make test` set themselves up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
AWS_PORT ?= 5000
# The local Pusher server's websocket port (what pusher-js connects to); empty: 6001, or a free one.
PUSHER_WS_PORT ?=

.PHONY: run test lint typecheck package bench token ledger-check dlq seed-catalog client client-check fuzz check clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check 'pip<26.3'
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP) ## the whole system locally: moto, tables, demo data, API on :$(PORT), workers, schedules
	@$(PY) -m tools.run_local --port $(PORT) --aws-port $(AWS_PORT) $(if $(PUSHER_WS_PORT),--pusher-port $(PUSHER_WS_PORT))

test: $(STAMP) ## the whole test suite
	@$(PY) -m pytest

lint: $(STAMP) ## ruff, then the import contract of pyproject.toml (handlers -> services -> models | integrations)
	@$(PY) -m ruff check .
	@$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	@$(PY) -m mypy

package: $(STAMP) ## chalice package merged with infra/, then cfn-lint
	@bash tools/package.sh

bench: $(STAMP) ## figures: DynamoDB calls per request, latency percentiles, import time
	@$(PY) -m bench.run

token: $(STAMP) ## make token USER=<id> ROLE=<client|reader|admin>
	@$(PY) -m tools.mint_token --user "$(USER)" --role "$(ROLE)" --aws-port $(AWS_PORT)

ledger-check: $(STAMP) ## verify every ledger balance against its entries and the zero sum (local stack; ARGS=--aws for a stage)
	@$(PY) -m tools.ledger_check --aws-port $(AWS_PORT) $(ARGS)

dlq: $(STAMP) ## list every dead-letter queue's messages with their failure reason; ARGS="--redrive [--queue notifications]", ARGS="--stage dev"
	@$(PY) -m tools.dlq --aws-port $(AWS_PORT) $(ARGS)

client: $(STAMP) ## export the OpenAPI document and regenerate clients/typescript (commit the result)
	@PY=$(PY) bash clients/typescript/generate.sh

client-check: $(STAMP) ## fail if clients/typescript is stale ("run make client"), then type-check it
	@PY=$(PY) bash clients/typescript/check.sh

fuzz: $(STAMP) ## schemathesis against a local stack: FUZZ_EXAMPLES per operation (default 1000), FUZZ_SEED
	@FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(PY) -m pytest tests/e2e/test_fuzz_schemathesis.py

seed-catalog: $(STAMP) ## make seed-catalog STAGE=dev: the default catalog into a cloud stage
	@$(PY) -m tools.seed_catalog --stage "$(STAGE)"

check: lint typecheck package client-check test

clean:
	rm -rf $(VENV) .local out .pytest_cache .mypy_cache .ruff_cache
