"""A week's edges: a team's time zone, day or time changed while a week is open, and a prompt
that waits because the channel's members cannot be read.

Real database (SQLite, or PostgreSQL with SECUREBASE_TEST_DATABASE_URL), a ManualClock and the
recording fake Messenger of the weekly tests; the settings change as `/securebase` saves them
(the team's row, in one transaction).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from test_scheduler_weekly import (
    ROTATION,
    FakeMessenger,
    ledger,
    make_delivery,
    make_team,
    period_of,
)

from practice.checkin import CheckinAnswers, OpenWeek, Refusal, check_in, week_to_check_in
from practice.clock import ManualClock
from practice.weeks import Week, week_of_date
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind, DeliveryStatus
from storage.models import Answer, Delivery, Team, TeamWeek
from storage.team_weeks import close_due_team_weeks, open_team_week
from storage.weeks_off import held_deliveries, set_weeks_off

LONDON, NEW_YORK, AUCKLAND = "Europe/London", "America/New_York", "Pacific/Auckland"
WEEK = week_of_date(date(2026, 11, 23))  # w/c Monday 23 November 2026; London is on UTC


def change(
    db: Database,
    team_id: int,
    *,
    tz: str | None = None,
    day: int | None = None,
    minute: int | None = None,
) -> None:
    with db.session() as session:
        team = session.get(Team, team_id)
        assert team is not None
        if tz is not None:
            team.timezone = tz
        if day is not None:
            team.post_day = day
        if minute is not None:
            team.post_minute = minute


def loaded(db: Database, team_id: int) -> Team:
    with db.session() as session:
        team = session.get(Team, team_id)
        assert team is not None
        list(team.supervisors)  # loaded while the session is open
        return team


def answer(db: Database, team_id: int, user: str, now: datetime, stress: int) -> int:
    """Open a form now and submit it; the week it was stored under."""
    team = loaded(db, team_id)
    form = week_to_check_in(db, team, user, now)
    assert isinstance(form, OpenWeek), form
    stored = check_in(db, team, form.week_index, user, CheckinAnswers(3, stress), now)
    assert not isinstance(stored, Refusal), stored
    return stored.week_index


def closed_answers(db: Database, team_id: int, week_index: int) -> list[int]:
    with db.session() as session:
        return sorted(
            session.scalars(
                select(Answer.stress)
                .join(TeamWeek)
                .where(TeamWeek.team_id == team_id, TeamWeek.week_index == week_index)
            )
        )


def periods(db: Database, team_id: int) -> list[tuple[int, bool]]:
    with db.session() as session:
        rows = session.execute(
            select(TeamWeek.week_index, TeamWeek.closed)
            .where(TeamWeek.team_id == team_id)
            .order_by(TeamWeek.week_index)
        ).all()
        return [(row.week_index, row.closed) for row in rows]


@pytest.mark.slow
def test_time_zone_west_and_back_mid_week_keeps_the_open_week(
    db: Database, clock: ManualClock
) -> None:
    """Monday 00:45 in London, the prompt out at 00:30: moved to New York it is still Sunday
    there, the previous week by the clock. The opened week stays the team's week: no earlier
    week is opened or prompted, check-ins before, during and after go to it, it closes once."""
    clock.set(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    team_id = make_team(db, clock, minute=30)
    messenger = FakeMessenger(members=4)
    delivery = make_delivery(db, clock, messenger)
    assert delivery.run_due() == 3
    clock.advance(timedelta(minutes=15))
    assert answer(db, team_id, "U0MEM000", clock.now(), 1) == WEEK.index

    change(db, team_id, tz=NEW_YORK)
    assert delivery.run_due() == 0  # the week before (by New York's clock) is not prompted
    assert answer(db, team_id, "U0MEM001", clock.now(), 2) == WEEK.index
    assert answer(db, team_id, "U0MEM000", clock.now(), 3) == WEEK.index  # replaces, once
    clock.advance(timedelta(hours=6))  # Monday 00:30 in New York: this week's prompt is out
    assert delivery.run_due() == 0

    change(db, team_id, tz=LONDON)
    assert answer(db, team_id, "U0MEM002", clock.now(), 4) == WEEK.index
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1 and len(messenger.reflections) == 2
    assert periods(db, team_id) == [(WEEK.index, False)]

    clock.set(WEEK.ends_at(LONDON) - timedelta(minutes=1))
    with db.session() as session:
        assert close_due_team_weeks(session, clock.now()) == 0
    clock.set(WEEK.ends_at(LONDON))
    with db.session() as session:
        assert close_due_team_weeks(session, clock.now()) == 1
    with db.session() as session:
        assert close_due_team_weeks(session, clock.now()) == 0
    assert closed_answers(db, team_id, WEEK.index) == [2, 3, 4]


@pytest.mark.slow
def test_time_zone_west_left_there_closes_at_the_new_zone_end_once(
    db: Database, clock: ManualClock
) -> None:
    """Left in New York, the opened week runs until Monday in New York (its end by the team's
    zone now), taking check-ins until then, and closes once."""
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    team_id = make_team(db, clock)
    delivery = make_delivery(db, clock, FakeMessenger(members=3))
    assert delivery.run_due() == 3
    change(db, team_id, tz=NEW_YORK)
    clock.set(WEEK.ends_at(LONDON) + timedelta(hours=1))  # Sunday 20:00 in New York
    assert delivery.run_due() == 0
    assert answer(db, team_id, "U0MEM000", clock.now(), 5) == WEEK.index
    clock.set(WEEK.ends_at(NEW_YORK))
    with db.session() as session:
        assert close_due_team_weeks(session, clock.now()) == 1
        assert close_due_team_weeks(session, clock.now()) == 0
    assert closed_answers(db, team_id, WEEK.index) == [5]


@pytest.mark.slow
def test_time_zone_east_ends_the_week_once_and_back_never_reopens_it(
    db: Database, clock: ManualClock
) -> None:
    """Sunday evening in London, moved to Auckland where it is already Monday: the open week
    ends (closed once, a late form for it refused), the new week's prompt goes out once; moved
    back, the closed week stays closed and the new week goes on."""
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    team_id = make_team(db, clock, minute=30)  # Monday 00:30, team-local
    messenger = FakeMessenger(members=4)
    delivery = make_delivery(db, clock, messenger)
    assert delivery.run_due() == 3
    clock.set(datetime(2026, 11, 29, 20, 0, tzinfo=UTC))  # Sunday 20:00 London
    assert answer(db, team_id, "U0MEM000", clock.now(), 1) == WEEK.index
    team = loaded(db, team_id)
    late_form = week_to_check_in(db, team, "U0MEM001", clock.now())
    assert isinstance(late_form, OpenWeek) and late_form.week_index == WEEK.index

    change(db, team_id, tz=AUCKLAND)  # Monday 30 Nov 09:00 in Auckland
    assert delivery.run_due() == 3  # the week ended there: closed, and the new week prompted
    assert closed_answers(db, team_id, WEEK.index) == [1]
    refused = check_in(
        db, loaded(db, team_id), WEEK.index, "U0MEM001", CheckinAnswers(3, 2), clock.now()
    )
    assert refused == Refusal.WEEK_CLOSED
    assert answer(db, team_id, "U0MEM001", clock.now(), 2) == WEEK.index + 1

    change(db, team_id, tz=LONDON)  # Sunday again by London's clock
    assert delivery.run_due() == 0
    assert answer(db, team_id, "U0MEM002", clock.now(), 3) == WEEK.index + 1
    assert periods(db, team_id) == [(WEEK.index, True), (WEEK.index + 1, False)]
    assert len(messenger.prompts) == 2
    clock.set(WEEK.next().ends_at(LONDON) + timedelta(minutes=30))
    assert delivery.run_due() == 3  # the week after: its own prompt
    assert periods(db, team_id)[:2] == [(WEEK.index, True), (WEEK.index + 1, True)]
    assert closed_answers(db, team_id, WEEK.index) == [1]
    assert closed_answers(db, team_id, WEEK.index + 1) == [2, 3]


@pytest.mark.slow
def test_day_moved_to_a_time_already_passed_posts_once_at_the_next_sweep(
    db: Database, clock: ManualClock
) -> None:
    """Friday's team on Tuesday, nothing out yet this week, moved to Monday: the prompt goes
    out at the next sweep, once; next week it comes on Monday."""
    team_id = make_team(db, clock, day=4)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    assert delivery.run_due() == 0
    change(db, team_id, day=0)
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))  # the old Friday time passes
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1
    clock.set(datetime(2026, 11, 30, 9, 29, tzinfo=UTC))
    assert delivery.run_due() == 0
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert len(messenger.prompts) == 2


def test_time_moved_later_the_same_day_before_the_prompt_posts_at_the_new_time(
    db: Database, clock: ManualClock
) -> None:
    """Nothing out yet and the new time still to come this week: it goes out then, once."""
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    change(db, team_id, minute=11 * 60)
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert delivery.run_due() == 0
    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1


def test_settings_changed_after_the_prompt_start_next_week_without_a_repeat(
    db: Database, clock: ManualClock
) -> None:
    """Prompted on Monday, then moved to Thursday (still to come) or to Monday 08:00 (passed):
    nothing more this week; the week after, the prompt comes on the new day, once."""
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    assert delivery.run_due() == 3
    change(db, team_id, minute=8 * 60)
    assert delivery.run_due() == 0
    change(db, team_id, day=3, minute=14 * 60)
    clock.set(datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1
    clock.set(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))  # the old Monday time, next week
    assert delivery.run_due() == 0
    clock.set(datetime(2026, 12, 3, 14, 0, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 2
    with db.session() as session:
        prompts = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.team_id == team_id, Delivery.kind == DeliveryKind.PROMPT)
        )
    assert prompts == 2


def test_a_prompt_waiting_for_its_roster_says_why_in_the_ledger_then_is_made_once(
    db: Database, clock: ManualClock
) -> None:
    """Members unreadable for now: the ledger holds the prompt as waiting, with Slack's error
    code and nothing about anyone; the next sweep takes it over and makes it, once."""
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    messenger.fail_next("members", "ratelimited", permanent=False, times=2)
    assert delivery.run_due() == 0
    clock.advance(timedelta(minutes=1))
    assert delivery.run_due() == 0
    [row] = ledger(db, team_id)
    assert (row.kind, row.status, row.error) == (
        DeliveryKind.PROMPT,
        DeliveryStatus.WAITING,
        "ratelimited",
    )
    assert row.claimed_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # waiting since
    assert row.slack_ts is None and row.recipient == "C0TEAM1"
    with db.session() as session:
        assert deliveries.waiting_since(session, team_id, WEEK.index, DeliveryKind.PROMPT) == (
            datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
            "ratelimited",
        )
        assert deliveries.last_error(session, team_id) is None
    assert period_of(db, team_id, WEEK) is None

    clock.advance(timedelta(minutes=1))
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    statuses = {(r.kind, r.status, r.error) for r in ledger(db, team_id)}
    assert statuses == {
        (DeliveryKind.PROMPT, DeliveryStatus.SENT, None),
        (DeliveryKind.REFLECTIONS, DeliveryStatus.SENT, None),
    }
    assert len(messenger.prompts) == 1
    with db.session() as session:
        assert deliveries.waiting_since(session, team_id, WEEK.index, DeliveryKind.PROMPT) is None


def test_a_waiting_note_never_undoes_a_claim_or_a_sent_prompt(
    db: Database, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    now = clock.now()
    key = DeliveryKey(team_id, WEEK.index, DeliveryKind.PROMPT, "C0TEAM1")
    with db.session() as session:
        assert deliveries.claim(session, key, worker="a", now=now)
        deliveries.wait(session, key, worker="b", now=now, reason="ratelimited")
        deliveries.finish(session, key, worker="a", slack_ts="1.2")
        deliveries.wait(session, key, worker="b", now=now, reason="ratelimited")
    [row] = ledger(db, team_id)
    assert (row.status, row.error, row.claimed_by) == (DeliveryStatus.SENT, None, "a")


def test_a_timed_job_left_from_the_old_time_does_nothing(db: Database, clock: ManualClock) -> None:
    """Until the next sync re-times the team's job, the job at the old time fires: it reads
    the settings as they are now and waits for the new time."""
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    change(db, team_id, minute=11 * 60)
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert delivery.deliver_if_due(team_id) == 0
    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert delivery.deliver_if_due(team_id) == 3
    assert delivery.deliver_if_due(team_id) == 0
    assert delivery.deliver_if_due(team_id + 1) == 0  # a team removed meanwhile
    assert len(messenger.prompts) == 1


def test_a_week_off_is_never_opened_so_nobody_checks_in_to_it(
    db: Database, clock: ManualClock
) -> None:
    """The weekly job in a week off opens nothing: no roster, no secret, no week that a form
    could be filled in for (or that would close into the figures as a week with no answers)."""
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=3)
    delivery = make_delivery(db, clock, messenger)
    team = loaded(db, team_id)
    with db.session() as session:
        set_weeks_off(
            session, team_id, [WEEK.index], [WEEK.index], held_deliveries(team), clock.now()
        )
    assert delivery.run_due() == 0
    assert delivery.deliver_if_due(team_id) == 0
    assert periods(db, team_id) == []
    assert messenger.calls["members"] == 0 and messenger.prompts == []
    assert week_to_check_in(db, team, "U0MEM000", clock.now()) == Refusal.NOT_OPEN
    clock.set(WEEK.next().starts_at(LONDON) + timedelta(hours=9, minutes=30))
    assert delivery.run_due() == 3  # the week after is on again
    assert periods(db, team_id) == [(WEEK.index + 1, False)]


def test_the_form_s_week_is_this_team_s_and_never_an_older_one(
    db: Database, clock: ManualClock
) -> None:
    """Before this week's prompt the form is not open, though last week's week still is; and
    another team's later week is never taken for this team's."""
    ours, theirs = make_team(db, clock, "C0OURS"), make_team(db, clock, "C0THEIRS")
    with db.session() as session:
        for team_id, week in ((ours, Week(WEEK.index - 1)), (theirs, WEEK.next())):
            team = session.get(Team, team_id)
            assert team is not None
            open_team_week(session, team, week, ROTATION, ["U0MEM000"])
    clock.set(WEEK.starts_at(LONDON) + timedelta(hours=8))  # Monday, before the prompt
    assert week_to_check_in(db, loaded(db, ours), "U0MEM000", clock.now()) == Refusal.NOT_OPEN
    with db.session() as session:
        team = session.get(Team, ours)
        assert team is not None
        open_team_week(session, team, WEEK, ROTATION, ["U0MEM000"])
    found = week_to_check_in(db, loaded(db, ours), "U0MEM000", clock.now())
    assert isinstance(found, OpenWeek) and found.week_index == WEEK.index
