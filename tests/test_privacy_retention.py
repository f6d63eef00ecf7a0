"""Guarantee 9: data is kept for a limited time, and a team's data can be erased for good.

Answers older than SECUREBASE_RETENTION_WEEKS are purged by the scheduler's hourly
housekeeping job, with the delivery ledger and the view log of the same age. `securebase team
forget --channel C…` erases one team entirely, after the person types the channel id to confirm
(or gives --yes); without a terminal to ask in, and without --yes, it refuses in one line.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from privacy_world import member, world
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.cli import main
from storage.checkins import CheckinAnswers, record_checkin
from storage.clock import ManualClock
from storage.db import Database
from storage.deliveries import claim
from storage.models import PulseView, Team
from storage.retention import purge_older_than
from storage.rotation import Rotation
from storage.teams import TeamSpec, add_team
from storage.weeks import Week

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER})
WS, TZ = "T0RETAIN01", "Europe/London"


def during(week: int) -> datetime:
    return Week(week).starts_at(TZ) + timedelta(days=2, hours=12)


def make_team(db: Database, channel: str, name: str) -> Team:
    with db.session() as session:
        return add_team(session, TeamSpec(WS, channel, name, ("U0RSUPER01",)), during(100))


def fill(db: Database, team: Team, weeks: range, note: str) -> None:
    """Two check-ins with comments, a delivery and a look at the pulse in each week."""
    for week in weeks:
        now = during(week)
        with db.session() as session:
            for n in range(2):
                answers = CheckinAnswers(3, 3, None, f"{note} week {week} #{n}")
                record_checkin(session, team, member(n), answers, now, ROTATION)
            args: dict[str, Any] = {"team_id": team.id, "week_index": week, "kind": "prompt"}
            claim(session, **args, recipient=team.channel_id, worker="w1", now=now)
            session.add(
                PulseView(
                    team_id=team.id,
                    viewer_id="U0RSUPER01",
                    viewed_at=now,
                    what=f"{note} look {week}",
                )
            )


def count(db: Database, sql: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_purge_keeps_exactly_the_retention_window(db: Database) -> None:
    team = make_team(db, "C0RETAIN01", "Blue team")
    fill(db, team, range(100, 110), "blue")
    now = during(112)  # the current week is 112
    with db.session() as session:
        assert purge_older_than(session, 8, now) == 4  # weeks 100-103 are older than 112 - 8
    with db.engine.connect() as conn:
        weeks = conn.execute(text("SELECT week_index FROM team_weeks ORDER BY 1")).scalars().all()
        assert weeks == list(range(104, 110))
        bodies = conn.execute(text("SELECT body FROM comments")).scalars().all()
        assert sorted({int(b.split()[2]) for b in bodies}) == list(range(104, 110))
        assert count(db, "SELECT COUNT(*) FROM answers") == 12
        ledger = conn.execute(text("SELECT week_index FROM deliveries ORDER BY 1")).scalars().all()
        assert ledger == list(range(104, 110))
        looks = conn.execute(text("SELECT what FROM pulse_views")).scalars().all()
        assert sorted(int(w.split()[-1]) for w in looks) == list(range(104, 110))
    with db.session() as session:  # purging again finds nothing more
        assert purge_older_than(session, 8, now) == 0


def test_the_hourly_housekeeping_job_is_registered_and_purges(
    database_url: str, clock: ManualClock
) -> None:
    env = {"SECUREBASE_RETENTION_WEEKS": "8"}
    with world(database_url, clock, settings_env=env) as w:
        for n in range(5):
            w.check_in(member(n), 3, 3, comment=f"old {n}")
        db = w.bot.runtime.services.db
        w.bot.runtime.scheduler.start()
        job = w.bot.runtime.scheduler.scheduler.get_job("housekeeping")
        assert job is not None and job.trigger.interval == timedelta(hours=1)
        clock.advance(timedelta(weeks=8))
        job.func()
        # Eight weeks on, the week is still within the window (and has been closed)...
        assert count(db, "SELECT COUNT(*) FROM answers WHERE respondent_key IS NULL") == 5
        clock.advance(timedelta(weeks=1))
        job.func()
        # ...and a week later it is gone.
        assert count(db, "SELECT COUNT(*) FROM answers") == 0
        assert count(db, "SELECT COUNT(*) FROM comments") == 0


# --- securebase team forget -----------------------------------------------------------------


@pytest.fixture
def two_teams(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Team, Team]:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", database_url)
    blue = make_team(db, "C0RETAIN01", "Blue team")
    red = make_team(db, "C0RETAIN02", "Red team")
    fill(db, blue, range(100, 104), "blue")
    fill(db, red, range(100, 104), "red")
    return blue, red


def rows_of_every_table(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            table: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {table}")).all()), key=repr)
            for table in inspect(conn).get_table_names()
        }


def mentions(rows: dict[str, list[tuple[Any, ...]]], *needles: str) -> list[str]:
    return [
        table
        for table, values in rows.items()
        for row in values
        if any(needle in str(value) for value in row for needle in needles)
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_forget_with_yes_erases_the_team_and_nothing_else(
    db: Database, two_teams: tuple[Team, Team], capsys: pytest.CaptureFixture[str]
) -> None:
    blue, _ = two_teams
    before = rows_of_every_table(db)
    assert main(["team", "forget", "--channel", "C0RETAIN01", "--yes"]) == 0
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line == (
        "Erased Blue team (C0RETAIN01): 4 weeks, 8 answers, 8 comments, 4 deliveries, "
        "4 view-log entries."
    )
    after = rows_of_every_table(db)
    assert mentions(after, "blue", "Blue team", "C0RETAIN01") == []
    # Nothing else changed: every row left was there before, and all of Red's are left.
    for table, rows in after.items():
        assert set(rows) <= set(before[table]), table
    assert len(mentions(after, "red week")) == 8  # Red's comments
    assert len(mentions(after, "red look")) == 4  # Red's view log
    assert count(db, "SELECT COUNT(*) FROM answers") == 8
    assert count(db, "SELECT COUNT(*) FROM team_weeks") == 4
    assert count(db, "SELECT COUNT(*) FROM deliveries") == 4
    assert count(db, f"SELECT COUNT(*) FROM teams WHERE id = {blue.id}") == 0
    assert count(db, f"SELECT COUNT(*) FROM team_supervisors WHERE team_id = {blue.id}") == 0


def test_forget_asks_for_the_channel_id(
    db: Database,
    two_teams: tuple[Team, Team],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal("C0RETAIN0\n"))  # one character short
    assert main(["team", "forget", "--channel", "C0RETAIN01"]) == 1
    out = capsys.readouterr().out
    assert "Type the channel id to confirm" in out and "Nothing was erased" in out
    assert count(db, "SELECT COUNT(*) FROM teams") == 2

    monkeypatch.setattr(sys, "stdin", Terminal("C0RETAIN01\n"))
    assert main(["team", "forget", "--channel", "C0RETAIN01"]) == 0
    assert "Erased Blue team" in capsys.readouterr().out
    assert count(db, "SELECT COUNT(*) FROM teams") == 1


def test_forget_refuses_without_a_terminal_or_yes(
    db: Database,
    two_teams: tuple[Team, Team],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("C0RETAIN01\n"))  # piped: not a terminal
    assert main(["team", "forget", "--channel", "C0RETAIN01"]) == 2
    out, err = capsys.readouterr()
    [line] = err.strip().splitlines()
    assert line.startswith("securebase: not erasing C0RETAIN01") and "--yes" in line
    assert out == "" and count(db, "SELECT COUNT(*) FROM teams") == 2
    # An unknown channel is one line too.
    assert main(["team", "forget", "--channel", "C0NOSUCH01", "--yes"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == "securebase: no team is set up in channel C0NOSUCH01"


def test_forgotten_comments_are_gone_from_the_sqlite_files(
    db: Database, two_teams: tuple[Team, Team]
) -> None:
    if db.is_postgres:
        pytest.skip("reads the SQLite files (PostgreSQL's pages: test_privacy_unlinkable)")
    path = Path(make_url(db.url).database or "")
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert b"blue week 101" in b"".join(p.read_bytes() for p in files)
    assert main(["team", "forget", "--channel", "C0RETAIN01", "--yes"]) == 0
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    leftover = b"".join(p.read_bytes() for p in files)
    assert b"blue week" not in leftover and b"Blue team" not in leftover
    assert b"red week 101" in leftover
