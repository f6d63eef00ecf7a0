"""The small interface the scheduler posts through; the Slack implementation lives in bot/."""

from __future__ import annotations

from typing import Protocol

from storage.models import Team


class DeliveryError(Exception):
    """Posting failed. `permanent` errors (channel gone, bot removed, token revoked) are recorded
    once and not retried; others give the claim back for the next sweep."""

    def __init__(self, code: str, *, permanent: bool) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent


class Messenger(Protocol):
    def members(self, team: Team) -> list[str]:
        """People in the team's channel (not the bot)."""
        ...

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        """Post the weekly prompt in the team channel; returns the message ts."""
        ...

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        """DM a supervisor the week's reflective questions; returns the message ts."""
        ...
