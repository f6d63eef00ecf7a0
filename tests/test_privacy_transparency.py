"""Guarantee 8: every look at a team's figures is recorded (who, when, which weeks, where, and
for an export for whom and why), any member can read that record with `/teampulse log`, paging
back through every look still kept, and supervisors are told so from their first look.

Structurally: `storage.pulse.read_pulse_for` is the only reader of figures the app uses, and it
writes the look in the transaction that reads them.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from experience import button, buttons
from privacy_world import TEAM_NAME, World, member, world
from slack_sdk import WebClient
from sqlalchemy import select

from bot import commands
from bot.cli import parser
from bot.handlers.chart import chart_file
from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.render.home import SEND_CHART, SHARE_PERIOD
from bot.render.reminder import REMINDERS_OFF
from bot.render.view_log import NEWER, OLDER
from bot.sandboxed import BOT_TOKEN, SAVED_TITLE, Person, saved_view_title, wait_until
from bot.settings import load_settings
from practice.clock import ManualClock
from practice.figures import Surface
from practice.teams import team_ref
from sandbox.state import Message
from storage.models import PulseView, Team
from storage.pulse import read_pulse_for
from storage.teams import get_team

TOLD = "Each time you look, your team can see that you did (`/teampulse log`)."


def _log(w: World, user: str) -> list[str]:
    w.command(user, "/teampulse", "log")
    [shown] = w.replies(user)
    return shown.text.split("\n")


@pytest.mark.slow
def test_a_first_time_supervisor_is_told_before_seeing_anything(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        first = w.pulse()
        assert "No finished weeks yet" in first and TOLD in first
        for n in range(5):
            w.check_in(member(n), 3, 3)
        w.next_week()
        assert TOLD in w.pulse()


@pytest.mark.slow
def test_every_look_is_in_the_log_members_can_read(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        assert _log(w, member(3))[1:] == ["• Nobody has looked at the results yet."]
        for n in range(6):
            w.check_in(member(n), 2, 4)
        w.next_week()
        first_look = clock.now()
        w.pulse(text="4")
        clock.advance(timedelta(hours=2, minutes=5))
        w.pulse(text="12")
        second_look = clock.now()

        lines = _log(w, member(3))  # a member who is not a supervisor
        assert lines[0] == f"*Who has looked at {TEAM_NAME}'s results*"
        looks = lines[1:]
        assert len(looks) == 2
        # Newest first; who, when (in the reader's own time zone, UTC as the fallback) and
        # which periods were on screen.
        for line, when, weeks in ((looks[0], second_look, 12), (looks[1], first_look, 4)):
            assert line.startswith(f"• <@{w.supervisor}> looked <!date^{int(when.timestamp())}^")
            assert f"|{when:%a %d %b %Y at %H:%M} UTC>" in line
            assert re.search(rf"/teampulse {weeks} weeks: w/c \d+ \w+ \d{{4}}", line), line


@pytest.mark.slow
def test_the_home_tab_and_the_chart_are_looks_too(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        for n in range(6):
            w.check_in(member(n), 2, 4)
        w.next_week()
        home = w.home(w.supervisor)
        assert "6 of 8" in home.everything  # the Home tab shows the figures, says so...
        assert "Your team can see each time you look (`/teampulse log`)." in home.everything
        w.command(w.supervisor, "/teampulse", "chart")
        w.replies(w.supervisor)
        assert w.bot.sandbox.uploaded_files()  # ...and so does the chart
        looks = _log(w, member(0))[1:]
        assert len(looks) == 2
        assert all(line.startswith(f"• <@{w.supervisor}> looked ") for line in looks)
        assert "(chart: " in looks[0] and "(App Home: " in looks[1]


@pytest.mark.slow
def test_the_log_is_only_for_the_team(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        w.pulse()
        stranger = "U0STRANGE1"
        w.bot.add_people([Person(stranger, "Someone Else")])
        w.bot.sandbox.add_channel(w.bot.driver.team_id, "C0ELSEWHR2", "elsewhere", [stranger])
        w.command(stranger, "/teampulse", "log", channel="C0ELSEWHR2")
        [reply] = w.replies(stranger)
        assert reply.text == "You're not in a team that uses Secure Base."
        assert w.supervisor not in reply.text


# --- Every path that shows figures writes one look ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
OTHER = "C0POTHER01"


def looks(w: World) -> list[PulseView]:
    with w.bot.runtime.services.db.session() as session:
        team = get_team(session, w.bot.driver.team_id, w.channel)
        assert team is not None
        rows = session.scalars(
            select(PulseView).where(PulseView.team_id == team.id).order_by(PulseView.id)
        )
        return list(rows)


def duty_team(w: World) -> Team:
    with w.bot.runtime.services.db.session() as session:
        team = get_team(session, w.bot.driver.team_id, w.channel)
        assert team is not None
        return team


def publishes(w: World, user: str) -> list[dict[str, Any]]:
    calls = w.bot.sandbox.calls("views.publish")
    return [c.params for c in calls if c.ok and c.params.get("user_id") == user]


@pytest.mark.slow
def test_every_path_that_shows_figures_logs_one_look(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with world(database_url, clock) as w:
        # The supervisor is also a member of another team, where they check in themselves.
        w.bot.add_team(OTHER, "Other team", [member(7)], [w.supervisor, *w.members[:6]])
        w.deliver()
        for n in range(6):
            w.check_in(member(n), 2, 4, comment=f"note {n}")
        w.next_week()
        assert looks(w) == []  # nobody has looked yet
        sup, bot, sandbox = w.supervisor, w.bot, w.bot.sandbox
        offer: list[Message] = []

        def chart_dm() -> None:
            w.command(sup, "/teampulse", "chart")
            w.replies(sup)
            offer[:] = [m for m in sandbox.dms(sup) if m.blocks][-1:]

        def home_button(prefix: str) -> Callable[[], None]:
            def click() -> None:
                home = sandbox.home_view(sup)
                assert home is not None
                found = button(home["blocks"], prefix)
                before = (len(publishes(w, sup)), len(sandbox.uploaded_files()))
                bot.driver.click_button(
                    sup, found["action_id"], found.get("value"), view_id=home["id"]
                )
                wait_until(
                    lambda: (len(publishes(w, sup)), len(sandbox.uploaded_files())) != before
                )

            return click

        def share() -> None:
            found = button(offer[0].blocks or [], SHARE_PERIOD)
            before = len(sandbox.timeline(w.channel))
            bot.driver.click_button(
                sup,
                SHARE_PERIOD,
                found["value"],
                channel_id=offer[0].channel,
                message_ts=offer[0].ts,
            )
            wait_until(lambda: sandbox.timeline(w.channel)[before:])

        def check_in_elsewhere() -> None:
            """From the Home tab's check-in button for the other team, which the tab's
            refresh after the form is sent then republishes."""
            home = sandbox.home_view(sup)
            assert home is not None
            [found] = [b for b in buttons(home["blocks"]) if b.get("value") == OTHER]
            bot.driver.click_button(sup, found["action_id"], OTHER, view_id=home["id"])
            modal = wait_until(lambda: sandbox.open_views(sup))[-1]
            before = len(publishes(w, sup))
            answers = {AVAILABILITY: "3", STRESS: "3", DOMAIN_ITEM: None, COMMENT: None}
            sent = bot.driver.answer_modal(sup, modal["id"], answers)
            assert saved_view_title(sent) == SAVED_TITLE
            wait_until(lambda: len(publishes(w, sup)) > before)

        def export() -> None:
            monkeypatch.chdir(tmp_path)
            monkeypatch.setenv("DATABASE_URL", database_url)
            args = parser().parse_args(
                ["export", "--channel", w.channel, "--by", sup, "--reason", "supervision file"]
            )
            args.output = str(tmp_path / "duty.csv")
            services = bot.runtime.services
            assert commands.export(args, load_settings(need_slack=False), services.db, clock) == 0

        practice, library = bot.runtime.services.practice, bot.runtime.services.library
        paths: list[tuple[str, Callable[[], object]]] = [
            ("/teampulse", lambda: w.pulse()),
            ("/teampulse", lambda: w.pulse(text="12")),
            ("chart", chart_dm),
            ("App Home", lambda: w.home(sup)),  # opening the tab
            ("chart", home_button(SEND_CHART)),  # the Home tab's chart button
            ("App Home", home_button(REMINDERS_OFF)),  # a Home tab button that republishes it
            ("App Home", check_in_elsewhere),  # the Home tab refreshed after a check-in from it
            ("share", share),
            ("export", export),
            ("chart", lambda: chart_file(practice, library, team_ref(duty_team(w)), sup, tmp_path)),
        ]
        for surface, path in paths:
            before = len(looks(w))
            path()
            new = looks(w)[before:]
            assert [(v.viewer_id, v.surface) for v in new] == [(sup, surface)], surface
            [look] = new
            assert (look.first_week, look.last_week) == (151, 151), surface  # the week shown
        assert len(looks(w)) == len(paths)
        export_look = looks(w)[-2]
        assert export_look.reason == "supervision file"
        # Whatever prompted it, every Home tab with figures is one look, and nothing else is.
        with_figures = [p for p in publishes(w, sup) if "6 of 8 checked in" in json.dumps(p)]
        assert len(with_figures) == 3
        assert len([v for v in looks(w) if v.surface == "App Home"]) == len(with_figures)


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    found += [
        ("", node.func.id)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    return found


@pytest.mark.slow
def test_only_the_logged_reader_reads_figures() -> None:
    """Nothing in the app can read figures without the look being logged: the unlogged
    readers (team_pulse, block_comments) and writing a view-log row (PulseView(...)) are used
    only inside storage/pulse.py. The benchmark that times the bare query is the one exception
    outside the app."""
    unlogged = {("storage.pulse", "team_pulse"), ("storage.pulse", "block_comments")}
    offenders = []
    for folder in ("bot", "scheduler", "storage", "sandbox"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "storage" / "pulse.py":
                continue
            for module, name in _imports(path):
                if (module, name) in unlogged or (name, module) == ("PulseView", ""):
                    offenders.append(f"{path.relative_to(ROOT)}: {module or 'calls'} {name}")
    assert offenders == []
    bench = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bench").rglob("*.py"))
        if set(_imports(path)) & unlogged
    ]
    assert bench == ["bench/summary.py"]


# --- /teampulse log pages through every look ------------------------------------------------


def _message(w: World, found: Message) -> Message:
    current = w.bot.sandbox.message(found.channel, found.ts)
    assert current is not None
    return current


@pytest.mark.slow
def test_the_log_pages_back_through_every_look(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        for n in range(6):
            w.check_in(member(n), 2, 4)
        w.next_week()
        services = w.bot.runtime.services
        with services.db.session() as session:
            team = session.merge(duty_team(w))
            for n in range(45):
                read_pulse_for(
                    session,
                    w.supervisor,
                    team,
                    Surface.TEAMPULSE,
                    weeks=1 + n,
                    anonymity_min=5,
                    retention_weeks=104,
                    now=clock.now() + timedelta(minutes=n),
                    detail=f"{1 + n} weeks",
                )
        reader = member(3)
        w.command(reader, "/teampulse", "log")
        w.replies(reader)
        message = w.bot.sandbox.ephemerals(reader)[-1]

        def page_of(m: Message) -> tuple[str, list[str], list[str]]:
            lines = [b["text"]["text"] for b in m.blocks or [] if b["type"] == "section"]
            actions = [
                e["action_id"]
                for b in m.blocks or []
                if b["type"] == "actions"
                for e in b["elements"]
            ]
            return lines[0], lines[1:], actions

        def turn(action: str) -> tuple[str, list[str], list[str]]:
            old = page_of(_message(w, message))
            found = button(message.blocks or [], action)
            w.bot.driver.click_button(
                reader, action, found["value"], channel_id=message.channel, message_ts=message.ts
            )
            return wait_until(lambda: (new := page_of(_message(w, message))) != old and new)

        title, first, actions = page_of(message)
        assert title == f"*Who has looked at {TEAM_NAME}'s results* (page 1 of 3)"
        assert actions == [OLDER] and len(first) == 20
        title, second, actions = turn(OLDER)
        message = _message(w, message)
        assert title.endswith("(page 2 of 3)") and actions == [NEWER, OLDER]
        title, third, actions = turn(OLDER)
        message = _message(w, message)
        assert title.endswith("(page 3 of 3)") and actions == [NEWER] and len(third) == 5
        # Every look once, newest first.
        weeks = [
            int(n)
            for line in first + second + third
            for n in re.findall(r"/teampulse (\d+) ", line)
        ]
        assert weeks == list(range(45, 0, -1))
        title, back, _ = turn(NEWER)
        assert title.endswith("(page 2 of 3)") and back == second
        assert len(w.bot.sandbox.ephemerals(reader)) == 1  # one message, paged in place

        # Someone outside the team gets nothing from the button, even holding one of their own.
        stranger = "U0STRANGE1"
        w.bot.add_people([Person(stranger, "Someone Else")])
        slack = WebClient(token=BOT_TOKEN, base_url=w.bot.sandbox.api_url)
        dm = slack.conversations_open(users=stranger)["channel"]["id"]
        forged = slack.chat_postMessage(channel=dm, text="log", blocks=message.blocks)
        value = button(message.blocks or [], NEWER)["value"]
        w.bot.driver.click_button(stranger, NEWER, value, channel_id=dm, message_ts=forged["ts"])
        said = wait_until(lambda: [m.text for m in w.bot.sandbox.ephemerals(stranger)])
        assert said == ["That log is only for the team's own members and supervisors."]


@pytest.mark.slow
def test_an_export_is_in_the_log_with_whom_it_was_for_and_why(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        for n in range(6):
            w.check_in(member(n), 2, 4)
        w.next_week()
        services = w.bot.runtime.services
        with services.db.session() as session:
            team = session.merge(duty_team(w))
            read_pulse_for(
                session,
                "U0PREADER1",
                team,
                Surface.EXPORT,
                weeks=52,
                anonymity_min=5,
                retention_weeks=104,
                now=clock.now(),
                detail="CSV",
                reason="supervision <records> & notes",
            )
            # An export logged before `--by` and `--reason` were required.
            session.add(
                PulseView(
                    team_id=team.id,
                    viewer_id="CLI",
                    viewed_at=clock.now(),
                    what="export (CSV): w/c 23 Nov 2026",
                )
            )
        lines = _log(w, member(2))[1:]
        assert lines[0].startswith("• Exported by the CLI for nobody named, <!date^")
        assert lines[1].startswith("• Exported for <@U0PREADER1> by the CLI <!date^")
        assert lines[1].endswith(
            "(export CSV: w/c 23 Nov 2026), reason: “supervision &lt;records&gt; &amp; notes”"
        )
        assert not any("<@CLI>" in line for line in lines)
