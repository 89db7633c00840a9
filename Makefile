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
# make test runs the suite in this many processes, each with its own stack on free ports; a test file stays in one
TEST_WORKERS ?= 3

.PHONY: dev dev-clean test install install-infra web chromium unit integration e2e browser lint clean synth infra-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(INFRA_STAMP): requirements-infra.txt | $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $(INFRA_STAMP)

install: $(STAMP) ## create .venv with everything the project and its tests need

install-infra: $(INFRA_STAMP) ## add the CDK toolchain (aws-cdk-lib, cdk-nag, cfn-lint) for infra/

web: ## build the staff console and the citizen portal (one npm workspace in web/: npm ci when its lockfile changed, then vite build)
	@[ web/node_modules/.package-lock.json -nt web/package-lock.json ] || \
	  (cd web && npm ci --no-audit --no-fund --loglevel=error)
	@cd web && npm run --silent build

chromium: ## Debian's chromium for the browser tests, where missing (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

dev: install web ## run the whole system locally (moto, app, pollers, scheduler, sandbox, demo comune); keeps its data in .local/
	$(BIN)/python -m local.devserver

dev-clean: install web ## make dev from a clean start: forgets the data and secrets kept in .local/ (as FILO_FRESH=1 make dev)
	$(BIN)/python -m local.devserver --fresh

test: install install-infra web chromium ## the whole test suite (TEST_WORKERS processes, a file in one of them)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

e2e: install
	$(BIN)/python -m pytest tests/e2e

browser: install web chromium
	$(BIN)/python -m pytest tests/browser

synth: install install-infra ## the CloudFormation templates of one stage (STAGE=prod|dev) in infra/cdk.out, checked by cdk-nag
	rm -rf chalice.out infra/cdk.out
	$(SYNTH_ENV) FILO_STAGE=$(STAGE) $(BIN)/python infra/main.py
	rm -rf chalice.out

infra-test: install install-infra web ## synthesize and check the infra (cdk-nag, cfn-lint, template assertions)
	$(SYNTH_ENV) $(BIN)/python -m pytest tests/infra

clean:
	rm -rf $(VENV) .local .pytest_cache chalice.out infra/cdk.out web/node_modules web/*/node_modules web/*/dist

lint: install ## static checks
	$(BIN)/ruff check .
