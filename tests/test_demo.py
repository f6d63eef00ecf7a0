"""`securebase demo`, `securebase sandbox` and the plain-text rendering they print with."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from bot.content import default_library
from bot.demo import run_demo, run_interactive
from bot.demo.history import HISTORY_WEEKS, history_answers
from bot.demo.script import play
from bot.demo.shell import COMMANDS
from bot.demo.show import Printer
from bot.demo.team import MEMBERS, TEAM_CHANNEL, DemoError, demo_team
from bot.render.checkin import checkin_modal
from bot.render.text import framed, mrkdwn_to_text, questions, view_lines

CLI = "import sys; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
# What `make demo` does not install: the demo must run without any of it.
NOT_INSTALLED_FOR_THE_DEMO = ("pytest", "hypothesis", "psycopg", "mypy", "ruff")
WITHOUT_DEV_TOOLS = (
    "import sys\n"
    f"for name in {NOT_INSTALLED_FOR_THE_DEMO!r}:\n"
    "    sys.modules[name] = None  # import fails, as if not installed\n"
    "from bot.cli import main\n"
    "sys.exit(main(sys.argv[1:]))"
)


def plain_env() -> dict[str, str]:
    """The environment of a person with no Slack settings, no database and no COLUMNS."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL")) and k != "COLUMNS"
    }


def securebase(
    tmp_path: Path, *args: str, stdin: str = "", code: str = CLI
) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it, from an empty folder (no .env) with no Slack settings."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=plain_env(),
        timeout=120,
        check=False,
    )


def words(printed: str) -> str:
    """Printed text with the message bars and line wrapping taken out."""
    return " ".join(printed.replace("│", " ").split())


@pytest.mark.slow
@pytest.mark.subprocess
def test_demo_plays_three_weeks_the_same_every_time(tmp_path: Path) -> None:
    """Two runs, in two folders, print the very same transcript (each waits for every reply
    it prints), 80 columns wide as no terminal is attached, with nothing from the dev tools."""
    first, second = tmp_path / "first", tmp_path / "second"
    runs = []
    for folder in (first, second):
        folder.mkdir()
        runs.append(securebase(folder, "demo", code=WITHOUT_DEV_TOOLS))
    result = runs[0]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the bot's own logging stays quiet
    assert runs[1].returncode == 0, runs[1].stderr
    assert runs[1].stdout == result.stdout

    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) == 80  # the width is used, and never passed
    assert "```" not in result.stdout  # Slack's code fences are not shown raw

    out = words(result.stdout)
    for heading in ("Week 1 of 3", "Week 2 of 3", "Week 3 of 3", "the team pulse"):
        assert heading in out
    assert out.count("Secure Base posts in #northfield-family-support") == 3
    assert out.count("Your reflections this week:") == 3  # one supervisor DM a week
    # The App Home and the chart, saved where the reader can open it (issue 7).
    assert "Ruth Campbell's Home tab (only she sees it)" in out
    assert "Your team's secure base profile" in out
    assert "w/c 26 Jan 2026 Acceptance support 4.0 ████░" in out  # the bars, unfenced
    assert "\n  demo-out/team-pulse-chart.png\n" in result.stdout  # on a line of its own
    for folder in (first, second):
        chart = folder / "demo-out" / "team-pulse-chart.png"
        assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "w/c 19 Jan 2026: not enough answers" in out  # the quiet week, in the alt text
    assert "[ Check in privately ]" in out
    # The team's introduction, previewed and posted before the first prompt, and the card on
    # talking with the team about the results, opened from under the pulse (issue 12).
    assert "Ruth Campbell types /securebase intro" in out
    assert "Hello from Secure Base" in out and "Checking in is voluntary and private." in out
    assert "Secure Base posts the introduction above in #northfield-family-support" in out
    assert "presses “Talking about it with the team” under the pulse" in out
    assert "Say what you see, never guess who said it." in out
    assert "presses “Check in privately” under the prompt" in out
    assert "How much stress like that did you feel this week?" in out
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
    assert "What people added (random order) > Would like more time to debrief." in out
    assert "only for a team's practice supervisors" in out
    assert "Big thanks to [someone]" not in out  # week 1's comments are not the latest
    assert "@Ruth Campbell looked" in out
    assert '"type"' not in out and "<@U" not in out  # readable text, not Block Kit
    # After the chart, every reply it led to, before the demo moves on.
    after_chart = out[out.index("asks for a chart") : out.index("That's the demo")]
    assert "Would you like to share w/c 26 Jan 2026 with the team" in after_chart
    assert "I've sent you the chart for Northfield Family Support" in after_chart


def in_a_terminal(tmp_path: Path, columns: int, *args: str) -> str:
    """Run `securebase *args` with its output on a pseudo-terminal `columns` wide."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    with open(tmp_path / "stderr", "w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-c", CLI, *args],
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=errors,
            cwd=tmp_path,
            env=plain_env(),
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(controller)
        assert process.wait(timeout=120) == 0, errors.read()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.slow
@pytest.mark.subprocess
def test_demo_fits_a_narrow_terminal(tmp_path: Path) -> None:
    printed = in_a_terminal(tmp_path, 60, "demo")
    lines = printed.splitlines()
    assert "That's the demo" in printed
    assert max(len(line) for line in lines) == 60
    assert "═" * 60 in lines  # the headings' rules are as wide as the terminal


@pytest.mark.slow
@pytest.mark.subprocess
def test_demo_over_socket_mode_tells_the_same_story(tmp_path: Path) -> None:
    """The same lines over Socket Mode as over HTTP. Compared in any order: the pulse lists a
    period's comments shuffled afresh each time (so nobody is known by their position)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    runs = {  # both at once, each in the same kind of empty folder
        mode: subprocess.Popen(
            [sys.executable, "-c", CLI, "demo", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path / mode,
            env=env,
        )
        for mode, flags in (("http", []), ("socket", ["--socket-mode"]))
        if not (tmp_path / mode).mkdir()
    }
    outputs = {mode: run.communicate(timeout=120) for mode, run in runs.items()}
    assert [run.returncode for run in runs.values()] == [0, 0], outputs
    assert [err for _, err in outputs.values()] == ["", ""]
    http, socket_mode = (
        out.replace(str(tmp_path / mode), "FOLDER") for mode, (out, _) in outputs.items()
    )
    assert "Team pulse: Northfield Family Support" in socket_mode
    assert sorted(socket_mode.splitlines()) == sorted(http.splitlines())


@pytest.mark.slow
def test_demo_runs_on_the_test_database_too(database_url: str) -> None:
    out = io.StringIO()
    assert run_demo(out, database_url) == 0
    assert "Team pulse: Northfield Family Support" in out.getvalue()


@pytest.mark.slow
def test_demo_stops_with_one_line_when_slack_refuses_the_prompt(database_url: str) -> None:
    out = io.StringIO()
    # The introduction is the first thing the demo posts in the channel.
    refused = pytest.raises(
        DemoError, match="introduction was not posted in #northfield-family-support"
    )
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


@pytest.mark.slow
@pytest.mark.subprocess
def test_sandbox_takes_a_piped_session_and_ends_at_end_of_input(tmp_path: Path) -> None:
    result = securebase(tmp_path, "sandbox", stdin=SHELL_SCRIPT)

    assert result.returncode == 0, result.stderr
    out = words(result.stdout)
    assert "ruth Ruth Campbell, practice supervisor" in out
    assert "nobody in the team is called 'nobody'" in out
    assert "1. This week, how often was support there when you needed it?" in out
    assert "4) Most of the time" in out and "6) I didn't need any this week" in out
    assert "Please type a number from 1 to 6." in out
    assert "The form is closed. Nothing was sent." in out
    # Five check-ins, each confirmed inside its form; the only DMs are Ruth's reflections.
    assert out.count("The form turns into this note") == 5
    assert out.count("Secure Base sends") == out.count("Secure Base sends Ruth Campbell")
    assert "only for a team's practice supervisors" in out  # Mei is not a supervisor
    # Five check-ins: support 4, 3, 5, 2, 4 and stress 3, 4, 2, 4, 3.
    assert "5 of 8 checked in" in out  # the roster: the eight members, not the supervisor
    assert "average 3.6 of 5" in out and "average 3.2 of 5" in out
    assert "Thanks all." in out
    assert "Secure Base has no /frobnicate" in out
    assert "App Home" in out
    assert out.endswith("Bye.")


def sandbox(database_url: str, script: str, *, history: bool = False) -> str:
    """A piped sandbox session, in-process; returns the transcript."""
    out = io.StringIO()
    assert run_interactive(io.StringIO(script), out, database_url, history=history) == 0
    return out.getvalue()


def replies(transcript: str) -> list[tuple[str, str]]:
    """(command typed, everything printed under it) for each command of a session."""
    found: list[tuple[str, str]] = []
    for line in transcript.splitlines():
        typed = re.fullmatch(r"[A-Z][a-z]+> (.*)", line)
        if typed:
            found.append((typed.group(1), ""))
        elif found:
            command, printed = found[-1]
            found[-1] = (command, printed + line + "\n")
    return found


def typed(usage: str) -> str:
    """What a person types for a command as `help` shows it: `as <name>` → `as ruth`."""
    return re.sub(r"\s*\[[^]]*\]", "", usage).replace("<name>", "ruth")


@pytest.mark.slow
def test_every_command_help_lists_works_and_answers_under_itself(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`help` lists every command the sandbox knows; typing each one, with eight weeks of
    history behind the team, gets its whole answer printed under it (as Ruth, who may use
    them all)."""
    monkeypatch.chdir(tmp_path)
    commands = [typed(c.usage) for c in COMMANDS]
    assert commands[1] == "as ruth" and commands[-1] == "quit"
    at = commands.index("midweek") + 1  # and midweek again, at once: no second reminder
    script = ["help", *commands[:at], "midweek", *commands[at:]]
    transcript = sandbox(database_url, "\n".join(script) + "\nwho\n", history=True)
    answers = replies(transcript)
    # Nothing is read after `quit`.
    assert [command for command, _ in answers] == script
    assert transcript.endswith("Bye.\n")

    listed = answers[0][1]
    for command in COMMANDS:
        assert f"  {command.usage} " in listed or f"  {command.usage}\n" in listed
    assert len(listed.splitlines()) >= len(COMMANDS)
    for command, printed in answers[1:-1]:
        assert printed.strip(), f"`{command}` printed nothing"
        assert "Sorry, I don't know" not in printed and "has no /" not in printed, command
    assert max(len(line) for line in transcript.splitlines()) <= 80

    said = {command: words(printed) for command, printed in answers}
    assert "You are now Ruth Campbell (the practice supervisor)." in said["as ruth"]
    # Ruth supervises the team: she is told kindly that she doesn't check in to it.
    assert "you don't check in to your own team" in said["/checkin"]
    assert "Last 8 weeks, newest first" in said["/teampulse"]
    assert "Who has looked at Northfield Family Support's results" in said["/teampulse log"]
    chart = said["/teampulse chart"]
    for part in (
        "Northfield Family Support: the last 8 finished periods.",
        "Saved on this computer",
        "demo-out/team-pulse-chart.png",
        "Would you like to share w/c 2 Mar 2026 with the team",
        "I've sent you the chart for Northfield Family Support in a direct message.",
    ):
        assert part in chart
    saved = tmp_path / "demo-out" / "team-pulse-chart.png"
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "Prompts: Mondays at 09:30 (Europe/London)" in said["/securebase"]
    assert "Ruth opens Secure Base's Home tab" in said["home"]
    # Midweek: Ruth is a supervisor, so the eight members get the one reminder; once.
    first, again = (printed for command, printed in answers if command == "midweek")
    first = words(first)
    assert "Wed 11 Mar, 10:00 · Midweek: 8 gentle reminders go out" in first
    assert "Priya Shah, Tom Okafor" in first and "each the same direct message" in first
    assert "If you've already checked in, thank you" in first
    assert "no reminders are due" in words(again)
    assert "Mon 16 Mar, 09:31 · A new week: the prompt goes out." in said["next week"]


@pytest.mark.slow
def test_history_starts_with_eight_weeks_answered_through_the_bot(database_url: str) -> None:
    transcript = sandbox(database_url, "as ruth\n/teampulse 8\n", history=True)
    before = transcript[: transcript.index("Priya> ")]
    weeks = re.findall(r"  (w/c \d+ \w+ 2026): (\d) of 8 checked in", before)
    assert len(weeks) == HISTORY_WEEKS == 8
    expected = [
        [answers for i in range(len(MEMBERS)) if (answers := history_answers(w, i))]
        for w in range(HISTORY_WEEKS)
    ]
    assert [int(count) for _, count in weeks] == [len(week) for week in expected]
    assert "Mon 09 Mar, 09:31 · This week's prompt has gone out." in before

    pulse = words(replies(transcript)[-1][1])
    shown = re.findall(r"(w/c \d+ \w+ 2026) · \w[\w ()-]* · (\d) of 8 checked in · "
                       r"support (\d\.\d) · stress (\d\.\d)", pulse)  # fmt: skip
    assert len(shown) == 8  # every week above the minimum, with figures
    for (label, count, support, stress), (week_label, _), answers in zip(
        shown, reversed(weeks), reversed(expected), strict=True
    ):
        assert label == week_label and int(count) == len(answers)
        assert float(support) == round(sum(a.support for a in answers) / len(answers), 1)
        assert float(stress) == round(sum(a.stress for a in answers) / len(answers), 1)


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
    # A code block keeps its lines; its fences go.
    assert mrkdwn_to_text("Bars\n```w/c 1  3.0 ███░░\nw/c 2  4.0 ████░```") == (
        "Bars\nw/c 1  3.0 ███░░\nw/c 2  4.0 ████░"
    )


def test_framed_lines_fit_the_width_and_rules_are_cut_not_wrapped() -> None:
    words_ = " ".join(["support"] * 30)
    lines = framed(["═" * 200, words_, "• " + words_], width=40).splitlines()
    assert lines[0] == "  │ " + "═" * 36
    assert all(len(line) <= 40 for line in lines)
    assert lines[1].startswith("  │ support") and lines[-1].startswith("  │   support")


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
