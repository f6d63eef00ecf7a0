"""Shared fixtures: a real, migrated database (SQLite by default; PostgreSQL when
SECUREBASE_TEST_DATABASE_URL is set, as `make test` does when one is reachable) and a clock
that tests move by hand."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from storage.clock import ManualClock
from storage.db import Database
from storage.migrate import upgrade

PG_ENV = "SECUREBASE_TEST_DATABASE_URL"


def on_postgres() -> bool:
    return bool(os.environ.get(PG_ENV))


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema of its own."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield f"sqlite:///{tmp_path / 'securebase.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database)
    yield database
    database.dispose()


# Tuesday 24 November 2026, 10:00 in London (UTC+0 in winter).
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)
