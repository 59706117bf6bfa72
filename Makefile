# Two commands for a newcomer (see README): `make run` and `make test`.
# torch is installed first, on its own, from the CPU build: installing it as a dependency of
# sentence-transformers (or unpinned) pulls a multi-GB CUDA build. Override TORCH_INDEX to point pip at
# another index, e.g. TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu" on a machine
# without a local CPU wheel.
PYTHON ?= python3.11
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: run test lint install browser clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files make re-runs cheap: they are rebuilt when pyproject.toml or constraints.txt change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed

# The browser tests (tests/test_browser.py) drive Debian's chromium through Playwright; Playwright's own browser
# downloads are never used. Installed with apt when missing (sudo only when not root).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@[ -x $(CHROMIUM) ] || ($(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# Builds the demo index from the bundled synthetic corpus, prints related papers and themes,
# then serves the HTTP API on $(HOST):$(PORT).
run: $(VENV)/.installed
	$(BIN)/recommender demo --index demo
	$(BIN)/recommender serve --index demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check recommender tests scripts
	$(BIN)/mypy

test: $(VENV)/.installed-test browser
	$(BIN)/ruff check recommender tests scripts
	$(BIN)/ruff format --check recommender tests scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
