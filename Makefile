# gridmap: `make run` serves the app, `make test` runs every test. Both set up what is missing.
SHELL := /bin/bash
# Debian's python by default: the server's unprivileged user can run it (pyenv's under a
# 0700 /root it cannot; see scripts/serve.sh).
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
# PROXY=nginx: nginx in front of gunicorn (slow clients; GRIDMAP_TLS=1 for HTTPS on the LAN)
PROXY ?=
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test bench lint clean clean-db stop-db setup db system-deps system-deps-test system-deps-bench

run: system-deps setup db
	@echo "serving http://$(HOST):$(PORT)  (Ctrl-C stops the server; the database stays up: make stop-db)"
	HOST=$(HOST) PORT=$(PORT) PROXY=$(PROXY) exec bash scripts/serve.sh

test: system-deps-test setup db
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (issue 9): own databases on the private cluster, data cached under var/bench/.
# BENCH_SCALE=10 for ten counties; writes bench/results/latest.md; non-zero on a missed target.
bench: system-deps-bench $(VENV)/.bench-installed static/vendor/.installed db
	$(BIN)/python -m bench

system-deps:
	@PROXY=$(PROXY) bash scripts/system-deps.sh run

system-deps-test:
	@bash scripts/system-deps.sh test

system-deps-bench:
	@bash scripts/system-deps.sh bench

setup: $(VENV)/.installed static/vendor/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(VENV)/.bench-installed: setup.cfg pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

static/vendor/.installed: package.json package-lock.json scripts/vendor.py | $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor.py
	@touch $@

db: $(VENV)/.installed
	@$(BIN)/gridmap db prepare

lint: $(VENV)/.installed
	$(BIN)/ruff check gridmap tests scripts bench

# These two need only the standard library, so they work after `make clean` too.
stop-db:
	@PYTHONPATH=$(CURDIR) $(PYTHON) -m gridmap.devdb stop

# Never touches the database: see clean-db for that.
clean:
	rm -rf $(VENV) node_modules static/vendor build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-db:
	@read -r -p "Delete the private database cluster and all its data? [y/N] " answer; \
	if [ "$$answer" = y ]; then PYTHONPATH=$(CURDIR) $(PYTHON) -m gridmap.devdb destroy; else echo "kept"; fi
