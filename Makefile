# `make run` sets everything up and runs the main job on the bundled rule sets and
# fixtures; `make test` sets up and runs the linters and the tests. Both need nothing
# but Python 3.11 or newer. `make fuzz` and `make drills` are the long reliability runs
# (docs/reliability.md): minutes, not seconds.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FUZZ_STAMP := $(VENV)/.installed-fuzz
# `make fuzz`: seconds per fuzz target, and trees in the compiled == reference test (each
# on 19 pieces of evidence: 4,500 make over 100,000 pairs).
FUZZ_SECONDS ?= 300
DIFFERENTIAL_TREES ?= 4500
LONG := TAKEDOWN_DRILLS=long TAKEDOWN_DRILL_OUT=out/drills
# The fixtures with the decision each expects, and the responses in fixtures/responses.csv;
# fixtures/nca-2020 is a scenario of its own, replayed below.
FIXTURE_DIRS := $(filter-out fixtures/nca-2020/,$(sort $(wildcard fixtures/*/)))

.PHONY: run test lint fuzz drills drills-service bench bench-extraction bench-batch clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(FUZZ_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fuzz]'
	touch $(FUZZ_STAMP)

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
	@$(BIN)/takedown check $(FIXTURE_DIRS) --format table
	@echo
	@echo "== one decision in full: fixtures/meta/page-two-adverts.json =="
	@$(BIN)/takedown check fixtures/meta/page-two-adverts.json
	@echo
	@echo "== audit: record the fixtures, import fixtures/responses.csv, verify, report (out/audit/) =="
	@rm -rf out/audit && mkdir -p out/audit
	@$(BIN)/takedown audit record $(FIXTURE_DIRS) --db out/audit/cases.db > out/audit/cases.txt
	@echo "recorded $$(wc -l < out/audit/cases.txt) cases (ids in out/audit/cases.txt)"
	@$(BIN)/takedown audit import fixtures/responses.csv --db out/audit/cases.db
	@$(BIN)/takedown audit verify --db out/audit/cases.db
	@$(BIN)/takedown audit report --db out/audit/cases.db --format markdown -o out/audit/report.md
	@$(BIN)/takedown audit report --db out/audit/cases.db --format html -o out/audit/report.html
	@$(BIN)/takedown audit case NCA-2023-0412 --db out/audit/cases.db --format html -o out/audit/case-NCA-2023-0412.html
	@grep -m1 flagged out/audit/report.md
	@echo
	@echo "== the January-May 2020 referrals replayed: record fixtures/nca-2020, import its responses, rejections by the reason given (out/audit-2020/) =="
	@rm -rf out/audit-2020 && mkdir -p out/audit-2020
	@$(BIN)/takedown audit record fixtures/nca-2020 --db out/audit-2020/cases.db > out/audit-2020/cases.txt
	@echo "recorded $$(wc -l < out/audit-2020/cases.txt) of $$(ls fixtures/nca-2020/*.json | wc -l) requests (case ids in out/audit-2020/cases.txt)"
	@$(BIN)/takedown audit import fixtures/nca-2020/responses.csv --db out/audit-2020/cases.db
	@$(BIN)/takedown audit report --db out/audit-2020/cases.db --format text -o out/audit-2020/report.txt
	@sed -n '/^Rejections, as the platforms explained them$$/,/^Acceptance over time$$/p' out/audit-2020/report.txt | sed '$$d'

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto -m "not serial"
	$(BIN)/python -m pytest -m serial

# Every fuzz target under atheris for FUZZ_SECONDS (corpus, crashes and logs in out/fuzz/),
# then compiled rules against the reference interpreter on over 100,000 pairs.
fuzz: $(FUZZ_STAMP)
	$(BIN)/python -m tests.fuzz --seconds $(FUZZ_SECONDS) --work out/fuzz --json out/fuzz/results.json
	$(LONG) TAKEDOWN_DIFFERENTIAL_TREES=$(DIFFERENTIAL_TREES) $(BIN)/python -m pytest -p no:cacheprovider \
		-s tests/rules/test_properties.py -k reference

# The long forms of the drills: kill -9 of record and import 50 times each, four
# concurrent writers for 250 rounds each, the disk-full drill, then the service's
# (figures in out/drills/).
drills: $(STAMP)
	$(LONG) $(BIN)/python -m pytest -p no:cacheprovider -s \
		tests/audit/test_crash.py tests/audit/test_concurrency.py tests/audit/test_disk_full.py
	$(MAKE) drills-service

# The service under load (1x, 2x, 4x saturation, 60 s each) with a worker killed and
# SIGHUP every 2 s, 500 slow clients, 16 worst-case lints (docs/reliability-service.md).
# Timed, so run alone: under flock when the machine is shared.
drills-service: $(STAMP)
	$(LONG) $(BIN)/python -m pytest -p no:cacheprovider -s tests/service/test_drills.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/takedown lint platform_policies

bench: $(STAMP)
	$(BIN)/python benchmarks/compiled_vs_handwritten.py

bench-extraction: $(STAMP)
	$(BIN)/python benchmarks/extraction.py

# check --batch: throughput and peak RSS at BATCH_POSTS posts and half as many, with 1
# process and with one per core (README, docs/scale.md), decisions without explanations:
# about an hour on two cores. BATCH_FLAGS= times full decisions instead: hours.
BATCH_POSTS ?= 1000000
BATCH_JOBS ?= 1 $$(nproc)
BATCH_FLAGS ?= --no-explain
bench-batch: $(STAMP)
	$(BIN)/python benchmarks/batch.py --posts $(BATCH_POSTS) --jobs $(BATCH_JOBS) $(BATCH_FLAGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
