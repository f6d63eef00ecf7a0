"""The real `securebase run`, as a process with its settings in the environment (SLACK_API_URL
pointing at the sandbox), over HTTP and over Socket Mode: the weekly loop; SIGTERM; a start
while the database or Slack is down; and what stops it for good, in one line.

The process runs on the system clock, so its team is due a few minutes ago today (in UTC):
the start-up catch-up sweep posts the prompt, at its time as far as the bot can tell. Every bot
a test starts holds that test's one operator key (SECUREBASE_SECRET_KEY), as replicas must.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from db_proxy import CuttableProxy
from sqlalchemy.engine import make_url

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import SAVED_TITLE, assert_clean, saved_view_title, wait_until
from sandbox.driver import SlackDriver
from sandbox.webapi import SlackSandbox
from storage.db import Database
from storage.migrate import upgrade
from storage.teams import TeamSpec, add_team

pytestmark = pytest.mark.subprocess

REPO = Path(__file__).resolve().parents[1]
RUN = "from bot.cli import main; raise SystemExit(main())"
WORKSPACE = "T0PROCESS1"
BOT_TOKEN = "xoxb-process-bot-token"
APP_TOKEN = "xapp-1-A0SANDBOX01-1-process"
BOT_USER = "U0PROCBOT1"
SIGNING_SECRET = "process-signing-secret-0123456789"
TEAM = "C0PROCTEAM1"
SUPERVISOR = "U0PROCSUP01"
MEMBERS = [f"U0PROCMEM0{i}" for i in range(1, 4)]
START_TIMEOUT = 60.0  # generous bounds, reached only when something is broken
MODES = ["http", "socket_mode"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text()

    def get(self, path: str) -> httpx.Response | None:
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited early:\n{self.text()}")
        try:
            return httpx.get(self.url + path, timeout=5)
        except httpx.HTTPError:
            return None

    def status(self, path: str) -> int | None:
        response = self.get(path)
        return None if response is None else response.status_code

    def ready(self) -> bool:
        return self.status("/readyz") == 200

    def terminate(self, within: float = 10.0) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=within + 20)
        return code, time.monotonic() - started


def operator_key(tmp_path: Path) -> str:
    """The test's one operator key, made on first use: every bot the test starts shares it."""
    path = tmp_path / "operator-key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
    return path.read_text()


def start_bot(tmp_path: Path, **env: str) -> BotProcess:
    """`securebase run` from an empty folder (no .env), with exactly these settings (and the
    test's operator key)."""
    port = free_port()
    log = tmp_path / f"bot-{port}.log"
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "SECUREBASE_")) and k not in ("DATABASE_URL", "PORT")
    }
    settings = {
        "PYTHONPATH": str(REPO),
        "PORT": str(port),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SECUREBASE_SECRET_KEY": operator_key(tmp_path),
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", RUN, "run"],
            env={**base, **settings},
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return BotProcess(process, port, log)


@pytest.fixture
def bots() -> Iterator[list[BotProcess]]:
    """Bots started by a test; any still running at the end is killed."""
    started: list[BotProcess] = []
    yield started
    for bot in started:
        if bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait()


def seed_slack(sandbox: SlackSandbox) -> None:
    sandbox.add_workspace(WORKSPACE, "Process Borough", bot_token=BOT_TOKEN, bot_user_id=BOT_USER)
    sandbox.add_app_token(APP_TOKEN)
    for user in (SUPERVISOR, *MEMBERS):
        sandbox.add_user(WORKSPACE, user, user.lower(), f"Person {user[-2:]}")
    sandbox.add_channel(WORKSPACE, TEAM, "duty-team", [BOT_USER, SUPERVISOR, *MEMBERS])


def add_due_team(database_url: str) -> None:
    """The team, its weekly prompt due a few minutes ago (UTC)."""
    now = datetime.now(UTC)
    due = now - timedelta(minutes=3)
    if due.weekday() != now.weekday():  # just after midnight: due right now
        due = now
    db = Database(database_url)
    try:
        upgrade(db)
        with db.session() as session:
            add_team(
                session,
                TeamSpec(
                    workspace_id=WORKSPACE,
                    channel_id=TEAM,
                    name="Duty Team",
                    supervisors=(SUPERVISOR,),
                    post_day=due.weekday(),
                    post_minute=due.hour * 60 + due.minute,
                    timezone="UTC",
                ),
                now,
            )
    finally:
        db.dispose()


def slack_settings(sandbox: SlackSandbox, mode: str) -> dict[str, str]:
    env = {"SLACK_API_URL": sandbox.api_url}
    if mode == "socket_mode":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    return env


def driver_for(sandbox: SlackSandbox, bot: BotProcess, mode: str) -> SlackDriver:
    if mode == "socket_mode":
        sandbox.socket_mode.wait_for_links(1)
        return SlackDriver.over_socket_mode(sandbox, WORKSPACE)
    return SlackDriver(bot.url + "/slack/events", SIGNING_SECRET, sandbox, WORKSPACE)


def top_view(sandbox: SlackSandbox, user: str) -> dict[str, Any]:
    stack = sandbox.open_views(user)
    return stack[-1] if stack else {}


def check_in(
    sandbox: SlackSandbox,
    driver: SlackDriver,
    user: str,
    open_form: Callable[[], httpx.Response],
) -> None:
    """Open the check-in form (by `open_form`), answer it: the acknowledgement itself turns the
    form into the thank-you view."""
    assert open_form().status_code == 200
    view = wait_until(lambda: top_view(sandbox, user), 10, f"the check-in form for {user}")
    assert view["callback_id"] == "checkin"
    answers = {AVAILABILITY: "4", STRESS: "2", DOMAIN_ITEM: None, COMMENT: None}
    sent = driver.answer_modal(user, view["id"], answers)
    assert sent.status_code == 200
    assert saved_view_title(sent) == SAVED_TITLE, sent.text


@pytest.mark.parametrize("mode", MODES)
def test_the_weekly_loop_through_securebase_run(
    mode: str, database_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    add_due_team(database_url)
    with SlackSandbox() as sandbox:
        seed_slack(sandbox)
        bot = start_bot(tmp_path, DATABASE_URL=database_url, **slack_settings(sandbox, mode))
        bots.append(bot)
        wait_until(bot.ready, START_TIMEOUT, "the bot to be ready")
        assert bot.get("/readyz").json() == {"ok": True, "database": "ok", "slack": "ok"}, (
            bot.text()
        )

        # The prompt goes out at its time; the supervisor gets the reflective questions.
        (prompt,) = wait_until(lambda: sandbox.timeline(TEAM), 30, "this week's prompt")
        wait_until(lambda: sandbox.dms(SUPERVISOR), 30, "the supervisor's reflections")
        with driver_for(sandbox, bot, mode) as driver:
            first, *others = MEMBERS
            check_in(  # by the button under the prompt
                sandbox,
                driver,
                first,
                lambda: driver.click_button(
                    first, OPEN_CHECKIN, TEAM, channel_id=TEAM, message_ts=prompt.ts
                ),
            )
            for member in others:  # by /checkin
                check_in(
                    sandbox,
                    driver,
                    member,
                    lambda member=member: driver.slash_command(member, TEAM, "/checkin"),
                )
            # Confirmed inside the modal: nothing in Slack's history says who checked in.
            assert all(sandbox.dms(m) == [] for m in MEMBERS)

            assert driver.slash_command(SUPERVISOR, TEAM, "/teampulse").status_code == 200
            (pulse,) = wait_until(lambda: sandbox.ephemerals(SUPERVISOR), 10, "the pulse")
            assert "Team pulse for Duty Team: no finished weeks yet" in pulse.text  # a new team

            assert driver.app_home_opened(first).status_code == 200
            home = wait_until(lambda: sandbox.home_view(first), 10, "App Home")
            assert "Check in again" in str(home["blocks"])  # it knows they have checked in

        code, took = bot.terminate()
        assert (code, took < 10) == (0, True), bot.text()
        assert "Traceback" not in bot.text()
        assert_clean(sandbox)
    if mode == "socket_mode":
        assert all(e.acked and e.ack_seconds is not None for e in sandbox.socket_mode.envelopes())


def teampulse_payload(sandbox: SlackSandbox, user: str) -> dict[str, str]:
    """A /teampulse as Slack sends it, with its own response_url and trigger_id."""
    workspace = sandbox.workspace(WORKSPACE)
    return {
        "token": "sandbox-verification-token",
        "team_id": WORKSPACE,
        "team_domain": workspace.domain,
        "channel_id": TEAM,
        "channel_name": "duty-team",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/teampulse",
        "text": "",
        "api_app_id": sandbox.app_id,
        "is_enterprise_install": "false",
        "response_url": sandbox.new_response_url(user, TEAM),
        "trigger_id": sandbox.issue_trigger_id(user),
    }


def test_sigterm_acknowledges_envelopes_in_flight_then_exits_0(
    database_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    add_due_team(database_url)
    with SlackSandbox() as sandbox:
        seed_slack(sandbox)
        bot = start_bot(
            tmp_path, DATABASE_URL=database_url, **slack_settings(sandbox, "socket_mode")
        )
        bots.append(bot)
        wait_until(bot.ready, START_TIMEOUT, "the bot to be ready")
        wait_until(lambda: sandbox.dms(SUPERVISOR), 30, "the start-up sweep")

        links = sandbox.socket_mode
        sent = [
            links.post("slash_commands", teampulse_payload(sandbox, SUPERVISOR)) for _ in range(30)
        ]
        in_flight = sum(1 for e in links.envelopes() if e.envelope_id in sent and not e.acked)
        code, took = bot.terminate()

        assert in_flight > 0, "every envelope was acknowledged before SIGTERM: nothing was tested"
        assert code == 0, bot.text()
        assert took < 10
        assert all(links.acknowledged(envelope_id, 0).acked for envelope_id in sent)
        assert links.problems() == []  # every ack within Slack's 3 s
        # The work after each ack finished too: every /teampulse was answered.
        assert len(sandbox.ephemerals(SUPERVISOR)) == 30
    log = bot.text()
    assert "stopped: the scheduler and every listener have finished" in log
    assert "Traceback" not in log


@pytest.fixture
def late_database(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A DATABASE_URL that does not answer yet, and what makes it answer: on SQLite a folder
    that does not exist yet, on PostgreSQL a port where nothing listens yet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        folder = tmp_path / "later"
        yield f"sqlite:///{folder / 'securebase.db'}", folder.mkdir
        return
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432), free_port())
    yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy.restore
    proxy.cut()


def waiting_lines(bot: BotProcess) -> list[str]:
    return [line for line in bot.text().splitlines() if "trying again" in line]


def test_a_bot_started_before_its_database_waits_for_it(
    late_database: tuple[str, Callable[[], None]], tmp_path: Path, bots: list[BotProcess]
) -> None:
    database_url, make_it_answer = late_database
    with SlackSandbox() as sandbox:
        seed_slack(sandbox)
        bot = start_bot(tmp_path, DATABASE_URL=database_url, **slack_settings(sandbox, "http"))
        bots.append(bot)
        wait_until(lambda: waiting_lines(bot), START_TIMEOUT, "the bot to say it is waiting")
        assert bot.status("/healthz") == 200  # alive: no restart needed
        readiness = bot.get("/readyz")
        assert readiness is not None and readiness.status_code == 503
        assert readiness.json()["database"] == "starting"
        assert httpx.post(bot.url + "/slack/events").status_code == 503  # Slack tries again
        time.sleep(2.0)  # a few more tries (0.5 s, 1 s, 2 s apart): still one line
        (line,) = waiting_lines(bot)
        assert "the database is not answering" in line
        assert "Traceback" not in bot.text()

        make_it_answer()
        wait_until(bot.ready, 30, "the bot to reach its database")
        code, _ = bot.terminate()
        assert code == 0, bot.text()


def test_a_bot_started_before_slack_answers_waits_for_it(
    database_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    port = free_port()
    bot = start_bot(
        tmp_path,
        DATABASE_URL=database_url,
        SLACK_API_URL=f"http://127.0.0.1:{port}/api/",
        SLACK_APP_TOKEN=APP_TOKEN,
    )
    bots.append(bot)
    wait_until(lambda: waiting_lines(bot), START_TIMEOUT, "the bot to say it is waiting")
    readiness = bot.get("/readyz")
    assert readiness is not None and readiness.status_code == 503
    time.sleep(2.0)
    (line,) = waiting_lines(bot)
    assert f"Slack is not reachable at http://127.0.0.1:{port}/api/" in line
    assert "Traceback" not in bot.text()

    with SlackSandbox(port=port) as sandbox:
        seed_slack(sandbox)
        wait_until(bot.ready, 30, "the bot to reach Slack")
        assert sandbox.socket_mode.links() == 1
        code, _ = bot.terminate()
    assert code == 0, bot.text()


def stops_at_once(bot: BotProcess) -> str:
    """The one line the bot stopped with (exit 2)."""
    try:
        code = bot.process.wait(timeout=START_TIMEOUT)
    finally:
        if bot.process.poll() is None:
            bot.process.kill()
    output = bot.text().strip().splitlines()
    assert code == 2, bot.text()
    assert len(output) == 1, bot.text()
    return output[0]


def test_what_waiting_cannot_mend_stops_the_bot_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    with SlackSandbox() as sandbox:
        seed_slack(sandbox)
        slack = {"DATABASE_URL": database_url, "SLACK_API_URL": sandbox.api_url}
        bots = [  # all at once: each only has to start and stop
            start_bot(tmp_path, **slack, SLACK_BOT_TOKEN="xoxb-not-this-one"),
            start_bot(tmp_path, **slack, SLACK_APP_TOKEN="xapp-1-A0SANDBOX01-1-not-this-one"),
            start_bot(
                tmp_path,
                SLACK_API_URL=sandbox.api_url,
                DATABASE_URL="postgresql+psycopg2://someone@127.0.0.1/securebase",
            ),
        ]
        bot_token, app_token, driver = (stops_at_once(bot) for bot in bots)
    assert bot_token.startswith("securebase: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)")
    assert app_token.startswith("securebase: SLACK_APP_TOKEN was refused by Slack (invalid_auth)")
    assert driver.startswith("securebase: DATABASE_URL needs a database driver")
