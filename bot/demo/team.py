"""The demo team in the sandbox: eight social workers and their practice supervisor, a clock
that moves only when told, and the moves a person can make in Slack.

Everything goes through the real bot, over HTTP (signed requests from the sandbox's driver) or
over Socket Mode (envelopes on the bot's link); each move waits for its visible effect and
raises DemoError, one readable line, when the effect never comes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.demo.feed import Feed
from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import SAVED_TITLE, Person, SandboxedBot, wait_until
from practice.clock import ManualClock
from practice.weeks import Week, week_containing
from sandbox.driver import ModalAnswerError
from sandbox.state import Message
from scheduler.reminders import WINDOW, reminder_day
from scheduler.weekly import fire_time
from storage.models import Team

JSON = dict[str, Any]
T = TypeVar("T")

TEAM_NAME = "Northfield Family Support"
TEAM_CHANNEL = "C0DEMOTEAM1"
TEAM_TZ = "Europe/London"
SUPERVISOR = Person("U0DEMOSUP01", "Ruth Campbell")
MEMBERS = (
    Person("U0DEMO00001", "Priya Shah"),
    Person("U0DEMO00002", "Tom Okafor"),
    Person("U0DEMO00003", "Aisha Rahman"),
    Person("U0DEMO00004", "Gareth Evans"),
    Person("U0DEMO00005", "Mei Chen"),
    Person("U0DEMO00006", "Callum Fraser"),
    Person("U0DEMO00007", "Bethan Morgan"),
    Person("U0DEMO00008", "Kofi Mensah"),
)
# Joins the channel in week 2, after its prompt: told kindly to check in from week 3.
LATE_JOINER = Person("U0DEMO00009", "Jess Turner")
PEOPLE = (*MEMBERS, SUPERVISOR, LATE_JOINER)
# Monday 12 January 2026, 08:00 in London. The team's prompt goes out on Mondays at 09:30.
START = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
POST_DAY, POST_MINUTE = 0, 9 * 60 + 30
WAIT_SECONDS = 5.0


class DemoError(Exception):
    """Something the demo expected did not happen; the message is one readable line."""


@dataclass(frozen=True)
class Reply:
    """What a slash command led to: a modal that opened, or a message (now in the feed)."""

    view: JSON | None


@dataclass(frozen=True)
class Sent:
    """What sending a modal led to: errors to put right (the form stays open), or the view
    the bot turned the modal into (the thank-you note, or why it could not be stored)."""

    errors: dict[str, str]
    showing: JSON | None = None

    @property
    def saved(self) -> bool:
        return self.showing is not None and self.showing["title"]["text"] == SAVED_TITLE


@dataclass
class DemoTeam:
    bot: SandboxedBot
    clock: ManualClock
    team_id: int
    feed: Feed

    # -- who and where -------------------------------------------------------------------------

    def name(self, slack_id: str) -> str | None:
        """A person's or a channel's name, for showing messages as Slack would."""
        for person in PEOPLE:
            if person.user_id == slack_id:
                return person.name
        try:
            return self.bot.sandbox.channel(slack_id).name
        except KeyError:
            return None

    @property
    def channel_name(self) -> str:
        return "#" + self.bot.sandbox.channel(TEAM_CHANNEL).name

    def person(self, query: str) -> Person:
        """Someone in the team by first name, full name or Slack id (any case)."""
        wanted = query.strip().lower()
        exact = [
            p
            for p in PEOPLE
            if wanted in (p.user_id.lower(), p.name.lower(), p.name.split()[0].lower())
        ]
        found = exact or [p for p in PEOPLE if wanted and p.name.lower().startswith(wanted)]
        if len(found) != 1:
            everyone = ", ".join(p.name.split()[0] for p in PEOPLE)
            raise DemoError(f"nobody in the team is called {query.strip()!r}: try {everyone}")
        return found[0]

    # -- time ----------------------------------------------------------------------------------

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(ZoneInfo(TEAM_TZ))

    def week(self) -> Week:
        return week_containing(self.clock.now(), TEAM_TZ)

    def move_to(self, day: int, hhmm: str) -> None:
        """On to `day` (0 is Monday) at `hhmm` local time in the current week; never back."""
        hours, minutes = (int(part) for part in hhmm.split(":"))
        monday = self.week().monday
        target = datetime.combine(
            monday + timedelta(days=day), time(hours, minutes), tzinfo=ZoneInfo(TEAM_TZ)
        )
        if target > self.clock.now():
            self.clock.set(target)

    def deliver_prompt(self) -> None:
        """Move the clock just past the team's posting time this week and let the scheduler
        run: the prompt goes to the channel and the reflections to the supervisor."""
        services = self.bot.runtime.services
        with services.db.session() as session:
            team = session.get(Team, self.team_id)
            due = None if team is None else fire_time(team, self.week())
        if due is None:
            raise DemoError("the team has no posting time this week")
        self.clock.set(max(self.clock.now(), due + timedelta(minutes=1)))
        sandbox = self.bot.sandbox
        posts = len(sandbox.timeline(TEAM_CHANNEL))
        reflections = len(sandbox.dms(SUPERVISOR.user_id))
        self.bot.runtime.delivery.run_due()
        if len(sandbox.timeline(TEAM_CHANNEL)) <= posts:
            raise DemoError(f"this week's prompt was not posted in {self.channel_name}")
        if len(sandbox.dms(SUPERVISOR.user_id)) <= reflections:
            raise DemoError(f"{SUPERVISOR.name} did not get this week's reflections by DM")

    def midweek(self) -> int:
        """On to this week's reminder time (its reminder day, 10:00 in London, where everyone
        in the demo team is) and let the reminder sweep run; returns the reminders sent."""
        services = self.bot.runtime.services
        with services.db.session() as session:
            team = session.get(Team, self.team_id)
            day = None if team is None else reminder_day(team)
        if day is None:
            raise DemoError("this team's prompt comes too late in the week for a reminder")
        self.move_to(day, f"{WINDOW[0]:%H:%M}")
        local = self.local_now()
        if local.weekday() != day or not WINDOW[0] <= local.time() < WINDOW[1]:
            raise DemoError("midweek has passed this week: type `next week`, then `midweek`")
        return self.bot.runtime.reminders.run_due()

    def next_week(self) -> None:
        """On to next Monday, and its prompt."""
        self.clock.set(self.week().next().starts_at(TEAM_TZ))
        self.deliver_prompt()

    # -- what a person does in Slack -----------------------------------------------------------

    def slash(self, person: Person, command: str, text: str = "") -> Reply:
        """Type `command text` in the team channel; returns once Secure Base has answered."""
        sandbox = self.bot.sandbox
        previous = self._top_view(person)
        replies = len(sandbox.ephemerals(person.user_id)) + len(sandbox.dms(person.user_id))
        response = self.bot.driver.slash_command(person.user_id, TEAM_CHANNEL, command, text)
        if response.status_code != 200:
            raise DemoError(f"Secure Base answered {command} with HTTP {response.status_code}")

        def answered() -> Reply | None:
            view = self._top_view(person)
            if view is not None and view["id"] != (previous or {}).get("id"):
                return Reply(view)
            now = len(sandbox.ephemerals(person.user_id)) + len(sandbox.dms(person.user_id))
            return Reply(None) if now > replies else None

        return self._wait(answered, f"an answer to {person.name}'s {command}")

    def click_checkin_button(self, person: Person) -> JSON:
        """Press "Check in privately" on this week's prompt in the channel; returns the modal."""
        posts = [
            m
            for m in self.bot.sandbox.timeline(TEAM_CHANNEL)
            if any(
                element.get("action_id") == OPEN_CHECKIN
                for block in m.blocks or []
                for element in block.get("elements") or []
            )
        ]
        if not posts:
            raise DemoError(f"there is no prompt with a check-in button in {self.channel_name}")
        previous = self._top_view(person)
        response = self.bot.driver.click_button(
            person.user_id,
            OPEN_CHECKIN,
            TEAM_CHANNEL,
            channel_id=TEAM_CHANNEL,
            message_ts=posts[-1].ts,
        )
        if response.status_code != 200:
            raise DemoError(f"Secure Base answered the button with HTTP {response.status_code}")

        def opened() -> JSON | None:
            view = self._top_view(person)
            fresh = view is not None and view["id"] != (previous or {}).get("id")
            return view if fresh else None

        return self._wait(opened, f"the check-in form to open for {person.name}")

    def press(self, person: Person, message: Message, action_id: str) -> JSON | None:
        """Press the button `action_id` in `message` (a post, DM or ephemeral reply that
        `person` can see); returns the modal it opened, if it opened one, once Secure Base has
        finished answering."""
        found = [
            element
            for block in message.blocks or []
            for element in block.get("elements") or []
            if element.get("action_id") == action_id
        ]
        if not found:
            raise DemoError(f"there is no “{action_id}” button where {person.name} looked")
        previous = self._top_view(person)
        response = self.bot.driver.click_button(
            person.user_id,
            action_id,
            found[0].get("value"),
            channel_id=message.channel,
            message_ts=message.ts,
        )
        if response.status_code != 200:
            raise DemoError(f"Secure Base answered the button with HTTP {response.status_code}")
        self._settle()
        view = self._top_view(person)
        return view if view is not None and view["id"] != (previous or {}).get("id") else None

    def join_channel(self, person: Person) -> None:
        """`person` is added to the team's channel (now, whatever week it is)."""
        self.bot.sandbox.add_member(TEAM_CHANNEL, person.user_id)

    def submit(self, person: Person, view: JSON, answers: Mapping[str, str | None]) -> Sent:
        """Send the modal with these answers (option values, or text). The check-in is stored
        before Slack is answered, and the answer itself turns the form into the thank-you note:
        no message is sent about it."""
        try:
            response = self.bot.driver.answer_modal(person.user_id, view["id"], answers)
        except (ModalAnswerError, LookupError) as error:
            raise DemoError(f"{person.name}'s answers could not be sent: {error}") from None
        if response.status_code != 200:
            raise DemoError(f"Secure Base answered the check-in with HTTP {response.status_code}")
        try:
            reply = response.json() if response.content else {}
        except ValueError:
            reply = {}
        action = reply.get("response_action") if isinstance(reply, dict) else None
        if action == "errors":
            self._settle()
            return Sent({str(k): str(v) for k, v in (reply.get("errors") or {}).items()})
        showing = self._top_view(person) if action in ("update", "push") else None
        if showing is None:
            raise DemoError(f"Secure Base did not answer {person.name}'s check-in in the form")
        return Sent({}, showing)

    def cancel(self, person: Person, view: JSON) -> None:
        self.bot.driver.close_modal(person.user_id, view["id"])
        self._settle()

    def open_home(self, person: Person) -> JSON:
        """Open the Secure Base app's Home tab; returns the view the bot published."""
        before = self.bot.sandbox.home_view(person.user_id)
        response = self.bot.driver.app_home_opened(person.user_id)
        if response.status_code != 200:
            raise DemoError(f"Secure Base answered App Home with HTTP {response.status_code}")

        def published() -> JSON | None:
            home = self.bot.sandbox.home_view(person.user_id)
            if home is None or (before is not None and home["hash"] == before["hash"]):
                return None
            return home

        return self._wait(published, f"App Home to show for {person.name}")

    def check_sandbox(self) -> None:
        """Every Web API call the bot made passed the sandbox's checks."""
        rejected = self.bot.sandbox.rejected_calls()
        if rejected:
            first = rejected[0]
            raise DemoError(
                f"the Slack sandbox rejected {len(rejected)} call(s) from the bot, first "
                f"{first.method}: {first.error}"
            )

    def _top_view(self, person: Person) -> JSON | None:
        stack = self.bot.sandbox.open_views(person.user_id)
        return stack[-1] if stack else None

    def _wait(self, probe: Callable[[], T | None], what: str) -> T:
        """Wait for `what`, then for every other reply the same request leads to: whatever is
        printed next is then the whole answer, the same on every run."""
        try:
            found = wait_until(probe, WAIT_SECONDS, what)
        except TimeoutError:
            raise DemoError(f"waited {WAIT_SECONDS:.0f} s for {what}; it never came") from None
        assert found is not None
        self._settle()
        return found

    def _settle(self) -> None:
        try:
            self.bot.settle(WAIT_SECONDS)
        except TimeoutError:
            raise DemoError(
                f"Secure Base was still answering after {WAIT_SECONDS:.0f} s; it never finished"
            ) from None


@contextmanager
def demo_team(database_url: str | None = None, *, socket_mode: bool = False) -> Iterator[DemoTeam]:
    """The sandbox and the bot with the demo team set up, on a fresh SQLite file in a temporary
    folder (or on `database_url`), at the demo's start time; Slack reaches the bot over HTTP,
    or with `socket_mode` over Socket Mode."""
    with tempfile.TemporaryDirectory(prefix="securebase-demo-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'securebase-demo.db'}"
        clock = ManualClock(START)
        with SandboxedBot(url, clock, socket_mode=socket_mode) as bot:
            bot.add_people(list(PEOPLE))
            team_id = bot.add_team(
                TEAM_CHANNEL,
                TEAM_NAME,
                [SUPERVISOR.user_id],
                [member.user_id for member in MEMBERS],
                post_day=POST_DAY,
                post_minute=POST_MINUTE,
                timezone=TEAM_TZ,
            )
            people = [person.user_id for person in PEOPLE]
            yield DemoTeam(bot, clock, team_id, Feed(bot.sandbox, [TEAM_CHANNEL], people))
