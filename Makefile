# One entry point for the whole helpdesk. Every target installs what it needs first (idempotent):
# a private uv in .tools/, the workspace venv in .venv/, Kafka jars via Maven in .local/kafka/.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
WEB := $(CURDIR)/web
CHROMIUM ?= /usr/bin/chromium
PYPROJECTS := pyproject.toml $(wildcard shared/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)

.PHONY: help setup run up down status logs test check lint typecheck token bench schemas clean \
	web-setup web-lint web-build web-check web-api-types chromium screenshots

help:
	@echo "make run      set up and run the whole stack in the foreground (Ctrl-C stops it)"
	@echo "make up/down  the same, detached / stop it"
	@echo "make test     set up and run every test (unit, integration, lint, types)"
	@echo "make token ROLE=agent|manager|customer|technician  print a bearer token for the local stack"
	@echo "make bench    run the benchmarks in bench/ (see docs/benchmarks.md)"
	@echo "make web-check  npm ci, lint and type-check the portals (web/), build web/dist"
	@echo "make screenshots  run the browser tests and save the portal's screens to docs/screenshots/"

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 and python3.11-venv"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock $(PYPROJECTS)
	$(UV) sync --all-packages --locked --python $(PYTHON)
	@touch $@

uv.lock: $(PYPROJECTS) | $(UV)
	$(UV) lock --python $(PYTHON)

setup: $(VENV)/.synced
	$(PY) -m helpdesk_devstack install

run: setup $(WEB)/dist/agent/index.html
	$(PY) -m helpdesk_devstack run

up: setup $(WEB)/dist/agent/index.html
	$(PY) -m helpdesk_devstack up

down:
	@if [ -x $(PY) ]; then $(PY) -m helpdesk_devstack down; else echo "nothing to stop"; fi

status: $(VENV)/.synced
	$(PY) -m helpdesk_devstack status

logs: $(VENV)/.synced
	$(PY) -m helpdesk_devstack logs

token: $(VENV)/.synced
	@$(PY) -m helpdesk_devstack token --role $(or $(ROLE),agent) $(if $(SUB),--subject $(SUB),)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

check: lint typecheck

schemas: $(VENV)/.synced
	$(PY) -m helpdesk_events.schemas docs/events

test: setup check web-check chromium
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# --- the portals (web/): Node from Debian when missing, packages from the lockfile ------------
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { apt-get update && apt-get install -y nodejs npm; }
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

web-setup: $(WEB)/node_modules/.installed

web-lint: web-setup
	cd $(WEB) && npm run lint && npm run typecheck

web-build: web-setup
	cd $(WEB) && npm run build

web-check: web-lint web-build

# `make run` / `make up` build the portals once; `make web-build` rebuilds them.
$(WEB)/dist/agent/index.html:
	$(MAKE) web-build

# Regenerate the ticket service's TypeScript types (a test fails while they are stale).
web-api-types: $(VENV)/.synced web-setup
	$(PY) web/scripts/api_types.py

# Browser tests use Debian's Chromium through Playwright (no browser download).
chromium:
	@test -x $(CHROMIUM) || { apt-get update && apt-get install -y chromium; }

screenshots: setup web-build chromium
	HELPDESK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest tests/browser -q -p no:cacheprovider

bench: setup
	$(PY) bench/run_all.py

clean: down
	rm -rf .local .venv .tools
