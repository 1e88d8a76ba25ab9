# Two commands on a fresh machine with Python 3.11: `make plan` and `make test`.
# Each creates the local virtual environment .venv on first use (pinned by constraints.txt).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.toml

.PHONY: plan test venv sample-data clean

$(BIN)/.installed: pyproject.toml constraints.txt Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "planner needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dask]'
	@touch $@

venv: $(BIN)/.installed

## The planner's main job on the bundled sample county: check the data, then plan (a new folder under plans/ each run).
plan: venv
	$(BIN)/planner validate $(SCENARIO)
	$(BIN)/planner plan $(SCENARIO) --out plans/$$(date +%Y%m%d-%H%M%S)

## The test suite, after the formatter and the linter (ruff; configured in pyproject.toml), on
## two processes (pytest-xdist: 9 min instead of 15 on two cores).
test: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

## Regenerate the bundled sample county from the generator (deterministic).
sample-data: venv
	$(BIN)/planner demo-data --profile county --seed 2026 --out data/sample-county --force
	rm -rf data/sample-county.replaced-*

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
