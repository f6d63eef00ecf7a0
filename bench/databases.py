"""Fresh databases for a benchmark: a SQLite file, or a PostgreSQL schema of its own (dropped
afterwards), as tests/conftest.py makes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

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
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def server_version(pg_url: str | None) -> str:
    if pg_url is None:
        return "not reachable (PostgreSQL figures skipped)"
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()
