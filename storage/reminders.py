"""Check-in reminders: who asked not to be reminded, and the reminder ledger's keys.

The ledger (the `deliveries` table, kind DeliveryKind.REMINDER) never holds a Slack id. Its
recipient is an HMAC of the member under the week's secret, over a message of its own, so a ledger
row never shares a value with that person's answer. Closing the week destroys the secret; the sweep
then deletes the closed weeks' reminder rows too, so not even the time a reminder went out (which
would hint at someone's time zone) outlives the week.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.deliveries import DeliveryKind
from storage.models import Delivery, ReminderOptOut


def wants_reminders(session: Session, workspace_id: str, user_id: str) -> bool:
    found = session.get(ReminderOptOut, (workspace_id, user_id))
    return found is None


def opted_out_among(session: Session, workspace_id: str, user_ids: Iterable[str]) -> set[str]:
    wanted = list(user_ids)
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(ReminderOptOut.user_id).where(
                ReminderOptOut.workspace_id == workspace_id, ReminderOptOut.user_id.in_(wanted)
            )
        )
    )


def set_reminders(session: Session, workspace_id: str, user_id: str, wanted: bool) -> None:
    """Turn someone's reminders on or off; doing it twice is harmless."""
    if wanted:
        session.execute(
            delete(ReminderOptOut).where(
                ReminderOptOut.workspace_id == workspace_id, ReminderOptOut.user_id == user_id
            )
        )
        return
    if session.get(ReminderOptOut, (workspace_id, user_id)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(ReminderOptOut(workspace_id=workspace_id, user_id=user_id))
    except IntegrityError:
        pass  # a double click racing us: already off


def was_reminded(session: Session, team_id: int, week_index: int, key: str) -> bool:
    return (
        session.scalar(
            select(Delivery.id).where(
                Delivery.team_id == team_id,
                Delivery.week_index == week_index,
                Delivery.kind == DeliveryKind.REMINDER,
                Delivery.recipient == key,
            )
        )
        is not None
    )


def forget_past_reminders(session: Session, team_id: int, current_week_index: int) -> int:
    """Delete the reminder rows of the team's past weeks (their keys already mean nothing)."""
    result = session.execute(
        delete(Delivery).where(
            Delivery.team_id == team_id,
            Delivery.kind == DeliveryKind.REMINDER,
            Delivery.week_index < current_week_index,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
