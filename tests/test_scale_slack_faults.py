"""Slack on a bad day, through the sandbox's faults: 429s wait out their Retry-After, 5xx answers
and timeouts are retried, and errors no retry can mend are recorded once, shown by
`securebase team list` and the logs, and never retried in a storm."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import bot.app
from bot.cli import main
from bot.sandboxed import Person, SandboxedBot, wait_until
from practice.clock import ManualClock
from sandbox.webapi import SlackSandbox
from storage.deliveries import DeliveryStatus
from storage.models import Delivery, TeamWeek

pytestmark = pytest.mark.slow

CHANNEL, SUPERVISOR = "C0FAULTS01", "U0FSUPER01"
MEMBERS = ["U0FMEM0001", "U0FMEM0002", "U0FMEM0003"]


class Arrivals:
    """When each Web API call reached the sandbox (monotonic seconds), in order."""

    def __init__(self, sandbox: SlackSandbox) -> None:
        self.seen: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        original = sandbox.faults.delay

        def delay(method: str, channels: Collection[str]) -> float:
            with self._lock:
                self.seen.append((method, time.monotonic()))
            return original(method, channels)

        sandbox.faults.delay = delay  # type: ignore[method-assign]

    def of(self, method: str) -> list[float]:
        with self._lock:
            return [at for called, at in self.seen if called == method]


@contextmanager
def running_bot(database_url: str, clock: ManualClock) -> Iterator[SandboxedBot]:
    with SandboxedBot(database_url, clock) as running:
        running.add_people(
            [Person(SUPERVISOR, "Sam Supervisor")] + [Person(m, f"Member {m}") for m in MEMBERS]
        )
        running.add_team(CHANNEL, "Duty team", [SUPERVISOR], MEMBERS)
        clock.advance(timedelta(days=6))  # Monday 30 November, 10:00: the 09:30 prompt is due
        yield running


@pytest.fixture
def slack(database_url: str, clock: ManualClock) -> Iterator[SandboxedBot]:
    with running_bot(database_url, clock) as running:
        yield running


def posts_to(slack: SandboxedBot, channel: str) -> list[bool]:
    return [c.ok for c in slack.sandbox.calls("chat.postMessage") if c.params["channel"] == channel]


def test_a_429_is_retried_after_its_retry_after(slack: SandboxedBot) -> None:
    arrivals = Arrivals(slack.sandbox)
    slack.sandbox.faults.rate_limit("chat.postMessage", channel=CHANNEL, retry_after=2, times=1)
    assert slack.runtime.delivery.run_due() == 2
    assert posts_to(slack, CHANNEL) == [False, True]
    limited = slack.sandbox.calls("chat.postMessage")[0]
    assert (limited.http_status, limited.error) == (429, "ratelimited")
    first, second = arrivals.of("chat.postMessage")[:2]
    assert second - first >= 2.0  # waited at least as long as Slack asked
    assert len(slack.sandbox.timeline(CHANNEL)) == 1


def test_server_errors_are_retried_until_slack_answers(slack: SandboxedBot) -> None:
    slack.sandbox.faults.server_error("chat.postMessage", status=503, times=1)
    slack.sandbox.faults.server_error("chat.postMessage", status=500, times=1)
    assert slack.runtime.delivery.run_due() == 2
    statuses = [c.http_status for c in slack.sandbox.calls("chat.postMessage")]
    assert statuses == [503, 500, 200, 200]
    assert len(slack.sandbox.timeline(CHANNEL)) == 1
    assert len(slack.sandbox.dms(SUPERVISOR)) == 1


def test_a_timed_out_call_is_retried(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.app, "SLACK_TIMEOUT_SECONDS", 1)  # Slack's clients are built with it
    with running_bot(database_url, clock) as slack:
        slack.sandbox.faults.slow("conversations.members", seconds=3, times=1)
        assert slack.runtime.delivery.run_due() == 2
        with slack.runtime.services.db.session() as session:
            counted = session.scalars(select(TeamWeek.member_count)).one()
        # Asked again after the timeout: the roster is the members (never the supervisor).
        assert counted == len(MEMBERS)
        # The timed-out call is recorded too once the sandbox has finished sitting on it.
        wait_until(lambda: len(slack.sandbox.calls("conversations.members")) == 2)


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "account_inactive", "invalid_auth"]
)
def test_a_permanent_error_is_recorded_once_and_not_retried(
    slack: SandboxedBot,
    clock: ManualClock,
    error: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    slack.sandbox.faults.channel_error(CHANNEL, error)
    with caplog.at_level(logging.INFO):
        for _ in range(5):  # the sweeps of a whole day
            slack.runtime.delivery.run_due()
            clock.advance(timedelta(hours=1))
    # The channel's members cannot be read, so the week has no roster and does not open: the
    # prompt is not even tried, but the failure is recorded once like any other.
    assert posts_to(slack, CHANNEL) == []
    assert len(slack.sandbox.calls("conversations.members")) == 1  # no storm of retries
    assert len(slack.sandbox.dms(SUPERVISOR)) == 1  # the supervisor's DM is unaffected
    with slack.runtime.services.db.session() as session:
        failed = session.scalars(select(Delivery).where(Delivery.error.is_not(None))).all()
        assert [(d.status, d.error, d.attempts) for d in failed] == [
            (DeliveryStatus.FAILED, error, 1)
        ]
    logged = [r.getMessage() for r in caplog.records if error in r.getMessage()]
    assert len(logged) == 1 and CHANNEL in logged[0]

    monkeypatch.setenv("DATABASE_URL", slack.database_url)
    monkeypatch.chdir(tmp_path)  # no .env from the work tree
    capsys.readouterr()
    assert main(["team", "list"]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()
    assert row[header.index("LAST ERROR") :] == error and CHANNEL in row


def test_a_rate_limited_checkin_modal_still_opens(slack: SandboxedBot) -> None:
    """The same retry handlers serve the requests people make: views.open after a 429."""
    slack.sandbox.faults.rate_limit("views.open", retry_after=1, times=1)
    view = slack.open_checkin(MEMBERS[0], CHANNEL)
    assert view["type"] == "modal"
    assert [c.http_status for c in slack.sandbox.calls("views.open")] == [429, 200]
