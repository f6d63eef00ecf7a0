"""A team's weeks off, and the ledger entries that keep the weekly job quiet in them.

A week off's deliveries (the channel prompt and each supervisor's reflections) are entered in
the ledger ahead of time with status WEEK_OFF, so the weekly job's claim finds them taken and
posts nothing. Taking a week off back removes only those entries, never a delivery that really
happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import deliveries
from storage.deliveries import DeliveryKey, DeliveryKind, DeliveryStatus
from storage.models import Delivery, Team, WeekOff

HELD_BY = "week off"

Entry = tuple[DeliveryKind, str]  # (kind, recipient) of a delivery


def held_deliveries(team: Team) -> list[Entry]:
    """What a week off holds back: the channel prompt and each supervisor's reflections."""
    return [
        (DeliveryKind.PROMPT, team.channel_id),
        *((DeliveryKind.REFLECTIONS, s.user_id) for s in team.supervisors),
    ]


def weeks_off_between(session: Session, team_id: int, first: int, last: int) -> set[int]:
    return set(
        session.scalars(
            select(WeekOff.week_index).where(
                WeekOff.team_id == team_id, WeekOff.week_index.between(first, last)
            )
        )
    )


def is_week_off(session: Session, team_id: int, week_index: int) -> bool:
    return session.get(WeekOff, (team_id, week_index)) is not None


def set_weeks_off(
    session: Session,
    team_id: int,
    offered: Iterable[int],
    chosen: Iterable[int],
    entries: Sequence[Entry],
    now: datetime,
) -> None:
    """Make exactly `chosen` (among `offered`) weeks off, holding or releasing each week's
    deliveries `entries` in the ledger to match."""
    picked = set(chosen)
    for week in offered:
        if week in picked:
            if not is_week_off(session, team_id, week):
                session.add(WeekOff(team_id=team_id, week_index=week))
                session.flush()
            hold(session, team_id, week, entries, now)
            continue
        session.execute(
            delete(WeekOff).where(WeekOff.team_id == team_id, WeekOff.week_index == week)
        )
        session.execute(
            delete(Delivery).where(
                Delivery.team_id == team_id,
                Delivery.week_index == week,
                Delivery.status == DeliveryStatus.WEEK_OFF,
            )
        )


def hold_weeks_off_from(
    session: Session, team_id: int, first_week: int, entries: Sequence[Entry], now: datetime
) -> None:
    """Hold `entries` in every week off from `first_week` on (e.g. for a new supervisor)."""
    weeks = session.scalars(
        select(WeekOff.week_index).where(
            WeekOff.team_id == team_id, WeekOff.week_index >= first_week
        )
    ).all()
    for week in weeks:
        hold(session, team_id, week, entries, now)


def hold(
    session: Session, team_id: int, week_index: int, entries: Sequence[Entry], now: datetime
) -> None:
    """Enter each delivery as held by a week off unless the ledger already has it (sent,
    claimed at this very moment by the weekly job, or held already)."""
    for kind, recipient in entries:
        deliveries.enter(
            session,
            DeliveryKey(team_id, week_index, kind, recipient),
            status=DeliveryStatus.WEEK_OFF,
            worker=HELD_BY,
            now=now,
        )
