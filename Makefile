# sl-amazon-sync. `make demo` runs the product on its sandbox; `make test` runs the tests.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: setup demo test lint bench worker beat flower services clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install the project with its dev tools

services: ## make sure Redis (and, for the tests, ODBC + PostgreSQL) are there
	@scripts/ensure-redis.sh

demo: setup services ## run the whole sync on the embedded sandbox
	$(BIN)/slsync sandbox $(if $(ORDERS),--orders $(ORDERS),)

test: setup services ## run the test suite (real Redis, real workers)
	@scripts/ensure-test-deps.sh
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

bench: setup services ## ratio benchmarks; figures in benchmarks/results/
	$(BIN)/python -m benchmarks

worker: setup services
	$(BIN)/slsync worker

beat: setup services
	$(BIN)/slsync beat

flower: setup services
	$(BIN)/slsync flower

clean:
	rm -rf $(VENV) .sandbox .pytest_cache
