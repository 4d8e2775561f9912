# Two commands for a new user: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CAPSCOPE := $(VENV)/bin/capscope
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test venv test-deps chromium vendor lint bench clean

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

# plotly's finance bundle (~1.3 MB) inlined into brief.html, from the npm registry, verified by the sha256
# pinned in src/capscope/report/vendor.sha256. Without npm the brief falls back to plotly's full bundle (warning).
PLOTLY_FINANCE := plotly.js-finance-dist-min@4.1.0
VENDOR_JS := src/capscope/report/vendor/plotly-finance.min.js

vendor: $(VENDOR_JS)

$(VENDOR_JS): src/capscope/report/vendor.sha256
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "warning: npm not found; brief.html will inline plotly's full bundle" >&2; exit 0; fi; \
	tmp=$$(mktemp -d); \
	if (cd "$$tmp" && npm pack --silent $(PLOTLY_FINANCE) >/dev/null && tar xzf ./*.tgz); then \
	  cp "$$tmp/package/plotly-finance.min.js" $@ && rm -rf "$$tmp" && \
	  (cd $(@D) && sha256sum --check --quiet ../vendor.sha256) || { rm -f $@; echo "error: $(PLOTLY_FINANCE) does not match the pinned sha256" >&2; exit 1; }; \
	else rm -rf "$$tmp"; echo "warning: could not fetch $(PLOTLY_FINANCE); brief.html will inline plotly's full bundle" >&2; fi

test-deps: $(VENV)/.test chromium vendor

run: venv vendor
	$(CAPSCOPE) ingest
	$(CAPSCOPE) brief --out brief-out

test: test-deps
	$(PY) -m pytest -n 2 -q

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

# Every benchmark on the sample data; each prints its results (recorded by hand in benchmarks/RESULTS.md).
bench: $(VENV)/.test
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
