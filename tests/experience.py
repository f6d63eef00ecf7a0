"""The supervisor-and-team experience tests' view of the test world (App Home, chart,
sharing, reminders, /securebase, signposting, export): what Slack was sent, as it was sent.
The world itself (people, team, checks on leaving) is `world.py`'s."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from world import (
    ADMIN,
    CHANNEL,
    OUTSIDER,
    SUPERVISOR,
    TEAM_NAME,
    TeamWorld,
    assert_fallback_text_everywhere,
    member,
    team_world,
    texts,
)

from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.weeks import Week
from sandbox.state import Message
from storage.models import PulseView
from storage.team_weeks import rotation_pick


def shown(value: Any) -> str:
    return "\n".join(texts(value))


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        if block.get("type") == "actions":
            found += [e for e in block["elements"] if e.get("type") == "button"]
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            found.append(accessory)
    return found


def button(blocks: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    [found] = [b for b in buttons(blocks) if b["action_id"].startswith(prefix)]
    return found


class World(TeamWorld):
    def domain_of(self, week_index: int, channel: str = CHANNEL) -> str:
        services = self.bot.runtime.services
        with services.db.session() as session:
            week = Week(week_index)
            return rotation_pick(session, self.team(channel), week, services.rotation).domain

    def command(self, user: str, command: str, text: str = "", channel: str = CHANNEL) -> Message:
        """Run a slash command; the one ephemeral reply it gets."""
        before = len(self.sandbox.ephemerals(user))
        response = self.bot.driver.slash_command(user, channel, command, text)
        assert response.status_code == 200, response.text
        replies = wait_until(
            lambda: self.sandbox.ephemerals(user)[before:], what=f"{command} reply to {user}"
        )
        return replies[0]  # type: ignore[no-any-return]

    def home(self, user: str) -> dict[str, Any]:
        """`user` opens the App Home tab: the view published for them."""
        published = len(self.sandbox.calls("views.publish"))
        response = self.bot.driver.app_home_opened(user)
        assert response.status_code == 200, response.text
        wait_until(
            lambda: len(self.sandbox.calls("views.publish")) > published,
            what=f"the App Home for {user}",
        )
        return self.sandbox.home_view(user)  # type: ignore[no-any-return]

    def new_dms(self, user: str, before: int, count: int = 1) -> list[Message]:
        found = wait_until(
            lambda: (
                self.sandbox.dms(user)[before:]
                if len(self.sandbox.dms(user)) >= before + count
                else None
            ),
            what=f"{count} new DM(s) to {user}",
        )
        return found  # type: ignore[no-any-return]

    def views_log(self) -> list[tuple[str, str]]:
        with self.bot.runtime.services.db.session() as session:
            rows = session.scalars(select(PulseView).order_by(PulseView.id)).all()
            return [(r.viewer_id, r.what) for r in rows]

    def everything_shown_to(self, user: str) -> str:
        """Every DM, ephemeral and view `user` was shown, as one string."""
        sandbox = self.sandbox
        parts = [m.text + json.dumps(m.blocks or []) for m in sandbox.dms(user)]
        parts += [m.text + json.dumps(m.blocks or []) for m in sandbox.ephemerals(user)]
        home = sandbox.home_view(user)
        if home is not None:
            parts.append(json.dumps(home["blocks"]))
        parts += [json.dumps(v["blocks"]) for v in sandbox.open_views(user)]
        return "\n".join(parts)


@contextmanager
def experience(
    database_url: str,
    clock: ManualClock,
    members: int = 8,
    *,
    pool_weeks: int = 1,
    timezones: dict[int, str] | None = None,
) -> Iterator[World]:
    """The bot, one team of `members` and a supervisor, this week's prompt posted."""
    with team_world(
        World, database_url, clock, members, pool_weeks=pool_weeks, timezones=timezones
    ) as world:
        yield world


__all__ = [
    "ADMIN",
    "CHANNEL",
    "OUTSIDER",
    "SUPERVISOR",
    "TEAM_NAME",
    "World",
    "assert_fallback_text_everywhere",
    "button",
    "buttons",
    "experience",
    "member",
    "shown",
    "texts",
]
