"""The delivery ledger: a unique row per (team, week, kind, recipient) is claimed before posting.

A claim is committed before the Slack call, so two replicas can never both post. A claim whose
holder died before marking it sent (or failed) can be taken over once its lease has run out.
The one sequence that uses these rows (claim, send, then finish or release) is
`practice.delivery.Ledger.deliver_once`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Delivery

LEASE = timedelta(minutes=2)


class DeliveryKind(StrEnum):
    """What is delivered (the values are the ledger's `kind` column)."""

    PROMPT = "channel_prompt"  # the weekly prompt in the team channel
    REFLECTIONS = "supervisor_dm"  # a supervisor's weekly reflective questions, by DM
    REMINDER = "checkin_reminder"  # a member's midweek reminder (recipient: a sealed key)
    SHARED = "shared_summary"  # a finished period's figures, shared with the channel


class DeliveryStatus(StrEnum):
    """Where a delivery stands (the values are the ledger's `status` column)."""

    CLAIMED = "claimed"  # a worker is making it now (until its lease runs out)
    SENT = "sent"
    FAILED = "failed"  # refused for good; `error` says why, for `team list`
    # Not made yet, and why (a transient Slack error code, never anything about a person): the
    # next sweep may claim it as if it were not there.
    WAITING = "waiting"
    WEEK_OFF = "skipped"  # held back by a week off (storage.weeks_off); stored value kept


SETTLED = (DeliveryStatus.SENT, DeliveryStatus.FAILED)


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """The ledger's unique key of one delivery. `week_index` is the team-week's index (a shared
    period's first week); `recipient` a channel id, a supervisor's user id, or, for a reminder,
    a key only the week's secret can make (never a member's id)."""

    team_id: int
    week_index: int
    kind: DeliveryKind
    recipient: str


def _row(key: DeliveryKey) -> ColumnElement[bool]:
    """The one ledger row of a delivery (its unique key)."""
    return and_(
        Delivery.team_id == key.team_id,
        Delivery.week_index == key.week_index,
        Delivery.kind == key.kind,
        Delivery.recipient == key.recipient,
    )


def enter(
    session: Session, key: DeliveryKey, *, status: DeliveryStatus, worker: str, now: datetime
) -> bool:
    """Add the ledger row for a delivery; False when one is there already (the unique key).

    One statement that does nothing on a clash (both databases' ON CONFLICT DO NOTHING), rather
    than a savepoint and an IntegrityError: it runs once for every post a sweep makes."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    entered = session.execute(
        insert(Delivery)
        .values(
            team_id=key.team_id,
            week_index=key.week_index,
            kind=key.kind,
            recipient=key.recipient,
            status=status,
            claimed_at=now,
            claimed_by=worker,
            attempts=1 if status == DeliveryStatus.CLAIMED else 0,
        )
        .on_conflict_do_nothing()
        .returning(Delivery.id)
    )
    return entered.first() is not None


def claim(
    session: Session, key: DeliveryKey, *, worker: str, now: datetime, lease: timedelta = LEASE
) -> bool:
    """True when this worker now owns the delivery and should make it."""
    if enter(session, key, status=DeliveryStatus.CLAIMED, worker=worker, now=now):
        return True
    existing = session.scalars(select(Delivery).where(_row(key))).one()
    if existing.status == DeliveryStatus.WAITING:
        return _take(session, existing, DeliveryStatus.WAITING, worker, now)
    if existing.status != DeliveryStatus.CLAIMED or existing.claimed_at > now - lease:
        return False
    return _take(session, existing, DeliveryStatus.CLAIMED, worker, now)


def _take(
    session: Session, existing: Delivery, status: DeliveryStatus, worker: str, now: datetime
) -> bool:
    # Compare-and-set on the old claim, so only one replica takes over a stale lease.
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == existing.id,
            Delivery.status == status,
            Delivery.claimed_at == existing.claimed_at,
        )
        .values(
            status=DeliveryStatus.CLAIMED,
            claimed_at=now,
            claimed_by=worker,
            attempts=existing.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


def finish(
    session: Session,
    key: DeliveryKey,
    *,
    worker: str,
    slack_ts: str | None = None,
    error: str | None = None,
) -> None:
    """Mark the delivery sent (or failed for good). Only the claim's holder can: a worker whose
    lease was taken over while it stalled changes nothing."""
    status = DeliveryStatus.FAILED if error else DeliveryStatus.SENT
    session.execute(
        update(Delivery)
        .where(Delivery.claimed_by == worker, _row(key))
        .values(status=status, slack_ts=slack_ts, error=error)
        .execution_options(synchronize_session=False)
    )


def settled(session: Session, key: DeliveryKey) -> bool:
    """The delivery was made, or failed for good: nothing more to try."""
    return session.scalar(select(Delivery.status).where(_row(key))) in SETTLED


def settled_of(session: Session, keys: Collection[DeliveryKey]) -> set[DeliveryKey]:
    """Which of `keys` are settled (made, or failed for good), in one statement."""
    if not keys:
        return set()
    rows = session.execute(
        select(Delivery.team_id, Delivery.week_index, Delivery.kind, Delivery.recipient).where(
            Delivery.team_id.in_({k.team_id for k in keys}),
            Delivery.week_index.in_({k.week_index for k in keys}),
            Delivery.kind.in_({k.kind for k in keys}),
            Delivery.status.in_(SETTLED),
        )
    )
    found = {DeliveryKey(t, w, DeliveryKind(k), r) for t, w, k, r in rows}
    return found & set(keys)


def wait(session: Session, key: DeliveryKey, *, worker: str, now: datetime, reason: str) -> None:
    """Note that a delivery is due but waits, and why (a Slack error code), for `team list`.
    Changes nothing once the delivery is claimed, made or failed for good."""
    enter(session, key, status=DeliveryStatus.WAITING, worker=worker, now=now)
    session.execute(
        update(Delivery)
        .where(_row(key), Delivery.status == DeliveryStatus.WAITING)
        .values(error=reason)
        .execution_options(synchronize_session=False)
    )


def last_error(session: Session, team_id: int) -> str | None:
    """The newest permanent failure for a team, for `securebase team list`."""
    return session.scalar(
        select(Delivery.error)
        .where(Delivery.team_id == team_id, Delivery.status == DeliveryStatus.FAILED)
        .order_by(Delivery.week_index.desc(), Delivery.id.desc())
        .limit(1)
    )


def waiting_since(
    session: Session, team_id: int, week_index: int, kind: DeliveryKind
) -> tuple[datetime, str] | None:
    """When this week's `kind` delivery first had to wait, and why; None if it is not waiting."""
    found = session.execute(
        select(Delivery.claimed_at, Delivery.error).where(
            Delivery.team_id == team_id,
            Delivery.week_index == week_index,
            Delivery.kind == kind,
            Delivery.status == DeliveryStatus.WAITING,
        )
    ).first()
    return None if found is None else (found.claimed_at, found.error or "")


def release(session: Session, key: DeliveryKey, *, worker: str) -> None:
    """Give a claim back after a transient failure, so the next sweep tries again (only the
    claim's holder can)."""
    session.execute(
        delete(Delivery).where(
            Delivery.claimed_by == worker, _row(key), Delivery.status == DeliveryStatus.CLAIMED
        )
    )
