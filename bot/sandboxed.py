"""The real bot wired to the local Slack sandbox, over HTTP or over Socket Mode: shared by the
demo, the interactive sandbox, the end-to-end tests and the benchmarks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, TypeVar

import httpx

from bot.runtime import Runtime
from bot.settings import Settings, load_settings
from practice.clock import Clock
from sandbox.driver import SlackDriver
from sandbox.webapi import SlackSandbox
from storage.teams import TeamSpec, add_team

T = TypeVar("T")

WORKSPACE = "T0SANDBOX1"
BOT_TOKEN = "xoxb-sandbox-bot-token"
SIGNING_SECRET = "sandbox-signing-secret-0123456789"
BOT_USER = "U0SBBOT001"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    tz: str = "Europe/London"


@dataclass
class SandboxedBot:
    """Starts the sandbox and the bot, with its HTTP listener (health; Slack's requests too
    unless `socket_mode`, when Slack's requests come over the bot's Socket Mode link); use as
    a context manager."""

    database_url: str
    clock: Clock | None = None
    anonymity_min: int = 5
    settings_env: dict[str, str] = field(default_factory=dict)
    # A test that means to provoke malformed Web API calls sets this; otherwise leaving the
    # context raises AssertionError if the sandbox rejected any call (see assert_clean).
    expect_rejections: bool = False
    socket_mode: bool = False
    sandbox: SlackSandbox = field(init=False)
    runtime: Runtime = field(init=False)
    driver: SlackDriver = field(init=False)
    base_url: str = field(init=False)  # the bot's HTTP listener: /healthz, /readyz
    events_url: str = field(init=False)  # HTTP mode's POST /slack/events ("" in Socket Mode)

    def __enter__(self) -> SandboxedBot:
        self.sandbox = SlackSandbox().start()
        try:
            self.sandbox.add_workspace(
                WORKSPACE,
                "Sandbox Children's Services",
                bot_token=BOT_TOKEN,
                bot_user_id=BOT_USER,
            )
            env = {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": self.sandbox.api_url,
                "DATABASE_URL": self.database_url,
                "SECUREBASE_ANONYMITY_MIN": str(self.anonymity_min),
                # A throwaway world makes its own key (kept only in this process).
                "SECUREBASE_SECRET_KEY": os.urandom(32).hex(),
                **self.settings_env,
            }
            settings: Settings = replace(load_settings(env), app_token=None)
            self.runtime = Runtime.create(settings, self.clock)
            if self.socket_mode:
                self.base_url = self.runtime.serve_http_in_thread(slack_requests=False)
                self.events_url = ""
                self.runtime.open_socket_mode(self.sandbox.add_app_token()).connect()
                # The bot's side of the handshake can finish before Slack's side has the link.
                self.sandbox.socket_mode.wait_for_links(1)
                self.driver = SlackDriver.over_socket_mode(self.sandbox, team_id=WORKSPACE)
            else:
                self.base_url = self.runtime.serve_http_in_thread()
                self.events_url = self.base_url + "/slack/events"
                self.driver = SlackDriver(
                    self.events_url, SIGNING_SECRET, self.sandbox, team_id=WORKSPACE
                )
        except BaseException:
            self.sandbox.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.runtime.stop()
        finally:
            self.sandbox.stop()
        if exc is None and not self.expect_rejections:
            assert_clean(self.sandbox)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the bot has finished every piece of work its requests started (Slack's
        ack comes first, the replies after); TimeoutError if it is still busy after `timeout`."""
        if not self.runtime.listeners.wait_idle(timeout):
            raise TimeoutError(f"the bot was still busy after {timeout}s")

    def add_people(self, people: list[Person]) -> None:
        for person in people:
            self.sandbox.add_user(
                WORKSPACE,
                person.user_id,
                person.name.split()[0].lower(),
                person.name,
                tz=person.tz,
            )

    def add_team(
        self,
        channel_id: str,
        name: str,
        supervisors: list[str],
        members: list[str],
        *,
        post_day: int = 0,
        post_minute: int = 9 * 60 + 30,
        timezone: str = "Europe/London",
        pool_weeks: int = 1,
    ) -> int:
        """Create the channel in Slack (bot invited) and set the team up in the bot."""
        self.sandbox.add_channel(
            WORKSPACE,
            channel_id,
            name.lower().replace(" ", "-"),
            members=[BOT_USER, *dict.fromkeys([*supervisors, *members])],
        )
        spec = TeamSpec(
            workspace_id=WORKSPACE,
            channel_id=channel_id,
            name=name,
            supervisors=tuple(supervisors),
            post_day=post_day,
            post_minute=post_minute,
            timezone=timezone,
            pool_weeks=pool_weeks,
        )
        services = self.runtime.services
        with services.db.session() as session:
            return add_team(session, spec, services.clock.now()).id

    def open_checkin(self, user_id: str, channel_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """`/checkin` in `channel_id`, then the check-in modal once Slack has opened it."""
        before = self.sandbox.open_views(user_id)
        previous = before[-1]["id"] if before else None
        response = self.driver.slash_command(user_id, channel_id, "/checkin")
        if response.status_code != 200:
            raise AssertionError(f"/checkin answered HTTP {response.status_code}")

        def new_view() -> dict[str, Any]:  # {} (falsy) until the modal is open
            stack = self.sandbox.open_views(user_id)
            return stack[-1] if stack and stack[-1]["id"] != previous else {}

        return wait_until(new_view, timeout, f"the check-in modal to open for {user_id}")

    def check_in(
        self,
        user_id: str,
        channel_id: str,
        answers: dict[str, str | None],
        *,
        confirm: bool = True,
        timeout: float = 5.0,
    ) -> httpx.Response:
        """`/checkin`, answer the modal and send it; with `confirm`, also check that the
        acknowledgement is the thank-you view (the check-in is stored before it is sent)."""
        view = self.open_checkin(user_id, channel_id, timeout)
        response = self.driver.answer_modal(user_id, view["id"], answers)
        if confirm and saved_view_title(response) != SAVED_TITLE:
            raise AssertionError(f"the check-in of {user_id} was not confirmed: {response.text}")
        return response


SAVED_TITLE = "Thank you"


def saved_view_title(response: httpx.Response) -> str | None:
    """The title of the view a submission's acknowledgement turned the modal into, if any."""
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("response_action") != "update":
        return None
    title = (body.get("view") or {}).get("title") or {}
    return str(title.get("text")) if isinstance(title, dict) else None


def assert_clean(sandbox: SlackSandbox) -> None:
    """Raise AssertionError listing every Web API call the sandbox rejected as malformed
    (bad parameters, invalid Block Kit, unknown methods) and everything on the Socket Mode
    link Slack would not accept (late or stray acks): the bot must never do either."""
    rejected = sandbox.rejected_calls()
    if rejected:
        details = "; ".join(
            f"{call.method} → {call.error}"
            + (f" ({', '.join(call.messages)})" if call.messages else "")
            for call in rejected
        )
        raise AssertionError(f"the Slack sandbox rejected {len(rejected)} call(s): {details}")
    problems = sandbox.socket_mode.problems()
    if problems:
        raise AssertionError(f"Socket Mode problems: {'; '.join(problems)}")


def wait_until(probe: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy. Bolt answers Slack first (the ack) and
    does the work after, so tests and the demo wait for the work's visible effect."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)
