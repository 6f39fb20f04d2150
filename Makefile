# One command each: `make demo` and `make test` set everything up on a fresh
# machine (Python 3.11+ only) by creating .venv and installing the project.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check lint types bench protos clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jgnode needs Python 3.11 or newer; set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jgnode demo --dir demo-data

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

bench: $(STAMP)
	$(BIN)/python bench/exchange.py
	$(BIN)/python bench/er.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/sharing.py

protos: $(STAMP)
	$(BIN)/python proto/compile.py

clean:
	rm -rf demo-data .pytest_cache .mypy_cache .ruff_cache
