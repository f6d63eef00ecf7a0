"""Prometheus metrics: off unless METRICS_ENABLED=1, then on their own port with the series an
operator needs; and a check-in, sent or failed, leaves every series exactly as it was."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from experience import CHANNEL, SUPERVISOR, World, experience, member
from prometheus_client.parser import text_string_to_metric_families

from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import BOT_TOKEN, SIGNING_SECRET, wait_until
from practice.clock import ManualClock
from sandbox.webapi import SlackSandbox

REPO = Path(__file__).resolve().parents[1]
Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]
SERIES = (
    "securebase_requests_total",
    "securebase_ack_seconds",
    "securebase_slack_api_errors_total",
    "securebase_prompts_posted_total",
    "securebase_scheduler_lag_seconds",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(url: str) -> Series:
    """Every sample the endpoint serves, by name and labels."""
    text = httpx.get(url, timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


@contextmanager
def measured(database_url: str, clock: ManualClock) -> Iterator[tuple[World, str]]:
    """The experience world with metrics served; (world, the metrics URL)."""
    with experience(database_url, clock) as world:
        port = free_port()
        world.bot.runtime.serve_metrics("127.0.0.1", port)
        yield world, f"http://127.0.0.1:{port}/metrics"


@pytest.mark.slow
def test_the_series_an_operator_needs(database_url: str, clock: ManualClock) -> None:
    with measured(database_url, clock) as (world, url):
        before = scrape(url)
        assert {name for name, _ in before} >= {"securebase_prompts_posted_total"}

        world.command(SUPERVISOR, "/teampulse")
        world.sandbox.faults.server_error("chat.postMessage", status=503, times=1)
        world.next_week()  # the prompt goes out, after one 503 (retried)
        executed = threading.Event()
        scheduler = world.bot.runtime.scheduler
        scheduler.scheduler.add_listener(lambda _: executed.set(), EVENT_JOB_EXECUTED)
        scheduler.start()  # the sync job runs at once
        assert executed.wait(30)
        after = scrape(url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("securebase_requests_total", surface="/teampulse", status="200") == 1
    assert moved("securebase_ack_seconds_count", surface="/teampulse") == 1
    assert moved("securebase_ack_seconds_bucket", surface="/teampulse", le="3.0") == 1
    assert moved("securebase_prompts_posted_total") == 1
    assert moved("securebase_slack_api_errors_total", code="http_503") == 1
    assert moved("securebase_scheduler_lag_seconds_count", job="sync") >= 1
    # Nothing per team, channel, workspace or person: these are the only labels.
    assert {label for _, labels in after for label, _ in labels} == {
        "surface",
        "status",
        "code",
        "job",
        "le",
    }


@pytest.mark.slow
def test_a_checkin_leaves_every_series_unchanged(database_url: str, clock: ManualClock) -> None:
    with measured(database_url, clock) as (world, url):
        sandbox = world.sandbox
        home = world.home(member(2))  # opened before the figures are read: opening it counts
        before = scrape(url)
        # `/checkin`, the form, its submission (its ack is the confirmation).
        world.check_in(member(0), 4, 2, 3, "a good week")
        # The prompt's button opening the form.
        prompt = sandbox.timeline(CHANNEL)[-1]
        opened = len(sandbox.open_views(member(1)))
        world.bot.driver.click_button(
            member(1), OPEN_CHECKIN, CHANNEL, channel_id=CHANNEL, message_ts=prompt.ts
        )
        wait_until(lambda: len(sandbox.open_views(member(1))) > opened, 30.0)
        # A check-in from the Home tab, whose refresh afterwards Slack refuses (three tries).
        world.bot.driver.click_button(member(2), OPEN_CHECKIN, CHANNEL, view_id=home["id"])
        modal = wait_until(lambda: sandbox.open_views(member(2)), 30.0)[-1]
        publishes = len(sandbox.calls("views.publish"))
        sandbox.faults.server_error("views.publish", status=500, times=3)
        answers = {"availability": "2", "stress": "5", "domain_item": None, "comment": None}
        world.bot.driver.answer_modal(member(2), modal["id"], answers)
        wait_until(lambda: len(sandbox.calls("views.publish")) >= publishes + 1, 30.0)
        world.bot.settle(30.0)
        sandbox.faults.clear()
        assert scrape(url) == before

        world.command(SUPERVISOR, "/teampulse")  # the endpoint is live: other requests count
        assert scrape(url) != before


def start_run(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; raise SystemExit(main())", "run"],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.subprocess
@pytest.mark.parametrize("enabled", ["", "1"], ids=["off by default", "on"])
def test_securebase_run_serves_metrics_only_when_enabled(
    tmp_path: Path, database_url: str, enabled: str
) -> None:
    port, metrics_port = free_port(), free_port()
    with SlackSandbox() as sandbox:
        sandbox.add_workspace("T0METRICS1", "M", bot_token=BOT_TOKEN, bot_user_id="U0METBOT1")
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": sandbox.api_url,
            "SLACK_APP_TOKEN": "",
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "METRICS_PORT": str(metrics_port),
            "METRICS_ENABLED": enabled,
        }
        env.pop("METRICS_HOST", None)
        log = tmp_path / "run.log"
        process = start_run(env, log)
        try:
            wait_until(lambda: "listening on port" in log.read_text(), 60.0, "the bot to start")
            url = f"http://127.0.0.1:{metrics_port}/metrics"
            if enabled:
                assert f"metrics at http://127.0.0.1:{metrics_port}/metrics" in log.read_text()
                text = httpx.get(url, timeout=5).text
                for name in SERIES:
                    assert f"# TYPE {name} " in text
                assert "securebase_prompts_posted_total 0.0" in text
            else:
                with pytest.raises(httpx.ConnectError):
                    httpx.get(url, timeout=5)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
