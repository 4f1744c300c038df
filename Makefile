# Two commands on a fresh machine with only Python 3.11 and pip:
#   make run    create .venv, install the pinned set, ingest seeds/ into the default warehouse
#   make test   create .venv, install the pinned set with test tools, run pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# pip would otherwise warn about index locations this machine's config names but lacks.
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input

.PHONY: run test bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins every transitive version verified together (pip freeze of a
# working environment); pyproject.toml pins the direct ones.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/tinbai ingest seeds/

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# The baselines bench/ compares against (not needed to run or test tinbai).
bench-deps: $(VENV)/.installed
	$(PIP) install -q -c constraints.txt -e '.[test,bench]'

clean:
	rm -rf $(VENV) .prefect warehouse/*.duckdb warehouse/*.duckdb.wal
