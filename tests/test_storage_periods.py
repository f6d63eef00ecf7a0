"""Closing a week: its answers unsealed into keyless rows with fresh ids, and every sealed row,
roster key and the wrapped secret of the week destroyed."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sealed_weeks import open_week
from sqlalchemy import inspect, select, text, update

import practice.checkin
from practice.checkin import CheckinAnswers, CheckinResult, Refusal, check_in
from practice.clock import ManualClock
from practice.keys import KeyProblem, Keyring
from practice.rotation import Rotation
from practice.sealing import SEALED_BYTES
from practice.weeks import Week
from storage.db import Database
from storage.models import Team, TeamWeek
from storage.team_weeks import (
    close_due_team_weeks,
    close_team_week,
    current_week,
    plan_of,
    planned,
    week_seal,
)
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
WS = "T0001"
# The fixture clock's week (w/c 23 Nov 2026) ends at Monday 30 Nov 00:00 London = 00:00 UTC.
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
OPEN_WEEK_TABLES = ("sealed_answers", "roster_entries", "week_keys")


def make_team(
    db: Database, now: datetime, channel: str = "C0001", tz: str = "Europe/London"
) -> Team:
    with db.session() as s:
        return add_team(
            s, TeamSpec(WS, channel, f"Team {channel}", ("USUPER01",), timezone=tz), now
        )


def member(i: int) -> str:
    return f"UMEMBER{i:02d}"


def check_in_now(
    db: Database, team: Team, user: str, answers: CheckinAnswers, now: datetime
) -> None:
    """Open the week (as its prompt does, with `user` on the roster) and check in."""
    open_week(db, team, now, ROTATION, [user])
    result = check_in(db, team, current_week(team, now).index, user, answers, now)
    assert isinstance(result, CheckinResult), result


def sql(db: Database, query: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def close(db: Database, now: datetime) -> int:
    with db.session() as s:
        return close_due_team_weeks(s, now)


def fill_week(db: Database, team: Team, now: datetime, n: int = 7) -> list[tuple[int, int, int]]:
    """Open the week with `n` members on its roster, and have each check in."""
    open_week(db, team, now, ROTATION, [member(i) for i in range(n)])
    values = [(1 + i % 5, 5 - i % 5, 1 + (i * 2) % 5) for i in range(n)]
    week = current_week(team, now).index
    for i, (a, s, d) in enumerate(values):
        result = check_in(db, team, week, member(i), CheckinAnswers(a, s, d, f"comment {i}"), now)
        assert isinstance(result, CheckinResult), result
    return values


def test_close_unseals_into_keyless_rows_and_destroys_every_key(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    values = fill_week(db, team, clock.now())
    sealed_ids = {row[0] for row in sql(db, "SELECT id FROM sealed_answers")}
    assert len(sealed_ids) == len(values)
    assert [sql(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in OPEN_WEEK_TABLES] == [7, 7, 1]
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(0,)]

    assert close(db, WEEK_END + timedelta(seconds=1)) == 1

    with db.session() as s:
        period = s.scalars(select(TeamWeek)).one()
        assert period.closed is True
        assert week_seal(s, period) is None  # nothing left to unwrap
    for table in OPEN_WEEK_TABLES:  # every sealed row, roster key and the wrapped secret
        assert sql(db, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    # The closed rows have no key column to fill, no person, no time.
    schema = inspect(db.engine)
    assert {c["name"] for c in schema.get_columns("answers")} == {
        "id",
        "period_id",
        "availability",
        "stress",
        "domain_item",
    }
    assert {c["name"] for c in schema.get_columns("comments")} == {"id", "period_id", "body"}
    answer_ids = {row[0] for row in sql(db, "SELECT id FROM answers")}
    comment_ids = {row[0] for row in sql(db, "SELECT id FROM comments")}
    assert len(answer_ids) == len(values) and len(comment_ids) == len(values)
    # Fresh random ids: none is a sealed row's, and answers and comments share none.
    assert answer_ids.isdisjoint(sealed_ids) and comment_ids.isdisjoint(sealed_ids)
    assert answer_ids.isdisjoint(comment_ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in answer_ids | comment_ids)
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
    assert sql(db, "SELECT COUNT(*) FROM week_keys") == [(1,)]
    assert sql(db, "SELECT COUNT(*) FROM sealed_answers") == [(3,)]
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(0,)]
    # Exactly at local Monday 00:00 it closes, and only once.
    assert close(db, WEEK_END) == 1
    assert close(db, WEEK_END + timedelta(days=1)) == 0
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(3,)]


def test_each_team_closes_at_its_own_midnight(db: Database, clock: ManualClock) -> None:
    london = make_team(db, clock.now(), "C0001", "Europe/London")
    auckland = make_team(db, clock.now(), "C0002", "Pacific/Auckland")
    angeles = make_team(db, clock.now(), "C0003", "America/Los_Angeles")
    # Wednesday 25 Nov 2026 noon UTC is inside w/c 23 Nov everywhere.
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    for team in (london, auckland, angeles):
        check_in_now(db, team, "UMEMBER01", CheckinAnswers(3, 3), now)

    def open_channels() -> set[str]:
        return {
            row[0]
            for row in sql(
                db,
                "SELECT t.channel_id FROM team_weeks w JOIN teams t ON t.id = w.team_id "
                "JOIN week_keys k ON k.period_id = w.id",
            )
        }

    def sealed_channels() -> set[str]:
        return {
            row[0]
            for row in sql(
                db,
                "SELECT t.channel_id FROM team_weeks w JOIN teams t ON t.id = w.team_id "
                "JOIN sealed_answers a ON a.period_id = w.id",
            )
        }

    assert open_channels() == sealed_channels() == {"C0001", "C0002", "C0003"}
    # Auckland's Monday begins at 11:00 UTC on Sunday 29 Nov.
    assert close(db, datetime(2026, 11, 29, 10, 59, tzinfo=UTC)) == 0
    assert close(db, datetime(2026, 11, 29, 11, 0, tzinfo=UTC)) == 1
    assert open_channels() == sealed_channels() == {"C0001", "C0003"}
    assert close(db, datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == 1
    assert open_channels() == sealed_channels() == {"C0003"}
    assert close(db, datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == 0
    assert close(db, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)) == 1
    assert open_channels() == sealed_channels() == set()
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(3,)]


def test_close_over_the_spring_clock_change(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in_now(db, team, "UMEMBER01", CheckinAnswers(3, 3), datetime(2026, 3, 27, 9, tzinfo=UTC))
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
                closed.append(close_due_team_weeks(s, WEEK_END))
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
    assert sql(db, "SELECT COUNT(*) FROM sealed_answers") == [(0,)]


def test_checkin_racing_the_close_is_refused_not_left_sealed(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check-in that found the week open but is overtaken by the close before its write is
    refused: nothing sealed is left behind in (or after) the closed week, nothing is lost."""
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 5)
    just_before = WEEK_END - timedelta(milliseconds=1)
    real_lock_open = practice.checkin.lock_open
    overtaken: list[int] = []

    def close_first(session: Any, period_id: int) -> bool:
        # The check-in has read the open period; the scheduler closes the week meanwhile.
        overtaken.append(close(db, WEEK_END))
        return real_lock_open(session, period_id)

    monkeypatch.setattr(practice.checkin, "lock_open", close_first)
    week = current_week(team, just_before).index
    late = check_in(db, team, week, member(0), CheckinAnswers(2, 2), just_before)
    assert (late, overtaken) == (Refusal.WEEK_CLOSED, [1])
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(5,)]
    for table in OPEN_WEEK_TABLES:
        assert sql(db, f"SELECT COUNT(*) FROM {table}") == [(0,)], table


def test_close_period_on_an_already_closed_period_does_nothing(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    with db.session() as s:
        stale = s.scalars(select(TeamWeek)).one()
        assert close(db, WEEK_END) == 1  # another replica got there first
        ids = sql(db, "SELECT id FROM answers")
        assert close_team_week(s, stale) is False
    assert sorted(sql(db, "SELECT id FROM answers")) == sorted(ids)
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(3,)]


def test_closing_one_week_leaves_the_next_open_week_sealed(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    next_week = WEEK_END + timedelta(days=1)
    assert close(db, next_week) == 1
    check_in_now(db, team, "UMEMBER07", CheckinAnswers(4, 4, 4, "next"), next_week)
    assert close(db, next_week) == 0
    assert [sql(db, f"SELECT COUNT(*) FROM {t}")[0][0] for t in OPEN_WEEK_TABLES] == [1, 1, 1]
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(3,)]
    assert ("next",) not in sql(db, "SELECT body FROM comments")


def test_a_weeks_plan_is_the_one_it_opened_with_and_later_weeks_count_from_the_first(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    week = current_week(team, clock.now())
    later = Week(week.index + 1)
    first = ROTATION.for_team(WS, team.channel_id, week.index, week.index)
    with db.session() as s:
        assert planned(s, team, week, ROTATION) == (first.domain, first.prompt_index)
    open_week(db, team, clock.now(), ROTATION)
    # The rotation may change after a week opens (new items): the open week keeps its own.
    with db.session() as s:
        s.execute(update(TeamWeek).values(domain="team-belonging", prompt_index=4))
    then = ROTATION.for_team(WS, team.channel_id, later.index, week.index)
    assert then.domain != ROTATION.for_team(WS, team.channel_id, later.index, later.index).domain
    with db.session() as s:
        row = s.get(Team, team.id)
        assert row is not None
        found = s.scalars(select(TeamWeek)).one()
        assert planned(s, row, week, ROTATION) == ("team-belonging", 4)
        assert plan_of(found, row, week, ROTATION) == ("team-belonging", 4)
        assert planned(s, row, later, ROTATION) == (then.domain, then.prompt_index)
        assert plan_of(None, row, later, ROTATION) == (then.domain, then.prompt_index)


def test_closing_a_week_already_closed_does_nothing_while_other_weeks_are_open(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    assert close(db, WEEK_END) == 1
    other = make_team(db, clock.now(), channel="C0002")
    open_week(db, other, clock.now(), ROTATION, [member(9)])
    with db.session() as s:
        closed = s.scalars(select(TeamWeek).where(TeamWeek.team_id == team.id)).one()
        assert close_team_week(s, closed) is False


def test_a_sealed_check_in_that_will_not_open_is_logged_and_the_rest_close(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    team = make_team(db, clock.now())
    fill_week(db, team, clock.now(), 3)
    with db.engine.begin() as conn:
        [(key,)] = conn.execute(text("SELECT respondent_key FROM sealed_answers LIMIT 1")).all()
        conn.execute(
            text("UPDATE sealed_answers SET sealed = :junk WHERE respondent_key = :key"),
            {"junk": bytes(SEALED_BYTES), "key": key},
        )
    with caplog.at_level("ERROR", logger="storage.team_weeks"):
        assert close(db, WEEK_END) == 1
    assert caplog.messages == [
        "closing a week: one sealed check-in could not be opened "
        "(a sealed answer does not open under its week's secret)"
    ]
    assert sql(db, "SELECT COUNT(*) FROM answers") == [(2,)]


def test_a_process_without_the_weeks_key_says_which_key_to_set(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    open_week(db, team, clock.now(), ROTATION, [member(0)])
    [(key_id,)] = sql(db, "SELECT key_id FROM week_keys")
    other = Database(database_url, Keyring.generate())
    try:
        with other.session() as s:
            period = s.scalars(select(TeamWeek)).one()
            with pytest.raises(KeyProblem, match=f"key {key_id}.* set SECUREBASE_SECRET_KEY"):
                week_seal(s, period)
    finally:
        other.dispose()


def test_closing_one_teams_due_weeks_leaves_the_others(db: Database, clock: ManualClock) -> None:
    """/teampulse closes the asking team's week when it is due, and only that team's."""
    teams = [make_team(db, clock.now(), channel=c) for c in ("C0001", "C0002")]
    for team in teams:
        open_week(db, team, clock.now(), ROTATION, [member(0)])
    with db.session() as s:
        assert close_due_team_weeks(s, WEEK_END, team_id=teams[1].id) == 1
    assert sql(db, "SELECT team_id, closed FROM team_weeks ORDER BY team_id") == [
        (teams[0].id, False),
        (teams[1].id, True),
    ]


def test_the_close_counts_every_week_it_closed(db: Database, clock: ManualClock) -> None:
    for channel in ("C0001", "C0002", "C0003"):
        open_week(db, make_team(db, clock.now(), channel=channel), clock.now(), ROTATION)
    assert close(db, WEEK_END) == 3


def test_a_week_opens_with_its_rotations_items_and_starts_only_its_own_teams_rotation(
    db: Database, clock: ManualClock
) -> None:
    """The week keeps the item wording (`items_version`) it was opened with; a team's rotation
    counts from its own first week, not from another team's."""
    team, other = (make_team(db, clock.now(), channel=c) for c in ("C0001", "C0002"))
    period = open_week(db, team, clock.now(), ROTATION)
    assert (period.items_version, period.closed, period.roster_known) == (2, False, True)
    assert sql(db, "SELECT id, rotation_start FROM teams ORDER BY id") == [
        (team.id, period.week_index),
        (other.id, None),
    ]


def test_each_team_walks_the_prompts_in_an_order_of_its_own() -> None:
    """Teams in one workspace do not all see the same prompt in the same week."""
    week = current_week(Team(timezone="Europe/London"), WEEK_END - timedelta(days=1))
    teams = [Team(workspace_id=WS, channel_id=f"C{n:04d}", rotation_start=None) for n in range(8)]
    assert len({plan_of(None, team, week, ROTATION) for team in teams}) > 1
