"""Closing a week: the secret and every key destroyed, rows rewritten with fresh ids."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from storage.checkins import CheckinAnswers, CheckinError, record_checkin
from storage.clock import ManualClock
from storage.db import Database
from storage.models import Period, Team
from storage.periods import close_due_periods, close_period, current_week, ensure_period
from storage.rotation import Rotation
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER})
WS = "T0001"
# The fixture clock's week (w/c 23 Nov 2026) ends at Monday 30 Nov 00:00 London = 00:00 UTC.
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def make_team(
    db: Database, now: datetime, channel: str = "C0001", tz: str = "Europe/London"
) -> Team:
    with db.session() as s:
        return add_team(
            s, TeamSpec(WS, channel, f"Team {channel}", ("USUPER01",), timezone=tz), now
        )


def check_in(db: Database, team: Team, user: str, answers: CheckinAnswers, now: datetime) -> None:
    with db.session() as s:
        record_checkin(s, team, user, answers, now, ROTATION)


def sql(db: Database, query: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def close(db: Database, now: datetime) -> int:
    with db.session() as s:
        return close_due_periods(s, now)


def fill_week(db: Database, team: Team, now: datetime, n: int = 7) -> list[tuple[int, int, int]]:
    values = [(1 + i % 5, 5 - i % 5, 1 + (i * 2) % 5) for i in range(n)]
    for i, (a, s, d) in enumerate(values):
        check_in(db, team, f"UMEMBER{i:02d}", CheckinAnswers(a, s, d, f"comment {i}"), now)
    return values


def test_close_destroys_secret_and_keys_and_rewrites_ids(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    values = fill_week(db, team, clock.now())
    before_ids = {row[0] for row in sql(db, "SELECT id FROM answers")}
    before_comment_ids = {row[0] for row in sql(db, "SELECT id FROM comments")}
    assert all(key is not None for (key,) in sql(db, "SELECT respondent_key FROM answers"))

    assert close(db, WEEK_END + timedelta(seconds=1)) == 1

    with db.session() as s:
        period = s.scalars(select(Period)).one()
        assert period.secret is None
        assert period.closed is True
    assert sql(db, "SELECT COUNT(*) FROM week_secrets") == [(0,)]
    assert sql(db, "SELECT COUNT(*) FROM answers WHERE respondent_key IS NOT NULL") == [(0,)]
    assert sql(db, "SELECT COUNT(*) FROM comments WHERE respondent_key IS NOT NULL") == [(0,)]
    after_ids = {row[0] for row in sql(db, "SELECT id FROM answers")}
    after_comment_ids = {row[0] for row in sql(db, "SELECT id FROM comments")}
    assert len(after_ids) == len(values) and len(after_comment_ids) == len(values)
    assert after_ids.isdisjoint(before_ids)
    assert after_comment_ids.isdisjoint(before_comment_ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in after_ids)
    # The figures themselves are untouched.
    assert Counter(
        map(tuple, sql(db, "SELECT availability, stress, domain_item FROM answers"))
    ) == Counter(values)
    assert sorted(b for (b,) in sql(db, "SELECT body FROM comments")) == sorted(
        f"comment {i}" for i in range(len(values))
    )


def test_week_not_yet_ended_stays_open(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    assert close(db, WEEK_END - timedelta(seconds=1)) == 0
    assert sql(db, "SELECT closed FROM team_weeks")[0][0] in (False, 0)
    assert sql(db, "SELECT COUNT(*) FROM week_secrets") == [(1,)]
    assert sql(db, "SELECT COUNT(*) FROM answers WHERE respondent_key IS NULL") == [(0,)]
    # Exactly at local Monday 00:00 it closes, and only once.
    assert close(db, WEEK_END) == 1
    assert close(db, WEEK_END + timedelta(days=1)) == 0


def test_each_team_closes_at_its_own_midnight(db: Database, clock: ManualClock) -> None:
    london = make_team(db, clock.now(), "C0001", "Europe/London")
    auckland = make_team(db, clock.now(), "C0002", "Pacific/Auckland")
    angeles = make_team(db, clock.now(), "C0003", "America/Los_Angeles")
    # Wednesday 25 Nov 2026 noon UTC is inside w/c 23 Nov everywhere.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    for team in (london, auckland, angeles):
        check_in(db, team, "UMEMBER01", CheckinAnswers(3, 3), now)

    def open_channels() -> set[str]:
        return {
            row[0]
            for row in sql(
                db,
                "SELECT t.channel_id FROM team_weeks w JOIN teams t ON t.id = w.team_id "
                "JOIN week_secrets s ON s.period_id = w.id",
            )
        }

    # Auckland's Monday begins at 11:00 UTC on Sunday 29 Nov.
    assert close(db, datetime(2026, 11, 29, 10, 59, tzinfo=UTC)) == 0
    assert close(db, datetime(2026, 11, 29, 11, 0, tzinfo=UTC)) == 1
    assert open_channels() == {"C0001", "C0003"}
    assert close(db, datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == 1
    assert open_channels() == {"C0003"}
    assert close(db, datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == 0
    assert close(db, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == 1
    assert open_channels() == set()


def test_close_over_the_spring_clock_change(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(3, 3), datetime(2026, 3, 27, 9, tzinfo=UTC))
    # The week ends at Monday 30 March 00:00 BST, which is 23:00 UTC on Sunday.
    assert close(db, datetime(2026, 3, 29, 22, 59, tzinfo=UTC)) == 0
    assert close(db, datetime(2026, 3, 29, 23, 0, tzinfo=UTC)) == 1


def test_replicas_closing_at_once_neither_lose_nor_double(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    values = fill_week(db, team, clock.now(), 9)
    barrier = threading.Barrier(4)
    closed: list[int] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            with db.session() as s:
                barrier.wait()
                closed.append(close_due_periods(s, WEEK_END))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(closed) == [0, 0, 0, 1]
    assert Counter(
        map(tuple, sql(db, "SELECT availability, stress, domain_item FROM answers"))
    ) == Counter(values)
    assert sql(db, "SELECT COUNT(*) FROM comments") == [(len(values),)]


def test_checkin_racing_the_close_is_refused_not_left_keyed(
    db: Database, clock: ManualClock
) -> None:
    """A check-in whose `now` was still inside the week but that lands after the week closed
    must not put a keyed row into the closed week."""
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 5)
    just_before = WEEK_END - timedelta(milliseconds=1)
    with db.session() as s:
        # The handler read the open period (and its secret) just before midnight...
        period = ensure_period(s, team, current_week(team, just_before), ROTATION)
        assert period.secret is not None
        # ...and the scheduler closed the week before the write.
        assert close(db, WEEK_END) == 1
        with pytest.raises(CheckinError):
            record_checkin(s, team, "UMEMBER99", CheckinAnswers(2, 2), just_before, ROTATION)
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(5,)]
    assert sql(db, "SELECT COUNT(*) FROM answers WHERE respondent_key IS NOT NULL") == [(0,)]


def test_close_period_on_an_already_closed_period_does_nothing(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    with db.session() as s:
        stale = s.scalars(select(Period)).one()
        assert close(db, WEEK_END) == 1  # another replica got there first
        ids = sql(db, "SELECT id FROM answers")
        close_period(s, stale)
    assert sorted(sql(db, "SELECT id FROM answers")) == sorted(ids)
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(3,)]
