# Filo Diretto: the team's habits as targets. `make dev` runs everything locally, `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test install web chromium unit integration e2e browser lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## create .venv with everything the project and its tests need

WEB_APPS := $(patsubst %/package.json,%,$(wildcard web/*/package.json))

web: ## build the staff console and the citizen portal (npm ci when the lockfile changed, then vite build)
	@for dir in $(WEB_APPS); do \
	  [ $$dir/node_modules/.package-lock.json -nt $$dir/package-lock.json ] || \
	    (cd $$dir && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  (cd $$dir && npm run --silent build) || exit 1; \
	done

chromium: ## Debian's chromium for the browser tests, where missing (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

dev: install web ## run the whole system locally (moto, app, pollers, scheduler, sandbox, demo comune)
	$(BIN)/python -m local.devserver

test: install web chromium ## the whole test suite
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

e2e: install
	$(BIN)/python -m pytest tests/e2e

browser: install web chromium
	$(BIN)/python -m pytest tests/browser

clean:
	rm -rf $(VENV) .local .pytest_cache web/*/node_modules web/*/dist

lint: install ## static checks
	$(BIN)/ruff check .
