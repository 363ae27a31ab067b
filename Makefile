# `make run` sets everything up and runs the main job on the bundled rule sets and
# fixtures; `make test` sets up and runs the linters and the tests. Both need nothing
# but Python 3.11 or newer.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@echo "== lint: every bundled rule set =="
	@$(BIN)/takedown lint platform_policies --quiet
	@echo
	@echo "== rule-set versions =="
	@$(BIN)/takedown versions
	@echo
	@echo "== tests embedded in the rule sets =="
	@$(BIN)/takedown test
	@echo
	@echo "== decisions for the bundled fixtures =="
	@$(BIN)/takedown check fixtures --format table
	@echo
	@echo "== one decision in full: fixtures/meta/page-two-adverts.json =="
	@$(BIN)/takedown check fixtures/meta/page-two-adverts.json

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/takedown lint platform_policies

bench: $(STAMP)
	$(BIN)/python benchmarks/compiled_vs_handwritten.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
