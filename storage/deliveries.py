"""The delivery ledger: a unique row per (team, week, kind, recipient) is claimed before posting.

A claim is committed before the Slack call, so two replicas can never both post. A claim whose
holder died before marking it sent (or failed) can be taken over once its lease has run out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Delivery

LEASE = timedelta(minutes=2)

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"
# Not made yet, and why (a transient Slack error code, never anything about a person): the next
# sweep may claim it as if it were not there.
WAITING = "waiting"


def _row(team_id: int, week_index: int, kind: str, recipient: str) -> ColumnElement[bool]:
    """The one ledger row of a delivery (its unique key)."""
    return and_(
        Delivery.team_id == team_id,
        Delivery.week_index == week_index,
        Delivery.kind == kind,
        Delivery.recipient == recipient,
    )


def enter(
    session: Session,
    *,
    team_id: int,
    week_index: int,
    kind: str,
    recipient: str,
    status: str,
    worker: str,
    now: datetime,
) -> bool:
    """Add the ledger row for a delivery; False when one is there already (the unique key)."""
    try:
        with session.begin_nested():
            session.add(
                Delivery(
                    team_id=team_id,
                    week_index=week_index,
                    kind=kind,
                    recipient=recipient,
                    status=status,
                    claimed_at=now,
                    claimed_by=worker,
                    attempts=1 if status == CLAIMED else 0,
                )
            )
    except IntegrityError:
        return False
    return True


def claim(
    session: Session,
    *,
    team_id: int,
    week_index: int,
    kind: str,
    recipient: str,
    worker: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> bool:
    """True when this worker now owns the delivery and should make it."""
    if enter(
        session,
        team_id=team_id,
        week_index=week_index,
        kind=kind,
        recipient=recipient,
        status=CLAIMED,
        worker=worker,
        now=now,
    ):
        return True
    existing = session.scalars(
        select(Delivery).where(
            _row(team_id, week_index, kind, recipient),
        )
    ).one()
    if existing.status == WAITING:
        return _take(session, existing, WAITING, worker, now)
    if existing.status != CLAIMED or existing.claimed_at > now - lease:
        return False
    return _take(session, existing, CLAIMED, worker, now)


def _take(session: Session, existing: Delivery, status: str, worker: str, now: datetime) -> bool:
    # Compare-and-set on the old claim, so only one replica takes over a stale lease.
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == existing.id,
            Delivery.status == status,
            Delivery.claimed_at == existing.claimed_at,
        )
        .values(status=CLAIMED, claimed_at=now, claimed_by=worker, attempts=existing.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0) == 1)


def finish(
    session: Session,
    *,
    team_id: int,
    week_index: int,
    kind: str,
    recipient: str,
    worker: str,
    slack_ts: str | None = None,
    error: str | None = None,
) -> None:
    """Mark the delivery sent (or failed for good). Only the claim's holder can: a worker whose
    lease was taken over while it stalled changes nothing."""
    session.execute(
        update(Delivery)
        .where(
            Delivery.claimed_by == worker,
            _row(team_id, week_index, kind, recipient),
        )
        .values(status=FAILED if error else SENT, slack_ts=slack_ts, error=error)
        .execution_options(synchronize_session=False)
    )


def settled(session: Session, *, team_id: int, week_index: int, kind: str, recipient: str) -> bool:
    """The delivery was made, or failed for good: nothing more to try."""
    status = session.scalar(
        select(Delivery.status).where(
            _row(team_id, week_index, kind, recipient),
        )
    )
    return status in (SENT, FAILED)


def wait(
    session: Session,
    *,
    team_id: int,
    week_index: int,
    kind: str,
    recipient: str,
    worker: str,
    now: datetime,
    reason: str,
) -> None:
    """Note that a delivery is due but waits, and why (a Slack error code), for `team list`.
    Changes nothing once the delivery is claimed, made or failed for good."""
    enter(
        session,
        team_id=team_id,
        week_index=week_index,
        kind=kind,
        recipient=recipient,
        status=WAITING,
        worker=worker,
        now=now,
    )
    session.execute(
        update(Delivery)
        .where(
            _row(team_id, week_index, kind, recipient),
            Delivery.status == WAITING,
        )
        .values(error=reason)
        .execution_options(synchronize_session=False)
    )


def last_error(session: Session, team_id: int) -> str | None:
    """The newest permanent failure for a team, for `securebase team list`."""
    return session.scalar(
        select(Delivery.error)
        .where(Delivery.team_id == team_id, Delivery.status == FAILED)
        .order_by(Delivery.week_index.desc(), Delivery.id.desc())
        .limit(1)
    )


def waiting_since(
    session: Session, team_id: int, week_index: int, kind: str
) -> tuple[datetime, str] | None:
    """When this week's `kind` delivery first had to wait, and why; None if it is not waiting."""
    found = session.execute(
        select(Delivery.claimed_at, Delivery.error).where(
            Delivery.team_id == team_id,
            Delivery.week_index == week_index,
            Delivery.kind == kind,
            Delivery.status == WAITING,
        )
    ).first()
    return None if found is None else (found.claimed_at, found.error or "")


def release(
    session: Session, *, team_id: int, week_index: int, kind: str, recipient: str, worker: str
) -> None:
    """Give a claim back after a transient failure, so the next sweep tries again (only the
    claim's holder can)."""
    session.execute(
        delete(Delivery).where(
            Delivery.claimed_by == worker,
            _row(team_id, week_index, kind, recipient),
            Delivery.status == CLAIMED,
        )
    )
