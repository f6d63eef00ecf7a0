"""The small interfaces the scheduler's jobs post through; the one Slack implementation is
bot.messenger.SlackMessenger. Every method raises practice.delivery.DeliveryError when Slack
refuses, sorted by what can be done about it."""

from __future__ import annotations

from typing import Protocol

from storage.models import Team


class Messenger(Protocol):
    """What the weekly job needs."""

    def members(self, team: Team) -> list[str]:
        """People in the team's channel (not this bot, nor any other bot or app user)."""
        ...

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        """Post the weekly prompt in the team channel; returns the message ts."""
        ...

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        """DM a supervisor the week's reflective questions; returns the message ts."""
        ...


class ReminderMessenger(Protocol):
    """What the reminder sweep needs."""

    def members(self, team: Team) -> list[str]:
        """People in the team's channel (not this bot, nor any other bot or app user)."""
        ...

    def timezone_of(self, team: Team, user_id: str) -> str | None:
        """The person's IANA time zone; None when they cannot be reminded (an app, deactivated)."""
        ...

    def send_reminder(self, team: Team, user_id: str, domain: str) -> str:
        """DM the reminder; returns the message ts."""
        ...
