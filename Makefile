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

.PHONY: install test lint test-sqlite test-postgres demo bench clean

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

demo: $(RUN_STAMP)
	$(BIN)/securebase demo

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
