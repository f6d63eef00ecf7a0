"""The `securebase` command, in-process (bot.cli.main) and once or twice as a real process.

Every failure a person can cause must end in one readable line on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select

from bot.cli import main
from bot.cli import parser as cli_parser
from bot.content import default_library
from practice.weeks import week_containing
from sandbox.webapi import SlackSandbox
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind, DeliveryStatus
from storage.migrate import alembic_config, status, upgrade
from storage.models import Delivery, Team

REPO = Path(__file__).resolve().parents[1]
ADD = [
    "team",
    "add",
    "--channel",
    "C0TEAM1",
    "--supervisor",
    "U0SUP1",
    "--workspace",
    "T0001",
    "--day",
    "thu",
    "--time",
    "14:15",
    "--tz",
    "Europe/Paris",
    "--name",
    "Duty team",
]
CLEARED = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PORT",
    "SECUREBASE_ANONYMITY_MIN",
    "SECUREBASE_TIMEZONE",
    "SECUREBASE_RETENTION_WEEKS",
    "SECUREBASE_PRIVACY_URL",
)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # no stray .env is picked up


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def teams_in(database_url: str) -> list[Team]:
    db = Database(database_url)
    try:
        with db.session() as session:
            return list(session.scalars(select(Team).order_by(Team.channel_id)))
    finally:
        db.dispose()


def test_team_add_then_list(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    code, out, err = run(capsys, *ADD, "--no-intro")
    assert (code, err) == (0, "")
    assert out.strip() == "Added Duty team (C0TEAM1): prompts on thu at 14:15 Europe/Paris"

    (team,) = teams_in(database_url)
    assert (team.workspace_id, team.channel_id, team.name) == ("T0001", "C0TEAM1", "Duty team")
    assert (team.post_day, team.post_minute, team.timezone) == (3, 14 * 60 + 15, "Europe/Paris")
    assert [s.user_id for s in team.supervisors] == ["U0SUP1"]

    code, out, err = run(capsys, "team", "list")
    assert code == 0
    header, line = out.strip().splitlines()
    assert header.split() == [
        "WORKSPACE", "CHANNEL", "NAME", "PROMPT", "SUPERVISORS", "STATUS", "LAST", "ERROR"
    ]  # fmt: skip
    # Every value sits under its column's heading.
    for column, value in [
        ("WORKSPACE", "T0001"),
        ("CHANNEL", "C0TEAM1"),
        ("NAME", "Duty team"),
        ("PROMPT", "thu 14:15 Europe/Paris"),
        ("SUPERVISORS", "U0SUP1"),
        ("STATUS", "active"),
    ]:
        assert line.index(value) == header.index(column)
    assert len(line) < header.index("LAST ERROR")  # no error: the column stays empty


def test_team_list_when_empty_says_how_to_add_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "team", "list")
    assert code == 0
    assert "No teams yet" in out and "securebase team add" in out


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackSandbox]:
    """The Slack sandbox as the one workspace T0001, with SLACK_BOT_TOKEN pointing at it."""
    sandbox = SlackSandbox().start()
    try:
        workspace = sandbox.add_workspace("T0001", "Northfield Council")
        sandbox.add_channel("T0001", "C0TEAM2", "duty-and-assessment", members=[])
        monkeypatch.setenv("SLACK_BOT_TOKEN", workspace.bot_token)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "sandbox-signing-secret")
        monkeypatch.setenv("SLACK_API_URL", sandbox.api_url)
        yield sandbox
    finally:
        sandbox.stop()


def test_second_team_defaults_to_the_known_workspace_and_the_configured_zone(
    capsys: pytest.CaptureFixture[str], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, *ADD)[0] == 0
    monkeypatch.setenv("SECUREBASE_TIMEZONE", "America/New_York")
    code, out, _ = run(
        capsys,
        "team",
        "add",
        "--channel",
        "C0TEAM2",
        "--supervisor",
        "U0SUP2",
        "--supervisor",
        "U0SUP3",
        "--name",
        "Court team",
    )
    assert code == 0
    assert "prompts on mon at 09:30 America/New_York" in out
    second = teams_in(database_url)[1]
    assert (second.workspace_id, second.name) == ("T0001", "Court team")
    assert sorted(s.user_id for s in second.supervisors) == ["U0SUP2", "U0SUP3"]


def test_a_team_without_a_name_is_named_after_its_channel(
    capsys: pytest.CaptureFixture[str], database_url: str, slack: SlackSandbox
) -> None:
    add = ["team", "add", "--channel", "C0TEAM2", "--supervisor", "U0SUP2", "--no-intro"]
    code, out, err = run(capsys, *add)
    assert (code, err) == (0, "")
    assert out.startswith("Added #duty-and-assessment (C0TEAM2)")
    (team,) = teams_in(database_url)
    assert (team.workspace_id, team.name) == ("T0001", "#duty-and-assessment")
    asked = [call.params.get("channel") for call in slack.calls("conversations.info")]
    assert asked == ["C0TEAM2"]


def test_a_new_team_s_channel_gets_its_introduction(
    capsys: pytest.CaptureFixture[str], database_url: str, slack: SlackSandbox
) -> None:
    slack.add_member("C0TEAM2", slack.workspace("T0001").bot_user_id)
    code, out, err = run(capsys, "team", "add", "--channel", "C0TEAM2", "--supervisor", "U0SUP2")
    assert (code, err) == (0, "")
    assert out.strip().splitlines()[-1] == "Posted the team's introduction in C0TEAM2."
    [intro] = slack.timeline("C0TEAM2")
    assert intro.text.startswith("Hello from Secure Base")
    said = json.dumps(intro.blocks)
    assert "voluntary and private" in said and "<@U0SUP2>" in said
    assert "Stop these reminders" in said

    # Posted again on request, or printed and not posted.
    code, out, err = run(capsys, "team", "intro", "--channel", "C0TEAM2", "--dry-run")
    assert (code, err) == (0, "")
    assert json.loads(out)["text"] == intro.text
    assert len(slack.timeline("C0TEAM2")) == 1
    assert run(capsys, "team", "intro", "--channel", "C0TEAM2")[0] == 0
    assert [m.text for m in slack.timeline("C0TEAM2")] == [intro.text, intro.text]


def test_a_failed_introduction_is_told_and_keeps_the_team(
    capsys: pytest.CaptureFixture[str], database_url: str, slack: SlackSandbox
) -> None:
    """The bot isn't in the channel yet: the team is set up all the same, and the one line
    says what happened and how to post the introduction later."""
    code, out, err = run(capsys, "team", "add", "--channel", "C0TEAM2", "--supervisor", "U0SUP2")
    assert code == 0
    assert out.startswith("Added #duty-and-assessment (C0TEAM2)")
    assert one_line(err) == (
        "securebase: the team is set up, but its introduction wasn't posted (Slack said "
        "“not_in_channel”: invite the app to the channel first). Post it later with "
        "`/securebase intro` in the channel, or `securebase team intro --channel C0TEAM2`."
    )
    assert [t.channel_id for t in teams_in(database_url)] == ["C0TEAM2"]
    code, _, err = run(capsys, "team", "intro", "--channel", "C0TEAM2")
    assert code == 2
    assert one_line(err).startswith("securebase: the introduction wasn't posted in C0TEAM2")


def test_without_slack_the_team_is_added_and_the_introduction_waits(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    code, out, err = run(capsys, *ADD)
    assert code == 0 and out.startswith("Added Duty team (C0TEAM1)")
    line = one_line(err)
    assert line.startswith("securebase: the team is set up, but its introduction wasn't posted")
    assert "SLACK_BOT_TOKEN is not set" in line and "/securebase intro" in line
    assert len(teams_in(database_url)) == 1


def test_a_channel_slack_does_not_know_is_one_line(
    capsys: pytest.CaptureFixture[str], database_url: str, slack: SlackSandbox
) -> None:
    code, _, err = run(capsys, "team", "add", "--channel", "C0GONE", "--supervisor", "U0SUP2")
    assert code == 2
    assert one_line(err) == (
        "securebase: Slack has no channel C0GONE that Secure Base can see: check the id, and "
        "for a private channel invite the bot first (/invite @Secure Base)"
    )
    assert teams_in(database_url) == []


def test_without_a_bot_token_the_error_says_what_slack_was_needed_for(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    add = ["team", "add", "--channel", "C0TEAM2", "--supervisor", "U0SUP2"]
    code, _, err = run(capsys, *add)
    assert code == 2
    line = one_line(err)
    assert line.startswith("securebase: SLACK_BOT_TOKEN is not set")
    assert line.endswith(
        "(it is needed to ask Slack for the workspace's id; or add --workspace T…)"
    )
    code, _, err = run(capsys, *add, "--workspace", "T0001")
    assert code == 2
    line = one_line(err)
    assert line.startswith("securebase: SLACK_BOT_TOKEN is not set")
    assert line.endswith("(it is needed to look up the channel's name; or add --name)")
    assert teams_in(database_url) == []


def test_duplicate_add_fails_with_one_line(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    assert run(capsys, *ADD)[0] == 0
    code, out, err = run(capsys, *ADD)
    assert code == 2
    assert out == ""
    assert one_line(err) == "securebase: channel C0TEAM1 already has a team"
    assert len(teams_in(database_url)) == 1


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--time", "25:00", "'25:00' is not a time like 09:30"),
        ("--time", "9.30", "is not a time"),
        ("--day", "someday", "'someday' is not a day: use Monday to Sunday, or mon to sun"),
        ("--day", "monkey", "'monkey' is not a day"),  # starts like "mon", but is no day
        ("--day", "th", "'th' is not a day"),
        ("--tz", "Mars/Olympus", "'Mars/Olympus' is not an IANA time zone (e.g. Europe/London)"),
        ("--tz", "Europe", "'Europe' is not an IANA time zone"),
        ("--tz", "europe/paris", "'europe/paris' is not an IANA time zone (did you mean "
         "Europe/Paris?)"),
        ("--tz", "EUROPE/LONDON", "(did you mean Europe/London?)"),
        ("--channel", "#general", "'#general' is not a channel id: a channel id starts with C"),
        ("--channel", "c0team1", "'c0team1' is not a channel id"),
        ("--supervisor", "C0NOTAUSER", "'C0NOTAUSER' is not a member id: a member id starts "
         "with U or W"),
        ("--workspace", "t0001", "'t0001' is not a workspace id: a workspace id starts with T, "
         "like T0123ABCD: it is the T… part of your workspace's address in a browser"),
        ("--workspace", "E0001", "'E0001' is not a workspace id"),
    ],
)  # fmt: skip
@pytest.mark.slow
def test_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], database_url: str, option: str, value: str, says: str
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    argv = list(ADD)
    argv[argv.index(option) + 1] = value
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("securebase team add: error: argument")
    assert option in last and says in last
    assert teams_in(database_url) == []


@pytest.mark.parametrize(
    ("typed", "day"),
    [("Thursday", 3), ("thursday", 3), ("THU", 3), (" sunday ", 6), ("Mon", 0), ("wed", 2)],
)
def test_day_names_in_any_case_and_their_three_letter_forms(
    capsys: pytest.CaptureFixture[str], database_url: str, typed: str, day: int
) -> None:
    argv = list(ADD)
    argv[argv.index("--day") + 1] = typed
    assert run(capsys, *argv)[0] == 0
    assert teams_in(database_url)[0].post_day == day


def _parsers(
    parser: argparse.ArgumentParser, name: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for command, sub in action.choices.items():
                assert command in helped, f"`{name} {command}` has no help text"
                yield from _parsers(sub, f"{name} {command}")


def test_every_command_and_option_has_help_text() -> None:
    options = 0
    for name, parser in _parsers(cli_parser(), "securebase"):
        for action in parser._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (
                f"`{name} {action.option_strings[0]}` has no help text"
            )
            options += 1
    assert options >= 20  # the walk really reached the sub-commands' options


def test_the_workspace_rule_is_stated_when_it_is_needed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    argv = [a for a in ADD if a not in ("--workspace", "T0001")]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert one_line(err) == (
        "securebase: SLACK_CLIENT_ID is set (installed through OAuth, possibly in several "
        "workspaces), so say which workspace: add --workspace T…"
    )


@pytest.mark.slow
def test_a_channel_in_several_workspaces_needs_the_workspace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, *ADD)[0] == 0
    other = list(ADD)
    other[other.index("--workspace") + 1] = "T0002"
    assert run(capsys, *other)[0] == 0
    code, _, err = run(capsys, "prompt", "--channel", "C0TEAM1", "--dry-run")
    assert code == 2
    assert one_line(err) == (
        "securebase: channel C0TEAM1 is set up in several workspaces (T0001, T0002): "
        "add --workspace with one of them"
    )
    code, _, err = run(capsys, "prompt", "--channel", "C0TEAM1", "--workspace", "T0003")
    assert code == 2
    assert one_line(err) == (
        "securebase: no team is set up in channel C0TEAM1 of workspace T0003 "
        "(it is set up in T0001, T0002)"
    )
    code, out, err = run(
        capsys, "prompt", "--channel", "C0TEAM1", "--workspace", "T0002", "--dry-run"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["channel"] == "C0TEAM1"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage: securebase" in capsys.readouterr().err


def test_team_remove(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    assert run(capsys, *ADD)[0] == 0
    code, out, err = run(capsys, "team", "remove", "--channel", "C0TEAM1")
    assert code == 2  # no terminal to confirm on, and no --yes: nothing is erased
    assert "without confirmation" in one_line(err)
    assert len(teams_in(database_url)) == 1
    code, out, err = run(capsys, "team", "remove", "--channel", "C0TEAM1", "--yes")
    assert (code, err) == (0, "")
    assert out.strip().startswith("Erased Duty team (C0TEAM1)")
    assert teams_in(database_url) == []
    assert "No teams yet" in run(capsys, "team", "list")[1]

    code, _, err = run(capsys, "team", "remove", "--channel", "C0TEAM1", "--yes")
    assert code == 2
    assert one_line(err) == "securebase: no team is set up in channel C0TEAM1"


def test_team_list_shows_the_last_permanent_failure(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    assert run(capsys, *ADD)[0] == 0
    db = Database(database_url)
    try:
        with db.session() as session:
            team = session.scalars(select(Team)).one()
            session.add(
                Delivery(
                    team_id=team.id,
                    week_index=150,
                    kind=DeliveryKind.PROMPT,
                    recipient="C0TEAM1",
                    status=DeliveryStatus.FAILED,
                    claimed_at=datetime(2026, 11, 23, 13, 15, tzinfo=UTC),
                    claimed_by="host-a:1",
                    error="channel_not_found",
                )
            )
    finally:
        db.dispose()
    header, line = run(capsys, "team", "list")[1].strip().splitlines()
    assert line[header.index("LAST ERROR") :] == "channel_not_found"


def test_team_list_shows_why_this_weeks_prompt_is_waiting(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    """The members of the channel could not be read when the prompt was due: the ledger notes
    it (Slack's code, nothing about anyone) and `team list` says so; a past week's note is not
    news, so it is not shown."""
    assert run(capsys, *ADD)[0] == 0
    this_week = week_containing(datetime.now(UTC), "Europe/Paris")
    since = this_week.starts_at("Europe/Paris").astimezone(UTC)
    db = Database(database_url)
    try:
        with db.session() as session:
            team = session.scalars(select(Team)).one()
            deliveries.wait(
                session,
                DeliveryKey(team.id, this_week.index - 1, DeliveryKind.PROMPT, "C0TEAM1"),
                worker="host-a:1",
                now=since - timedelta(weeks=1),
                reason="fatal_error",
            )
        header, line = run(capsys, "team", "list")[1].strip().splitlines()
        assert line[header.index("LAST ERROR") :].strip() == ""
        with db.session() as session:
            deliveries.wait(
                session,
                DeliveryKey(team.id, this_week.index, DeliveryKind.PROMPT, "C0TEAM1"),
                worker="host-a:1",
                now=since,
                reason="ratelimited",
            )
    finally:
        db.dispose()
    header, line = run(capsys, "team", "list")[1].strip().splitlines()
    assert line[header.index("LAST ERROR") :] == (
        f"prompt waiting since {since:%a %H:%M} UTC: the channel's members couldn't be read "
        "(ratelimited); trying again each sweep"
    )


def test_prompt_dry_run_prints_block_kit(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *ADD)[0] == 0
    code, out, err = run(capsys, "prompt", "--channel", "C0TEAM1", "--dry-run")
    assert (code, err) == (0, "")
    message = json.loads(out)
    assert message["channel"] == "C0TEAM1"
    titles = {domain.title for domain in default_library().domains}
    header = message["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] in {f"This week: {title}" for title in titles}
    assert any(title in message["text"] for title in titles)
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    (button,) = actions["elements"]
    assert button["text"]["text"] == "Check in privately"
    assert (button["action_id"], button["value"]) == ("open_checkin", "C0TEAM1")

    # The same week gives the same prompt: the dry run does not reroll it.
    assert json.loads(run(capsys, "prompt", "--channel", "C0TEAM1", "--dry-run")[1]) == message


def test_prompt_for_an_unknown_channel(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "prompt", "--channel", "C0NOPE", "--dry-run")
    assert (code, out) == (2, "")
    assert one_line(err) == "securebase: no team is set up in channel C0NOPE"


def every_migration() -> list[str]:
    """Every revision in storage/migrations, oldest first (each new one counts here too)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def test_db_upgrade_names_each_migration_it_applies(capsys: pytest.CaptureFixture[str]) -> None:
    revisions = every_migration()
    head = revisions[-1]
    assert revisions[0] == "0001" and len(revisions) >= 6
    code, out, err = run(capsys, "db", "current")
    assert (code, err) == (0, "")
    header, *pending = out.strip().splitlines()
    assert header == (
        f"The database is at no migration (an empty database); {len(revisions)} to apply "
        "with `securebase db upgrade`:"
    )
    assert pending[0] == "  0001: initial schema"
    assert [line.split(":")[0].strip() for line in pending] == revisions

    code, out, err = run(capsys, "db", "upgrade")
    assert (code, err) == (0, "")
    *applied, last = out.strip().splitlines()
    assert applied[0] == "Applied migration 0001: initial schema"
    assert [line.split(":")[0] for line in applied] == [
        f"Applied migration {revision}" for revision in revisions
    ]
    assert last == f"The database is up to date, at {head}."

    for command in ("upgrade", "current"):  # nothing left to apply, and nothing is
        code, out, err = run(capsys, "db", command)
        assert (code, err, out.strip()) == (0, "", f"The database is up to date, at {head}.")


def test_db_current_changes_nothing_and_lists_what_is_pending(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0003")
        code, out, err = run(capsys, "db", "current")
        assert (code, err) == (0, "")
        header, *pending = out.strip().splitlines()
        later = [r for r in every_migration() if r not in ("0001", "0003")]
        assert header == (
            f"The database is at 0003; {len(later)} to apply with `securebase db upgrade`:"
        )
        assert [line.split(":")[0].strip() for line in pending] == later
        assert sorted(pending[:2]) == [  # two branches off 0001, in Alembic's order
            "  0002: team experience: support text per team, reminder opt-outs, skipped weeks",
            "  0004: partial index on the open team-weeks",
        ]
        assert pending[2].startswith("  0005: Week secrets move to a table of their own")
        assert status(db).current == ("0003",)
    finally:
        db.dispose()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"securebase {version('securebase')}"


def test_run_without_a_bot_token_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "run")
    assert (code, out) == (2, "")
    line = one_line(err)
    assert line.startswith("securebase: SLACK_BOT_TOKEN is not set")


def test_a_bad_setting_stops_database_commands_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECUREBASE_TIMEZONE", "Europe")
    code, _, err = run(capsys, "team", "list")
    assert code == 2
    assert "SECUREBASE_TIMEZONE" in one_line(err)


def test_an_unreachable_database_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    code, out, err = run(capsys, "team", "list")
    assert (code, out) == (2, "")
    assert one_line(err).startswith("securebase: could not use the database in DATABASE_URL (")


# --- as a real process -------------------------------------------------------------------


def securebase(database_url: str, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.subprocess
def test_as_a_process_failures_reach_the_user_as_one_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cwd = Path.cwd()
    done = securebase(database_url, cwd, "run")
    assert done.returncode == 2
    assert done.stdout == ""
    assert one_line(done.stderr).startswith("securebase: SLACK_BOT_TOKEN is not set")

    assert run(capsys, *ADD)[0] == 0  # in-process: only the failing repeat needs a process
    again = securebase(database_url, cwd, *ADD)
    assert again.returncode == 2
    # Just the one line: no migration chatter from the logs around it.
    assert one_line(again.stderr) == "securebase: channel C0TEAM1 already has a team"


@pytest.mark.subprocess
def test_as_a_process_a_zone_directory_is_a_usage_error(database_url: str) -> None:
    done = securebase(
        database_url,
        Path.cwd(),
        "team",
        "add",
        "--channel",
        "C0X1",
        "--supervisor",
        "U0X1",
        "--tz",
        "America",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "'America' is not an IANA time zone" in done.stderr.strip().splitlines()[-1]
