# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install.
SHELL := /bin/bash
# The newest Python 3.11+ on PATH (pyenv shims for missing versions answer with an error: hidden).
ifndef PYTHON
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck bench install clean browser i18n

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Britizen needs Python 3.11 or newer on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Without BRITIZEN_TELEGRAM_TOKEN this is sandbox mode: chat with the bot at /sandbox.
run: $(STAMP)
	$(BIN)/britizen run

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian's chromium for tests/browser (installed with apt-get when root; CI=true fails without it).
browser:
	@bash .ci/ensure-chromium

test-fast: $(STAMP)
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

# Welsh/English catalogs: pull every message from texts/ into locale/*/LC_MESSAGES/britizen.po
# (new ones untranslated, gone ones dropped), then list what still needs translating.
i18n: $(STAMP)
	$(BIN)/python -m texts.catalog update

# Every benchmark; one of them with BENCH="scoring-pg --users 10000000" (see bench/__main__.py).
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
