"""Guarantee 3: no differencing. Nothing of a week shows until it has closed, so a supervisor
who looks before and after someone checks in (or changes their check-in) sees no change.

The attacker is a supervisor who looks at every surface they have — `/teampulse`, App Home —
between each member's check-in, hoping to see what one person's answer moved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from privacy_world import World, member, world

from practice.clock import ManualClock

pytestmark = pytest.mark.slow


def surfaces(w: World) -> tuple[str, ...]:
    """Everything the supervisor can look at, as they see it now."""
    return (
        w.pulse().settled,
        w.pulse(text="1").settled,
        w.pulse(text="52").settled,
        w.home(w.supervisor).settled,
        w.home(member(7)).settled,  # a member who has not checked in
    )


def test_nothing_moves_while_the_week_is_open(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        before = surfaces(w)
        assert "No finished weeks yet" in before[0]
        for n in range(6):
            w.check_in(member(n), 1 + n % 5, 5 - n % 5, 3, comment=f"week one {n}")
            assert surfaces(w) == before, f"after member {n} checked in"
        w.check_in(member(2), 5, 5, 5, comment="changed my mind")  # a replacement
        assert surfaces(w) == before

        # The week closes: now, and only now, its figures appear.
        w.next_week()
        closed = surfaces(w)
        assert closed[0] != before[0]
        assert any(line.startswith("*Responses:* 6 of 8") for line in w.pulse().lines())

        # And again within the next week: the closed week's picture stands still while the
        # new week fills up.
        for n in range(4):
            w.check_in(member(n), 5, 1, 5, comment=f"week two {n}")
            assert surfaces(w)[:3] == closed[:3]
        shown = w.pulse().everything
        assert "week two" not in shown and "changed my mind" in shown


def test_the_last_moment_of_a_week_shows_nothing_of_it(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        for n in range(6):
            w.check_in(member(n), 3, 3)
        # Sunday 23:59:59 London (UTC in winter): still the same week.
        clock.set(datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC))
        w.deliver()
        assert "No finished weeks yet" in w.pulse()
        clock.advance(timedelta(seconds=1))
        assert "6 of 8 checked in" in w.pulse()
