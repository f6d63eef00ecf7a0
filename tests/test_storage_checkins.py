"""Check-in writes: one row per member per week, replaceable while open, validated, redacted."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from storage.checkins import (
    CheckinAnswers,
    CheckinError,
    CheckinResult,
    has_checked_in,
    record_checkin,
    respondent_key,
)
from storage.clock import ManualClock
from storage.db import Database
from storage.models import Answer, Comment, Period, Team
from storage.periods import close_due_periods, current_week, ensure_period
from storage.rotation import Rotation
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER})
WS = "T0001"


def make_team(db: Database, now: datetime, channel: str = "C0001") -> Team:
    with db.session() as s:
        return add_team(s, TeamSpec(WS, channel, "Blue team", ("USUPER01",)), now)


def check_in(db: Database, team: Team, user: str, answers: CheckinAnswers, now: datetime) -> Any:
    with db.session() as s:
        return record_checkin(s, team, user, answers, now, ROTATION)


def sql(db: Database, query: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def count(db: Database, table: str) -> int:
    return int(sql(db, f"SELECT COUNT(*) FROM {table}")[0][0])


def test_first_checkin_creates_period_from_rotation(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    result = check_in(db, team, "UMEMBER01", CheckinAnswers(4, 2, 3), clock.now())
    week = current_week(team, clock.now())
    expected = ROTATION.for_team(WS, "C0001", week.index)
    assert result == CheckinResult(replaced=False, week_index=week.index, domain=expected.domain)
    with db.session() as s:
        period = s.scalars(select(Period)).one()
        assert (period.week_index, period.domain, period.prompt_index) == (
            week.index,
            expected.domain,
            expected.prompt_index,
        )
        assert period.closed is False
        assert period.secret is not None and len(period.secret) == 32
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(4, 2, 3)]


def test_replace_in_same_week_keeps_one_row(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    first = check_in(db, team, "UMEMBER01", CheckinAnswers(1, 5, 2, "first"), clock.now())
    clock.advance(timedelta(days=2))
    second = check_in(db, team, "UMEMBER01", CheckinAnswers(5, 1, None, "second"), clock.now())
    assert (first.replaced, second.replaced) == (False, True)
    assert first.week_index == second.week_index
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(5, 1, None)]
    assert sql(db, "SELECT body FROM comments") == [("second",)]
    # The same respondent key, so the comment stays replaceable with the answer.
    assert sql(db, "SELECT respondent_key FROM answers") == sql(
        db, "SELECT respondent_key FROM comments"
    )


def test_replacing_without_a_comment_removes_the_old_one(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(2, 2, comment="please delete me"), clock.now())
    check_in(db, team, "UMEMBER02", CheckinAnswers(3, 3, comment="keep me"), clock.now())
    assert count(db, "comments") == 2
    result = check_in(db, team, "UMEMBER01", CheckinAnswers(4, 4), clock.now())
    assert result.replaced is True
    assert sql(db, "SELECT body FROM comments") == [("keep me",)]
    assert count(db, "answers") == 2
    # A whitespace-only comment is no comment.
    check_in(db, team, "UMEMBER02", CheckinAnswers(3, 3, comment="   "), clock.now())
    assert count(db, "comments") == 0


BAD_ANSWERS = [
    CheckinAnswers(0, 3),
    CheckinAnswers(6, 3),
    CheckinAnswers(3, 0),
    CheckinAnswers(3, 6),
    CheckinAnswers(3, 3, 0),
    CheckinAnswers(3, 3, 6),
    CheckinAnswers(-1, 3, 3, "a comment"),
]


def test_out_of_range_raises_and_writes_nothing(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    for answers in BAD_ANSWERS:
        with pytest.raises(CheckinError), db.session() as s:
            record_checkin(s, team, "UMEMBER01", answers, clock.now(), ROTATION)
        assert (count(db, "answers"), count(db, "comments"), count(db, "team_weeks")) == (0, 0, 0)


def test_invalid_replacement_keeps_the_earlier_answer(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(2, 4, 1, "kept"), clock.now())
    with pytest.raises(CheckinError):
        check_in(db, team, "UMEMBER01", CheckinAnswers(9, 4), clock.now())
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(2, 4, 1)]
    assert sql(db, "SELECT body FROM comments") == [("kept",)]


def test_database_constraints_back_the_validation(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now())
    for bad in ("availability = 6", "stress = 0", "domain_item = 7"):
        with pytest.raises(Exception, match=r"(?i)constraint|check"), db.engine.begin() as conn:
            conn.execute(text(f"UPDATE answers SET {bad}"))
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(3, 3, None)]


def test_two_members_two_rows(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(1, 1, comment="one"), clock.now())
    check_in(db, team, "UMEMBER02", CheckinAnswers(5, 5, comment="two"), clock.now())
    assert sorted(sql(db, "SELECT availability, stress FROM answers")) == [(1, 1), (5, 5)]
    assert sorted(sql(db, "SELECT body FROM comments")) == [("one",), ("two",)]
    keys = sql(db, "SELECT DISTINCT respondent_key FROM answers")
    assert len(keys) == 2 and all(key is not None for (key,) in keys)
    assert count(db, "team_weeks") == 1


def test_same_user_in_another_workspace_is_another_person() -> None:
    secret = b"k" * 32
    assert respondent_key(secret, "T0001", "UMEMBER01") != respondent_key(
        secret, "T0002", "UMEMBER01"
    )
    assert respondent_key(secret, "T0001", "UMEMBER01") != respondent_key(
        b"j" * 32, "T0001", "UMEMBER01"
    )


def test_next_week_is_a_new_period(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    first = check_in(db, team, "UMEMBER01", CheckinAnswers(1, 1), clock.now())
    clock.advance(timedelta(days=7))
    second = check_in(db, team, "UMEMBER01", CheckinAnswers(2, 2), clock.now())
    assert second.replaced is False
    assert second.week_index == first.week_index + 1
    assert second.domain != first.domain
    with db.session() as s:
        periods = s.scalars(select(Period).order_by(Period.week_index)).all()
        assert [p.week_index for p in periods] == [first.week_index, second.week_index]
        assert periods[0].secret != periods[1].secret
        per_period = dict(
            s.execute(
                select(Answer.period_id, Answer.availability).order_by(Answer.period_id)
            ).all()
        )
        assert per_period == {periods[0].id: 1, periods[1].id: 2}


def test_checkin_is_part_of_the_callers_transaction(db: Database, clock: ManualClock) -> None:
    """If the caller's transaction fails after the write, nothing of it may stay behind
    (SQLite once committed at the RELEASE of the first SAVEPOINT)."""
    team = make_team(db, clock.now())
    with db.session() as s:
        ensure_period(s, team, current_week(team, clock.now()), ROTATION)
    with pytest.raises(RuntimeError), db.session() as s:
        record_checkin(
            s, team, "UMEMBER01", CheckinAnswers(3, 3, comment="x"), clock.now(), ROTATION
        )
        raise RuntimeError("the handler failed after the write")
    assert (count(db, "answers"), count(db, "comments")) == (0, 0)
    # The same holds for a period created inside the failed transaction.
    clock.advance(timedelta(days=7))
    with pytest.raises(RuntimeError), db.session() as s:
        record_checkin(s, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now(), ROTATION)
        raise RuntimeError("again")
    assert (count(db, "answers"), count(db, "team_weeks")) == (0, 1)


def test_has_checked_in_only_while_open(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now())
    with db.session() as s:
        period = s.scalars(select(Period)).one()
        assert has_checked_in(s, period, WS, "UMEMBER01") is True
        assert has_checked_in(s, period, WS, "UMEMBER02") is False
        assert has_checked_in(s, period, "T0002", "UMEMBER01") is False
    with db.session() as s:
        assert close_due_periods(s, clock.now() + timedelta(days=7)) == 1
    with db.session() as s:
        period = s.scalars(select(Period)).one()
        assert has_checked_in(s, period, WS, "UMEMBER01") is False


REDACTED = [
    ("<@U123ABC> never listens", "[someone] never listens"),
    ("ask <@U0123ABCDE|sam> or <#C0123ABCD|general>", "ask [someone] or [someone]"),
    ("mail me at sam.jones+work@council.gov.uk", "mail me at [email]"),
    ("ring 07700 900123 tonight", "ring [phone] tonight"),
    ("or +44 20 7946 0958", "or [phone]"),
    ("  supervision helped  ", "supervision helped"),
]


def test_comments_are_redacted_before_storage(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    for n, (comment, _) in enumerate(REDACTED):
        check_in(db, team, f"UMEMBER{n:02d}", CheckinAnswers(3, 3, comment=comment), clock.now())
    stored = {row[0] for row in sql(db, "SELECT body FROM comments")}
    assert stored == {clean for _, clean in REDACTED}


def test_long_comment_is_capped(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    check_in(db, team, "UMEMBER01", CheckinAnswers(3, 3, comment="a" * 5000), clock.now())
    assert sql(db, "SELECT LENGTH(body) FROM comments") == [(1000,)]


def test_ensure_period_is_idempotent(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    week = current_week(team, clock.now())
    with db.session() as s:
        first = ensure_period(s, team, week, ROTATION)
    with db.session() as s:
        again = ensure_period(s, team, week, ROTATION)
        assert again.id == first.id and again.secret == first.secret
    assert count(db, "team_weeks") == 1


def test_replicas_racing_to_create_a_period_get_the_same_one(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    week = current_week(team, clock.now())
    barrier = threading.Barrier(4)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with db.session() as s:
                ids.append(ensure_period(s, team, week, ROTATION).id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(ids) == 4 and len(set(ids)) == 1
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Period)) == 1


def test_concurrent_checkins_all_land(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    with db.session() as s:
        ensure_period(s, team, current_week(team, clock.now()), ROTATION)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            check_in(db, team, f"UMEMBER{n:02d}", CheckinAnswers(1 + n % 5, 3), clock.now())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert count(db, "answers") == 6
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Comment)) == 0
