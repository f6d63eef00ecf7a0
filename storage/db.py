"""Engine and sessions for SQLite (single host) and PostgreSQL (scale-out)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from practice.keys import HOW_TO_MAKE, KeyProblem, Keyring
from storage.outage import OutageLog

log = logging.getLogger(__name__)

# Set in `session.info` by code that destroys linking data (closing a week), so that once the
# transaction commits, SQLite's write-ahead log — which still holds the old pages, wrapped secret
# and respondent keys included — is checkpointed and truncated.
SCRUB_WAL = "securebase_scrub_wal"
# Tables that hold an open week's linking data, rewritten after a close on PostgreSQL (small:
# open weeks only) so that no old row version stays in their pages.
OPEN_WEEK_TABLES = ("week_keys", "roster_entries", "sealed_answers")
# A check-in is stored inside Slack's acknowledgement: connect, wait for a lock and run each
# statement within this many seconds, or give up and say so.
QUICK_BUDGET_SECONDS = 2.0
# How long an ordinary SQLite statement waits for the one writer's lock.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# PostgreSQL, for everything but the check-in's quick engine: waiting for a pooled connection,
# connecting, waiting for a row or table lock, and any one statement (the scheduler's and
# housekeeping's work is small; a stuck statement must not hold a sweep for ever). Migrations
# and the hourly rewrite of old row versions lift the last two (`without_time_limits`).
POOL_WAIT_SECONDS = 10
CONNECT_SECONDS = 5
LOCK_SECONDS = 30
STATEMENT_SECONDS = 300


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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


def make_engine(url: str, budget: float | None = None) -> Engine:
    """An engine; with `budget` (seconds), one whose every wait — pool, connect, lock,
    statement — gives up after that long."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": budget or 10, "check_same_thread": False},
            hide_parameters=True,
            **({"pool_timeout": budget} if budget else {}),
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "savepoint", _begin_before_savepoint)
        if budget:
            millis = int(budget * 1000)
            event.listen(
                engine,
                "connect",
                lambda dbapi, _record: dbapi.execute(f"PRAGMA busy_timeout={millis}"),
            )
        return engine
    if budget is None:
        return create_engine(
            url,
            pool_pre_ping=True,  # a connection the database dropped is replaced, not used
            pool_size=10,
            max_overflow=20,
            pool_timeout=POOL_WAIT_SECONDS,
            hide_parameters=True,
            connect_args={
                "connect_timeout": CONNECT_SECONDS,
                # A database that vanished without closing the connection (a dead host, a cut
                # network) is noticed within about a minute instead of never.
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
                "options": _with_options(
                    parsed.query.get("options"),
                    f"-c statement_timeout={STATEMENT_SECONDS * 1000}"
                    f" -c lock_timeout={LOCK_SECONDS * 1000}",
                ),
            },
        )
    millis = int(budget * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=budget,
        hide_parameters=True,
        connect_args={
            "connect_timeout": max(1, int(budget)),
            "options": _with_options(
                parsed.query.get("options"),
                f"-c statement_timeout={millis} -c lock_timeout={millis}",
            ),
        },
    )


def _with_options(existing: str | tuple[str, ...] | None, extra: str) -> str:
    """libpq `options`, keeping any the URL already sets (a test's search_path, say)."""
    if isinstance(existing, tuple):
        existing = " ".join(existing)
    return f"{existing} {extra}" if existing else extra


@contextmanager
def without_time_limits(connection: Connection) -> Iterator[None]:
    """Lift the statement and lock timeouts on this connection while the block runs
    (PostgreSQL): for migrations, which may rewrite big tables or wait for another replica's,
    and for VACUUM FULL. The pooled connection gets its usual limits back afterwards."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql("SET statement_timeout = 0")
    connection.exec_driver_sql("SET lock_timeout = 0")
    try:
        yield
    finally:
        connection.exec_driver_sql("RESET statement_timeout")
        connection.exec_driver_sql("RESET lock_timeout")


KEYRING = "securebase_keyring"


def keyring_of(session: Session) -> Keyring:
    """The operator's key, which `Database` hands to each of its sessions (never stored)."""
    keyring = session.info.get(KEYRING)
    if not isinstance(keyring, Keyring):
        raise KeyProblem(f"SECUREBASE_SECRET_KEY is not set: {HOW_TO_MAKE} and put it in .env")
    return keyring


class Database:
    """An engine plus a session factory; `with db.session() as s:` commits on success.

    `keyring` is the operator's key (never stored in the database), which opens and closes
    weeks; without it the database can still be migrated (when no week is open) and read.
    """

    def __init__(self, url: str, keyring: Keyring | None = None) -> None:
        self.url = url
        self._keyring = keyring
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._quick_engine: Engine | None = None
        # A close whose SQLite write-ahead log could not yet be emptied (a reader held it):
        # retried by every sweep until it succeeds, never silently given up.
        self.scrub_pending = False
        # While the database is away: one line a minute instead of a traceback per request.
        self.outage = OutageLog()

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            raise KeyProblem(f"SECUREBASE_SECRET_KEY is not set: {HOW_TO_MAKE} and put it in .env")
        return self._keyring

    @property
    def has_keyring(self) -> bool:
        return self._keyring is not None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            session.info[KEYRING] = self._keyring
            yield session
        if session.info.pop(SCRUB_WAL, False):
            self.scrub_wal()

    def retry_scrub(self) -> None:
        """Called by every sweep: finish a close whose scrub a reader held up."""
        if self.scrub_pending:
            self.scrub_wal()

    @contextmanager
    def quick_session(self, budget: float = QUICK_BUDGET_SECONDS) -> Iterator[Session]:
        """A session on an engine whose every wait gives up within `budget` seconds (pool,
        connect, lock, statement), for writes made inside Slack's acknowledgement."""
        if self._quick_engine is None:
            self._quick_engine = make_engine(self.url, budget)
        with Session(self._quick_engine, expire_on_commit=False) as session, session.begin():
            session.info[KEYRING] = self._keyring
            yield session
        if session.info.pop(SCRUB_WAL, False):
            self.scrub_wal()

    def scrub_wal(self) -> bool:
        """After a week closes, leave no copy of its linking data behind; True when done.

        SQLite: copy the write-ahead log into the database file (where secure_delete has zeroed
        the deleted rows) and truncate it. A reader holding an old snapshot (a backup tool, say)
        blocks that: it is then retried by every sweep (`retry_scrub`), with a warning, until
        it succeeds. PostgreSQL: rewrite the small open-week tables so no deleted row version
        stays in their pages; if they are busy, the hourly housekeeping scrub does it instead.
        """
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as connection:
                busy, _frames, _copied = connection.execute(
                    text("PRAGMA wal_checkpoint(TRUNCATE)")
                ).one()
            self.scrub_pending = bool(busy)
            if busy:
                log.warning(
                    "a closed week's old pages are still in the SQLite write-ahead log: another "
                    "connection is holding a read; retrying at the next sweep"
                )
            return not busy
        self.scrub_pending = False
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            try:
                conn.exec_driver_sql("SET lock_timeout = '2s'")
                conn.exec_driver_sql(f"VACUUM FULL {', '.join(OPEN_WEEK_TABLES)}")
            except OperationalError:
                log.info("the open-week tables are busy; the hourly scrub will rewrite them")
                return False
            finally:
                conn.exec_driver_sql("RESET lock_timeout")
        return True

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()
        if self._quick_engine is not None:
            self._quick_engine.dispose()
