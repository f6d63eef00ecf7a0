"""Answers are kept for a limited time (SECUREBASE_RETENTION_WEEKS, default 104)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Period, Team
from storage.periods import current_week


def purge_older_than(session: Session, weeks: int, now: datetime) -> int:
    """Delete every team-week (with its answers and comments) older than `weeks`."""
    removed = 0
    for team in session.scalars(select(Team)):
        cutoff = current_week(team, now).index - weeks
        result = session.execute(
            delete(Period).where(Period.team_id == team.id, Period.week_index < cutoff)
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
