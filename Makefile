# Two commands for a newcomer: `make demo` and `make test`. Both build their own venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install test lint test-sqlite test-postgres demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest -q

# The same suite again on PostgreSQL when one answers at 127.0.0.1:5432 (as on CI).
test-postgres: $(STAMP)
	@if $(BIN)/python -m storage.reachable "$(PG_URL)"; then \
		SECUREBASE_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q; \
	else \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432: skipping the PostgreSQL run (SQLite run above still counts)."; \
	fi

test: lint test-sqlite test-postgres

demo: $(STAMP)
	$(BIN)/securebase demo

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache
