# Filo Diretto: the team's habits as targets. `make dev` runs everything locally, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test install unit integration e2e lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## create .venv with everything the project and its tests need

dev: install ## run the whole system locally (moto, app, pollers, scheduler, sandbox, demo comune)
	$(BIN)/python -m local.devserver

test: install ## the whole test suite
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

e2e: install
	$(BIN)/python -m pytest tests/e2e

clean:
	rm -rf $(VENV) .local .pytest_cache

lint: install ## static checks
	$(BIN)/ruff check .
