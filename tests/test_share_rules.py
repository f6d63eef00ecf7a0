"""Sharing a period with the team channel (bot/handlers/share.py), played through Slack: the
post carries the period's figures and never a comment (comments were written for the
supervisor), and a period below the anonymity minimum or still open is refused, whoever
crafts the button."""

from __future__ import annotations

from datetime import UTC, datetime

import crafted
import pytest
from experience import CHANNEL, SUPERVISOR, World, experience, member, shown

from bot.handlers.share import NOT_SHOWN
from bot.render.home import SHARE_PERIOD, share_value
from bot.sandboxed import SIGNING_SECRET, WORKSPACE
from practice.clock import ManualClock
from practice.weeks import week_containing

pytestmark = pytest.mark.slow

FIRST_WEEK = week_containing(datetime(2026, 11, 24, 10, tzinfo=UTC), "Europe/London").index

COMMENTS = [f"Note number {n} about the long visits rota" for n in range(6)]


def share(world: World, week: int) -> str:
    """The supervisor clicks a share button for `week` on the Home tab (crafted: the bot only
    offers periods it showed); what they are told."""
    home = world.home(SUPERVISOR)
    before = len(world.sandbox.dms(SUPERVISOR))
    response = crafted.click(
        world.bot.events_url,
        SIGNING_SECRET,
        app_id=world.sandbox.app_id,
        workspace=WORKSPACE,
        user=SUPERVISOR,
        action_id=SHARE_PERIOD,
        value=share_value(CHANNEL, week),
        view=home,
    )
    assert response.status_code == 200, response.text
    [told] = world.new_dms(SUPERVISOR, before)
    return told.text  # type: ignore[no-any-return]


def test_a_share_carries_the_figures_and_never_a_comment(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        for n, comment in enumerate(COMMENTS):
            world.check_in(member(n), 4, 2, 4, comment=comment)
        world.next_week()
        # The comments are there to be read, by the supervisor, in /teampulse.
        pulse = world.command(SUPERVISOR, "/teampulse")
        seen = pulse.text + shown(pulse.blocks)
        assert all(comment in seen for comment in COMMENTS)

        before = len(world.sandbox.timeline(CHANNEL))
        told = share(world, FIRST_WEEK)
        assert told.startswith("Shared w/c 23 Nov 2026")
        [summary] = world.sandbox.timeline(CHANNEL)[before:]
        posted = summary.text + shown(summary.blocks)
        assert "6 of 8 of us checked in" in posted
        assert not any(comment in posted for comment in COMMENTS)
        assert "long visits" not in posted and "Note number" not in posted


def test_a_week_below_the_minimum_or_still_open_is_never_shared(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        week = FIRST_WEEK
        for n in range(4):  # one fewer than the minimum of five
            world.check_in(member(n), 1, 5, 1)
        world.next_week()
        for n in range(8):  # everyone, in the week that is still open
            world.check_in(member(n), 5, 1, 5)
        before = len(world.sandbox.timeline(CHANNEL))

        assert share(world, week) == NOT_SHOWN
        assert share(world, week + 1) == NOT_SHOWN
        assert world.sandbox.timeline(CHANNEL)[before:] == []
        # Refusals claim nothing: once the open week has closed, it can be shared.
        world.next_week()
        before = len(world.sandbox.timeline(CHANNEL))
        assert share(world, week + 1).startswith("Shared w/c 30 Nov 2026")
        [summary] = world.sandbox.timeline(CHANNEL)[before:]
        assert "8 of 8 of us checked in" in summary.text + shown(summary.blocks)
