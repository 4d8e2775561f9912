# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CAPSCOPE := $(VENV)/bin/capscope
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test venv test-deps chromium lint bench clean

$(VENV)/.runtime: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime pyproject.toml constraints.txt
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.runtime

# Debian's chromium for the browser tests (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -q && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

test-deps: $(VENV)/.test chromium

run: venv
	$(CAPSCOPE) ingest
	$(CAPSCOPE) overview

test: test-deps
	$(PY) -m pytest -n 2 -q

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

bench: $(VENV)/.test
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
