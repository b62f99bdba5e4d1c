# `make run`: install, build the model artifact if missing, run the three functions on 8081-8083.
# `make check`: lint, type-check and the fast tests (no real model, no server process): the loop while you work.
# `make test`: install, build the model artifact if missing, lint, type-check and run the tests (Python and Node).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARTIFACT := models/all-MiniLM-L6-v2/provenance.json
export HF_HUB_OFFLINE := 1

.PHONY: install artifact run check test lint

$(INSTALLED): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

$(ARTIFACT): tools/export.py | $(INSTALLED)
	$(BIN)/python -m tools.export

install: $(INSTALLED) $(ARTIFACT)

artifact: $(ARTIFACT)

run: install
	scripts/run-local.sh

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint
	$(BIN)/python -m pytest -m "not slow" -q

test: install lint
	$(BIN)/python -m pytest
	cd clients/node && SIMFN_PYTHON=$(CURDIR)/$(BIN)/python node --test test/
