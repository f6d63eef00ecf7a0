"""Four-week pooling, with answers, on every surface that shows figures (`/teampulse`, the App
Home, the chart's alt text, a period shared with the channel, the CSV export): nothing of a
block shows until all four of its weeks have closed, and then each surface gives the block's
combined counts (no week of it on its own)."""

from __future__ import annotations

import io

import crafted
import pytest
from experience import CHANNEL, SUPERVISOR, World, experience, member, shown

from bot.export import export_team
from bot.handlers.share import NOT_SHOWN
from bot.render.home import SHARE_PERIOD, share_value
from bot.sandboxed import SIGNING_SECRET, WORKSPACE, wait_until
from practice.clock import ManualClock
from practice.weeks import week_containing

pytestmark = pytest.mark.slow

# The block of weeks 152-155 (w/c 30 Nov to w/c 21 Dec 2026): seven answers in all, no week
# with more than two, so no week could be shown alone. Support 28/7 = 4.0, stress 14/7 = 2.0.
BLOCK = [[(5, 1), (4, 2)], [(3, 3), (5, 1)], [(4, 2)], [(2, 4), (5, 1)]]
LABEL, ISO_START = "30 Nov 2026", "2026-11-30"


def seed(world: World, answers: list[tuple[int, int]]) -> None:
    for n, (support, stress) in enumerate(answers):
        world.seed(member(n), support, stress)


def look(world: World) -> dict[str, str]:
    """What the supervisor is shown on each surface now (the chart: its alt text, or the
    reply saying there is nothing to draw)."""
    pulse = world.command(SUPERVISOR, "/teampulse")
    home = world.home(SUPERVISOR)
    files = len(world.sandbox.uploaded_files())
    chart = world.command(SUPERVISOR, "/teampulse", "chart").text
    if "sent you the chart" in chart:
        new = wait_until(lambda: world.sandbox.uploaded_files()[files:], what="the chart")
        chart = new[-1].alt_txt or ""
    csv = io.StringIO()
    export_team(world.bot.runtime.services, world.team(), 12, SUPERVISOR, "pool check", csv)
    return {
        "/teampulse": pulse.text + "\n" + shown(pulse.blocks),
        "App Home": shown(home["blocks"]),
        "chart alt text": chart,
        "export": csv.getvalue(),
    }


def share(world: World, first_week: int) -> str:
    home = world.home(SUPERVISOR)
    before = len(world.sandbox.dms(SUPERVISOR))
    response = crafted.click(
        world.bot.events_url,
        SIGNING_SECRET,
        app_id=world.sandbox.app_id,
        workspace=WORKSPACE,
        user=SUPERVISOR,
        action_id=SHARE_PERIOD,
        value=share_value(CHANNEL, first_week),
        view=home,
    )
    assert response.status_code == 200, response.text
    [told] = world.new_dms(SUPERVISOR, before)
    return told.text  # type: ignore[no-any-return]


def test_a_four_week_block_shows_only_once_all_four_weeks_closed_and_as_one(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock, pool_weeks=4) as world:
        first = week_containing(clock.now(), "Europe/London").index + 1
        assert first % 4 == 0  # the block starts the week after the fixture's
        for week, answers in enumerate(BLOCK):
            world.next_week()
            seed(world, answers)
            if week == 0:
                continue  # none of the block's weeks has closed yet
            seen = look(world)
            for surface, text in seen.items():
                assert LABEL not in text and ISO_START not in text, (week, surface, text)
            assert share(world, first) == NOT_SHOWN
        assert world.sandbox.timeline(CHANNEL)[-1].text.startswith("This week's")

        world.next_week()  # the fourth week closes, and with it the block
        seen = look(world)
        for surface in ("/teampulse", "App Home", "chart alt text"):
            text = seen[surface]
            assert f"w/c {LABEL} (+3 wk)" in text and "7 of 32 checked in" in text, surface
            assert "4.0" in text and "2.0" in text, surface
        for one_week in ("w/c 7 Dec 2026", "w/c 14 Dec 2026", " of 8 checked in"):
            assert not any(one_week in text for text in seen.values()), one_week
        header, *rows = seen["export"].splitlines()
        [row] = [dict(zip(header.split(","), r.split(","), strict=True)) for r in rows[-1:]]
        assert len(rows) == 2  # the block before (below the minimum) and this one, no weeks
        assert (row["period_start"], row["period_end"], row["weeks"]) == (
            ISO_START,
            "2026-12-27",
            "4",
        )
        assert (row["answers"], row["members"], row["support_mean"], row["stress_mean"]) == (
            "7",
            "32",
            "4.00",
            "2.00",
        )

        before = len(world.sandbox.timeline(CHANNEL))
        assert share(world, first).startswith(f"Shared w/c {LABEL} (+3 wk)")
        [summary] = world.sandbox.timeline(CHANNEL)[before:]
        posted = summary.text + "\n" + shown(summary.blocks)
        assert "7 of 32 of us checked in" in posted and f"w/c {LABEL} (+3 wk)" in posted
        assert "average 4.0 of 5" in posted and "average 2.0 of 5" in posted
