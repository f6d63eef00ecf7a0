"""The parts of start-up and health that need no process: waiting with backoff and saying so
once a minute, readiness when the database does not answer, and how often Slack is asked."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from bot.health import Readiness, SlackWebApi
from bot.startup import Stopped, Unavailable, keep_trying
from sandbox.webapi import SlackSandbox
from storage.db import Database


class FakeTime(threading.Event):
    """A stop event whose waits pass instantly on a clock of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.now += timeout or 0.0
        return self.is_set()


def test_waiting_backs_off_and_says_so_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    tries = 0

    def attempt() -> str:
        nonlocal tries
        tries += 1
        if tries < 12:
            raise Unavailable("the database is not answering (refused)")
        return "connected"

    with caplog.at_level(logging.WARNING, logger="securebase"):
        assert keep_trying(attempt, time, clock=time.clock) == "connected"
    assert time.waits == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30, 30]
    lines = [r.getMessage() for r in caplog.records]
    # Tries at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 61.5, 91.5, 121.5, 151.5 s: said at 0, 61.5
    # and 121.5, with no traceback.
    assert lines == [
        "the database is not answering (refused); trying again (0 s so far)",
        "the database is not answering (refused); trying again (62 s so far)",
        "the database is not answering (refused); trying again (122 s so far)",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_waiting_ends_when_asked_to_stop_and_lets_other_errors_through() -> None:
    time = FakeTime()

    def never() -> None:
        time.set()  # SIGTERM arrives while waiting
        raise Unavailable("Slack is not reachable")

    with pytest.raises(Stopped):
        keep_trying(never, time, clock=time.clock)

    def broken() -> None:
        raise ValueError("not a reason to wait")

    with pytest.raises(ValueError):
        keep_trying(broken, FakeTime())


def test_readiness_says_which_part_cannot_be_reached(tmp_path: Path) -> None:
    readiness = Readiness()
    assert (readiness.database_state(), readiness.slack_state()) == ("starting", "starting")
    answering = Database(f"sqlite:///{tmp_path / 'here.db'}")
    readiness.database, readiness.slack = answering, lambda: True
    assert (readiness.database_state(), readiness.slack_state()) == ("ok", "ok")
    gone = Database(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    readiness.database, readiness.slack = gone, lambda: False
    assert (readiness.database_state(), readiness.slack_state()) == ("unreachable", "unreachable")
    readiness.stopping = True
    assert (readiness.database_state(), readiness.slack_state()) == ("stopping", "stopping")
    answering.dispose()
    gone.dispose()


@pytest.mark.slow
def test_slack_is_asked_at_most_every_15_seconds() -> None:
    now = [0.0]
    with SlackSandbox() as sandbox:
        reachable = SlackWebApi(sandbox.api_url, clock=lambda: now[0])
        assert reachable()
        now[0] += 5
        assert reachable()
        assert len(sandbox.calls("api.test")) == 1
    now[0] += 5
    assert reachable()  # still the answer from 10 s ago
    now[0] += 10
    assert not reachable()  # asked again: the sandbox is gone
