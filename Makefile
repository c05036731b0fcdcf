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

.PHONY: run test lint typecheck package iam-snapshot deploy bench token ledger-check dlq job seed-catalog client client-check fuzz check clean

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

package: $(STAMP) ## chalice package merged with infra/, then cfn-lint and the bundle budget; STAGE=prod: that stage only
	@bash tools/package.sh $(STAGE)

iam-snapshot: $(STAMP) ## run the suite (e2e aside) and rewrite infra/iam/recorded.json: the AWS permissions each function used
	@$(PY) -m tools.iam snapshot

deploy: $(STAMP) ## make deploy STAGE=dev|prod [ARGS="--dry-run | --no-execute-changeset | --parameter-overrides K=V ..."]
	@$(PY) -m tools.deploy --stage "$(STAGE)" $(ARGS)

bench: $(STAMP) ## figures: DynamoDB calls per request, latency percentiles, import time
	@$(PY) -m bench.run

token: $(STAMP) ## make token USER=<id> ROLE=<client|reader|admin>
	@$(PY) -m tools.mint_token --user "$(USER)" --role "$(ROLE)" --aws-port $(AWS_PORT)

ledger-check: $(STAMP) ## verify every ledger balance against its entries and the zero sum (local stack; ARGS=--aws for a stage)
	@$(PY) -m tools.ledger_check --aws-port $(AWS_PORT) $(ARGS)

dlq: $(STAMP) ## list every dead-letter queue's messages with their failure reason; ARGS="--redrive [--queue notifications]", ARGS="--stage dev"
	@$(PY) -m tools.dlq --aws-port $(AWS_PORT) $(ARGS)

job: $(STAMP) ## run one scheduled job now: make job NAME=reading_timers [ARGS="--stage prod"]; no NAME: list them
	@$(PY) -m tools.run_job $(NAME) --aws-port $(AWS_PORT) $(ARGS)

client: $(STAMP) ## regenerate chalicelib/route_table.py, the OpenAPI document and clients/typescript (commit them)
	@$(PY) -m tools.route_table
	@PY=$(PY) bash clients/typescript/generate.sh

client-check: $(STAMP) ## fail if clients/typescript is stale ("run make client"), then type-check it
	@$(PY) -m tools.route_table --check
	@PY=$(PY) bash clients/typescript/check.sh

fuzz: $(STAMP) ## schemathesis against a local stack: FUZZ_EXAMPLES per operation (default 1000), FUZZ_SEED
	@FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} $(PY) -m pytest tests/e2e/test_fuzz_schemathesis.py

seed-catalog: $(STAMP) ## make seed-catalog STAGE=dev: the default catalog into a cloud stage
	@$(PY) -m tools.seed_catalog --stage "$(STAGE)"

check: lint typecheck package client-check test

clean:
	rm -rf $(VENV) .local out .pytest_cache .mypy_cache .ruff_cache
