"""Which operator key each open week is sealed under: checked at start, rotated, abandoned.

A process whose key opens none of the open weeks would silently lose their check-ins, so it
refuses to start instead. `SECUREBASE_SECRET_KEY_PREVIOUS` lets an operator move to a new key
(open weeks are re-wrapped on start); a lost key is given up only by an explicit command.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from practice.keys import KeyProblem
from storage.db import SCRUB_WAL, keyring_of
from storage.models import RosterEntry, SealedAnswer, TeamWeek, WeekKey


def rewrap_open_weeks(session: Session) -> int:
    """Re-wrap every open week sealed under the previous key with the current one; refuse
    (KeyProblem) if any is sealed under a key this process does not have. Returns how many
    were re-wrapped."""
    keyring = keyring_of(session)
    rows = session.scalars(select(WeekKey).with_for_update()).all()
    unknown = [row for row in rows if keyring.by_id(row.key_id) is None]
    if unknown:
        raise KeyProblem(
            f"{len(unknown)} open week(s) are sealed under a key this process does not have "
            f"(key id {unknown[0].key_id}): set SECUREBASE_SECRET_KEY to that key, or give "
            "those weeks up with `securebase keys abandon`"
        )
    moved = 0
    for row in rows:
        if row.key_id == keyring.current.key_id:
            continue
        old = keyring.by_id(row.key_id)
        assert old is not None  # every unknown key was refused above
        row.wrapped = keyring.current.wrap(old.unwrap(row.wrapped, row.period_id), row.period_id)
        row.key_id = keyring.current.key_id
        moved += 1
    if moved:
        session.info[SCRUB_WAL] = True  # the old wrapping is gone from SQLite's log too
    return moved


def unopenable_weeks(session: Session) -> list[int]:
    """Open weeks that no key of this process opens."""
    keyring = keyring_of(session)
    rows = session.execute(select(WeekKey.period_id, WeekKey.key_id)).all()
    return [row.period_id for row in rows if keyring.by_id(row.key_id) is None]


def abandon_weeks(session: Session, period_ids: list[int]) -> int:
    """Give up open weeks whose key is lost: their sealed check-ins cannot be read by anyone,
    so they are deleted and the weeks closed with no answers. Returns how many."""
    if not period_ids:
        return 0
    for table in (SealedAnswer, RosterEntry, WeekKey):
        session.execute(delete(table).where(table.period_id.in_(period_ids)))
    session.execute(update(TeamWeek).where(TeamWeek.id.in_(period_ids)).values(closed=True))
    session.info[SCRUB_WAL] = True
    return len(period_ids)
