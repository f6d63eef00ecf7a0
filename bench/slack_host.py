"""The Slack sandbox in a process of its own.

The load generator and the bot each need a core's worth of interpreter; if the sandbox shared
the load generator's interpreter lock, every views.open the bot makes after an ack would delay
the clock on the *next* request and make the bot look slower than it is. So the sandbox runs
behind a `multiprocessing` manager and the benchmark talks to it through a proxy.

Its `time_source` is frozen: trigger ids and response URLs are issued in bulk before a load
run (so issuing them costs nothing during it) and must not expire while they wait their turn.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from multiprocessing.managers import BaseManager
from typing import Any, cast

from bot.after_ack import BUSY
from sandbox.webapi import SlackSandbox

WORKSPACE = "T0BENCH001"
BOT_TOKEN = "xoxb-bench-bot-token"
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_USER = "U0BENCHBOT"


def _frozen() -> float:
    return 0.0


class SlackHost:
    """What the benchmarks need from the sandbox, in calls that pickle cheaply."""

    def __init__(self) -> None:
        self.sandbox = SlackSandbox(time_source=_frozen).start()
        self.sandbox.add_workspace(
            WORKSPACE, "Bench Children's Services", bot_token=BOT_TOKEN, bot_user_id=BOT_USER
        )

    def api_url(self) -> str:
        return self.sandbox.api_url

    def add_users(self, user_ids: list[str]) -> None:
        for user_id in user_ids:
            self.sandbox.add_user(WORKSPACE, user_id, user_id.lower(), f"Person {user_id}")

    def add_channels(self, channels: dict[str, list[str]]) -> None:
        """Channel id → members; the bot is added to every one."""
        for channel_id, members in channels.items():
            self.sandbox.add_channel(
                WORKSPACE, channel_id, channel_id.lower(), [BOT_USER, *members]
            )

    def issue(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """A fresh (trigger_id, response_url) for each (user, channel)."""
        return [
            (
                self.sandbox.issue_trigger_id(user),
                self.sandbox.new_response_url(user, channel, team_id=WORKSPACE),
            )
            for user, channel in pairs
        ]

    def open_views(self, user_id: str) -> list[dict[str, Any]]:
        return self.sandbox.open_views(user_id)

    def wait_answered(self, trigger_id: str, response_url: str, timeout: float) -> str:
        """How a request the bot has acked was answered, once it was: "modal" (its trigger
        opened a view), "busy" (a busy reply came to its response_url), "reply" (any other
        reply there); "unanswered" if nothing came within `timeout` seconds."""

        def outcome() -> str:
            used, texts = self.sandbox.answers_to(trigger_id, response_url)
            if used:
                return "modal"
            if texts:
                return "busy" if texts[-1].startswith(BUSY) else "reply"
            return ""

        try:
            return self.sandbox.wait_until(outcome, timeout)
        except TimeoutError:
            return "unanswered"

    def call_counts(self) -> dict[str, int]:
        """Web API calls by method, with `method:error` for failed ones."""
        counts: Counter[str] = Counter()
        for call in self.sandbox.calls():
            counts[call.method if call.ok else f"{call.method}:{call.error}"] += 1
        return dict(counts)

    def stop(self) -> None:
        self.sandbox.stop()


class _Manager(BaseManager):
    pass


_Manager.register("SlackHost", SlackHost)


class HostProcess:
    """Starts the manager process and a SlackHost in it; use as a context manager."""

    def __init__(self) -> None:
        self._manager = _Manager(ctx=multiprocessing.get_context("spawn"))

    def __enter__(self) -> SlackHost:
        self._manager.start()
        self._host = cast(SlackHost, self._manager.SlackHost())  # type: ignore[attr-defined]
        return self._host

    def __exit__(self, *exc: object) -> None:
        try:
            self._host.stop()
        finally:
            self._manager.shutdown()
