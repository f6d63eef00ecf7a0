"""Guarantee 6: nothing in the logs links a person to an answer, even with every logger at DEBUG.

The attacker reads the log files. The whole weekly loop runs with the root logger and Bolt's,
slack_sdk's, SQLAlchemy's and APScheduler's at DEBUG, every record is kept, and no record may
hold a member's id beside an answer or a comment, nor the operator's key, a week's secret
(wrapped or not), a roster key or a respondent key at all (with those, a log kept past the
close would undo it). The libraries do log such things at
DEBUG (request bodies, SQL parameters, result rows) and Bolt logs a whole request body at INFO
when a signature fails; bot.log_privacy withholds them.
"""

from __future__ import annotations

import logging

import pytest
from privacy_world import World, member, world
from sqlalchemy import select

from bot.log_privacy import WITHHELD, install, withhold
from practice.clock import ManualClock
from storage.models import RosterEntry, SealedAnswer, TeamWeek, WeekKey
from storage.team_weeks import week_seal

DEBUG_LOGGERS = ("", "slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "securebase", "bot")


def canary(n: int) -> str:
    return f"LOGCANARY-{n}-comment"


@pytest.fixture
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in DEBUG_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def _line(record: logging.LogRecord) -> str:
    line = f"{record.name} {record.levelname} {record.getMessage()}"
    if record.exc_info:
        line += "\n" + logging.Formatter().formatException(record.exc_info)
    return line


def _forms(raw: bytes) -> set[str]:
    return {raw.hex(), repr(raw)[2:-1]}


def _secrets(w: World) -> set[str]:
    """The operator's key, every open week's secret (wrapped as stored, and unwrapped) and
    every roster and respondent key in the database right now (the test is omniscient here;
    the attacker only has the logs)."""
    db = w.bot.runtime.services.db
    found = _forms(db.keyring.current.raw)
    with db.session() as session:
        for period in session.scalars(select(TeamWeek).where(TeamWeek.closed.is_(False))):
            seal = week_seal(session, period)
            if seal is not None:
                found |= _forms(seal.secret)
        for wrapped in session.scalars(select(WeekKey.wrapped)):
            found |= _forms(bytes(wrapped))
        found |= set(session.scalars(select(RosterEntry.member_key)))
        found |= set(session.scalars(select(SealedAnswer.respondent_key)))
    return found


@pytest.mark.slow
def test_the_weekly_loop_at_debug_logs_nothing_that_links(
    database_url: str, clock: ManualClock, debug_everywhere: pytest.LogCaptureFixture
) -> None:
    with world(database_url, clock) as w:
        for n in range(6):
            w.check_in(member(n), 1 + n % 5, 5 - n % 5, 1 + (n * 2) % 5, canary(n))
        w.check_in(member(0), 5, 5, 5, canary(99))  # a replacement
        # A submission that arrives late (a stale timestamp) or forged: Bolt refuses it and,
        # left alone, would log the whole body at INFO: the member's id beside their answers.
        view = w.bot.open_checkin(member(7), w.channel)
        answers = {"availability": "2", "stress": "4", "comment": canary(7)}
        stale = w.bot.driver.answer_modal(member(7), view["id"], answers, timestamp=1)
        forged = w.bot.driver.answer_modal(member(7), view["id"], answers, signature="v0=00")
        assert (stale.status_code, forged.status_code) == (401, 401)
        w.home(member(1))
        w.pulse()
        secrets = _secrets(w)
        assert len(secrets) > 4 + 8 + 6  # key, secret and wrapped secret; roster; answers
        w.next_week()
        w.pulse()
        w.command(member(2), "/teampulse", "log")
        w.replies(member(2))
    # Leaving the world drained the bot's listener threads: every record is in.

    every_record = debug_everywhere.records
    lines = [_line(record) for record in every_record]
    loggers = {record.name for record in every_record}
    # The capture really was at DEBUG for the libraries that leak.
    assert any(name.startswith("slack_sdk") for name in loggers)
    assert any(name.startswith("sqlalchemy.engine") for name in loggers)
    assert "securebase.bolt" in loggers
    assert any(WITHHELD in line for line in lines)

    members = [member(n) for n in range(8)]
    for line in lines:
        for secret in secrets:
            assert secret not in line, line[:300]
        if any(m in line for m in members):
            for needle in ("LOGCANARY", "selected_option", '"value"', "state", "payload"):
                assert needle not in line, line[:300]


def test_socket_mode_and_bodies_are_withheld_too() -> None:
    """Shapes the loop above does not reach: Socket Mode's DEBUG of every message, a request
    signature failure, Bolt's response body, SQLAlchemy's parameters and rows."""
    install()
    install()  # idempotent
    cases = {
        ("slack_sdk.socket_mode.builtin.client", logging.DEBUG): (
            "on_message invoked: (message: {'payload': {'user': {'id': 'U0PMEM0001'}}})",
            (),
        ),
        ("securebase.bolt", logging.INFO): (
            "Invalid request signature detected (signature: v0=1, timestamp: 1, "
            "body: payload=%7B%22user%22%3A%7B%22id%22%3A%22U0PMEM0001%22)",
            (),
        ),
        ("slack_bolt.App", logging.DEBUG): ("token=x&user_id=U0PMEM0001&text=4", ()),
        ("sqlalchemy.engine.Engine", logging.INFO): ("[%s] %r", ("cached", ("key", "note"))),
        ("sqlalchemy.engine.Engine", logging.DEBUG): ("Row %r", (("U0PMEM0001", 4),)),
    }
    for (name, level), (message, args) in cases.items():
        record = logging.getLogger(name).makeRecord(name, level, "f", 1, message, args, None)
        rendered = record.getMessage()
        assert "U0PMEM0001" not in rendered and "note" not in rendered, rendered
        assert WITHHELD in rendered
    # Warnings and errors keep their words, and other loggers are left alone.
    kept = logging.LogRecord("slack_sdk.web", logging.WARNING, "f", 1, "{'ok': false}", (), None)
    withhold(kept)
    assert kept.getMessage() == "{'ok': false}"
    mine = logging.LogRecord("scheduler.weekly", logging.DEBUG, "f", 1, "team %s", ("C1",), None)
    withhold(mine)
    assert mine.getMessage() == "team C1"
