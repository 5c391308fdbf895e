# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := engines,dev

.PHONY: demo test test-engines lint typecheck unit bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

## Create the environment, install, and print the KPI report on the bundled sample.
demo: $(STAMP)
	$(BIN)/pipelinekit report

## Every check: lint, types (strict), unit + property + doc tests.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

docs: $(STAMP)
	@echo "docs: not built yet"

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
