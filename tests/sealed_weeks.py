"""Storage-level check-ins for tests: open a team's week as the weekly prompt does (with a
roster), then check in through the same use case as the modal's handler."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from practice.checkin import CheckinAnswers, CheckinResult, Refusal, check_in
from practice.rotation import Rotation
from practice.sealing import SealedValues
from storage.db import Database
from storage.models import RosterEntry, SealedAnswer, Team, TeamWeek
from storage.team_weeks import current_week, find_team_week, open_team_week, week_seal


def open_week(
    db: Database, team: Team, now: datetime, rotation: Rotation, roster: Iterable[str] = ()
) -> TeamWeek:
    """The team's week at `now`, opened (if it is not yet) with `roster`."""
    with db.session() as session:
        return open_team_week(session, team, current_week(team, now), rotation, list(roster))


def enrol(db: Database, team: Team, now: datetime, user: str) -> None:
    """Put `user` on the open week's roster (as if they had been in the channel at the prompt)."""
    with db.session() as session:
        period = find_team_week(session, team.id, current_week(team, now).index)
        assert period is not None, "open the week first"
        seal = week_seal(session, period)
        assert seal is not None, "the week has closed"
        key = seal.roster_key(team.workspace_id, user)
        if session.get(RosterEntry, (period.id, key)) is None:
            session.add(RosterEntry(period_id=period.id, member_key=key))
            period.member_count = (period.member_count or 0) + 1


def member_check_in(
    db: Database,
    team: Team,
    user: str,
    answers: CheckinAnswers,
    now: datetime,
    rotation: Rotation,
) -> CheckinResult:
    """Open the week if need be, put `user` on its roster, and check in for them."""
    period = open_week(db, team, now, rotation)
    enrol(db, team, now, user)
    result = check_in(db, team, period.week_index, user, answers, now)
    assert not isinstance(result, Refusal), result
    return result


def unsealed(db: Database, team: Team, now: datetime) -> list[SealedValues]:
    """The open week's check-ins, opened with the operator's key (which the test holds): what
    the close will write. Empty when the week is not open."""
    with db.session() as session:
        period = find_team_week(session, team.id, current_week(team, now).index)
        seal = None if period is None else week_seal(session, period)
        if period is None or seal is None:
            return []
        rows = session.execute(
            select(SealedAnswer.respondent_key, SealedAnswer.sealed).where(
                SealedAnswer.period_id == period.id
            )
        ).all()
        return [seal.open(row.respondent_key, row.sealed) for row in rows]
