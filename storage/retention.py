"""How long data is kept, and how it is erased so that it is really gone.

Answers are kept for SECUREBASE_RETENTION_WEEKS (default 104) and then purged by the hourly
housekeeping job (scheduler.housekeeping), a whole reporting block at a time (see
practice.blocks): a block goes, with its weeks' answers, comments, ledger entries and days off,
as soon as its first week is past the limit. The view log goes by the age of each look.
`securebase team forget` erases one team's data at once.

Deleting a row is not enough on its own. PostgreSQL keeps the old version of every updated or
deleted row in the table's pages until VACUUM, where anyone with superuser access can still
read it (pageinspect). A closed week's old rows in the open-week tables (its wrapped secret,
roster keys and sealed answers) link nobody without the operator's key, but someone who also
holds the key could use them, so they are rewritten as soon as a week closes
(Database.scrub_wal) and again every hour with `team_weeks` (VACUUM FULL: small tables), and
the rest is vacuumed. SQLite zeroes deleted content itself (secure_delete); `scrub` empties its
write-ahead log, which still holds old pages.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Delete, Table, delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from practice.blocks import first_kept_week
from storage.db import OPEN_WEEK_TABLES, Database
from storage.models import Base, Delivery, PulseView, Team, TeamWeek, WeekOff
from storage.team_weeks import current_week

log = logging.getLogger(__name__)

# One replica at a time rewrites the tables (any fixed number, shared by every replica).
SCRUB_LOCK = 72737002
# Never queue check-ins behind the rewrite for long: skip this hour if a lock is not free.
SCRUB_LOCK_TIMEOUT = "5s"


def _count(session: Session, statement: Delete) -> int:
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def _erase(
    session: Session, table: Table, where: ColumnElement[bool], counts: Counter[str]
) -> None:
    """Delete `table`'s rows matching `where`, and first every row of every table that refers
    to them, however deep. Explicit, rather than trusting every deployment to have foreign-key
    cascades on; found from the models, so a table added later is erased too."""
    for child in Base.metadata.sorted_tables:
        for key in child.foreign_keys:
            if key.column.table is table:
                _erase(session, child, key.parent.in_(select(key.column).where(where)), counts)
    counts[table.name] += _count(session, delete(table).where(where))


def _referring(table: Table) -> list[str]:
    """`table` and every table whose rows hang off it through foreign keys."""
    names = [table.name]
    for child in Base.metadata.sorted_tables:
        if any(key.column.table is table for key in child.foreign_keys):
            names += [name for name in _referring(child) if name not in names]
    return names


def _erase_weeks(session: Session, where: ColumnElement[bool]) -> int:
    counts: Counter[str] = Counter()
    _erase(session, Base.metadata.tables[TeamWeek.__tablename__], where, counts)
    return counts[TeamWeek.__tablename__]


def purge_older_than(session: Session, weeks: int, now: datetime) -> int:
    """Delete every reporting block whose first week is older than `weeks` (all its team-weeks
    with their answers and comments, its delivery records and days off), and every view-log
    entry older than `weeks`; returns the number of team-weeks deleted."""
    removed = sum(purge_team(session, team, weeks, now) for team in session.scalars(select(Team)))
    purge_views(session, weeks, now)
    return removed


def purge_team(session: Session, team: Team, weeks: int, now: datetime) -> int:
    """`purge_older_than` for one team's weeks, deliveries and days off (not the view log)."""
    kept = first_kept_week(current_week(team, now).index, team.pool_weeks, weeks)
    removed = _erase_weeks(session, (TeamWeek.team_id == team.id) & (TeamWeek.week_index < kept))
    for table in (Delivery, WeekOff):
        session.execute(delete(table).where(table.team_id == team.id, table.week_index < kept))
    return removed


def purge_views(session: Session, weeks: int, now: datetime) -> None:
    """Every view-log entry older than `weeks`, whichever team it was about."""
    session.execute(delete(PulseView).where(PulseView.viewed_at < now - timedelta(weeks=weeks)))


def forget_team(session: Session, team_id: int) -> Counter[str]:
    """Erase a team and everything stored about it (weeks, answers, comments, deliveries, the
    view log, its supervisors...); returns how many rows went from each table."""
    counts: Counter[str] = Counter()
    _erase(session, Base.metadata.tables[Team.__tablename__], Team.id == team_id, counts)
    return counts


def scrub(db: Database, *, everything: bool = False) -> bool:
    """Make deleted and overwritten rows unrecoverable from the database's own files.

    `everything` rewrites every table that holds team data (after `forget_team`); otherwise
    only `week_secrets` and `team_weeks`, where old row versions could keep closed weeks'
    secrets. Returns False when PostgreSQL was busy (another replica scrubbing, or a lock not
    free in time): the next hour tries again.
    """
    if not db.is_postgres:
        db.scrub_wal()
        return True
    team_data = _referring(Base.metadata.tables[Team.__tablename__])
    rewrite = team_data if everything else [*OPEN_WEEK_TABLES, TeamWeek.__tablename__]
    rest = [name for name in team_data if name not in rewrite]
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(select(func.pg_try_advisory_lock(SCRUB_LOCK))):
            log.info("another replica is scrubbing old row versions")
            return False
        try:
            conn.exec_driver_sql("SET statement_timeout = 0")  # big tables take their time
            conn.exec_driver_sql(f"SET lock_timeout = '{SCRUB_LOCK_TIMEOUT}'")
            conn.exec_driver_sql(f"VACUUM FULL {', '.join(rewrite)}")
            if rest:
                conn.exec_driver_sql(f"VACUUM {', '.join(rest)}")
        except OperationalError as error:  # lock_timeout: busy now, fine next hour
            log.warning("scrubbing old row versions was put off: %s", type(error.orig).__name__)
            return False
        finally:
            conn.exec_driver_sql("RESET statement_timeout")
            conn.exec_driver_sql("RESET lock_timeout")
            conn.scalar(select(func.pg_advisory_unlock(SCRUB_LOCK)))
    return True
