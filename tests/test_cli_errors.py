"""What a person meets when a setting is wrong: one line on stderr naming the setting and the
fix, exit code 2, never a traceback, whichever command they ran. Slack's refusals come from
the Slack sandbox, answering auth.test as Slack does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.cli import main
from sandbox.webapi import SlackSandbox

REPO = Path(__file__).resolve().parents[1]
WORKSPACE, BOT_TOKEN, BOT_USER = "T0ERRORS1", "xoxb-errors-bot-token", "U0ERRBOT01"
CHANNEL, SUPERVISOR = "C0ERRTEAM", "U0ERRSUP1"
SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "DATABASE_URL",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "METRICS_ENABLED",
    *dotenv_values(REPO / ".env.example"),
)
TEAM_ADD = ["team", "add", "--channel", CHANNEL, "--supervisor", SUPERVISOR]
# A team set up without asking Slack anything (its workspace and name given).
TEAM_ADD_OFFLINE = [*TEAM_ADD, "--workspace", WORKSPACE, "--name", "Duty team", "--no-intro"]
# One-shot commands that need Slack: `team add` asks Slack for the workspace when no team is
# known yet; `prompt` posts.
SLACK_COMMANDS = {"team add": TEAM_ADD, "prompt": ["prompt", "--channel", CHANNEL]}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """No setting from this machine, and none left behind: a .env read by the command writes
    into os.environ, so each setting it may hold is put back afterwards."""
    for name in SETTINGS:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECUREBASE_SECRET_KEY", os.urandom(32).hex())  # this file is about others
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackSandbox]:
    with SlackSandbox() as sandbox:
        sandbox.add_workspace(WORKSPACE, "Errors", bot_token=BOT_TOKEN, bot_user_id=BOT_USER)
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "errors-signing-secret")
        monkeypatch.setenv("SLACK_API_URL", sandbox.api_url)
        yield sandbox


def securebase(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command that must fail: exit 2, nothing on stdout, one line on stderr."""
    code, out, err = securebase(capsys, *argv)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert (code, out, len(lines)) == (2, "", 1), err
    assert lines[0].startswith("securebase: ")
    return lines[0]


def ready(capsys: pytest.CaptureFixture[str], command: str) -> list[str]:
    """A migrated database (so `run` logs nothing before its check), with the team `prompt`
    posts to; the argv for `command`."""
    assert securebase(capsys, "db", "upgrade")[0] == 0
    if command == "prompt":
        assert securebase(capsys, *TEAM_ADD_OFFLINE)[0] == 0
    return SLACK_COMMANDS.get(command, ["run"])


# --- Slack refuses the token ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "team add", "prompt"])
@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("invalid_auth", "copy it again from your Slack app's 'OAuth & Permissions' page"),
        ("token_revoked", "reinstall the app (its 'Install App' page) and copy the new token"),
        ("account_inactive", "reinstall the app (its 'Install App' page) and copy the new token"),
    ],
)
@pytest.mark.slow
def test_a_refused_token_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    slack: SlackSandbox,
    command: str,
    code: str,
    fix: str,
) -> None:
    argv = ready(capsys, command)
    if code == "invalid_auth":
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-a-token-slack-never-issued")
    elif code == "token_revoked":
        slack.revoke_token(BOT_TOKEN)
    else:
        slack.update_user(BOT_USER, deleted=True)
    line = refused(capsys, *argv)
    assert line.startswith(f"securebase: SLACK_BOT_TOKEN was refused by Slack ({code}): ")
    assert fix in line
    assert slack.calls("chat.postMessage") == []


@pytest.mark.slow
@pytest.mark.subprocess
def test_a_refused_token_stops_a_real_process_in_one_line(
    slack: SlackSandbox, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the real entry point and its logging: `securebase run` with a revoked token."""
    assert securebase(capsys, "db", "upgrade")[0] == 0
    slack.revoke_token(BOT_TOKEN)
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "run"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("securebase: SLACK_BOT_TOKEN was refused by Slack (token_revoked): ")


# --- Slack does not answer -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("command", ["team add", "prompt"])
def test_an_unreachable_slack_is_one_line_naming_slack_api_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "errors-signing-secret")
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    monkeypatch.setenv("SLACK_API_URL", url)
    line = refused(capsys, *ready(capsys, command))
    assert line.startswith(f"securebase: Slack is not reachable at {url} (")
    assert "Connection refused" in line
    assert line.endswith(": check the network, any proxy, and SLACK_API_URL")


# --- DATABASE_URL for another database, or without its driver ------------------------------

EVERY_COMMAND = [
    ["run"],
    TEAM_ADD,
    ["team", "list"],
    ["prompt", "--channel", CHANNEL],
    ["export", "--channel", CHANNEL],
    ["db", "upgrade"],
    ["db", "current"],
]


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=" ".join)
@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgres://sb:secret@db.example:5432/securebase",
            "DATABASE_URL starts with postgres://, which SQLAlchemy does not know: write "
            "postgresql+psycopg://user:password@host:5432/securebase",
        ),
        (
            "mysql://sb:secret@db.example/securebase",
            "DATABASE_URL is a mysql database: Secure Base runs on SQLite or PostgreSQL only",
        ),
    ],
    ids=["postgres", "mysql"],
)
def test_a_database_url_for_another_database_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    url: str,
    says: str,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "errors-signing-secret")
    monkeypatch.setenv("DATABASE_URL", url)
    line = refused(capsys, *argv)
    assert line.startswith(f"securebase: {says}")
    assert "secret" not in line  # the URL's password is never repeated


@pytest.mark.parametrize("argv", [["run"], ["team", "list"], ["db", "upgrade"]], ids=" ".join)
def test_a_missing_database_driver_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "errors-signing-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://sb@db.example:5432/securebase")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it had never been installed
    line = refused(capsys, *argv)
    assert line == (
        "securebase: DATABASE_URL needs a database driver that is not installed here "
        "(psycopg): pip install 'securebase[postgres]' into the bot's environment"
    )


# --- .env.example copied and not filled in -------------------------------------------------


@pytest.mark.parametrize("argv", [["run"], TEAM_ADD, ["prompt", "--channel", CHANNEL]])
def test_the_env_example_left_unedited_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    if argv[0] == "prompt":  # a team to post to (`team add` must find none, to ask Slack)
        assert securebase(capsys, *TEAM_ADD_OFFLINE)[0] == 0
    (Path.cwd() / ".env").write_text((REPO / ".env.example").read_text(encoding="utf-8"))
    line = refused(capsys, *argv)
    assert line.startswith(
        "securebase: SLACK_BOT_TOKEN is still the example from .env.example: copy the real one "
        "from your Slack app's 'OAuth & Permissions' page"
    )
