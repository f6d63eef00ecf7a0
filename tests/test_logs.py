"""LOG_LEVEL and LOG_FORMAT: JSON is one object per line with a fixed set of fields, the privacy
filter holds in every format, a start logs no warning, and the scheduler's every-minute lines
are DEBUG lines."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from privacy_world import member, world

from bot.log_privacy import WITHHELD
from bot.logs import JSON_FIELDS, configure
from bot.sandboxed import BOT_TOKEN, SIGNING_SECRET, SandboxedBot, wait_until
from bot.settings import LogOptions
from practice.clock import ManualClock
from sandbox.webapi import SlackSandbox

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    """Every line parsed as one JSON object (fails on any line that is not)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_is_one_object_per_line_with_fixed_fields() -> None:
    out = io.StringIO()
    configure(LogOptions("INFO", "json"), stream=out)
    log = logging.getLogger("securebase.test")
    log.info("team %s: %d prompts\nposted", "C0JSON", 2, extra={"body": "not for the log"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it broke")
    first, second = json_lines(out)
    assert first["message"] == "team C0JSON: 2 prompts\nposted"
    assert (first["level"], first["logger"]) == ("INFO", "securebase.test")
    assert set(first) == {"timestamp", "level", "logger", "message"}
    assert second["level"] == "ERROR" and "ValueError: boom" in str(second["exc_info"])
    assert set(second) <= set(JSON_FIELDS)
    assert "not for the log" not in out.getvalue()


def test_log_level_is_obeyed_in_text() -> None:
    out = io.StringIO()
    configure(LogOptions("WARNING", "text"), stream=out)
    logging.getLogger("securebase.test").info("quiet")
    logging.getLogger("securebase.test").warning("loud %s", "enough")
    (line,) = out.getvalue().splitlines()
    assert line.endswith(" WARNING securebase.test: loud enough")


@pytest.mark.slow
def test_a_json_log_at_debug_never_carries_what_the_privacy_filter_removes(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The weekly loop with every library at DEBUG, logged as JSON: comments, request bodies
    and SQL parameters are withheld exactly as in text."""
    out = io.StringIO()
    configure(LogOptions("DEBUG", "json"), stream=out)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQLAlchemy keeps itself at WARNING
    with world(database_url, clock) as w:
        for n in range(5):
            w.check_in(member(n), 1 + n % 5, 5 - n % 5, None, f"JSONCANARY-{n}-comment")
        w.pulse()
    lines = json_lines(out)
    text = out.getvalue()
    assert len(lines) > 100  # the libraries did log at DEBUG
    assert "JSONCANARY" not in text
    assert any(WITHHELD in str(line["message"]) for line in lines)
    by_library = {str(line["logger"]).split(".")[0] for line in lines}
    assert {"slack_sdk", "sqlalchemy"} <= by_library


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_the_schedulers_routine_lines_are_debug(level: str, shown: bool) -> None:
    out = io.StringIO()
    configure(LogOptions(level, "text"), stream=out)
    executed = threading.Event()
    scheduler = BackgroundScheduler()
    scheduler.add_listener(lambda _: executed.set(), EVENT_JOB_EXECUTED)
    # Like the every-minute sync: an interval job, run at once.
    scheduler.add_job(lambda: None, "interval", minutes=1, next_run_time=datetime.now(UTC))
    scheduler.start()
    try:
        assert executed.wait(30)
    finally:
        scheduler.shutdown(wait=True)
    logged = out.getvalue()
    assert ("Running job" in logged) is shown
    assert " INFO apscheduler" not in logged
    if shown:
        assert " DEBUG apscheduler.executors.default: Running job" in logged


@pytest.mark.slow
def test_starting_the_bot_logs_no_warning(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As under `securebase run`, SLACK_BOT_TOKEN is in the environment, where Bolt looks too.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    out = io.StringIO()
    configure(LogOptions("DEBUG", "text"), stream=out)
    with SandboxedBot(database_url, clock):
        pass
    assert " WARNING " not in out.getvalue(), out.getvalue()
    assert " INFO bot.runtime: database migrated: 0001" in out.getvalue()


@pytest.mark.subprocess
def test_securebase_run_logs_json_lines_and_no_warning(tmp_path: Path, database_url: str) -> None:
    """The real `securebase run`, LOG_FORMAT=json, LOG_LEVEL=DEBUG: every line on stderr is a
    JSON object, the scheduler's routine lines are DEBUG, and starting and stopping logs
    nothing at WARNING or above."""
    with SlackSandbox() as sandbox:
        sandbox.add_workspace("T0LOGS0001", "Logs", bot_token=BOT_TOKEN, bot_user_id="U0LOGBOT1")
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": sandbox.api_url,
            "SLACK_APP_TOKEN": "",
            "DATABASE_URL": database_url,
            "PORT": str(free_port()),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",
        }
        log = tmp_path / "run.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "run"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            wait_until(lambda: "executed successfully" in log.read_text(), 60.0, "the first sync")
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {line["level"] for line in lines} == {"DEBUG", "INFO"}
    info = {
        (line["logger"], str(line["message"]).split(":")[0])
        for line in lines
        if line["level"] == "INFO"
    }
    assert info == {
        ("bot.runtime", "database migrated"),
        ("bot.runtime", "stopped"),
        ("securebase", f"Secure Base is listening on port {env['PORT']} (POST /slack/events)"),
        ("securebase", "Secure Base is stopping"),
    }
    sync = [line for line in lines if "PromptScheduler.sync" in str(line["message"])]
    assert sync and {line["level"] for line in sync} == {"DEBUG"}
