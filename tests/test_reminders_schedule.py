"""The reminder rules as the running bot keeps them: the real runtime schedules the sweep (a
bot whose runtime forgot the job would never remind anyone, however right the sweep is), and a
sweep sends only inside each person's own 10:00–16:00, to the minute."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from experience import CHANNEL, World, experience, member

from bot.sandboxed import WORKSPACE
from practice.clock import ManualClock
from practice.weeks import week_containing
from scheduler.reminders import REMINDER_SWEEP, _could_be_due, in_window, reminder_day
from storage.models import Team
from storage.weeks_off import held_deliveries, set_weeks_off

NOTE = "A midweek note"
LONDON, NEW_YORK = 0, 1  # UTC+0 and UTC-5 all through these five weeks (no clock change)


def wednesday(week: int, hour: int, minute: int = 0) -> datetime:
    """Wednesday of the fixture's `week` (0: the week of Monday 23 November 2026), in UTC."""
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC) + timedelta(weeks=week)


def reminded(world: World) -> list[str]:
    """Who has been sent the midweek note, once per note, in the order Slack got them."""
    return [
        world.sandbox.channel(call.params["channel"]).im_user
        for call in world.sandbox.calls("chat.postMessage")
        if call.ok and str(call.params.get("text", "")).startswith(NOTE)
    ]


@pytest.mark.slow
def test_the_real_runtime_schedules_the_reminder_sweep_and_it_sends(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, members=3) as world:
        job = world.bot.runtime.scheduler.scheduler.get_job("reminders")
        assert job is not None, "the runtime did not schedule the reminder sweep"
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(**REMINDER_SWEEP)

        job.func()  # Tuesday: not the reminder day
        assert reminded(world) == []
        clock.set(wednesday(0, 11))
        job.func()
        assert sorted(reminded(world)) == sorted(world.members)
        job.func()
        assert len(reminded(world)) == 3  # the next sweep sends nothing again


@pytest.mark.slow
def test_nothing_is_sent_outside_each_persons_ten_to_four(
    database_url: str, clock: ManualClock
) -> None:
    zones = {LONDON: "Europe/London", NEW_YORK: "America/New_York"}
    london, new_york = member(LONDON), member(NEW_YORK)
    with experience(database_url, clock, members=2, timezones=zones) as world:

        def sweep(week: int, hour: int, minute: int = 0) -> list[str]:
            """Who one sweep at that moment (UTC) reminds."""
            clock.set(wednesday(week, hour, minute))
            world.deliver()  # the week's prompt, as the scheduler would have posted it
            before = len(reminded(world))
            world.remind()
            return reminded(world)[before:]

        # Week 0: the opening edge. London is UTC, New York five hours behind.
        assert sweep(0, 9, 59) == []  # 09:59 in London
        assert sweep(0, 10, 0) == [london]  # 10:00 in London
        assert sweep(0, 14, 59) == []  # 09:59 in New York
        assert sweep(0, 15, 0) == [new_york]  # 10:00 in New York
        # Closing edge, each person not yet reminded that week.
        assert sweep(1, 16, 0) == [new_york]  # 16:00 in London (too late), 11:00 in New York
        assert sorted(sweep(2, 15, 59)) == sorted([london, new_york])  # 15:59 London, 10:59 NY
        assert sweep(3, 21, 0) == []  # 16:00 in New York, 21:00 in London
        assert sweep(4, 20, 59) == [new_york]  # 15:59 in New York
        assert sweep(4, 23, 59) == []  # and no one late in the evening


@pytest.mark.slow
def test_a_sweep_counts_what_it_sent_and_looks_up_only_who_is_still_owed_one(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing sent counts nothing (not the day; not the time yet); a person reminded this
    week is not asked about again (no users.info call); the sweep logs the team, not who."""
    caplog.set_level(logging.INFO, logger="scheduler.reminders")
    with experience(database_url, clock, members=3) as world:
        assert world.remind() == 0  # Tuesday
        clock.set(wednesday(0, 9, 59))
        assert world.remind() == 0  # 09:59: before the window
        clock.set(wednesday(0, 11))
        assert world.remind() == 3
        assert [r.getMessage() for r in caplog.records if "reminders sent" in r.getMessage()] == [
            f"team {CHANNEL}: check-in reminders sent"
        ]
        looked_up = len(world.sandbox.calls("users.info"))
        clock.set(wednesday(0, 11, 15))
        assert world.remind() == 0
        assert len(world.sandbox.calls("users.info")) == looked_up
        clock.set(wednesday(0, 11) + timedelta(days=2))  # Friday: no longer the day anywhere
        assert world.remind() == 0


@pytest.mark.slow
def test_a_team_posting_too_late_in_the_week_for_a_reminder_gets_none_and_no_error(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with experience(database_url, clock, members=3) as world:
        with world.bot.runtime.services.db.session() as session:
            session.merge(world.team()).post_day = 4  # Friday: no reminder day
        for day in range(5):
            clock.set(wednesday(0, 11) + timedelta(days=day - 2))
            assert world.remind() == 0
        assert reminded(world) == []
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.slow
def test_no_reminder_in_a_week_made_a_week_off_after_its_prompt(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, members=3) as world:
        services = world.bot.runtime.services
        team = world.team()
        week = week_containing(clock.now(), team.timezone).index
        with services.db.session() as session:
            set_weeks_off(session, team.id, [week], [week], held_deliveries(team), clock.now())
        clock.set(wednesday(0, 11))
        assert world.remind() == 0
        assert reminded(world) == []


@pytest.mark.slow
def test_no_reminder_before_the_week_has_opened_and_no_error_either(
    database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Next week's Wednesday without its prompt posted (the sweep runs, the week does not)."""
    caplog.set_level(logging.WARNING)
    with experience(database_url, clock, members=3) as world:
        clock.set(wednesday(1, 11))
        assert world.remind() == 0
        assert reminded(world) == []
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.slow
def test_someone_who_joined_after_the_prompt_is_not_reminded(
    database_url: str, clock: ManualClock
) -> None:
    """The week's roster was taken when its prompt went out: a newcomer checks in from next
    week, so a reminder now would only ask for what the form would refuse."""
    with experience(database_url, clock, members=3) as world:
        newcomer = "U0EXPNEW01"
        world.sandbox.add_user(WORKSPACE, newcomer, "newcomer", "New Comer")
        world.sandbox.add_member(CHANNEL, newcomer)
        clock.set(wednesday(0, 11))
        world.remind()
        assert sorted(reminded(world)) == sorted(world.members)


@pytest.mark.slow
def test_a_person_slack_cannot_describe_just_now_does_not_hold_up_the_others(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, members=3) as world:
        # The first person looked up: Slack fails (5xx) on every try the bot makes (1 + 2).
        world.sandbox.faults.server_error("users.info", status=500, times=3)
        clock.set(wednesday(0, 11))
        world.remind()
        assert sorted(reminded(world)) == sorted(world.members)[1:]
        clock.set(wednesday(0, 11, 15))
        world.remind()
        assert sorted(reminded(world)) == sorted(world.members)  # asked again, and reminded


@pytest.mark.slow
def test_a_time_zone_slack_gives_that_is_not_one_falls_back_to_the_team_s(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, members=2, timezones={0: "Mars/Olympus_Mons"}) as world:
        clock.set(wednesday(0, 9, 59))
        assert world.remind() == 0
        clock.set(wednesday(0, 10))  # 10:00 in London, the team's zone
        assert world.remind() == 2
        assert member(0) in reminded(world)


def test_whenever_someone_s_window_is_open_the_team_is_swept() -> None:
    """The cheap team-level test before Slack is asked anything never skips a team one of
    whose members, anywhere in the world, is inside their reminder window."""
    zones = ["Pacific/Kiritimati", "Pacific/Auckland", "Europe/London", "Pacific/Honolulu"]
    start = datetime(2026, 11, 23, tzinfo=UTC)
    for team_zone in zones:
        team = Team(post_day=0, timezone=team_zone)
        day = reminder_day(team)
        assert day is not None
        for person_zone in zones:
            for step in range(4 * 24 * 4):
                now = start + timedelta(minutes=15 * step)
                if in_window(day, now, person_zone, team_zone):
                    assert _could_be_due(team, day, now), (team_zone, person_zone, now)
