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
PYPROJECTS := pyproject.toml $(wildcard shared/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)

.PHONY: help setup run up down status logs test check lint typecheck token bench schemas clean

help:
	@echo "make run      set up and run the whole stack in the foreground (Ctrl-C stops it)"
	@echo "make up/down  the same, detached / stop it"
	@echo "make test     set up and run every test (unit, integration, lint, types)"
	@echo "make token ROLE=agent|manager|customer|technician  print a bearer token for the local stack"
	@echo "make bench    run the benchmarks in bench/ (see docs/benchmarks.md)"

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

run: setup
	$(PY) -m helpdesk_devstack run

up: setup
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

test: setup check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run_all.py

clean: down
	rm -rf .local .venv .tools
