# The two commands of the README: `make demo` and `make test`.
# Both create .venv with the machine's python3 (3.11 or newer) when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean-reports help

help:
	@echo "make demo   - install into .venv, generate the synthetic demo workshops and render their reports"
	@echo "make test   - install into .venv (with dev extras), run ruff and the whole test suite"
	@echo "make bench  - run the benchmarks in benchmarks/"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs are reproducible: exact versions with hashes from requirements-dev.lock (see README,
# "Updating the lock files"), then the project itself without dependencies.
$(STAMP): $(BIN)/python pyproject.toml requirements-dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evaluate demo --out demo-workshops --forms reports/forms
	$(BIN)/evaluate batch demo-workshops --jobs 2
	$(BIN)/evaluate report demo-workshops/astana-2018-05 --lang ru
	rm -f .demo-workspace/warehouse.duckdb
	$(BIN)/evaluate warehouse add demo-workshops/*/ --warehouse .demo-workspace/warehouse.duckdb
	$(BIN)/evaluate compare --warehouse .demo-workspace/warehouse.duckdb --by phase --out reports/cohorts/by-phase

test: $(STAMP)
	$(BIN)/ruff check evaluation tests benchmarks
	MPLBACKEND=Agg $(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-reports:
	rm -rf reports/*/
