"""Guarantee 8: every look at a team's figures is recorded (who, when, which periods), any member
can read that record with `/teampulse log`, and supervisors are told so from their first look.
"""

from __future__ import annotations

import re
from datetime import timedelta

from privacy_world import World, member, world

from bot.sandboxed import Person
from storage.clock import ManualClock

TOLD = "Each time you look, your team can see that you did (`/teampulse log`)."


def _log(w: World, user: str) -> list[str]:
    w.command(user, "/teampulse", "log")
    [shown] = w.replies(user)
    return shown.text.split("\n")


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
        assert lines[0] == "*Who has looked at Duty team's results*"
        looks = lines[1:]
        assert len(looks) == 2
        # Newest first; who, when (in the reader's own time zone, UTC as the fallback) and
        # which periods were on screen.
        for line, when, weeks in ((looks[0], second_look, 12), (looks[1], first_look, 4)):
            assert line.startswith(f"• <@{w.supervisor}> looked <!date^{int(when.timestamp())}^")
            assert f"|{when:%a %d %b %Y at %H:%M} UTC>" in line
            assert re.search(rf"/teampulse {weeks} weeks: w/c \d+ \w+ \d{{4}}", line), line


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
