"""WeeklyDelivery: when each team's prompt is due, and that it is made exactly once.

Real database (SQLite, or PostgreSQL with SECUREBASE_TEST_DATABASE_URL), a ManualClock and a
recording fake Messenger; no Slack, no sleeps.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.content import default_library
from bot.services import rotation_for
from practice.clock import ManualClock
from practice.delivery import DeliveryError, Refusal
from practice.rotation import Rotation
from practice.weeks import Week, week_of_date
from scheduler.messenger import Messenger
from scheduler.weekly import WeeklyDelivery, fire_time
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKind, DeliveryStatus
from storage.models import Delivery, RosterEntry, Team, TeamWeek, WeekKey
from storage.team_weeks import on_roster, week_seal
from storage.teams import TeamSpec, add_team, set_supervisors

LIBRARY = default_library()
ROTATION = rotation_for(LIBRARY)
LONDON = "Europe/London"
PROMPT, REFLECTIONS = DeliveryKind.PROMPT, DeliveryKind.REFLECTIONS

# Week commencing Monday 23 November 2026 (the conftest clock is Tuesday 24th, 10:00 UTC).
MON_23_NOV_0930 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # London is on UTC in November


class FakeMessenger:
    """Records what would have been sent; can be told to fail the next N calls of a method.

    Every team's channel holds `members` members and the supervisors U0SUP1 and U0SUP2."""

    def __init__(self, members: int = 6) -> None:
        self.people = ["U0SUP1", "U0SUP2", *(f"U0MEM{n:03d}" for n in range(members))]
        self.prompts: list[tuple[str, str, int]] = []  # (channel, domain, prompt_index)
        self.reflections: list[tuple[str, str, str]] = []  # (channel, supervisor, domain)
        self.calls: dict[str, int] = defaultdict(int)  # attempts, failed ones included
        self._failures: dict[str, list[DeliveryError]] = defaultdict(list)
        self._lock = threading.Lock()
        self._ts = itertools.count(1)

    def fail_next(self, method: str, code: str, *, permanent: bool, times: int = 1) -> None:
        with self._lock:
            self._failures[method].extend(
                DeliveryError(code, Refusal.PERMANENT if permanent else Refusal.TRANSIENT)
                for _ in range(times)
            )

    def _enter(self, method: str) -> str:
        with self._lock:
            self.calls[method] += 1
            if self._failures[method]:
                raise self._failures[method].pop(0)
            return f"1790000000.{next(self._ts):06d}"

    def members(self, team: Team) -> list[str]:
        self._enter("members")
        return list(self.people)

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        ts = self._enter("post_prompt")
        with self._lock:
            self.prompts.append((team.channel_id, domain, prompt_index))
        return ts

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        ts = self._enter("send_reflections")
        with self._lock:
            self.reflections.append((team.channel_id, supervisor_id, domain))
        return ts


def make_delivery(
    db: Database, clock: ManualClock, messenger: FakeMessenger, worker: str = "host-a:1"
) -> WeeklyDelivery:
    typed: Messenger = messenger  # the fake really implements the protocol
    return WeeklyDelivery(db, clock, typed, ROTATION, worker)


def make_team(
    db: Database,
    clock: ManualClock,
    channel: str = "C0TEAM1",
    *,
    supervisors: tuple[str, ...] = ("U0SUP1", "U0SUP2"),
    day: int = 0,
    minute: int = 9 * 60 + 30,
    tz: str = LONDON,
) -> int:
    with db.session() as session:
        team = add_team(
            session,
            TeamSpec(
                workspace_id="T0001",
                channel_id=channel,
                name=f"Team {channel}",
                supervisors=supervisors,
                post_day=day,
                post_minute=minute,
                timezone=tz,
            ),
            clock.now(),
        )
        return team.id


def ledger(db: Database, team_id: int) -> list[Delivery]:
    with db.session() as session:
        return list(
            session.scalars(
                select(Delivery)
                .where(Delivery.team_id == team_id)
                .order_by(Delivery.week_index, Delivery.kind, Delivery.recipient)
            )
        )


def period_of(db: Database, team_id: int, week: Week) -> TeamWeek | None:
    with db.session() as session:
        return session.scalars(
            select(TeamWeek).where(TeamWeek.team_id == team_id, TeamWeek.week_index == week.index)
        ).one_or_none()


def unsaved_team(day: int, hour: int, minute: int, tz: str) -> Team:
    return Team(post_day=day, post_minute=hour * 60 + minute, timezone=tz)


# --- fire_time ---------------------------------------------------------------------------


def test_fire_time_london_winter_is_0930_utc() -> None:
    team = unsaved_team(0, 9, 30, LONDON)
    assert fire_time(team, week_of_date(date(2026, 11, 23))) == MON_23_NOV_0930


def test_fire_time_of_an_afternoon_post_is_that_hour_and_minute() -> None:
    team = unsaved_team(4, 14, 5, LONDON)
    assert fire_time(team, week_of_date(date(2026, 11, 23))) == datetime(
        2026, 11, 27, 14, 5, tzinfo=UTC
    )


def test_fire_time_london_summer_is_0830_utc() -> None:
    team = unsaved_team(0, 9, 30, LONDON)
    assert fire_time(team, week_of_date(date(2026, 6, 1))) == datetime(
        2026, 6, 1, 8, 30, tzinfo=UTC
    )


def test_fire_time_follows_the_clock_change_within_one_team() -> None:
    team = unsaved_team(0, 9, 30, LONDON)
    # Monday 23 March 2026 is the last winter Monday, Monday 30 March the first summer one.
    assert fire_time(team, week_of_date(date(2026, 3, 23))) == datetime(
        2026, 3, 23, 9, 30, tzinfo=UTC
    )
    assert fire_time(team, week_of_date(date(2026, 3, 30))) == datetime(
        2026, 3, 30, 8, 30, tzinfo=UTC
    )


def test_fire_time_on_a_nonexistent_local_time_still_falls_in_the_week() -> None:
    # Sunday 29 March 2026: London jumps from 01:00 GMT to 02:00 BST, so 01:30 never happens.
    team = unsaved_team(6, 1, 30, LONDON)
    week = week_of_date(date(2026, 3, 23))
    fire = fire_time(team, week)
    assert fire is not None
    assert week.starts_at(LONDON) <= fire < week.ends_at(LONDON)
    # Either reading of the missing 01:30 (00:30 or 01:30 UTC) is acceptable; not next week.
    assert (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC) <= fire <= datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    )


def test_fire_time_on_an_ambiguous_local_time_is_one_of_its_two_instants() -> None:
    # Sunday 25 October 2026: London goes from 02:00 BST back to 01:00 GMT; 01:30 happens twice.
    team = unsaved_team(6, 1, 30, LONDON)
    week = week_of_date(date(2026, 10, 19))
    fire = fire_time(team, week)
    assert fire is not None
    # (Compared in UTC: Python never calls an ambiguous local time equal to another zone's.)
    assert fire.astimezone(UTC) in {
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    }


def test_fire_time_new_york_on_its_own_local_day() -> None:
    # Sunday 22:30 in New York is already Monday 03:30 UTC: still the New York team's week.
    team = unsaved_team(6, 22, 30, "America/New_York")
    fire = fire_time(team, week_of_date(date(2026, 11, 23)))
    assert fire == datetime(2026, 11, 30, 3, 30, tzinfo=UTC)
    assert fire is not None
    local = fire.astimezone(ZoneInfo("America/New_York"))
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 29), 22, 30)
    # In summer (EDT, UTC-4) the same local time is an hour earlier in UTC.
    assert fire_time(team, week_of_date(date(2026, 6, 1))) == datetime(
        2026, 6, 8, 2, 30, tzinfo=UTC
    )


def test_fire_time_auckland_on_its_own_local_day() -> None:
    # Monday 09:30 in Auckland (NZDT, UTC+13) is Sunday 20:30 UTC.
    team = unsaved_team(0, 9, 30, "Pacific/Auckland")
    fire = fire_time(team, week_of_date(date(2026, 11, 23)))
    assert fire == datetime(2026, 11, 22, 20, 30, tzinfo=UTC)
    # In the New Zealand winter (NZST, UTC+12).
    assert fire_time(team, week_of_date(date(2026, 6, 1))) == datetime(
        2026, 5, 31, 21, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("start", "end", "monday"),
    [
        # Spring forward: 01:30 local does not exist on Sunday 29 March 2026.
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 30, 2, 0, tzinfo=UTC), 23),
        # Fall back: 01:30 local happens twice on Sunday 25 October 2026.
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 26, 2, 0, tzinfo=UTC), 19),
    ],
    ids=["spring-forward", "fall-back"],
)
@pytest.mark.slow
def test_a_team_posting_in_the_dst_night_posts_exactly_once(
    db: Database, clock: ManualClock, start: datetime, end: datetime, monday: int
) -> None:
    team_id = make_team(db, clock, day=6, minute=90, supervisors=("U0SUP1",))
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    week = week_of_date(date(start.year, start.month, monday))
    fire = fire_time(unsaved_team(6, 1, 30, LONDON), week)
    assert fire is not None
    step = timedelta(minutes=15)
    night = start + timedelta(hours=1)  # Saturday 23:00 UTC
    # Every 15 minutes through the night of the change, then every few hours to the week's end.
    times = [start, *(night + n * step for n in range(24))]
    times += [*(night + timedelta(hours=h) for h in range(7, 27, 4)), end]
    posted_at: list[datetime] = []
    for instant in times:
        clock.set(instant)
        before = len(messenger.prompts)
        delivery.run_due()
        if len(messenger.prompts) != before:
            posted_at.append(instant)
    assert len(messenger.prompts) == 1
    assert len(posted_at) == 1
    assert fire <= posted_at[0] < fire + step
    assert [row.week_index for row in ledger(db, team_id) if row.kind == PROMPT] == [week.index]


# --- run_due -----------------------------------------------------------------------------


def test_nothing_before_the_time_then_prompt_and_dms_exactly_once(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger(members=9)
    delivery = make_delivery(db, clock, messenger)

    clock.set(MON_23_NOV_0930 - timedelta(seconds=1))
    assert delivery.run_due() == 0
    assert messenger.prompts == [] and messenger.reflections == []

    clock.set(MON_23_NOV_0930)
    assert delivery.run_due() == 3  # the channel prompt and one DM per supervisor
    assert len(messenger.prompts) == 1
    channel, domain, prompt_index = messenger.prompts[0]
    assert channel == "C0TEAM1"
    assert domain in {d.key for d in LIBRARY.domains}
    assert 0 <= prompt_index < len(LIBRARY.domain(domain).prompts)
    assert sorted(messenger.reflections) == [
        ("C0TEAM1", "U0SUP1", domain),
        ("C0TEAM1", "U0SUP2", domain),
    ]
    week = week_of_date(date(2026, 11, 23))
    period = period_of(db, team_id, week)
    assert period is not None
    assert (period.domain, period.prompt_index, period.member_count) == (domain, prompt_index, 9)
    rows = ledger(db, team_id)
    assert [(r.kind, r.recipient, r.status) for r in rows] == [
        (PROMPT, "C0TEAM1", DeliveryStatus.SENT),
        (REFLECTIONS, "U0SUP1", DeliveryStatus.SENT),
        (REFLECTIONS, "U0SUP2", DeliveryStatus.SENT),
    ]
    assert all(r.slack_ts for r in rows)

    # Again, in every way the bot might come back to it: nothing more is sent.
    clock.advance(timedelta(hours=3))
    assert delivery.run_due() == 0
    assert delivery.deliver(team_id) == 0
    other_db = Database(database_url, db.keyring)
    try:
        replica_messenger = FakeMessenger()
        replica = make_delivery(other_db, clock, replica_messenger, worker="host-b:7")
        assert replica.run_due() == 0
        assert replica.deliver(team_id) == 0
    finally:
        other_db.dispose()
    assert replica_messenger.prompts == [] and replica_messenger.reflections == []
    assert len(messenger.prompts) == 1 and len(messenger.reflections) == 2
    assert messenger.calls["post_prompt"] == 1


def test_a_sweep_visits_only_the_teams_still_owed_something(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every sweep after the week's posts have gone visits no team (one ledger statement says
    so), until a team is owed something again: here a supervisor added mid-week."""
    make_team(db, clock, "C0DONE1")
    changed = make_team(db, clock, "C0CHANGE")
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    assert delivery.run_due() == 6
    visited: list[int] = []
    real_deliver = delivery.deliver
    monkeypatch.setattr(delivery, "deliver", lambda team_id: visited.append(team_id) or 0)
    clock.advance(timedelta(hours=1))
    assert delivery.run_due() == 0
    assert visited == []

    with db.session() as session:
        team = session.get(Team, changed)
        assert team is not None
        set_supervisors(session, team, ["U0SUP1", "U0SUP2", "U0SUP3"])
        session.commit()
    assert delivery.run_due() == 0
    assert visited == [changed]
    monkeypatch.setattr(delivery, "deliver", real_deliver)
    assert delivery.run_due() == 1  # the new supervisor's reflections, once
    assert messenger.reflections[-1][:2] == ("C0CHANGE", "U0SUP3")


def test_a_lone_team_owed_nothing_is_not_visited(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_team(db, clock)
    delivery = make_delivery(db, clock, FakeMessenger())
    clock.set(MON_23_NOV_0930)
    assert delivery.run_due() == 3
    visited: list[int] = []
    monkeypatch.setattr(delivery, "deliver", lambda team_id: visited.append(team_id) or 0)
    assert delivery.run_due() == 0
    assert visited == []


def test_next_week_posts_again_with_another_domain_and_closes_the_old_week(
    db: Database, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    assert delivery.run_due() == 3
    clock.advance(timedelta(days=6, hours=23))  # Monday 30th 08:30: next week, before its time
    assert delivery.run_due() == 0
    first = period_of(db, team_id, week_of_date(date(2026, 11, 23)))
    assert first is not None and first.closed
    with db.session() as session:
        assert session.get(WeekKey, first.id) is None  # its secret is gone
    clock.advance(timedelta(hours=1))
    assert delivery.run_due() == 3
    assert len(messenger.prompts) == 2
    assert messenger.prompts[0][1] != messenger.prompts[1][1]
    assert {domain for _, _, domain in messenger.reflections[2:]} == {messenger.prompts[1][1]}
    assert sorted({r.week_index for r in ledger(db, team_id)}) == [
        week_of_date(date(2026, 11, 23)).index,
        week_of_date(date(2026, 11, 30)).index,
    ]


def test_catch_up_after_being_down_at_the_scheduled_time(db: Database, clock: ManualClock) -> None:
    make_team(db, clock)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930 - timedelta(minutes=30))
    assert delivery.run_due() == 0
    # Down from Monday 09:00 until Wednesday afternoon.
    clock.set(datetime(2026, 11, 25, 14, 0, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1


def test_a_week_missed_entirely_is_never_posted(db: Database, clock: ManualClock) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930 - timedelta(minutes=30))
    assert delivery.run_due() == 0
    # Down for two weeks: back on Tuesday 8 December.
    clock.set(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1
    current = week_of_date(date(2026, 12, 7))
    assert {r.week_index for r in ledger(db, team_id)} == {current.index}
    assert period_of(db, team_id, week_of_date(date(2026, 11, 23))) is None
    assert period_of(db, team_id, week_of_date(date(2026, 11, 30))) is None


def test_paused_team_is_skipped(db: Database, clock: ManualClock) -> None:
    paused_id = make_team(db, clock, "C0PAUSED")
    active_id = make_team(db, clock, "C0ACTIVE")
    with db.session() as session:
        team = session.get(Team, paused_id)
        assert team is not None
        team.paused = True
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    assert delivery.run_due() == 3
    assert [p[0] for p in messenger.prompts] == ["C0ACTIVE"]
    assert ledger(db, paused_id) == []
    assert len(ledger(db, active_id)) == 3
    assert delivery.deliver_if_due(paused_id) == 0  # nor does its own timed job post
    assert ledger(db, paused_id) == []


def test_a_team_whose_prompt_fails_is_logged_by_channel_and_what_failed(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    make_team(db, clock, "C0BROKEN")
    messenger = FakeMessenger()

    def crash(team: Team, domain: str, prompt_index: int) -> str:
        raise RuntimeError("the messenger crashed")

    messenger.post_prompt = crash  # type: ignore[method-assign]
    clock.set(MON_23_NOV_0930)
    with caplog.at_level("ERROR", logger="practice.sweep"):
        make_delivery(db, clock, messenger).run_due()
    assert caplog.messages == [
        "team C0BROKEN: the weekly prompt failed; the next sweep tries again"
    ]


def test_teams_in_other_zones_post_on_their_own_local_time(
    db: Database, clock: ManualClock
) -> None:
    auckland = make_team(db, clock, "C0AKL", tz="Pacific/Auckland")  # Monday 09:30 NZDT
    new_york = make_team(db, clock, "C0NYC", day=6, minute=22 * 60 + 30, tz="America/New_York")
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)

    clock.set(datetime(2026, 11, 22, 20, 29, tzinfo=UTC))  # Monday 09:29 in Auckland
    assert delivery.run_due() == 0
    clock.set(datetime(2026, 11, 22, 20, 30, tzinfo=UTC))
    assert delivery.run_due() == 3
    assert [p[0] for p in messenger.prompts] == ["C0AKL"]
    assert {r.week_index for r in ledger(db, auckland)} == {week_of_date(date(2026, 11, 23)).index}

    clock.set(datetime(2026, 11, 30, 3, 29, tzinfo=UTC))  # Sunday 22:29 in New York
    delivery.run_due()
    assert [p[0] for p in messenger.prompts if p[0] == "C0NYC"] == []
    clock.set(datetime(2026, 11, 30, 3, 30, tzinfo=UTC))
    delivery.run_due()
    assert [p[0] for p in messenger.prompts if p[0] == "C0NYC"] == ["C0NYC"]
    # Filed under New York's own week (commencing Monday 23rd), not UTC's (30th).
    assert {r.week_index for r in ledger(db, new_york)} == {week_of_date(date(2026, 11, 23)).index}


def test_the_prompt_opens_the_week_with_its_roster(db: Database, clock: ManualClock) -> None:
    team_id = make_team(db, clock, "C0FIRST")
    messenger = FakeMessenger(members=14)
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    assert delivery.deliver(team_id) == 3
    period = period_of(db, team_id, week_of_date(date(2026, 11, 23)))
    assert period is not None and period.roster_known
    assert period.member_count == 14  # the channel's members, less its two supervisors
    with db.session() as session:
        team = session.get(Team, team_id)
        seal = week_seal(session, period)
        assert team is not None and seal is not None
        on = [u for u in messenger.people if on_roster(session, period, seal, "T0001", u)]
        assert on == messenger.people[2:]
        count = session.scalar(select(func.count()).select_from(RosterEntry))
        assert count == 14
    # Someone who joins later does not change this week's roster.
    messenger.people.append("U0LATE01")
    clock.advance(timedelta(hours=1))
    assert delivery.deliver(team_id) == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RosterEntry)) == 14


def test_without_the_channel_members_the_prompt_waits_for_the_next_sweep(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A week is never opened without a roster: if Slack cannot say for now who is in the
    channel, nothing is posted or claimed (the ledger notes only that the prompt waits, and
    Slack's reason), and the next sweep tries again."""
    first = make_team(db, clock, "C0FIRST")
    second = make_team(db, clock, "C0SECOND")
    messenger = FakeMessenger(members=5)
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    messenger.fail_next("members", "ratelimited", permanent=False)
    with caplog.at_level("WARNING", logger="scheduler.weekly"):
        assert delivery.run_due() == 3  # one team waits; the other is not held up
    week = week_of_date(date(2026, 11, 23))
    [(waiting, opened)] = [
        (t, o) for t, o in ((first, second), (second, first)) if period_of(db, t, week) is None
    ]
    channel = "C0FIRST" if waiting == first else "C0SECOND"
    assert caplog.messages == [
        f"team {channel}: the prompt waits: channel members unreadable: ratelimited"
    ]
    assert [(r.kind, r.status, r.error) for r in ledger(db, waiting)] == [
        (PROMPT, DeliveryStatus.WAITING, "ratelimited")
    ]
    assert len(ledger(db, opened)) == 3
    assert len(messenger.prompts) == 1

    clock.advance(timedelta(minutes=1))
    assert delivery.run_due() == 3
    period = period_of(db, waiting, week)
    assert period is not None and period.member_count == 5
    assert sorted(p[0] for p in messenger.prompts) == ["C0FIRST", "C0SECOND"]
    assert messenger.calls["post_prompt"] == 2


def test_members_unreadable_for_good_is_a_prompt_failed_once_and_reflections_still_go(
    db: Database, clock: ManualClock
) -> None:
    """The channel is gone (or the bot removed): the prompt is recorded as failed, once, for
    `team list`; no week opens (no roster); the supervisors still get their reflections; later
    sweeps do not ask Slack again."""
    team_id = make_team(db, clock, "C0GONE")
    messenger = FakeMessenger(members=5)
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    messenger.fail_next("members", "channel_not_found", permanent=True)
    assert delivery.run_due() == 2  # the two supervisors' reflections
    week = week_of_date(date(2026, 11, 23))
    assert period_of(db, team_id, week) is None
    [prompt] = [row for row in ledger(db, team_id) if row.kind == PROMPT]
    assert (prompt.status, prompt.error) == (DeliveryStatus.FAILED, "channel_not_found")
    asked = messenger.calls["members"]
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        assert delivery.run_due() == 0
    assert delivery.deliver_if_due(team_id) == 0  # nor does the team's own timed job
    assert messenger.calls["members"] == asked
    assert messenger.prompts == []


# --- exactly once under concurrency ------------------------------------------------------


def _race(workers: list[WeeklyDelivery], action: str, team_id: int) -> list[int]:
    barrier = threading.Barrier(len(workers))
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def go(worker: WeeklyDelivery) -> None:
        try:
            barrier.wait(timeout=10)
            made = worker.deliver(team_id) if action == "deliver" else worker.run_due()
            with lock:
                results.append(made)
        except BaseException as error:  # reported below, not lost in the thread
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    return results


@pytest.mark.slow
def test_eight_simultaneous_deliveries_post_exactly_once(db: Database, clock: ManualClock) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    workers = [make_delivery(db, clock, messenger, worker=f"host-{n}:1") for n in range(8)]
    clock.set(MON_23_NOV_0930)
    for week_number in range(3):  # a few rounds, each a fresh week with a fresh race
        results = _race(workers, "deliver", team_id)
        assert len(results) == 8 and sum(results) == 3
        assert len(messenger.prompts) == week_number + 1
        assert len(messenger.reflections) == 2 * (week_number + 1)
        assert messenger.calls["post_prompt"] == week_number + 1
        clock.advance(timedelta(weeks=1))
    assert len({p[1] for p in messenger.prompts}) == 3


# --- failures ----------------------------------------------------------------------------


def test_transient_failure_releases_the_claim_and_the_next_sweep_retries(
    db: Database, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    messenger.fail_next("post_prompt", "ratelimited", permanent=False)
    messenger.fail_next("send_reflections", "internal_error", permanent=False)
    assert delivery.run_due() == 1  # one DM got through
    assert messenger.prompts == []
    assert [(r.kind, r.recipient) for r in ledger(db, team_id)] == [(REFLECTIONS, "U0SUP2")]
    with db.session() as session:
        assert deliveries.last_error(session, team_id) is None

    clock.advance(timedelta(minutes=1))
    assert delivery.run_due() == 2
    assert len(messenger.prompts) == 1
    assert sorted(r[1] for r in messenger.reflections) == ["U0SUP1", "U0SUP2"]
    assert all(r.status == DeliveryStatus.SENT for r in ledger(db, team_id))
    assert delivery.run_due() == 0
    assert messenger.calls["post_prompt"] == 2


def test_a_retried_prompt_is_the_opened_weeks_and_the_roster_is_not_read_again(
    db: Database, clock: ManualClock
) -> None:
    """Once the week has opened, a later sweep posts the prompt it opened with (even if the
    rotation has changed since, as after a new content library) without asking Slack for the
    channel's members again."""
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    clock.set(MON_23_NOV_0930)
    messenger.fail_next("post_prompt", "ratelimited", permanent=False)
    assert make_delivery(db, clock, messenger).run_due() == 2
    period = period_of(db, team_id, week_of_date(date(2026, 11, 23)))
    assert period is not None
    changed = Rotation(
        tuple(reversed(ROTATION.order)), ROTATION.prompts_per_domain, ROTATION.items_version
    )
    assert changed.for_team("T0001", "C0TEAM1", period.week_index, period.week_index) != (
        period.domain,
        period.prompt_index,
    )
    retry = WeeklyDelivery(db, clock, messenger, changed, "host-b:1")
    assert retry.run_due() == 1
    assert messenger.prompts == [("C0TEAM1", period.domain, period.prompt_index)]
    assert messenger.calls["members"] == 1
    assert retry.deliver(team_id + 1) == 0  # a team removed since the sweep listed it


def test_the_delivery_takes_over_a_crashed_claim_after_its_own_lease(
    db: Database, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    clock.set(MON_23_NOV_0930)
    week = week_of_date(date(2026, 11, 23))
    _claim_row(db, team_id, week, PROMPT, "C0TEAM1", clock.now() - timedelta(seconds=31))
    messenger = FakeMessenger()
    short = WeeklyDelivery(db, clock, messenger, ROTATION, "host-b:1", timedelta(seconds=30))
    assert short.run_due() == 3
    assert len(messenger.prompts) == 1


def test_permanent_failure_is_recorded_once_and_not_retried(
    db: Database, clock: ManualClock
) -> None:
    team_id = make_team(db, clock)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    clock.set(MON_23_NOV_0930)
    messenger.fail_next("post_prompt", "channel_not_found", permanent=True)
    assert delivery.run_due() == 2
    with db.session() as session:
        assert deliveries.last_error(session, team_id) == "channel_not_found"
    for _ in range(3):
        clock.advance(deliveries.LEASE * 2)  # well past any lease
        assert delivery.run_due() == 0
    assert messenger.calls["post_prompt"] == 1
    assert messenger.prompts == []
    prompt_rows = [r for r in ledger(db, team_id) if r.kind == PROMPT]
    assert [(r.status, r.error, r.attempts) for r in prompt_rows] == [
        (DeliveryStatus.FAILED, "channel_not_found", 1)
    ]


# --- a worker that died holding a claim --------------------------------------------------


def _claim_row(
    db: Database, team_id: int, week: Week, kind: str, recipient: str, at: datetime
) -> None:
    with db.session() as session:
        session.add(
            Delivery(
                team_id=team_id,
                week_index=week.index,
                kind=kind,
                recipient=recipient,
                status=DeliveryStatus.CLAIMED,
                claimed_at=at,
                claimed_by="dead-host:13",
                attempts=1,
            )
        )


@pytest.fixture
def claimed_team(db: Database, clock: ManualClock) -> Iterator[tuple[int, Week]]:
    team_id = make_team(db, clock, supervisors=("U0SUP1",))
    clock.set(MON_23_NOV_0930 + timedelta(minutes=5))
    yield team_id, week_of_date(date(2026, 11, 23))


def test_stale_claim_of_a_killed_worker_is_taken_over_once(
    db: Database, clock: ManualClock, claimed_team: tuple[int, Week]
) -> None:
    team_id, week = claimed_team
    stale = clock.now() - deliveries.LEASE - timedelta(seconds=1)
    _claim_row(db, team_id, week, PROMPT, "C0TEAM1", stale)
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger, worker="host-new:2")
    assert delivery.run_due() == 2
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1
    (row,) = [r for r in ledger(db, team_id) if r.kind == PROMPT]
    assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.SENT, "host-new:2", 2)


def test_fresh_claim_of_another_worker_is_left_alone_until_its_lease_runs_out(
    db: Database, clock: ManualClock, claimed_team: tuple[int, Week]
) -> None:
    team_id, week = claimed_team
    _claim_row(db, team_id, week, PROMPT, "C0TEAM1", clock.now() - timedelta(seconds=30))
    _claim_row(db, team_id, week, REFLECTIONS, "U0SUP1", clock.now() - timedelta(seconds=30))
    messenger = FakeMessenger()
    delivery = make_delivery(db, clock, messenger)
    assert delivery.run_due() == 0
    clock.advance(deliveries.LEASE - timedelta(seconds=31))  # still inside the lease
    assert delivery.run_due() == 0
    assert messenger.prompts == [] and messenger.reflections == []
    clock.advance(timedelta(seconds=2))  # the other worker is presumed dead
    assert delivery.run_due() == 2
    assert delivery.run_due() == 0
    assert len(messenger.prompts) == 1 and len(messenger.reflections) == 1


def test_a_stale_claim_raced_by_eight_replicas_is_taken_over_once(
    db: Database, clock: ManualClock, claimed_team: tuple[int, Week]
) -> None:
    team_id, week = claimed_team
    stale = clock.now() - deliveries.LEASE * 3
    _claim_row(db, team_id, week, PROMPT, "C0TEAM1", stale)
    _claim_row(db, team_id, week, REFLECTIONS, "U0SUP1", stale)
    messenger = FakeMessenger()
    workers = [make_delivery(db, clock, messenger, worker=f"host-{n}:1") for n in range(8)]
    results = _race(workers, "run_due", team_id)
    assert sum(results) == 2
    assert len(messenger.prompts) == 1 and len(messenger.reflections) == 1
    assert {r.attempts for r in ledger(db, team_id)} == {2}
