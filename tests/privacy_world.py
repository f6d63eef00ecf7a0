"""The privacy tests' view of the test world (`world.py`): the real bot over HTTP against
the Slack sandbox, one team, its members and supervisor, and a clock the test moves.

Everything here is read through Slack surfaces (signed requests, the sandbox's record of what
each person was shown), one string per thing shown, so the tests judge what a person could
actually see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from world import CHANNEL, SUPERVISOR, TEAM_NAME, TeamWorld, member, team_world, texts

from bot.sandboxed import WORKSPACE, wait_until
from practice.clock import ManualClock
from sandbox.state import Message


@dataclass(frozen=True)
class Shown:
    """One thing a person was shown: the fallback text and the blocks, as one string."""

    text: str
    blocks: list[dict[str, Any]]

    @property
    def everything(self) -> str:
        return self.text + "\n" + json.dumps(_without_block_ids(self.blocks), ensure_ascii=False)

    @property
    def settled(self) -> str:
        """`everything`, with quoted comments in sorted order: they are shuffled afresh each
        time they are shown, which is the point, so comparisons must not depend on it."""
        return self.text + "\n" + json.dumps(_settle(self.blocks), ensure_ascii=False)

    def __contains__(self, needle: str) -> bool:
        return needle in self.everything

    def lines(self) -> list[str]:
        """Every line of text in the blocks, in order."""
        return [line for text in texts(self.blocks) for line in text.split("\n")]


def _settle(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _sort_quotes(v) if k == "text" and isinstance(v, str) else _settle(v)
            for k, v in value.items()
            if k != "block_id"
        }
    if isinstance(value, list):
        return [_settle(v) for v in value]
    return value


def _sort_quotes(text: str) -> str:
    lines = text.split("\n")
    quotes = iter(sorted(line for line in lines if line.startswith("> ")))
    return "\n".join(next(quotes) if line.startswith("> ") else line for line in lines)


def _without_block_ids(value: Any) -> Any:
    """Block ids are random when the bot does not set them; they carry no content."""
    if isinstance(value, dict):
        return {k: _without_block_ids(v) for k, v in value.items() if k != "block_id"}
    if isinstance(value, list):
        return [_without_block_ids(v) for v in value]
    return value


def numbers_in(shown: Shown) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", shown.everything))


@dataclass
class World(TeamWorld):
    channel: str = CHANNEL
    supervisor: str = SUPERVISOR
    _asked: dict[str, int] = field(default_factory=dict)

    def command(self, user: str, command: str, text: str = "", channel: str | None = None) -> None:
        before = len(self.bot.sandbox.ephemerals(user))
        response = self.bot.driver.slash_command(user, channel or self.channel, command, text)
        assert response.status_code == 200, response.text
        self._asked[user] = before

    def replies(self, user: str, at_least: int = 1) -> list[Shown]:
        """The ephemeral replies `user` got since their last command (waits for `at_least`)."""
        before = self._asked[user]

        def new() -> list[Message]:
            replies = self.bot.sandbox.ephemerals(user)[before:]
            return replies if len(replies) >= at_least else []

        found = wait_until(new, what=f"{at_least} ephemeral repl(ies) to {user}")
        return [Shown(m.text, list(m.blocks or [])) for m in found]

    def pulse(self, user: str | None = None, text: str = "", channel: str | None = None) -> Shown:
        """`/teampulse` as `user` (the supervisor by default); the one reply."""
        who = user or self.supervisor
        self.command(who, "/teampulse", text, channel)
        [shown] = self.replies(who)
        return shown

    def home(self, user: str) -> Shown:
        """What `user` sees on the App Home tab, freshly opened."""

        def published() -> list[dict[str, Any]]:
            calls = self.bot.sandbox.calls("views.publish")
            return [c.params for c in calls if c.params.get("user_id") == user and c.ok]

        before = len(published())
        response = self.bot.driver.app_home_opened(user)
        assert response.status_code == 200, response.text
        wait_until(lambda: len(published()) > before, what=f"the App Home for {user}")
        view = self.bot.sandbox.home_view(user)
        assert view is not None
        return Shown("", list(view.get("blocks") or []))

    def everything_shown_to(self, user: str) -> str:
        """Every message, ephemeral, DM and view `user` has been shown, as one string."""
        sandbox = self.bot.sandbox
        parts = [Shown(m.text, list(m.blocks or [])).everything for m in sandbox.dms(user)]
        parts += [Shown(m.text, list(m.blocks or [])).everything for m in sandbox.ephemerals(user)]
        parts += [
            Shown(m.text, list(m.blocks or [])).everything for m in sandbox.timeline(self.channel)
        ]
        home = sandbox.home_view(user)
        if home is not None:
            parts.append(json.dumps(home.get("blocks") or []))
        parts += [json.dumps(v.get("blocks") or []) for v in sandbox.open_views(user)]
        return "\n".join(parts)


@contextmanager
def world(
    database_url: str,
    clock: ManualClock,
    members: int = 8,
    *,
    pool_weeks: int = 1,
    anonymity_min: int = 5,
    settings_env: dict[str, str] | None = None,
    restart: bool = False,
) -> Iterator[World]:
    """The bot, one team of `members` plus a supervisor, and this week's prompt posted.
    `restart`: the team is already in the database (a bot process starting again)."""
    with team_world(
        World,
        database_url,
        clock,
        members,
        pool_weeks=pool_weeks,
        anonymity_min=anonymity_min,
        settings_env=settings_env,
        restart=restart,
    ) as here:
        yield here


__all__ = [
    "CHANNEL",
    "SUPERVISOR",
    "TEAM_NAME",
    "WORKSPACE",
    "Shown",
    "World",
    "member",
    "numbers_in",
    "world",
]
