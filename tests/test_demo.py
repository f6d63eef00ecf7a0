"""`securebase demo`, `securebase sandbox` and the plain-text rendering they print with."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import default_library
from bot.demo import run_demo
from bot.demo.script import play
from bot.demo.show import Printer
from bot.demo.team import TEAM_CHANNEL, DemoError, demo_team
from bot.render.checkin import checkin_modal
from bot.render.text import mrkdwn_to_text, questions, view_lines

CLI = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"


def securebase(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command as a person runs it, from an empty folder (no .env) with no Slack settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )


def words(printed: str) -> str:
    """Printed text with the message bars and line wrapping taken out."""
    return " ".join(printed.replace("│", " ").split())


def test_demo_plays_three_weeks_and_shows_what_people_see(tmp_path: Path) -> None:
    result = securebase(tmp_path, "demo")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the bot's own logging stays quiet
    out = words(result.stdout)
    for heading in ("Week 1 of 3", "Week 2 of 3", "Week 3 of 3", "the team pulse"):
        assert heading in out
    assert out.count("Secure Base posts in #northfield-family-support") == 3
    assert out.count("Your reflections this week:") == 3  # one supervisor DM a week
    # The App Home and the chart, saved where the reader can open it (issue 7).
    assert "Ruth Campbell's Home tab (only she sees it)" in out
    assert "Your team's secure base profile" in out
    chart = tmp_path / "demo-out" / "team-pulse-chart.png"
    assert f"  {chart}\n" in result.stdout  # on a line of its own, to copy
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "w/c 19 Jan 2026: not enough answers" in out  # the quiet week, in the alt text
    assert "[ Check in privately ]" in out
    assert "presses “Check in privately” under the prompt" in out
    assert "How stressed have you felt this week?" in out
    assert "(•) Most of the time" in out and "( ) Very much" in out
    assert "[ Cancel ] [ Send privately ]" in out
    # Each check-in is confirmed in the form itself; no message is ever sent about one: every
    # direct message in the demo goes to the supervisor (reflections and the chart).
    assert out.count("The form turns into this note") == 7 + 3 + 8
    assert "It replaces the one you sent earlier this week." in out
    assert out.count("a direct message:") == out.count("Secure Base sends Ruth Campbell a direct")
    # Someone who joined after week 2's prompt is told kindly to wait, and checks in in week 3.
    assert "Jess Turner joins the team today" in out
    assert "You joined Northfield Family Support after this week's prompt went out" in out
    assert "You're very welcome to check in from next week." in out
    assert "Jess presses “Send privately”" in out
    assert "Team pulse: Northfield Family Support" in out
    assert "not enough answers to show without identifying" in out
    assert "only for a team's practice supervisors" in out
    assert "Big thanks to [someone]" not in out  # week 1's comments are not the latest
    assert "@Ruth Campbell looked" in out
    assert '"type"' not in out and "<@U" not in out  # readable text, not Block Kit


def test_demo_runs_on_the_test_database_too(database_url: str) -> None:
    out = io.StringIO()
    assert run_demo(out, database_url) == 0
    assert "Team pulse: Northfield Family Support" in out.getvalue()


def test_demo_stops_with_one_line_when_slack_refuses_the_prompt(database_url: str) -> None:
    out = io.StringIO()
    refused = pytest.raises(DemoError, match="prompt was not posted in #northfield-family-support")
    with refused, demo_team(database_url) as team:
        team.bot.sandbox.faults.channel_error(TEAM_CHANNEL, "channel_not_found")
        play(team, Printer(team, out))


SHELL_SCRIPT = """\
who
as nobody
as priya
/checkin
9
4
3

Thanks all.
as tom
/checkin
3
4
2

as aisha
/checkin
5
2
cancel
/checkin
Always
2
5

as gareth
/checkin
2
4


as mei
/checkin
4
3


/teampulse
next week
as ruth
/teampulse
/frobnicate
home
"""


def test_sandbox_takes_a_piped_session_and_ends_at_end_of_input(tmp_path: Path) -> None:
    result = securebase(tmp_path, "sandbox", stdin=SHELL_SCRIPT)

    assert result.returncode == 0, result.stderr
    out = words(result.stdout)
    assert "ruth Ruth Campbell, practice supervisor" in out
    assert "nobody in the team is called 'nobody'" in out
    assert "1. Could you get support from colleagues or your supervisor" in out
    assert "4) Most of the time" in out
    assert "Please type a number from 1 to 5." in out
    assert "The form is closed. Nothing was sent." in out
    # Five check-ins, each confirmed inside its form; the only DMs are Ruth's reflections.
    assert out.count("The form turns into this note") == 5
    assert out.count("Secure Base sends") == out.count("Secure Base sends Ruth Campbell")
    assert "only for a team's practice supervisors" in out  # Mei is not a supervisor
    # Five check-ins: support 4, 3, 5, 2, 4 and stress 3, 4, 2, 4, 3.
    assert "5 of 8 answered" in out  # the roster: the eight members, not the supervisor
    assert "mean 3.6 of 5" in out and "mean 3.2 of 5" in out
    assert "Thanks all." in out
    assert "Secure Base has no /frobnicate" in out
    assert "App Home" in out
    assert out.endswith("Bye.")


def test_mrkdwn_becomes_plain_words() -> None:
    names = {"U1": "Priya Shah", "C1": "duty-team"}.get
    text = "*Hi* <@U1>, see <#C1> and <https://example.org|the guide>; _thanks_ &amp; &lt;3"
    assert mrkdwn_to_text(text, names) == (
        "Hi @Priya Shah, see #duty-team and the guide (https://example.org); thanks & <3"
    )
    assert mrkdwn_to_text("<@U9|sam> at <!here>, <mailto:a@b.org|a@b.org>") == (
        "@sam at @here, a@b.org"
    )
    assert mrkdwn_to_text("2*3*4 and snake_case_name stay") == "2*3*4 and snake_case_name stay"


def test_the_checkin_modal_reads_as_questions_with_options() -> None:
    library = default_library()
    modal = checkin_modal(library, library.domains[0], "C1", 0, "Duty", 5, None)

    asked = questions(modal)
    assert [q.block_id for q in asked] == ["availability", "stress", "domain_item", "comment"]
    assert [q.optional for q in asked] == [False, False, True, True]
    assert asked[1].options[0] == ("1", "Not at all")
    assert asked[3].options == () and asked[3].max_length == 1000

    lines = view_lines(modal, answers={"stress": "5", "comment": "ok"})
    assert lines[0] == "Weekly check-in"
    assert "  (•) Very much" in lines and "  ( ) Not at all" in lines
    assert "  “ok”" in lines
    assert lines[-1] == "[ Cancel ]  [ Send privately ]"
