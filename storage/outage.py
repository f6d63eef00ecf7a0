"""Saying that the database has gone away: one clear line a minute, never a traceback per
request or per job, and one line when it answers again.

While PostgreSQL restarts or fails over (or a SQLite file stays locked), every request and every
scheduled job that needs the database fails the same way. Logging each one with its traceback
would bury the one fact an operator needs — "the database is not answering, since when" — so
the failures are counted and said once a minute instead.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("securebase.database")

SAY_EVERY_SECONDS = 60.0


def is_unreachable(error: BaseException) -> bool:
    """Could the driver not talk to the database, or not in time (refused, dropped, timed
    out, locked)? Those pass once the database is back; anything else is a bug to show."""
    # SQLite's own error comes through bare when it is raised taking the write lock (db.py's
    # savepoint hook) rather than inside a statement SQLAlchemy wraps.
    if isinstance(error, OperationalError | InterfaceError | sqlite3.OperationalError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _reason(error: BaseException) -> str:
    """The driver's first line (no statement, no parameters), short enough for one log line."""
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return first[:160]


class OutageLog:
    """Counts what failed while the database was away and says so at most once a minute."""

    def __init__(
        self,
        every: float = SAY_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None
        self._said: float = 0.0
        self._unsaid = 0

    def failed(self, error: BaseException, doing: str) -> None:
        """`doing` (a job's or a request's name) could not reach the database."""
        with self._lock:
            now = self.clock()
            if self._since is None:
                self._since = now
            elif now - self._said < self.every:
                self._unsaid += 1
                return
            seconds = int(now - self._since)
            unsaid, self._said, self._unsaid = self._unsaid, now, 0
        also = f"; {unsaid} more attempts failed since the last line" if unsaid else ""
        log.warning(
            "the database is not answering (%s) while %s: down for %d s%s; requests are told to "
            "try again, scheduled work catches up when it is back",
            _reason(error),
            doing,
            seconds,
            also,
        )

    def answered(self) -> None:
        """The database answered: if it had been away, say for how long."""
        with self._lock:
            if self._since is None:
                return
            seconds = int(self.clock() - self._since)
            self._since, self._unsaid = None, 0
        log.warning("the database is answering again after %d s", seconds)
