"""The one test world: the real bot over HTTP against the Slack sandbox, one team of members
with a practice supervisor, a workspace admin and an outsider, and a clock the test moves.

`experience.py` (the supervisor-and-team tests) and `privacy_world.py` (the privacy tests)
are two ways of looking at this same world: the first reads what Slack was sent as it was
sent, the second as one string per thing shown, so that a test can judge what a person could
see. Both build it here, with the same people, channel and checks on leaving.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sealed_weeks import member_check_in

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, NOT_NEEDED, STRESS
from bot.sandboxed import BOT_USER, WORKSPACE, Person, SandboxedBot, assert_clean
from practice.checkin import CheckinAnswers
from practice.clock import ManualClock
from storage.models import Team
from storage.teams import get_team

CHANNEL = "C0EXPTEAM1"
GENERAL = "C0EXPGENRL"
TEAM_NAME = "Duty and Assessment"
SUPERVISOR = "U0EXPSUP01"
ADMIN = "U0EXPADM01"
OUTSIDER = "U0EXPOUT01"


def member(n: int) -> str:
    return f"U0EXPM{n:04d}"


@dataclass
class TeamWorld:
    """What every view of the world shares: the bot, the clock, the team's members, and the
    scheduler's jobs run by hand."""

    bot: SandboxedBot
    clock: ManualClock
    members: list[str]

    @property
    def sandbox(self) -> Any:
        return self.bot.sandbox

    def deliver(self) -> int:
        """What the scheduler does every minute: close finished weeks, post what is due."""
        return self.bot.runtime.delivery.run_due()

    def remind(self) -> int:
        return self.bot.runtime.reminders.run_due()

    def next_week(self) -> None:
        """Move to the same moment of the next week (the current week closes)."""
        self.clock.advance(timedelta(days=7))
        self.deliver()

    def check_in(
        self,
        user: str,
        availability: int | None,
        stress: int,
        item: int | None = None,
        comment: str | None = None,
        channel: str = CHANNEL,
    ) -> None:
        """A check-in through the modal, as `user` sends it; `availability` None picks "I
        didn't need any this week"."""
        answers = {
            AVAILABILITY: NOT_NEEDED if availability is None else str(availability),
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


W = TypeVar("W", bound=TeamWorld)


def assert_fallback_text_everywhere(bot: SandboxedBot) -> None:
    missing = bot.sandbox.warned_calls("missing_fallback_text")
    assert missing == [], [(c.method, c.params.get("channel")) for c in missing]


@contextmanager
def team_world(
    view: type[W],
    database_url: str,
    clock: ManualClock,
    members: int = 8,
    *,
    pool_weeks: int = 1,
    anonymity_min: int = 5,
    timezones: dict[int, str] | None = None,
    settings_env: dict[str, str] | None = None,
    restart: bool = False,
) -> Iterator[W]:
    """The bot, one team of `members` and a supervisor, this week's prompt posted, seen
    through `view`. `timezones`: member number to zone (London otherwise). `restart`: the
    team is already in the database (a bot process starting again).

    Leaving checks that Slack was never sent a malformed call and that every message carried
    its fallback text."""
    zones = timezones or {}
    people = [
        Person(member(n), f"Member {n}", zones.get(n, "Europe/London")) for n in range(members)
    ]
    extra = [
        Person(SUPERVISOR, "Sam Okoye"),
        Person(ADMIN, "Ada Admin"),
        Person(OUTSIDER, "Pat Outside"),
    ]
    team = [p.user_id for p in people]
    with SandboxedBot(
        database_url, clock, anonymity_min=anonymity_min, settings_env=settings_env or {}
    ) as bot:
        bot.add_people([*people, *extra])
        bot.sandbox.update_user(ADMIN, is_admin=True)
        if restart:
            bot.sandbox.add_channel(
                WORKSPACE, CHANNEL, "duty-team", members=[BOT_USER, *team, SUPERVISOR]
            )
        else:
            bot.add_team(CHANNEL, TEAM_NAME, [SUPERVISOR], team, pool_weeks=pool_weeks)
        bot.sandbox.add_channel(WORKSPACE, GENERAL, "general", [BOT_USER, OUTSIDER, ADMIN])
        world = view(bot, clock, team)
        world.deliver()
        yield world
        assert_clean(bot.sandbox)
        assert_fallback_text_everywhere(bot)


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
