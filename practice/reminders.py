"""Whether someone wants check-in reminders (the sweep that sends them is scheduler.reminders).
Each person decides for themself, in every team of the workspace at once."""

from __future__ import annotations

from practice.context import Practice
from storage.reminders import set_reminders


def choose_reminders(practice: Practice, workspace: str, user: str, wanted: bool) -> None:
    """Turn `user`'s reminders on or off; doing it twice is harmless."""
    with practice.db.session() as session:
        set_reminders(session, workspace, user, wanted)
