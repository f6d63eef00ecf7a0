"""The database goes away for 30 seconds while the bot runs, and comes back.

On PostgreSQL a TCP proxy between the bot and the database drops every connection and refuses
new ones (a restart or a failover, as the bot sees it); on SQLite another process holds the
file's write lock. Meanwhile the process stays up: `/healthz` stays 200 and `/readyz` turns
503; a check-in is told inside the modal, within Slack's 3 seconds, that it may not have been
saved, and nothing of it is stored or kept anywhere else; `/checkin` says privately to try
again; the scheduler's due prompt waits; the operator gets one line, not a traceback per
request. When the database is back the due prompt goes out exactly once and sending the
check-in again stores exactly one.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from db_proxy import CuttableProxy
from sealed_weeks import unsealed
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError

from bot.listener_errors import TRY_AGAIN
from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, NOT_SAVED, STRESS
from bot.sandboxed import WORKSPACE, Person, SandboxedBot, saved_view_title, wait_until
from practice.clock import ManualClock
from storage.db import Database
from storage.migrate import upgrade
from storage.outage import OutageLog
from storage.teams import get_team

OUTAGE_SECONDS = 30
OPEN_TEAM, DUE_TEAM = "C0OUTAGE001", "C0OUTAGE002"
SUPERVISOR = Person("U0OUTSUP001", "Ife Supervisor")
MEMBERS = [Person(f"U0OUTMEM{i:03d}", f"Member {i}") for i in range(1, 6)]


@dataclass
class Outage:
    """The bot's database URL, and how to take the database away and give it back."""

    bot_url: str
    cut: Callable[[], None]
    restore: Callable[[], None]


@contextmanager
def outage_for(database_url: str) -> Iterator[Outage]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)

        def lock() -> None:
            holder.execute("BEGIN EXCLUSIVE")

        try:
            yield Outage(database_url, lock, lambda: holder.execute("ROLLBACK"))
        finally:
            holder.close()
        return
    with CuttableProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        yield Outage(
            url.set(port=proxy.port).render_as_string(hide_password=False),
            proxy.cut,
            proxy.restore,
        )


@pytest.fixture
def outage(database_url: str) -> Iterator[Outage]:
    migrated = Database(database_url)
    upgrade(migrated)
    migrated.dispose()
    with outage_for(database_url) as made:
        yield made


def answers(support: int = 4, stress: int = 2) -> dict[str, str | None]:
    return {AVAILABILITY: str(support), STRESS: str(stress), DOMAIN_ITEM: None, COMMENT: None}


def stored(bot: SandboxedBot) -> list[tuple[int, int]]:
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, OPEN_TEAM)
    assert team is not None
    return sorted(
        (v.availability, v.stress) for v in unsealed(services.db, team, services.clock.now())
    )


def prompts_in(bot: SandboxedBot, channel: str) -> int:
    return len([m for m in bot.sandbox.timeline(channel) if m.user == bot.runtime.bot_user_id])


@pytest.mark.slow
def test_a_database_outage_is_ridden_out_and_caught_up_once(
    outage: Outage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with SandboxedBot(outage.bot_url, clock) as bot:
        bot.add_people([SUPERVISOR, *MEMBERS])
        people = [m.user_id for m in MEMBERS]
        # Tuesday 10:00: the first team's Monday prompt is overdue; the second's is due at
        # 10:05 today, which will fall inside the outage.
        bot.add_team(OPEN_TEAM, "Early Help", [SUPERVISOR.user_id], people)
        bot.add_team(DUE_TEAM, "Duty", [SUPERVISOR.user_id], people, post_day=1, post_minute=605)
        assert bot.runtime.delivery.run_due() == 2  # the open team's prompt and reflections
        member = MEMBERS[0].user_id
        form = bot.open_checkin(member, OPEN_TEAM)
        health = bot.base_url + "/healthz"
        ready = bot.base_url + "/readyz"
        assert httpx.get(ready, timeout=5).status_code == 200
        caplog.clear()

        outage.cut()
        went = time.monotonic()
        clock.advance(timedelta(minutes=10))  # the second team's prompt is now due
        scheduler = bot.runtime.scheduler
        scheduler.start()  # its first sync runs at once, into the outage
        sync = scheduler.scheduler.get_job("sync")
        assert sync is not None

        # A check-in sent now is told in the modal, inside Slack's 3 s, and nothing is stored.
        started = time.monotonic()
        response = bot.driver.answer_modal(member, form["id"], answers(2, 4))
        assert time.monotonic() - started < 3.0
        assert response.json() == {"response_action": "errors", "errors": {AVAILABILITY: NOT_SAVED}}

        if bot.runtime.services.db.is_postgres:
            # /checkin can't find the person's team: it says privately to try again.
            bot.driver.slash_command(MEMBERS[1].user_id, OPEN_TEAM, "/checkin")
            wait_until(
                lambda: any(
                    m.text == TRY_AGAIN for m in bot.sandbox.ephemerals(MEMBERS[1].user_id)
                ),
                10,
                "/checkin to say the database can't be reached",
            )
        else:  # a locked SQLite file still reads: the form opens, and only storing waits
            assert bot.open_checkin(MEMBERS[1].user_id, OPEN_TEAM)
        assert bot.sandbox.dms(MEMBERS[1].user_id) == []

        probes = 0
        while time.monotonic() - went < OUTAGE_SECONDS:
            assert httpx.get(health, timeout=5).status_code == 200
            answer = httpx.get(ready, timeout=5)
            assert answer.status_code == 503
            assert answer.json()["database"] == "unreachable"
            sync.func()  # the minute's sync, failing quietly
            probes += 1
            time.sleep(2)
        assert probes >= 2  # on SQLite each waits out its lock timeout
        assert prompts_in(bot, DUE_TEAM) == 0
        during = list(caplog.records)

        outage.restore()
        assert stored(bot) == []  # nothing of the refused check-in was kept
        wait_until(lambda: httpx.get(ready, timeout=5).status_code == 200, 15, "readiness")
        sync.func()  # the next sync catches up: the due prompt goes out once
        sync.func()
        assert prompts_in(bot, DUE_TEAM) == 1
        assert bot.sandbox.dms(SUPERVISOR.user_id)  # reflections, for both teams

        # The modal is still open with the answers: sending again stores exactly one.
        again = bot.driver.answer_modal(member, form["id"], answers(2, 4))
        assert saved_view_title(again) == "Thank you"
        assert stored(bot) == [(2, 4)]
        assert bot.sandbox.dms(member) == []
        bot.settle()
        scheduler.shutdown()

    # The operator read one line about the outage (the 30 s fit in its minute), no traceback.
    said = [r.getMessage() for r in during if r.name == "securebase.database"]
    assert len(said) == 1, said
    assert said[0].startswith("the database is not answering (")
    assert all(r.exc_info is None for r in during), [r.getMessage() for r in during if r.exc_info]
    back = [r.getMessage() for r in caplog.records if r.name == "securebase.database"]
    assert any(line.startswith("the database is answering again after ") for line in back)


def test_the_outage_is_said_once_a_minute_with_what_was_missed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    said = OutageLog(clock=lambda: now[0])
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    with caplog.at_level(logging.INFO, logger="securebase.database"):
        for second in range(0, 150, 5):  # a failure every 5 s for two and a half minutes
            now[0] = float(second)
            said.failed(refused, "answering /checkin")
        now[0] = 151.0
        said.answered()
        said.answered()  # already back: nothing more to say
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4, lines
    assert "(connection refused) while answering /checkin: down for 0 s;" in lines[0]
    assert "down for 60 s; 11 more attempts failed since the last line" in lines[1]
    assert "down for 120 s; 11 more attempts failed since the last line" in lines[2]
    assert lines[3] == "the database is answering again after 151 s"
    assert all(r.exc_info is None for r in caplog.records)
