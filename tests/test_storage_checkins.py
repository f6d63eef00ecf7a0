"""Check-ins: only into a week opened with its roster, sealed one row per member, replaceable
while open, validated, redacted, and stored within their budget or not at all."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sealed_weeks import open_week
from sqlalchemy import func, select, text

from practice.checkin import (
    CheckinAnswers,
    CheckinError,
    CheckinResult,
    NotSaved,
    OpenWeek,
    Refusal,
    check_in,
    has_checked_in,
    week_to_check_in,
)
from practice.clock import ManualClock
from practice.keys import NONCE_BYTES as WRAP_NONCE_BYTES
from practice.rotation import Rotation
from practice.sealing import SEALED_BYTES, SECRET_BYTES, SealedValues, WeekSeal
from storage.db import Database
from storage.models import RosterEntry, SealedAnswer, Team, TeamWeek, WeekKey
from storage.team_weeks import close_due_team_weeks, current_week, find_team_week, week_seal
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
WS = "T0001"
SUPERVISOR = "USUPER01"
MEMBERS = tuple(f"UMEMBER{n:02d}" for n in range(12))


def make_team(db: Database, now: datetime, channel: str = "C0001") -> Team:
    with db.session() as s:
        return add_team(s, TeamSpec(WS, channel, "Blue team", (SUPERVISOR,)), now)


def opened(db: Database, clock: ManualClock, roster: tuple[str, ...] = MEMBERS) -> Team:
    """A team whose week at the clock's time has been opened (its prompt went out)."""
    team = make_team(db, clock.now())
    open_week(db, team, clock.now(), ROTATION, roster)
    return team


def submit(
    db: Database, team: Team, user: str, answers: CheckinAnswers, now: datetime
) -> CheckinResult | Refusal:
    """What the modal does: check in for the week the form was opened in (here: now)."""
    return check_in(db, team, current_week(team, now).index, user, answers, now)


def stored(db: Database, team: Team, user: str, answers: CheckinAnswers, now: datetime) -> Any:
    result = submit(db, team, user, answers, now)
    assert isinstance(result, CheckinResult), result
    return result


def sql(db: Database, query: str) -> list[Any]:
    with db.engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def count(db: Database, table: str) -> int:
    return int(sql(db, f"SELECT COUNT(*) FROM {table}")[0][0])


def unsealed(db: Database, team: Team, now: datetime) -> dict[str, SealedValues]:
    """Respondent key → values: what only the operator's key can open while the week runs."""
    with db.session() as s:
        period = find_team_week(s, team.id, current_week(team, now).index)
        assert period is not None
        seal = week_seal(s, period)
        assert seal is not None
        rows = s.scalars(select(SealedAnswer).where(SealedAnswer.period_id == period.id)).all()
        return {row.respondent_key: seal.open(row.respondent_key, row.sealed) for row in rows}


def close(db: Database, now: datetime) -> int:
    with db.session() as s:
        return close_due_team_weeks(s, now + timedelta(days=7))


def test_a_checkin_before_the_week_is_opened_is_refused(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert submit(db, team, "UMEMBER01", CheckinAnswers(4, 2, 3), clock.now()) is Refusal.NOT_OPEN
    assert week_to_check_in(db, team, "UMEMBER01", clock.now()) is Refusal.NOT_OPEN
    # Nothing was opened or stored on the way: only the prompt opens a week.
    for table in ("team_weeks", "week_keys", "roster_entries", "sealed_answers", "answers"):
        assert count(db, table) == 0, table


def test_checkin_is_stored_sealed_in_the_opened_week(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    week = current_week(team, clock.now())
    expected = ROTATION.for_team(WS, "C0001", week.index, week.index)  # a new team's first week
    assert expected.domain == "availability"
    assert week_to_check_in(db, team, "UMEMBER01", clock.now()) == OpenWeek(
        week.index, expected.domain, already_in=False
    )
    result = submit(db, team, "UMEMBER01", CheckinAnswers(4, 2, 3), clock.now())
    assert result == CheckinResult(replaced=False, week_index=week.index, domain=expected.domain)
    with db.session() as s:
        period = s.scalars(select(TeamWeek)).one()
        assert (period.week_index, period.domain, period.prompt_index) == (
            week.index,
            expected.domain,
            expected.prompt_index,
        )
        assert (period.closed, period.roster_known, period.member_count) == (
            False,
            True,
            len(MEMBERS),
        )
        [wrapped] = s.scalars(select(WeekKey)).all()
        # The week's secret is there only wrapped under the operator's key, and names it.
        assert wrapped.key_id == db.keyring.current.key_id
        assert len(wrapped.wrapped) == WRAP_NONCE_BYTES + SECRET_BYTES + 16
        seal = week_seal(s, period)
        assert seal is not None and seal.secret not in wrapped.wrapped
    # Nothing in the clear while the week is open: one ciphertext of the fixed size.
    assert (count(db, "answers"), count(db, "comments")) == (0, 0)
    [(size,)] = sql(db, "SELECT LENGTH(sealed) FROM sealed_answers")
    assert size == SEALED_BYTES
    assert list(unsealed(db, team, clock.now()).values()) == [SealedValues(4, 2, 3, "")]
    assert has_checked_in(db, team, "UMEMBER01", clock.now()) is True


def test_replace_in_same_week_keeps_one_row(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    first = stored(db, team, "UMEMBER01", CheckinAnswers(1, 5, 2, "first"), clock.now())
    [key_before] = unsealed(db, team, clock.now())
    clock.advance(timedelta(days=2))
    second = stored(db, team, "UMEMBER01", CheckinAnswers(5, 1, None, "second"), clock.now())
    assert (first.replaced, second.replaced) == (False, True)
    assert first.week_index == second.week_index
    # Found again by the same respondent key, replaced: answer and comment together.
    assert unsealed(db, team, clock.now()) == {key_before: SealedValues(5, 1, None, "second")}
    close(db, clock.now())
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(5, 1, None)]
    assert sql(db, "SELECT body FROM comments") == [("second",)]


def test_replacing_without_a_comment_removes_the_old_one(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(2, 2, comment="please delete me"), clock.now())
    stored(db, team, "UMEMBER02", CheckinAnswers(3, 3, comment="keep me"), clock.now())
    result = stored(db, team, "UMEMBER01", CheckinAnswers(4, 4), clock.now())
    assert result.replaced is True
    assert sorted(v.comment for v in unsealed(db, team, clock.now()).values()) == ["", "keep me"]
    # A whitespace-only comment is no comment.
    stored(db, team, "UMEMBER02", CheckinAnswers(3, 3, comment="   "), clock.now())
    assert count(db, "sealed_answers") == 2
    close(db, clock.now())
    assert (count(db, "answers"), count(db, "comments")) == (2, 0)


def test_every_sealed_answer_is_the_same_size(db: Database, clock: ManualClock) -> None:
    """A ciphertext's length would otherwise tell who wrote a long comment."""
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now())
    stored(db, team, "UMEMBER02", CheckinAnswers(1, 5, 2, "é" * 1000), clock.now())
    stored(db, team, "UMEMBER03", CheckinAnswers(5, 1, 4, "fine"), clock.now())
    assert sql(db, "SELECT DISTINCT LENGTH(sealed) FROM sealed_answers") == [(SEALED_BYTES,)]


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
    team = opened(db, clock)
    for answers in BAD_ANSWERS:
        with pytest.raises(CheckinError):
            submit(db, team, "UMEMBER01", answers, clock.now())
        assert (count(db, "sealed_answers"), count(db, "answers"), count(db, "comments")) == (
            0,
            0,
            0,
        )


def test_invalid_replacement_keeps_the_earlier_answer(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(2, 4, 1, "kept"), clock.now())
    with pytest.raises(CheckinError):
        submit(db, team, "UMEMBER01", CheckinAnswers(9, 4), clock.now())
    assert list(unsealed(db, team, clock.now()).values()) == [SealedValues(2, 4, 1, "kept")]


@pytest.mark.slow
def test_database_constraints_back_the_validation(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now())
    close(db, clock.now())
    for bad in ("availability = 6", "stress = 0", "domain_item = 7"):
        with pytest.raises(Exception, match=r"(?i)constraint|check"), db.engine.begin() as conn:
            conn.execute(text(f"UPDATE answers SET {bad}"))
    assert sql(db, "SELECT availability, stress, domain_item FROM answers") == [(3, 3, None)]


def test_two_members_two_rows(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(1, 1, comment="one"), clock.now())
    stored(db, team, "UMEMBER02", CheckinAnswers(5, 5, comment="two"), clock.now())
    found = unsealed(db, team, clock.now())
    assert sorted(found.values(), key=lambda v: v.comment) == [
        SealedValues(1, 1, None, "one"),
        SealedValues(5, 5, None, "two"),
    ]
    assert len(found) == 2 and all(len(key) == 64 for key in found)
    assert count(db, "team_weeks") == 1


def test_keys_differ_by_workspace_secret_and_purpose() -> None:
    seal = WeekSeal(b"k" * 32, 7)
    other = WeekSeal(b"j" * 32, 7)
    mine = seal.respondent_key("T0001", "UMEMBER01")
    assert mine != seal.respondent_key("T0002", "UMEMBER01")  # another workspace's person
    assert mine != other.respondent_key("T0001", "UMEMBER01")  # another week's secret
    # Roster, respondent and reminder keys never coincide: none can stand in for another.
    assert len({mine, seal.roster_key(WS, "UMEMBER01"), seal.reminder_key(WS, "UMEMBER01")}) == 3


def test_next_week_is_a_new_period(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    first = stored(db, team, "UMEMBER01", CheckinAnswers(1, 1), clock.now())
    clock.advance(timedelta(days=7))
    # Last week's form is refused, not filed under this week...
    refused = check_in(db, team, first.week_index, "UMEMBER01", CheckinAnswers(2, 2), clock.now())
    assert refused is Refusal.WEEK_CLOSED
    # ...and this week takes no check-in until its prompt has opened it.
    assert submit(db, team, "UMEMBER01", CheckinAnswers(2, 2), clock.now()) is Refusal.NOT_OPEN
    open_week(db, team, clock.now(), ROTATION, MEMBERS)
    second = stored(db, team, "UMEMBER01", CheckinAnswers(2, 2), clock.now())
    assert second.replaced is False
    assert second.week_index == first.week_index + 1
    assert second.domain != first.domain
    with db.session() as s:
        periods = s.scalars(select(TeamWeek).order_by(TeamWeek.week_index)).all()
        assert [p.week_index for p in periods] == [first.week_index, second.week_index]
        seals = [week_seal(s, p) for p in periods]
        assert seals[0] is not None and seals[1] is not None
        assert seals[0].secret != seals[1].secret
        counted = select(SealedAnswer.period_id, func.count()).group_by(SealedAnswer.period_id)
        per_period = {period_id: n for period_id, n in s.execute(counted).all()}
        assert per_period == {periods[0].id: 1, periods[1].id: 1}


def test_who_may_check_in(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock, roster=("UMEMBER01", "UMEMBER02"))
    now = clock.now()
    # Someone who joined the channel after the prompt is not on this week's roster.
    assert submit(db, team, "ULATECOMER", CheckinAnswers(3, 3), now) is Refusal.NOT_ON_ROSTER
    assert week_to_check_in(db, team, "ULATECOMER", now) is Refusal.NOT_ON_ROSTER
    # A supervisor never checks in to their own team.
    assert submit(db, team, SUPERVISOR, CheckinAnswers(3, 3), now) is Refusal.SUPERVISOR
    assert week_to_check_in(db, team, SUPERVISOR, now) is Refusal.SUPERVISOR
    # The same Slack id in another workspace is another person, not on this roster.
    with db.session() as s:
        elsewhere = add_team(s, TeamSpec("T0002", "C0001", "Red team", (SUPERVISOR,)), now)
    open_week(db, elsewhere, now, ROTATION, ("UMEMBER09",))
    assert submit(db, elsewhere, "UMEMBER01", CheckinAnswers(3, 3), now) is Refusal.NOT_ON_ROSTER
    assert count(db, "sealed_answers") == 0
    assert stored(db, team, "UMEMBER02", CheckinAnswers(3, 3), now).replaced is False


def test_a_week_opened_before_rosters_admits_any_member_but_supervisors(
    db: Database, clock: ManualClock
) -> None:
    """Weeks open when migration 0007 ran have no roster (`roster_known` False)."""
    team = opened(db, clock, roster=())
    with db.session() as s:
        period = s.scalars(select(TeamWeek)).one()
        period.roster_known = False
    assert isinstance(
        submit(db, team, "UANYONE01", CheckinAnswers(3, 3), clock.now()), CheckinResult
    )
    assert submit(db, team, SUPERVISOR, CheckinAnswers(3, 3), clock.now()) is Refusal.SUPERVISOR
    assert count(db, "sealed_answers") == 1


def test_has_checked_in_only_while_open(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now())
    assert has_checked_in(db, team, "UMEMBER01", clock.now()) is True
    assert has_checked_in(db, team, "UMEMBER02", clock.now()) is False
    assert has_checked_in(db, team, SUPERVISOR, clock.now()) is False
    assert close(db, clock.now()) == 1
    assert has_checked_in(db, team, "UMEMBER01", clock.now()) is False


def test_a_checkin_after_a_crash_still_replaces(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    """The wrapped secret is in an ordinary, logged table (`week_keys`): after a crash or a
    failover the bot, given the same operator key, still finds a member's earlier check-in."""
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(1, 1, comment="before"), clock.now())
    if db.is_postgres:
        with db.engine.connect() as conn:
            persistence = conn.execute(
                text(
                    "SELECT relname, relpersistence FROM pg_class "
                    "WHERE relname IN ('week_keys', 'roster_entries', 'sealed_answers') "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            ).all()
        assert sorted(persistence) == [
            ("roster_entries", "p"),
            ("sealed_answers", "p"),
            ("week_keys", "p"),
        ]
    db.dispose()  # every connection gone, as after a crash; a new process starts
    restarted = Database(database_url, db.keyring)
    try:
        result = stored(restarted, team, "UMEMBER01", CheckinAnswers(5, 5), clock.now())
        assert result.replaced is True
        assert list(unsealed(restarted, team, clock.now()).values()) == [
            SealedValues(5, 5, None, "")
        ]
    finally:
        restarted.dispose()


REDACTED = [
    ("<@U123ABC> never listens", "[someone] never listens"),
    ("ask <@U0123ABCDE|sam> or <#C0123ABCD|general>", "ask [someone] or [someone]"),
    ("mail me at sam.jones+work@council.gov.uk", "mail me at [email]"),
    ("ring 07700 900123 tonight", "ring [phone] tonight"),
    ("or +44 20 7946 0958", "or [phone]"),
    ("  supervision helped  ", "supervision helped"),
]


def test_comments_are_redacted_before_storage(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    for n, (comment, _) in enumerate(REDACTED):
        stored(db, team, f"UMEMBER{n:02d}", CheckinAnswers(3, 3, comment=comment), clock.now())
    sealed = {v.comment for v in unsealed(db, team, clock.now()).values()}
    assert sealed == {clean for _, clean in REDACTED}
    close(db, clock.now())
    assert {row[0] for row in sql(db, "SELECT body FROM comments")} == sealed


def test_long_comment_is_capped(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    stored(db, team, "UMEMBER01", CheckinAnswers(3, 3, comment="a" * 5000), clock.now())
    close(db, clock.now())
    assert sql(db, "SELECT LENGTH(body) FROM comments") == [(1000,)]


def test_open_week_is_idempotent(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    first = open_week(db, team, clock.now(), ROTATION, MEMBERS)
    again = open_week(db, team, clock.now(), ROTATION, ("UOTHER01",))
    assert again.id == first.id and again.member_count == len(MEMBERS)
    assert (count(db, "team_weeks"), count(db, "week_keys")) == (1, 1)
    assert count(db, "roster_entries") == len(MEMBERS)  # the later roster changed nothing


@pytest.mark.slow
def test_replicas_racing_to_open_a_week_get_the_same_one(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    barrier = threading.Barrier(4)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            ids.append(open_week(db, team, clock.now(), ROTATION, MEMBERS).id)
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
        assert s.scalar(select(func.count()).select_from(TeamWeek)) == 1
        assert s.scalar(select(func.count()).select_from(WeekKey)) == 1
        assert s.scalar(select(func.count()).select_from(RosterEntry)) == len(MEMBERS)


def test_concurrent_checkins_all_land(db: Database, clock: ManualClock) -> None:
    team = opened(db, clock)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            stored(db, team, f"UMEMBER{n:02d}", CheckinAnswers(1 + n % 5, 3), clock.now())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert count(db, "sealed_answers") == 6
    assert sorted(v.availability for v in unsealed(db, team, clock.now()).values()) == sorted(
        1 + n % 5 for n in range(6)
    )


@pytest.mark.slow
def test_a_checkin_that_cannot_finish_in_its_budget_stores_nothing(
    db: Database, clock: ManualClock
) -> None:
    """While the week is locked (its close is under way on another connection), a check-in
    gives up within its budget and says so, rather than holding Slack's acknowledgement."""
    team = opened(db, clock)
    with db.engine.connect() as holder:
        if db.is_postgres:
            holder.execute(text("SELECT id FROM team_weeks FOR UPDATE"))
        else:
            holder.exec_driver_sql("BEGIN IMMEDIATE")
            holder.execute(text("UPDATE team_weeks SET member_count = member_count"))
        started = clock.now()
        with pytest.raises(NotSaved):
            check_in(
                db,
                team,
                current_week(team, started).index,
                "UMEMBER01",
                CheckinAnswers(3, 3),
                started,
                budget=0.5,
            )
        holder.rollback()
    assert count(db, "sealed_answers") == 0
    # Once the lock is gone the same check-in goes through.
    assert stored(db, team, "UMEMBER01", CheckinAnswers(3, 3), clock.now()).replaced is False
