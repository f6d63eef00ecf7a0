"""Team-weeks: created on first use, closed (secret destroyed, rows shuffled) when the week ends."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import SCRUB_WAL
from storage.models import Answer, Comment, Period, Team, new_week_secret, random_id
from storage.rotation import Rotation
from storage.weeks import Week, week_containing


def current_week(team: Team, now: datetime) -> Week:
    return week_containing(now, team.timezone)


def ensure_period(session: Session, team: Team, week: Week, rotation: Rotation) -> Period:
    """The team's period for `week`, created if need be. Safe when replicas race to create it."""
    found = _find(session, team.id, week.index)
    if found is not None:
        if not found.closed and found.secret is None:
            _renew_lost_secret(session, found)
        return found
    chosen = rotation.for_team(team.workspace_id, team.channel_id, week.index)
    period = Period(
        team_id=team.id,
        week_index=week.index,
        domain=chosen.domain,
        prompt_index=chosen.prompt_index,
        secret=new_week_secret(),
        closed=False,
    )
    try:
        with session.begin_nested():
            session.add(period)
    except IntegrityError:
        found = _find(session, team.id, week.index)
        if found is None:  # pragma: no cover - the conflicting row must exist
            raise
        return found
    return period


def _renew_lost_secret(session: Session, period: Period) -> None:
    """PostgreSQL empties the UNLOGGED `week_secrets` after a crash. The open week then gets a
    fresh secret: check-ins already made can no longer be replaced, only added to."""
    try:
        with session.begin_nested():
            period.secret = new_week_secret()
    except IntegrityError:  # another replica renewed it first
        session.refresh(period)


def _find(session: Session, team_id: int, week_index: int) -> Period | None:
    return session.scalars(
        select(Period).where(Period.team_id == team_id, Period.week_index == week_index)
    ).one_or_none()


def close_due_periods(session: Session, now: datetime, team_id: int | None = None) -> int:
    """Close every open period (of one team, or of all) whose week has ended in its team's
    time zone.

    Closing destroys the week's secret and every respondent key, then rewrites the week's
    answers and comments with fresh random ids in random order, so neither a key, an id, nor
    the order rows come back in can be traced to who answered or when.
    """
    query = select(Period, Team.timezone).join(Team).where(Period.closed.is_(False))
    if team_id is not None:
        query = query.where(Period.team_id == team_id)
    rows = session.execute(query).all()
    closed = 0
    for period, tz in rows:
        if Week(period.week_index).ends_at(tz) <= now and close_period(session, period):
            closed += 1
    return closed


def close_period(session: Session, period: Period) -> bool:
    """Close `period`; False when another session (a replica, a /teampulse) already did."""
    with session.begin_nested():
        # Lock the period first (on SQLite the savepoint takes the write lock), so replicas
        # closing at once cannot each copy the answers, and a check-in cannot slip in between.
        still_open = session.scalar(
            select(Period.id)
            .where(Period.id == period.id, Period.closed.is_(False))
            .with_for_update()
        )
        if still_open is None:
            session.expire(period)
            return False
        _rewrite_anonymously(session, period)
    return True


def _rewrite_anonymously(session: Session, period: Period) -> None:
    answers = session.execute(
        select(Answer.availability, Answer.stress, Answer.domain_item).where(
            Answer.period_id == period.id
        )
    ).all()
    comments = session.scalars(select(Comment.body).where(Comment.period_id == period.id)).all()
    session.execute(delete(Answer).where(Answer.period_id == period.id))
    session.execute(delete(Comment).where(Comment.period_id == period.id))
    shuffler = random.SystemRandom()
    shuffled_answers = list(answers)
    shuffler.shuffle(shuffled_answers)
    shuffled_comments = list(comments)
    shuffler.shuffle(shuffled_comments)
    session.add_all(
        Answer(
            id=random_id(),
            period_id=period.id,
            respondent_key=None,
            availability=row.availability,
            stress=row.stress,
            domain_item=row.domain_item,
        )
        for row in shuffled_answers
    )
    session.add_all(
        Comment(id=random_id(), period_id=period.id, respondent_key=None, body=body)
        for body in shuffled_comments
    )
    period.secret = None
    period.closed = True
    session.flush()
    session.info[SCRUB_WAL] = True
