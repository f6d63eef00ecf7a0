"""Skipped weeks (holidays) and the ledger entries that keep the weekly job quiet in them.

A skipped week's deliveries are entered in the ledger ahead of time with status `skipped`, so the
weekly job's claim finds them taken and posts nothing. Un-skipping removes only those entries,
never a delivery that really happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import deliveries
from storage.deliveries import DeliveryKey, DeliveryKind, DeliveryStatus
from storage.models import Delivery, SkippedWeek

HELD_BY = "skipped week"

Entry = tuple[DeliveryKind, str]  # (kind, recipient) of a delivery


def skipped_weeks(session: Session, team_id: int, first: int, last: int) -> set[int]:
    return set(
        session.scalars(
            select(SkippedWeek.week_index).where(
                SkippedWeek.team_id == team_id, SkippedWeek.week_index.between(first, last)
            )
        )
    )


def is_skipped(session: Session, team_id: int, week_index: int) -> bool:
    return session.get(SkippedWeek, (team_id, week_index)) is not None


def set_skipped(
    session: Session,
    team_id: int,
    offered: Iterable[int],
    chosen: Iterable[int],
    entries: Sequence[Entry],
    now: datetime,
) -> None:
    """Make exactly `chosen` (among `offered`) skipped, holding or releasing each week's
    deliveries `entries` in the ledger to match."""
    picked = set(chosen)
    for week in offered:
        if week in picked:
            if not is_skipped(session, team_id, week):
                session.add(SkippedWeek(team_id=team_id, week_index=week))
                session.flush()
            hold(session, team_id, week, entries, now)
            continue
        session.execute(
            delete(SkippedWeek).where(
                SkippedWeek.team_id == team_id, SkippedWeek.week_index == week
            )
        )
        session.execute(
            delete(Delivery).where(
                Delivery.team_id == team_id,
                Delivery.week_index == week,
                Delivery.status == DeliveryStatus.SKIPPED,
            )
        )


def hold_skipped_from(
    session: Session, team_id: int, first_week: int, entries: Sequence[Entry], now: datetime
) -> None:
    """Hold `entries` in every skipped week from `first_week` on (e.g. for a new supervisor)."""
    weeks = session.scalars(
        select(SkippedWeek.week_index).where(
            SkippedWeek.team_id == team_id, SkippedWeek.week_index >= first_week
        )
    ).all()
    for week in weeks:
        hold(session, team_id, week, entries, now)


def hold(
    session: Session, team_id: int, week_index: int, entries: Sequence[Entry], now: datetime
) -> None:
    """Enter each delivery as skipped unless the ledger already has it (sent, claimed at this
    very moment by the weekly job, or held already)."""
    for kind, recipient in entries:
        deliveries.enter(
            session,
            DeliveryKey(team_id, week_index, kind, recipient),
            status=DeliveryStatus.SKIPPED,
            worker=HELD_BY,
            now=now,
        )
