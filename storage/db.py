"""Engine and sessions for SQLite (single host) and PostgreSQL (scale-out)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# Set in `session.info` by code that destroys linking data (closing a week), so that once the
# transaction commits, SQLite's write-ahead log — which still holds the old pages, secret and
# respondent keys included — is checkpointed and truncated.
SCRUB_WAL = "securebase_scrub_wal"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Deleted and overwritten content (a closed week's secret and keys) is zeroed, not left in
    # free space in the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _begin_before_savepoint(conn: Connection, _name: str | None) -> None:
    # pysqlite only BEGINs before DML, so a SAVEPOINT issued first would open the transaction
    # itself and its RELEASE would COMMIT everything, outside the session's control. Storage
    # opens a savepoint only to write, so take the write lock now (waiting up to busy_timeout):
    # a deferred transaction that read first and then tried to write would fail at once with
    # "database is locked" whenever another connection had written in between.
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": 10, "check_same_thread": False},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


class Database:
    """A engine plus a session factory; `with db.session() as s:` commits on success."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
        if session.info.pop(SCRUB_WAL, False):
            self.scrub_wal()

    def scrub_wal(self) -> None:
        """After a week closes, leave no copy of its secret behind.

        SQLite: copy the write-ahead log into the database file and truncate it (best effort:
        waits up to the busy timeout for readers). PostgreSQL: rewrite the tiny UNLOGGED
        `week_secrets` table so the deleted secret's old row version is gone from its pages;
        if it is busy, the hourly housekeeping scrub does it instead.
        """
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                conn.exec_driver_sql("SET lock_timeout = '2s'")
                conn.exec_driver_sql("VACUUM FULL week_secrets")
            except OperationalError:
                log.info("week_secrets is busy; the hourly scrub will rewrite it")
            finally:
                conn.exec_driver_sql("RESET lock_timeout")

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()
