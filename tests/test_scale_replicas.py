"""Several real `securebase run` processes on one database and one Slack: every weekly prompt
and supervisor DM goes out exactly once, a replica killed mid-sweep is taken over after its
lease, and SIGTERM lets in-flight work finish and exits 0.

The replicas are real subprocesses on the system clock, so each team is made due "now": its post
time is a few minutes ago today, in UTC, and the start-up catch-up sweep posts. The sandbox runs
in this test process, so its call hooks can see exactly where a replica is when it is killed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.sandboxed import wait_until
from practice.keys import Keyring, SecretKey
from sandbox.driver import SlackDriver
from sandbox.webapi import SlackSandbox
from storage.db import Database
from storage.deliveries import DeliveryStatus
from storage.migrate import upgrade
from storage.models import Delivery
from storage.teams import TeamSpec, add_team

pytestmark = pytest.mark.subprocess

WORKSPACE = "T0REPLICA1"
BOT_TOKEN = "xoxb-replica-bot-token"
BOT_USER = "U0REPBOT01"
SIGNING_SECRET = "replica-signing-secret-0123456789"
LEASE_SECONDS = 2
RUN = "from bot.cli import main; raise SystemExit(main())"
START_TIMEOUT = 60.0  # generous bounds, reached only when something is broken
WORK_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"replica exited early:\n{self.log.read_text()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=WORK_TIMEOUT)


@dataclass
class Cluster:
    """One sandbox Slack workspace, one database, and the replicas started against them."""

    database_url: str
    tmp: Path
    sandbox: SlackSandbox
    db: Database
    secret_key: str  # every replica uses the same operator key
    replicas: list[Replica] = field(default_factory=list)

    def start(self) -> Replica:
        port = free_port()
        log = self.tmp / f"replica-{len(self.replicas)}.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.sandbox.api_url,
            "SLACK_APP_TOKEN": "",
            "DATABASE_URL": self.database_url,
            "SECUREBASE_SECRET_KEY": self.secret_key,
            "PORT": str(port),
            "SECUREBASE_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", RUN, "run"],
                env=env,
                cwd=self.tmp,  # no .env from the work tree
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(process, port, log)
        self.replicas.append(replica)
        return replica

    def add_teams(self, count: int, supervisors_each: int = 1) -> list[tuple[str, list[str]]]:
        """Teams due a few minutes ago, in UTC; each channel holds the bot and its supervisors
        (no members, so no other kind of message is owed)."""
        now = datetime.now(UTC)
        due = now - timedelta(minutes=3)
        if due.weekday() != now.weekday():  # just after midnight on Monday: due right now
            due = now
        made = []
        with self.db.session() as session:
            for n in range(count):
                channel = f"C0R{n:07d}"
                supervisors = [f"U0S{n:05d}{k}" for k in range(supervisors_each)]
                for user in supervisors:
                    self.sandbox.add_user(WORKSPACE, user, user.lower(), f"Supervisor {user}")
                self.sandbox.add_channel(
                    WORKSPACE, channel, f"team-{n}", members=[BOT_USER, *supervisors]
                )
                add_team(
                    session,
                    TeamSpec(
                        workspace_id=WORKSPACE,
                        channel_id=channel,
                        name=f"Team {n}",
                        supervisors=tuple(supervisors),
                        post_day=due.weekday(),
                        post_minute=due.hour * 60 + due.minute,
                        timezone="UTC",
                    ),
                    now,
                )
                made.append((channel, supervisors))
        return made

    def ledger(self, status: DeliveryStatus) -> int:
        with self.db.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == status)
                )
                or 0
            )

    def stop_all(self) -> None:
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait()


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    sandbox = SlackSandbox().start()
    sandbox.add_workspace(WORKSPACE, "Replica Borough", bot_token=BOT_TOKEN, bot_user_id=BOT_USER)
    secret_key = os.urandom(32).hex()
    db = Database(database_url, Keyring(SecretKey(bytes.fromhex(secret_key))))
    upgrade(db)
    found = Cluster(database_url, tmp_path, sandbox, db, secret_key)
    try:
        yield found
    finally:
        found.stop_all()
        db.dispose()
        sandbox.stop()


def on_call(sandbox: SlackSandbox, method: str, hook: Callable[[int], None]) -> None:
    """Run `hook(n)` as the n-th call of `method` arrives at the sandbox, before it is answered.

    Wraps the sandbox's fault lookup, which every Web API call passes through on arrival."""
    original = sandbox.faults.delay
    seen = 0
    lock = threading.Lock()

    def delay(called: str, channels: Collection[str]) -> float:
        nonlocal seen
        if called == method:
            with lock:
                seen += 1
                n = seen
            hook(n)
        return original(called, channels)

    sandbox.faults.delay = delay  # type: ignore[method-assign]


def assert_each_posted_once(sandbox: SlackSandbox, teams: list[tuple[str, list[str]]]) -> None:
    prompts = {channel: len(sandbox.timeline(channel)) for channel, _ in teams}
    dms = {user: len(sandbox.dms(user)) for _, users in teams for user in users}
    assert set(prompts.values()) == {1}, {c: n for c, n in prompts.items() if n != 1}
    assert set(dms.values()) == {1}, {u: n for u, n in dms.items() if n != 1}


def test_three_replicas_post_each_prompt_and_dm_exactly_once(cluster: Cluster) -> None:
    teams = cluster.add_teams(40, supervisors_each=2)
    owed = 40 * 3
    replicas = [cluster.start() for _ in range(3)]
    wait_until(lambda: all(r.healthy() for r in replicas), START_TIMEOUT, "replicas to start")
    wait_until(
        lambda: cluster.ledger(DeliveryStatus.SENT) == owed,
        WORK_TIMEOUT,
        "every delivery to be sent",
    )

    assert [r.terminate() for r in replicas] == [0, 0, 0]
    assert_each_posted_once(cluster.sandbox, teams)
    assert len(cluster.sandbox.calls("chat.postMessage")) == owed
    with cluster.db.session() as session:
        workers = set(session.scalars(select(Delivery.claimed_by)))
    assert len(workers) >= 2, "the sweep should have been shared between replicas"


@pytest.mark.slow
def test_a_replica_killed_mid_sweep_is_taken_over_after_its_lease(cluster: Cluster) -> None:
    teams = cluster.add_teams(200)
    cluster.sandbox.faults.slow("chat.postMessage", seconds=0.01)
    first = cluster.start()
    killed = threading.Event()

    def kill_at_sixtieth(n: int) -> None:
        # The 60th team's supervisor DM is claimed and its DM channel is being opened: the DM
        # itself has not reached Slack yet. SIGKILL leaves that claim behind, held by a dead
        # process.
        if n == 60:
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
            killed.set()

    on_call(cluster.sandbox, "conversations.open", kill_at_sixtieth)
    assert killed.wait(WORK_TIMEOUT), f"never reached team 60:\n{first.log.read_text()}"
    assert first.process.returncode == -signal.SIGKILL
    sent_before = cluster.ledger(DeliveryStatus.SENT)
    assert 0 < sent_before < 400
    assert cluster.ledger(DeliveryStatus.CLAIMED) == 1
    with cluster.db.session() as session:
        stale = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.CLAIMED)
        ).one()
        stale_id, held_since = stale.id, stale.claimed_at
    # Restart once the dead claim's lease has run out, so the restarted sweep may take it over.
    wait_until(
        lambda: datetime.now(UTC) > held_since + timedelta(seconds=LEASE_SECONDS),
        LEASE_SECONDS + 5,
        "the dead replica's lease to run out",
    )

    second = cluster.start()
    wait_until(
        lambda: cluster.ledger(DeliveryStatus.SENT) == 400, WORK_TIMEOUT, "the rest to be sent"
    )
    assert second.terminate() == 0

    assert_each_posted_once(cluster.sandbox, teams)
    with cluster.db.session() as session:
        taken = session.get(Delivery, stale_id)
        assert taken is not None
        assert (taken.status, taken.attempts) == (DeliveryStatus.SENT, 2)
        assert taken.claimed_by.endswith(f":{second.process.pid}")


def test_sigterm_lets_an_open_checkin_finish_then_exits_0(cluster: Cluster) -> None:
    [(channel, _supervisors)] = cluster.add_teams(1)
    member = "U0MEMBER01"
    cluster.sandbox.add_user(WORKSPACE, member, "member", "A Member")
    cluster.sandbox.add_member(channel, member)
    replica = cluster.start()
    wait_until(replica.healthy, START_TIMEOUT, "the replica to start")
    wait_until(
        lambda: cluster.ledger(DeliveryStatus.SENT) == 2, WORK_TIMEOUT, "the due prompt and DM"
    )

    cluster.sandbox.faults.slow("views.open", seconds=1.5)
    opening = threading.Event()
    on_call(cluster.sandbox, "views.open", lambda _n: opening.set())
    driver = SlackDriver(
        replica.url + "/slack/events", SIGNING_SECRET, cluster.sandbox, team_id=WORKSPACE
    )
    with driver:
        assert driver.slash_command(member, channel, "/checkin").status_code == 200
    assert opening.wait(WORK_TIMEOUT), "the bot never asked Slack to open the modal"
    assert cluster.sandbox.open_views(member) == []  # still in flight when SIGTERM lands

    assert replica.terminate() == 0
    views = cluster.sandbox.open_views(member)
    assert len(views) == 1 and views[0]["type"] == "modal"
    log = replica.log.read_text()
    assert "stopped: the scheduler and every listener have finished" in log
    assert "Traceback" not in log
