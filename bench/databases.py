"""Fresh databases for a benchmark: a SQLite file, or a PostgreSQL schema of its own (dropped
afterwards), as tests/conftest.py makes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from storage.scratch import scratch_schema

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url(given: str | None) -> str | None:
    """The PostgreSQL to use, or None when none answers."""
    url = given or PG_URL
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return url


@contextmanager
def fresh(kind: str, workdir: Path, name: str, pg_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    if pg_url is None:
        raise ValueError("no PostgreSQL to benchmark on")
    with scratch_schema(pg_url, f"bench_{name}") as url:
        yield url


def server_version(pg_url: str | None) -> str:
    if pg_url is None:
        return "not reachable (PostgreSQL figures skipped)"
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()
