"""Guarantee 9: data is kept for a limited time, and a team's data can be erased for good.

Answers are purged by the scheduler's hourly housekeeping job a whole reporting block at a
time: a block goes (its weeks' answers, comments, ledger entries and days off) once its first
week is older than SECUREBASE_RETENTION_WEEKS, and no surface shows a block past that limit, so
a block once shown never comes back with a week fewer (which would give away that week's
answers by subtraction). The view log goes by the age of each look. `securebase team forget
--channel C…` erases one team entirely, after the person types the channel id to confirm (or
gives --yes); without a terminal to ask in, and without --yes, it refuses in one line.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from privacy_world import World, member, world
from sealed_weeks import open_week
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot.cli import main
from bot.export import export_team
from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.clock import ManualClock
from practice.figures import Surface
from practice.rotation import Rotation
from practice.weeks import Week
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind, claim
from storage.models import PulseView, Team
from storage.pulse import read_pulse_for
from storage.retention import purge_older_than
from storage.team_weeks import close_due_team_weeks, current_week
from storage.teams import TeamSpec, add_team, list_teams

pytestmark = pytest.mark.slow

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
WS, TZ = "T0RETAIN01", "Europe/London"


def during(week: int) -> datetime:
    return Week(week).starts_at(TZ) + timedelta(days=2, hours=12)


def make_team(db: Database, channel: str, name: str, pool: int = 1) -> Team:
    with db.session() as session:
        spec = TeamSpec(WS, channel, name, ("U0RSUPER01",), pool_weeks=pool)
        return add_team(session, spec, during(100))


def fill(db: Database, team: Team, weeks: range, note: str) -> None:
    """Two check-ins with comments, a delivery and a look at the pulse in each week, which
    then closes."""
    for week in weeks:
        now = during(week)
        open_week(db, team, now, ROTATION, [member(0), member(1)])
        for n in range(2):
            answers = CheckinAnswers(3, 3, None, f"{note} week {week} #{n}")
            assert isinstance(check_in(db, team, week, member(n), answers, now), CheckinResult)
        with db.session() as session:
            key = DeliveryKey(team.id, week, DeliveryKind.PROMPT, team.channel_id)
            claim(session, key, worker="w1", now=now)
            session.add(
                PulseView(
                    team_id=team.id,
                    viewer_id="U0RSUPER01",
                    viewed_at=now,
                    what=f"{note} look {week}",
                )
            )
            close_due_team_weeks(session, during(week + 1), team.id)


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


def weeks_left(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.execute(text("SELECT week_index FROM team_weeks ORDER BY 1")).scalars())


@pytest.mark.parametrize("pool", [2, 4])
def test_purge_takes_whole_blocks_once_their_first_week_is_past(db: Database, pool: int) -> None:
    team = make_team(db, "C0RETAIN01", "Blue team", pool)
    fill(db, team, range(100, 112), "blue")
    with db.session() as session:
        session.execute(text(f"INSERT INTO skipped_weeks VALUES ({team.id}, 101)"))
    for this_week in range(108, 124):
        with db.session() as session:
            purge_older_than(session, 8, during(this_week))
        # Whole blocks only: a block stays, every week of it, while its first week is within
        # the 8 weeks, and goes entirely the week after.
        kept = [w for w in range(100, 112) if w // pool * pool >= this_week - 8]
        assert weeks_left(db) == kept, this_week
        with db.engine.connect() as conn:
            for sql in (
                "SELECT body FROM comments",
                "SELECT week_index FROM deliveries",
                "SELECT week_index FROM skipped_weeks",
            ):
                found = {
                    int(str(v).split()[2]) if " " in str(v) else int(v)
                    for v in conn.execute(text(sql)).scalars()
                }
                assert found <= set(kept), (sql, this_week)
        assert count(db, "SELECT COUNT(*) FROM answers") == 2 * len(kept)


def test_a_block_a_past_version_purged_in_part_is_never_shown(db: Database) -> None:
    """Older versions purged single weeks: a block left with weeks missing is past retention
    (its first week went), so readers leave it out and the next purge takes the rest."""
    team = make_team(db, "C0RETAIN01", "Blue team", 4)
    fill(db, team, range(100, 108), "blue")
    with db.engine.begin() as conn:  # what the old purge did at week 109 with 8 weeks kept
        for table in ("answers", "comments"):
            conn.execute(
                text(
                    f"DELETE FROM {table} WHERE period_id IN "
                    "(SELECT id FROM team_weeks WHERE week_index = 100)"
                )
            )
        conn.execute(text("DELETE FROM team_weeks WHERE week_index = 100"))
    with db.session() as session:
        team = session.merge(team)
        readings = read_pulse_for(
            session,
            "U0RSUPER01",
            team,
            Surface.EXPORT,
            weeks=520,
            anonymity_min=5,
            retention_weeks=8,
            now=during(109),
            reason="records",
        ).readings
    assert [r.block.first_week for r in readings] == [104]
    with db.session() as session:
        purge_older_than(session, 8, during(109))
    assert weeks_left(db) == list(range(104, 108))


# --- The block-shrinking attack: look, let retention move on, look again --------------------


def one_line(line: str) -> str:
    return " ".join(line.strip("`").split())


def block_as_shown(w: World, first_week: int, label: str) -> tuple[tuple[str, ...], ...]:
    """The block starting `first_week` as each surface shows it now: its line in /teampulse
    (52 weeks), on the supervisor's App Home, and its row in an export of ten years; () where
    a surface does not show it."""
    pulse = tuple(
        one_line(line)
        for line in w.pulse(text="52").lines()
        if label in line and not line.startswith("*Latest")
    )
    # The profile's per-domain lines name the block too, as an earlier rotation beside the
    # newest one, and rightly change as new rotations arrive: the block's own lines are kept.
    home = tuple(
        one_line(line)
        for line in w.home(w.supervisor).lines()
        if label in line and not line.startswith("• *")
    )
    services = w.bot.runtime.services
    with services.db.session() as session:
        [team] = list_teams(session)
    stream = io.StringIO()
    export_team(services, team, 520, w.supervisor, "supervision records", stream)
    start = Week(first_week).monday.isoformat()
    exported = tuple(
        ",".join(row.values())
        for row in csv.DictReader(io.StringIO(stream.getvalue()))
        if row["period_start"] == start
    )
    return pulse, home, exported


@pytest.mark.parametrize(("pool", "retention"), [(4, 12), (2, 8)])
def test_a_shown_block_never_comes_back_smaller(
    database_url: str, clock: ManualClock, pool: int, retention: int
) -> None:
    env = {"SECUREBASE_RETENTION_WEEKS": str(retention)}
    with world(database_url, clock, pool_weeks=pool, settings_env=env) as w:
        db = w.bot.runtime.services.db
        w.bot.runtime.scheduler.start()
        job = w.bot.runtime.scheduler.scheduler.get_job("housekeeping")
        assert job is not None
        with db.session() as session:
            [team] = list_teams(session)
        while (first := current_week(team, clock.now()).index) % pool:
            w.next_week()
        # A lone answer in the block's first week, enough others in the rest of it that the
        # block stays above the minimum even without that week.
        w.check_in(member(0), 1, 5, comment="only me this week")
        for _ in range(1, pool):
            w.next_week()
            for n in range(1, 6 if pool == 2 else 3):
                w.check_in(member(n), 4, 2)
        w.next_week()  # the block has ended: now it is shown
        label = f"w/c {Week(first).monday.day} {Week(first).monday:%b %Y} (+{pool - 1} wk)"

        shown: list[tuple[tuple[str, ...], ...]] = []
        for this_week in range(first + pool, first + retention + pool + 2):
            assert current_week(team, clock.now()).index == this_week
            job.func()  # the hourly housekeeping: closes weeks, purges, scrubs
            shown.append(block_as_shown(w, first, label))
            w.next_week()

        whole = shown[0]
        assert all(whole), "every surface showed the block once it had ended"
        # Identical while its first week is within retention, then gone from every surface at
        # once, and for good: never the same block with a week fewer.
        kept_for = retention - pool + 1  # the weeks from its end to its first week's limit
        assert shown[:kept_for] == [whole] * kept_for
        assert shown[kept_for:] == [((), (), ())] * (len(shown) - kept_for)
        assert min(weeks_left(db)) >= first + pool  # and not a week of it is left


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
        assert count(db, "SELECT COUNT(*) FROM answers") == 5
        assert count(db, "SELECT COUNT(*) FROM sealed_answers") == 0
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
