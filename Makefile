# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := engines,dev,docs

.PHONY: demo test test-engines test-lean lint typecheck unit browser bench docs notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

## Create the environment, install, and print the KPI report on the bundled sample.
demo: $(STAMP)
	$(BIN)/pipelinekit report

## Every check: lint, types (strict), unit + property + doc tests, the docs site
## (strict build) and the notebooks (executed top to bottom).
test: lint typecheck unit docs notebooks

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto --durations=25

## Headless Chromium (Debian package) for the html report's browser test. Never fails:
## without apt-get, or when the install fails, the browser test skips and says why.
browser:
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser: /usr/bin/chromium is installed"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "browser: apt-get not available; tests/reporting/test_browser.py will skip"; \
	elif (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1; then \
		echo "browser: installed chromium"; \
	else \
		echo "browser: could not install chromium; tests/reporting/test_browser.py will skip"; \
	fi

## Engine conformance on PySpark (local[2], needs Java 17) and Dask: installs the
## `spark` extra and Dask, then runs the tests marked `engines` (make test skips them).
test-engines: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[spark]" "dask[dataframe]"
	$(BIN)/python -m pytest -q -p no:cacheprovider -m engines --timeout=900 --durations=20 tests/engines

## The default install alone (pandas, polars, pyarrow; no DuckDB, no PySpark), in its own
## environment: the report on the sample and the checks in tests/lean.
LEAN_VENV := .venv-lean
$(LEAN_VENV)/.installed-stamp: pyproject.toml
	$(PYTHON) -m venv $(LEAN_VENV)
	$(LEAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LEAN_VENV)/bin/python -m pip install --quiet -e . "pytest>=8.0"
	touch $@

test-lean: $(LEAN_VENV)/.installed-stamp
	$(LEAN_VENV)/bin/pipelinekit report --sections summary --quiet > /dev/null
	PIPELINEKIT_LEAN=1 $(LEAN_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		-o addopts="" tests/lean

## Benchmarks at 100k and 1M leads (data generated into benchmarks/data, reused):
## pipelinekit vs hand-written pandas / polars / DuckDB SQL (benchmarks/run.py, writes
## benchmarks/results/latest.json), then the full report and the summary against the
## hand-written polars summary, interleaved (benchmarks/report_ratio.py). Takes about
## 30 minutes on 2 cores. The PySpark report: python benchmarks/report_spark.py.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/report_ratio.py --sizes 1m --formats parquet --rounds 3

## The docs site (mkdocs-material), built strictly: a warning fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

## Run every notebook top to bottom on the bundled sample (nbmake), and check that the
## committed notebooks carry no outputs.
notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=300 notebooks/
	$(BIN)/python -c "import json, pathlib, sys; \
		bad = [str(p) for p in sorted(pathlib.Path('notebooks').glob('*.ipynb')) \
		if any(c.get('outputs') or c.get('execution_count') \
		for c in json.loads(p.read_text())['cells'])]; \
		sys.exit('notebooks with outputs (strip them): ' + ', '.join(bad) if bad else 0)"

clean:
	rm -rf $(VENV) $(LEAN_VENV) site .pytest_cache .mypy_cache .ruff_cache
