# Two commands for a newcomer: `make demo` and `make test`. Both build their own venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# What each target needs installed: the demo only the bot itself; tests, lint and benchmarks
# also the dev tools and PostgreSQL's driver.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install test test-fast lint test-sqlite test-postgres demo bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev,postgres]'
	touch $@ $(RUN_STAMP)

install: $(DEV_STAMP)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

# The same suite again on PostgreSQL when one answers at 127.0.0.1:5432 (as on CI).
test-postgres: $(DEV_STAMP)
	@if $(BIN)/python -m storage.reachable "$(PG_URL)"; then \
		SECUREBASE_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q; \
	else \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432: skipping the PostgreSQL run (SQLite run above still counts)."; \
	fi

test: lint test-sqlite test-postgres

# The fast half, on SQLite, for the edit-test loop: no test marked slow (seconds of its own) or
# subprocess (starts a process). `make test` still runs everything.
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not subprocess"

# Mutation testing of the code that keeps the promises ([tool.mutmut] in pyproject.toml lists
# it and the tests that cover it); not part of `make test` or CI, and CPU-heavy, so niced and
# one worker. MUTATE=practice.weeks (a module's dotted name) runs one module's mutants only.
# Each run starts afresh.
# Results: `$(BIN)/mutmut results`; the record is tests/MUTATION.md.
MUTATE ?=
mutation: $(DEV_STAMP)
	@$(BIN)/python -c 'import pathlib, sys, tomllib; gone = [p for p in tomllib.load(open("pyproject.toml", "rb"))["tool"]["mutmut"]["only_mutate"] if not pathlib.Path(p).is_file()]; sys.exit(f"[tool.mutmut] only_mutate names files that are gone: {gone}" if gone else 0)'
	rm -rf mutants  # mutmut keeps its copy of unmutated modules even when they change
	nice -n 19 $(BIN)/mutmut run --max-children 1 $(if $(MUTATE),"$(MUTATE).*")

demo: $(RUN_STAMP)
	$(BIN)/securebase demo

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache mutants
