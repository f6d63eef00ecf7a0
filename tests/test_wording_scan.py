"""Every user-facing string, scanned for wording we never use: the content files, what the bot
sends to Slack on every surface (played through the real bot with representative data), the
strings the bot's modules keep for replies, the command's help and the demo's transcript.

The phrases are in BANNED, grouped by why: add to a group, or add a group, and every source
is checked for it. Matching ignores case, Slack's formatting marks and curly apostrophes, and
needs whole words ("missed" is not found in "dismissed").
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import io
import json
import pkgutil
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
from experience import ADMIN, CHANNEL, OUTSIDER, SUPERVISOR, World, button, experience, member

import bot.demo
import bot.handlers
import bot.render
from bot.cli import parser
from bot.content import default_library
from bot.demo import run_demo
from bot.render.checkin import refusal_text
from bot.render.home import SHARE_PERIOD
from bot.render.intro import POST_INTRO
from bot.render.prompt import WHERE_TO_RESPOND
from bot.render.reminder import REMINDERS_OFF
from bot.render.talking import TALKING
from bot.sandboxed import BOT_USER, WORKSPACE, wait_until
from practice.checkin import Refusal
from practice.clock import ManualClock

BANNED: dict[str, tuple[str, ...]] = {
    # Privacy is promised in PRIVACY.md's words only, and they make no absolute promise.
    "overclaims privacy": (
        "nobody can see",
        "no one can see",
        "nobody can ever",
        "no one can ever",
        "completely anonymous",
        "100% anonymous",
        "fully anonymous",
        "totally anonymous",
        "untraceable",
        "can't be traced",
    ),
    # Not checking in is always fine: never a reproach, never a count of who didn't.
    "shames not answering": (
        "you didn't",
        "you did not",
        "you haven't checked in",
        "you have not checked in",
        "you haven't answered",
        "you forgot",
        "missed",
        "still waiting for you",
        "only you haven't",
    ),
    # Domains' statements differ, so their figures are never set in order against each other.
    "ranks noise": (
        "best domain",
        "worst domain",
        "ranked",
        "ranking",
        "least agreement",
        "most agreement",
        "weakest domain",
        "strongest domain",
    ),
    # Wordings the items and figures no longer use (the stress item's old label, a mean read
    # as agreement, the HSE response-rate labels made for one-off organisation-wide surveys).
    "old wording": (
        "rather much",
        # The check-in items before version 2 (bot/content/scales.toml): a stress scale with
        # unclear middle labels, support not tied to needing it, a negative and a
        # double-barrelled belief statement, a bare "Neither".
        "only a little",
        "to some extent",
        "could you get support from colleagues or your supervisor",
        "how stressed have you felt this week",
        "i didn't always have to be strong",
        "i felt valued and that i belonged",
        "this week, people were there for me",
        "of 5 agreeing",
        # "mean 4.0 of 5": figures read "average 4.0 of 5", numbers first in the scale's words.
        *(f"mean {n}" for n in range(1, 6)),
        "no mean",
        "very good",
        "desirable",
        "adequate",
    ),
}

_MARKS = re.compile(r"[*_~`]")
_PATTERNS = {
    phrase: re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)")
    for phrases in BANNED.values()
    for phrase in phrases
}


def normalised(text: str) -> str:
    """Lower case, without Slack's formatting marks, straight apostrophes, single spaces."""
    plain = _MARKS.sub("", text.replace("’", "'").replace("‘", "'")).lower()
    return " ".join(plain.split())


def offending(text: str) -> list[str]:
    """The banned phrases `text` uses."""
    plain = normalised(text)
    return [phrase for phrase, pattern in _PATTERNS.items() if pattern.search(plain)]


def assert_clean(where: str, texts: Iterable[str]) -> int:
    """Every text is free of banned phrases; returns how many texts were read."""
    found = []
    count = 0
    for text in texts:
        count += 1
        for phrase in offending(text):
            found.append(f"{where}: {phrase!r} in {text[:160]!r}")
    assert found == []
    return count


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a value: JSON-like data, dataclasses, enums' values."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Enum):
        yield from strings_in(value.value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from strings_in(getattr(value, field.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings_in(item)


# --- the list itself ------------------------------------------------------------------------


def test_every_phrase_is_caught_however_it_is_dressed() -> None:
    for phrase in _PATTERNS:
        assert offending(f"Well, {phrase.upper()}!") == [phrase]
    assert offending("*Nobody* can see your answers") == ["nobody can see"]
    assert offending("You didn’t check in") == ["you didn't"]
    assert offending("_you haven't_  checked in") == ["you haven't checked in"]
    assert offending("It was dismissed; the figures are unranked.") == []
    assert offending("Shown to anyone who answers that way.") == []
    assert offending("6 answered, mean 4.0 of 5 agreeing") == ["of 5 agreeing", "mean 4"]
    assert offending("What does it mean to us? 5 of 6 said agree (average 4.0 of 5)") == []


# --- content ----------------------------------------------------------------------------------


def test_the_content_files_use_none_of_them() -> None:
    library = default_library()
    assert assert_clean("content", strings_in(library)) > 100


def test_lone_working_and_safety_routines_are_never_one_week_experiments() -> None:
    """A safety routine is agreed to keep, never tried for a week and dropped."""
    safety = re.compile(r"\b(lone|alone|back safe|safely|safety|late visit)", re.IGNORECASE)
    trial = re.compile(
        r"for (one|a|this) week|this week only|one-week|a week's trial|trial run|experiment",
        re.IGNORECASE,
    )
    checked = 0
    for domain in default_library().domains:
        for prompt in domain.prompts:
            if safety.search(prompt.question + " " + prompt.try_this):
                checked += 1
                assert not trial.search(prompt.try_this), (domain.key, prompt.try_this)
    assert checked >= 1  # the lone-visit prompt is among them


# --- what the bot keeps for replies, and the command's help -----------------------------------


def _modules(package: Any) -> Iterator[Any]:
    for info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        yield importlib.import_module(info.name)


def test_the_strings_the_bot_keeps_for_replies_use_none_of_them() -> None:
    modules = [
        *_modules(bot.render),
        *_modules(bot.handlers),
        *_modules(bot.demo),
        importlib.import_module("bot.introduction"),
    ]
    texts = [
        text
        for module in modules
        for name, value in vars(module).items()
        if name.isupper()
        for text in strings_in(value)
    ]
    texts += [refusal_text(refusal, "Duty team") for refusal in Refusal]
    assert assert_clean("module strings", texts) > 50


def _helps(command: argparse.ArgumentParser) -> Iterator[str]:
    yield command.format_help()
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _helps(sub)


def test_the_command_s_help_uses_none_of_them() -> None:
    assert assert_clean("securebase --help", _helps(parser())) > 10


# --- every surface, through the real bot --------------------------------------------------------


class Seen:
    """Everything Slack was sent or showed anyone so far: every Web API call's parameters,
    every message, every view (read while open, since a closed modal is gone), and files' alt
    text."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.texts: list[str] = []

    def look(self) -> None:
        sandbox = self.world.sandbox
        people = [*self.world.members, SUPERVISOR, ADMIN, OUTSIDER]
        for call in sandbox.calls():
            self.texts += strings_in(call.params)
        for channel in (CHANNEL, "C0SCANNEW1"):
            with contextlib.suppress(KeyError):  # the new channel exists only later
                self.texts += [
                    m.text + json.dumps(m.blocks or []) for m in sandbox.timeline(channel)
                ]
        for person in people:
            for message in [*sandbox.dms(person), *sandbox.ephemerals(person)]:
                self.texts.append(message.text)
                self.texts += strings_in(message.blocks or [])
            home = sandbox.home_view(person)
            if home is not None:
                self.texts += strings_in(home["blocks"])
            for view in sandbox.open_views(person):
                self.texts += strings_in(view)
        self.texts += [f.alt_txt or "" for f in sandbox.uploaded_files()]


def _click(world: World, user: str, message: Any, action_prefix: str) -> None:
    target = button(message.blocks or [], action_prefix)
    response = world.bot.driver.click_button(
        user, target["action_id"], target.get("value"), channel_id=message.channel,
        message_ts=message.ts,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    world.bot.settle()


def _slash(world: World, user: str, command: str) -> None:
    """A command whose answer is a modal (a refusal to check in), not an ephemeral reply."""
    response = world.bot.driver.slash_command(user, CHANNEL, command, "")
    assert response.status_code == 200, response.text
    world.bot.settle()


def _close_all(world: World, user: str) -> None:
    for view in reversed(world.sandbox.open_views(user)):
        world.bot.driver.close_modal(user, view["id"])


def _play_every_surface(world: World, seen: Seen) -> None:
    """A few weeks of a team, touching each surface once."""
    # The week's prompt and reflections; the check-in form, and its thank-you after an ordinary
    # and a heavy week; refusals for a supervisor and for someone who joined late.
    seen.look()
    for n, (support, stress) in enumerate([(4, 2), (3, 5), (5, 1), (2, 4), (4, 3), (3, 3)]):
        view = world.bot.open_checkin(member(n), CHANNEL)
        seen.texts += strings_in(view)
        world.check_in(member(n), support, stress, 4, "Thanks for Tuesday." if n == 1 else None)
        seen.look()
        _close_all(world, member(n))
    _slash(world, SUPERVISOR, "/checkin")
    world.sandbox.add_member(CHANNEL, OUTSIDER)
    _slash(world, OUTSIDER, "/checkin")
    seen.look()
    _close_all(world, SUPERVISOR)
    _close_all(world, OUTSIDER)

    # Midweek: the reminder, and turning reminders off.
    world.clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))  # Wednesday, 11:00
    world.remind()
    reminder = wait_until(lambda: world.sandbox.dms(member(7)))[-1]
    _click(world, member(7), reminder, REMINDERS_OFF)
    seen.look()

    # Two more weeks: one too quiet to show, then one that closes with enough answers.
    world.next_week()
    for n in range(2):
        world.seed(member(n), 3, 3, 3)
    world.next_week()
    for n in range(6):
        world.seed(member(n), 2 + n % 3, 1 + n % 5, 1 + n % 5)
    world.next_week()

    # Homes: members (checked in or not), the supervisor, someone in no team.
    world.check_in(member(0), 4, 2)
    for person in (member(0), member(6), SUPERVISOR, OUTSIDER):
        world.home(person)
    seen.look()

    # The supervisor's pulse, the card, the chart, sharing; a member's refusal and the log.
    pulse = world.command(SUPERVISOR, "/teampulse")
    _click(world, SUPERVISOR, pulse, TALKING)
    seen.look()
    _close_all(world, SUPERVISOR)
    world.command(SUPERVISOR, "/teampulse", "chart")
    offer = wait_until(lambda: [m for m in world.sandbox.dms(SUPERVISOR) if m.blocks][-1:])[0]
    _click(world, SUPERVISOR, offer, SHARE_PERIOD)
    world.command(member(2), "/teampulse")
    world.command(member(2), "/teampulse", "log")
    world.command(member(2), "/teampulse", "frobnicate")
    seen.look()

    # /securebase: the status, preview, introduction (preview and post), the modals, pause and
    # resume, a refusal, and a new team set up in a new channel.
    status = world.command(SUPERVISOR, "/securebase")
    for word in ("preview", "pause", "resume", "huh"):
        world.command(SUPERVISOR, "/securebase", word)
    intro = world.command(SUPERVISOR, "/securebase", "intro")
    _click(world, SUPERVISOR, intro, POST_INTRO)
    for action in ("securebase_open_settings", "securebase_open_weeks_off"):
        _click(world, SUPERVISOR, status, action)
        seen.look()
        _close_all(world, SUPERVISOR)
    world.command(member(3), "/securebase")
    world.sandbox.add_channel(WORKSPACE, "C0SCANNEW1", "new-team", [BOT_USER, ADMIN])
    world.command(ADMIN, "/securebase", channel="C0SCANNEW1")
    seen.look()


@pytest.mark.slow
def test_every_surface_the_bot_shows_uses_none_of_them(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        seen = Seen(world)
        _play_every_surface(world, seen)
    texts = seen.texts
    joined = "\n".join(texts)
    # The surfaces were really reached (so a clean scan means something).
    for reached in (
        "A question for us",  # the weekly prompt
        "Your reflections this week",  # the supervisor's DM
        "Anything you'd like your supervisor to know",  # the check-in form
        "This note is shown to anyone who answers that way",  # after a heavy week
        "You joined",  # the late joiner's refusal
        "midweek note",  # the reminder
        "Team pulse:",  # /teampulse
        "Talking with your team about the results",  # the card
        "How we've been",  # the shared summary
        "Who has looked at",  # the view log
        "If things feel heavy",  # the members' Home tab
        "for you as supervisor",  # the supervisor's Home tab
        "Hello from Secure Base",  # the introduction
        "Weeks off",  # the weeks-off modal
        "isn't set up in",  # a new channel
    ):
        assert reached in joined, reached
    assert assert_clean("Slack", texts) > 200


def test_the_weekly_prompt_says_where_to_respond(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        [prompt] = [m for m in world.sandbox.timeline(CHANNEL) if m.text.startswith("This week")]
        assert WHERE_TO_RESPOND in json.dumps(prompt.blocks, ensure_ascii=False)


# --- the demo ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_s_transcript_uses_none_of_them(database_url: str) -> None:
    out = io.StringIO()
    assert run_demo(out, database_url) == 0
    transcript = out.getvalue()
    assert "Hello from Secure Base" in transcript and "Talking about it" in transcript
    # Lines wrap in the transcript: scan it with its line breaks and bars taken out as well.
    unwrapped = " ".join(transcript.replace("│", " ").split())
    assert assert_clean("demo", [*transcript.splitlines(), unwrapped]) > 500


@pytest.mark.parametrize("group", sorted(BANNED))
def test_each_group_has_phrases(group: str) -> None:
    assert BANNED[group] and all(p == p.lower().strip() for p in BANNED[group])
