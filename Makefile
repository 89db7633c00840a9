# Filo Diretto: the team's habits as targets. `make dev` runs everything locally, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INFRA_STAMP := $(VENV)/.installed-infra
# synth needs no AWS account or credentials: a region for Chalice's packaging, and a quiet jsii on Node 20
SYNTH_ENV := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-eu-south-1} JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=20
STAGE ?= prod

.PHONY: dev test install unit integration e2e lint clean synth infra-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(INFRA_STAMP): requirements-infra.txt | $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $(INFRA_STAMP)

install: $(STAMP) $(INFRA_STAMP) ## create .venv with everything the project, its tests and infra/ need

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

synth: install ## the CloudFormation templates of one stage (STAGE=prod|dev) in infra/cdk.out, checked by cdk-nag
	rm -rf chalice.out infra/cdk.out
	$(SYNTH_ENV) FILO_STAGE=$(STAGE) $(BIN)/python infra/main.py
	rm -rf chalice.out

infra-test: install ## synthesize and check the infra (cdk-nag, cfn-lint, template assertions)
	$(SYNTH_ENV) $(BIN)/python -m pytest tests/infra

clean:
	rm -rf $(VENV) .local .pytest_cache chalice.out infra/cdk.out

lint: install ## static checks
	$(BIN)/ruff check .
