# `make run`: install, build the model artifact if missing, run the three functions on 8081-8083.
# `make check`: lint, type-check and the fast tests (no real model, no server process): the loop while you work.
# `make test`: install, build the model artifact if missing, lint, type-check and run the tests (Python and Node).
# `make vendor`: the production wheels for cflinuxfs4 in vendor/, so the buildpack stages with no index (offline).
# `make audit`: known vulnerabilities in the production set (fails if any) and its SBOM in reports/sbom.cdx.json.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ARTIFACT := models/all-MiniLM-L6-v2/provenance.json
export HF_HUB_OFFLINE := 1

# cflinuxfs4 is Ubuntu 22.04 on x86_64 (glibc 2.35); the Python is runtime.txt's.
VENDOR_PYTHON := $(shell sed -n 's/^python-\([0-9]*\.[0-9]*\).*/\1/p' runtime.txt)
VENDOR_PLATFORMS := manylinux_2_35_x86_64 manylinux_2_28_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64
NODE_INSTALLED := clients/node/node_modules/.package-lock.json

.PHONY: install artifact run check test lint audit

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

$(NODE_INSTALLED): clients/node/package.json clients/node/package-lock.json
	cd clients/node && npm ci --no-audit --no-fund --loglevel=error

test: install lint $(NODE_INSTALLED)
	$(BIN)/python -m pytest
	cd clients/node && npx tsc -p tsconfig.json
	cd clients/node && SIMFN_PYTHON=$(CURDIR)/$(BIN)/python node --test test/

vendor: vendor/.complete

vendor/.complete: requirements.txt runtime.txt | $(INSTALLED)
	rm -rf vendor
	$(BIN)/pip download --quiet --dest vendor --only-binary=:all: --implementation cp \
		--python-version $(VENDOR_PYTHON) $(addprefix --platform ,$(VENDOR_PLATFORMS)) -r requirements.txt
	touch $@

audit: $(INSTALLED)
	$(BIN)/python -m tools.audit $(AUDIT_FLAGS)
