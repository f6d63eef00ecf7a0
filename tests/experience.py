"""A team's world for the supervisor-and-team experience tests (App Home, chart, sharing,
reminders, /securebase, signposting, export): the real bot over HTTP against the Slack
sandbox, one team of members with a practice supervisor, a workspace admin and an outsider.

Leaving the world checks that Slack was never sent a malformed call and that every message
carried its fallback text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sealed_weeks import member_check_in
from sqlalchemy import select

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.sandboxed import BOT_USER, WORKSPACE, Person, SandboxedBot, assert_clean, wait_until
from practice.checkin import CheckinAnswers
from sandbox.state import Message
from storage.clock import ManualClock
from storage.models import PulseView, Team
from storage.periods import rotation_pick
from storage.teams import get_team
from storage.weeks import Week

CHANNEL = "C0EXPTEAM1"
TEAM_NAME = "Duty and Assessment"
SUPERVISOR = "U0EXPSUP01"
ADMIN = "U0EXPADM01"
OUTSIDER = "U0EXPOUT01"


def member(n: int) -> str:
    return f"U0EXPM{n:04d}"


def texts(value: Any) -> list[str]:
    """Every piece of text in a block tree, in order."""
    if isinstance(value, dict):
        return [
            t
            for k, v in value.items()
            for t in ([v] if k == "text" and isinstance(v, str) else texts(v))
        ]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


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


@dataclass
class World:
    bot: SandboxedBot
    clock: ManualClock
    members: list[str]

    @property
    def sandbox(self) -> Any:
        return self.bot.sandbox

    def deliver(self) -> int:
        return self.bot.runtime.delivery.run_due()

    def remind(self) -> int:
        return self.bot.runtime.reminders.run_due()

    def next_week(self) -> None:
        self.clock.advance(timedelta(days=7))
        self.deliver()

    def check_in(
        self,
        user: str,
        availability: int,
        stress: int,
        item: int | None = None,
        comment: str | None = None,
        channel: str = CHANNEL,
    ) -> None:
        answers = {
            AVAILABILITY: str(availability),
            STRESS: str(stress),
            DOMAIN_ITEM: None if item is None else str(item),
            COMMENT: comment,
        }
        response = self.bot.check_in(user, channel, answers)
        assert response.status_code == 200, response.text

    def seed(
        self, user: str, availability: int | None, stress: int, item: int | None = None
    ) -> None:
        """A check-in written the way the modal's handler writes it (quicker than the modal,
        for tests about what is shown rather than how answers arrive). `availability` None:
        "I didn't need any this week"."""
        services = self.bot.runtime.services
        answers = CheckinAnswers(availability, stress, item)
        member_check_in(
            services.db, self.team(), user, answers, self.clock.now(), services.rotation
        )

    def team(self, channel: str = CHANNEL) -> Team:
        with self.bot.runtime.services.db.session() as session:
            team = get_team(session, WORKSPACE, channel)
            assert team is not None
            return team

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


def assert_fallback_text_everywhere(bot: SandboxedBot) -> None:
    missing = bot.sandbox.warned_calls("missing_fallback_text")
    assert missing == [], [(c.method, c.params.get("channel")) for c in missing]


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
    zones = timezones or {}
    people = [
        Person(member(n), f"Member {n}", zones.get(n, "Europe/London")) for n in range(members)
    ]
    extra = [
        Person(SUPERVISOR, "Sam Okoye"),
        Person(ADMIN, "Ada Admin"),
        Person(OUTSIDER, "Pat Outside"),
    ]
    with SandboxedBot(database_url, clock) as bot:
        bot.add_people([*people, *extra])
        bot.sandbox.update_user(ADMIN, is_admin=True)
        bot.add_team(
            CHANNEL, TEAM_NAME, [SUPERVISOR], [p.user_id for p in people], pool_weeks=pool_weeks
        )
        bot.sandbox.add_channel(WORKSPACE, "C0EXPGENRL", "general", [BOT_USER, OUTSIDER, ADMIN])
        world = World(bot, clock, [p.user_id for p in people])
        world.deliver()
        yield world
        assert_clean(bot.sandbox)
        assert_fallback_text_everywhere(bot)
