"""The reminder rules as the running bot keeps them: the real runtime schedules the sweep (a
bot whose runtime forgot the job would never remind anyone, however right the sweep is), and a
sweep sends only inside each person's own 10:00–16:00, to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from experience import World, experience, member

from practice.clock import ManualClock
from scheduler.reminders import REMINDER_SWEEP

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
