"""Team-weeks: opened when the week's prompt goes out (secret wrapped, roster taken), closed
when the week ends (answers unsealed into keyless rows in a shuffled batch, every key and the
wrapped secret deleted).

The operator's key that wraps each week's secret is never stored: it reaches these functions
through the session (`storage.db.keyring_of`), put there by `Database`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from sqlalchemy import Integer, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from practice.keys import KeyProblem
from practice.rotation import Pick, Rotation
from practice.sealing import SealBroken, SealedValues, WeekSeal, new_week_secret
from practice.weeks import Week, week_containing
from storage.db import SCRUB_WAL, keyring_of
from storage.models import (
    Answer,
    Comment,
    RosterEntry,
    SealedAnswer,
    Team,
    TeamWeek,
    WeekKey,
    random_id,
)

log = logging.getLogger(__name__)


class TeamClock(Protocol):
    """What a team's week needs of it: its id and time zone (a row, or the application
    layer's TeamRef)."""

    @property
    def id(self) -> int: ...

    @property
    def timezone(self) -> str: ...


def current_week(team: TeamClock, now: datetime) -> Week:
    """The week containing `now` in the team's time zone, by the clock alone. Where a week may
    already be open, ask `current_team_week` instead."""
    return week_containing(now, team.timezone)


def current_team_week(session: Session, team: TeamClock, now: datetime) -> Week:
    """The team's current week: the one containing `now` in its time zone, but never one before
    a week already opened. Moving a team's time zone west can put "now" back in the previous
    week by the clock; the week already opened stays the current one (its check-ins, reminders
    and close go on as before) and no earlier week is opened or prompted behind it."""
    return _current(current_week(team, now), session.scalar(_newest_of(team.id)))


def _newest_of(team_id: int) -> Select[int]:
    return select(func.max(TeamWeek.week_index)).where(TeamWeek.team_id == team_id)


def _current(by_clock: Week, newest: int | None) -> Week:
    return Week(newest) if newest is not None and newest > by_clock.index else by_clock


def find_team_week(session: Session, team_id: int, week_index: int) -> TeamWeek | None:
    return session.scalars(
        select(TeamWeek).where(TeamWeek.team_id == team_id, TeamWeek.week_index == week_index)
    ).one_or_none()


def current_with_week(
    session: Session, team: TeamClock, now: datetime
) -> tuple[Week, TeamWeek | None]:
    """`current_team_week` and that week's row if it was opened, in one statement: the newest
    week opened at or after the week `now` is in by the clock is the current one."""
    by_clock = current_week(team, now)
    found = session.scalars(
        select(TeamWeek)
        .where(TeamWeek.team_id == team.id, TeamWeek.week_index >= by_clock.index)
        .order_by(TeamWeek.week_index.desc())
        .limit(1)
    ).first()
    return (by_clock, None) if found is None else (Week(found.week_index), found)


def week_and_current(
    session: Session, team: TeamClock, week_index: int, now: datetime
) -> tuple[TeamWeek, Week] | None:
    """The team's week `week_index` and, read with it in one statement, the team's current
    week (as `current_team_week` says); None when that week was never opened."""
    row = session.execute(
        select(TeamWeek, _newest_of(team.id).scalar_subquery()).where(
            TeamWeek.team_id == team.id, TeamWeek.week_index == week_index
        )
    ).one_or_none()
    if row is None:
        return None
    period, newest = row
    return period, _current(current_week(team, now), newest)


def rotation_start(session: Session, team: Team) -> int | None:
    """The week the team's rotation counts from, as stored now (the `team` given may be an
    object read before its first week opened); None until a week opens."""
    return session.scalar(select(Team.rotation_start).where(Team.id == team.id))


def _pick(team: Team, start: int | None, week: Week, rotation: Rotation) -> Pick:
    """A team none of whose weeks has opened yet (`start` None) starts its rotation with the
    first week that opens, at availability."""
    first = week.index if start is None else start
    return rotation.for_team(team.workspace_id, team.channel_id, week.index, first)


def rotation_pick(session: Session, team: Team, week: Week, rotation: Rotation) -> Pick:
    """What rotation chooses for the team in `week`."""
    return _pick(team, rotation_start(session, team), week, rotation)


def planned(session: Session, team: Team, week: Week, rotation: Rotation) -> tuple[str, int]:
    """The week's domain and prompt: the opened week's, else the one rotation will choose."""
    found = find_team_week(session, team.id, week.index)
    if found is not None:
        return found.domain, found.prompt_index
    chosen = rotation_pick(session, team, week, rotation)
    return chosen.domain, chosen.prompt_index


def plan_of(found: TeamWeek | None, team: Team, week: Week, rotation: Rotation) -> tuple[str, int]:
    """`planned`, for a caller that has already looked the week up (`found`) with `team` read
    in that same session."""
    if found is not None:
        return found.domain, found.prompt_index
    chosen = _pick(team, team.rotation_start, week, rotation)
    return chosen.domain, chosen.prompt_index


def open_team_week(
    session: Session, team: Team, week: Week, rotation: Rotation, roster: Collection[str]
) -> TeamWeek:
    """The team's period for `week`, opened now if need be with `roster` (the Slack ids who may
    check in this week) kept only as HMACs under a new secret. Safe when replicas race."""
    found = find_team_week(session, team.id, week.index)
    if found is not None:
        return found
    keyring = keyring_of(session)
    chosen = rotation_pick(session, team, week, rotation)
    try:
        with session.begin_nested():
            # The team's first week: its rotation counts from here (replicas racing to open it
            # both write the same week).
            session.execute(
                update(Team)
                .where(Team.id == team.id, Team.rotation_start.is_(None))
                .values(rotation_start=week.index)
            )
            period = TeamWeek(
                team_id=team.id,
                week_index=week.index,
                domain=chosen.domain,
                prompt_index=chosen.prompt_index,
                member_count=len(set(roster)),
                closed=False,
                roster_known=True,
                items_version=rotation.items_version,
            )
            session.add(period)
            session.flush()
            secret = new_week_secret()
            seal = WeekSeal(secret, period.id)
            session.add(
                WeekKey(
                    period_id=period.id,
                    key_id=keyring.current.key_id,
                    wrapped=keyring.current.wrap(secret, period.id),
                )
            )
            keys = {seal.roster_key(team.workspace_id, user) for user in roster}
            if keys:
                session.execute(
                    insert(RosterEntry),
                    [{"period_id": period.id, "member_key": key} for key in sorted(keys)],
                )
    except IntegrityError:
        found = find_team_week(session, team.id, week.index)
        if found is None:  # pragma: no cover - the conflicting row must exist
            raise
        return found
    return period


def week_seal(session: Session, period: TeamWeek) -> WeekSeal | None:
    """The open week's secret, unwrapped with the operator's key; None once it has closed."""
    wrapped = session.get(WeekKey, period.id)
    if wrapped is None:
        return None
    key = keyring_of(session).by_id(wrapped.key_id)
    if key is None:
        raise KeyProblem(
            f"an open week was sealed under key {wrapped.key_id}, which this process does not "
            "have: set SECUREBASE_SECRET_KEY to that key"
        )
    return WeekSeal(key.unwrap(wrapped.wrapped, period.id), period.id)


def on_roster(
    session: Session, period: TeamWeek, seal: WeekSeal, workspace_id: str, user: str
) -> bool:
    key = seal.roster_key(workspace_id, user)
    found = session.get(RosterEntry, (period.id, key))
    return found is not None


def has_ended(week_index: int, tz: str, now: datetime) -> bool:
    """Whether the week has ended in time zone `tz` (an open one is then due to close)."""
    return Week(week_index).ends_at(tz) <= now


def _open_weeks(one_team: bool) -> Select[int, int, str]:
    """The open periods (of the team :team_id, or of all) with their team's time zone, through
    the partial index ix_team_weeks_open."""
    weeks, teams = TeamWeek.__table__.c, Team.__table__.c
    query = (
        select(weeks.id, weeks.week_index, teams.timezone)
        .join_from(TeamWeek.__table__, Team.__table__)
        .where(weeks.closed.is_(False))
    )
    if one_team:
        query = query.where(weeks.team_id == bindparam("team_id", type_=Integer))
    return query


# Every sweep asks (and /teampulse, when its own statement finds a week due), and the answer
# is mostly "none due": built once, they return plain rows; only a week due is loaded.
_OPEN_WEEKS_OF_TEAM, _OPEN_WEEKS = _open_weeks(one_team=True), _open_weeks(one_team=False)


def close_due_team_weeks(session: Session, now: datetime, team_id: int | None = None) -> int:
    """Close every open period (of one team, or of all) whose week has ended in its team's
    time zone."""
    if session.autoflush:
        session.flush()  # as a query through the ORM would: pending weeks count too
    if team_id is None:
        rows = session.execute(_OPEN_WEEKS).all()
    else:
        rows = session.execute(_OPEN_WEEKS_OF_TEAM, {"team_id": team_id}).all()
    closed = 0
    for period_id, week_index, tz in rows:
        if has_ended(week_index, tz, now):
            period = session.get(TeamWeek, period_id)
            if period is not None and close_team_week(session, period):
                closed += 1
    return closed


def close_team_week(session: Session, period: TeamWeek) -> bool:
    """Close `period`; False when another session (a replica, a /teampulse) already did."""
    with session.begin_nested():
        # Lock the period first (on SQLite the savepoint takes the write lock), so replicas
        # closing at once cannot each copy the answers, and a check-in cannot slip in between.
        still_open = session.scalar(
            select(TeamWeek.id)
            .where(TeamWeek.id == period.id, TeamWeek.closed.is_(False))
            .with_for_update()
        )
        if still_open is None:
            session.expire(period)
            return False
        _unseal_anonymously(session, period)
    return True


def _unseal_anonymously(session: Session, period: TeamWeek) -> None:
    """Open the week's sealed answers and write them as keyless rows with fresh random ids in
    one shuffled batch; then delete every sealed row, roster key and the wrapped secret."""
    seal = week_seal(session, period)
    sealed = session.execute(
        select(SealedAnswer.respondent_key, SealedAnswer.sealed).where(
            SealedAnswer.period_id == period.id
        )
    ).all()
    values: list[SealedValues] = []
    for row in sealed:
        try:
            if seal is None:
                raise SealBroken("the week has no secret")
            values.append(seal.open(row.respondent_key, row.sealed))
        except SealBroken as broken:
            # Never block the close (and every week after it) on one unreadable row: say so.
            log.error("closing a week: one sealed check-in could not be opened (%s)", broken)
    for table in (SealedAnswer, RosterEntry, WeekKey):
        session.execute(delete(table).where(table.period_id == period.id))
    shuffler = random.SystemRandom()
    shuffler.shuffle(values)
    comments = [v.comment for v in values if v.comment]
    shuffler.shuffle(comments)
    if values:
        session.execute(
            insert(Answer),
            [
                {
                    "id": random_id(),
                    "period_id": period.id,
                    "availability": v.availability,
                    "stress": v.stress,
                    "domain_item": v.domain_item,
                }
                for v in values
            ],
        )
    if comments:
        session.execute(
            insert(Comment),
            [{"id": random_id(), "period_id": period.id, "body": body} for body in comments],
        )
    period.closed = True
    session.flush()
    session.info[SCRUB_WAL] = True
