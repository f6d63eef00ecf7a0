"""A supervisor change made through `/securebase` (the settings modal) decides who gets the
next week's reflections: the new supervisor gets them, the one who handed over does not."""

from __future__ import annotations

import pytest
from experience import CHANNEL, SUPERVISOR, World, button, experience, member

from bot.render import admin as render
from bot.sandboxed import wait_until
from practice.clock import ManualClock
from sandbox.state import Message

pytestmark = pytest.mark.slow

REFLECTIONS = "Your reflections this week"
SUCCESSOR = member(7)


def reflections_to(world: World, user: str) -> int:
    return sum(
        1
        for m in world.sandbox.dms(user)
        if any(REFLECTIONS in str(b.get("text")) for b in m.blocks or [])
    )


def open_settings(world: World, status: Message) -> str:
    target = button(status.blocks or [], render.OPEN_SETTINGS)
    response = world.bot.driver.click_button(
        SUPERVISOR,
        render.OPEN_SETTINGS,
        target["value"],
        channel_id=status.channel,
        message_ts=status.ts,
    )
    assert response.status_code == 200, response.text
    view = wait_until(lambda: world.sandbox.open_views(SUPERVISOR), what="the settings")[-1]
    return str(view["id"])


def test_a_new_supervisor_set_in_securebase_gets_next_weeks_reflections(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        assert reflections_to(world, SUPERVISOR) == 1  # this week's, to the one set up
        assert reflections_to(world, SUCCESSOR) == 0

        view_id = open_settings(world, world.command(SUPERVISOR, "/securebase", channel=CHANNEL))
        world.bot.driver.answer_modal(
            SUPERVISOR,
            view_id,
            {
                render.NAME: "Duty and Assessment",
                render.DAY: "0",
                render.TIME: "09:30",
                render.ZONE: "Europe/London",
                render.SUPERVISORS: [SUCCESSOR],
                render.SUPPORT: None,
            },
        )
        wait_until(
            lambda: (
                any("settings are saved" in m.text for m in world.sandbox.ephemerals(SUPERVISOR))
                or any("settings are saved" in m.text for m in world.sandbox.dms(SUPERVISOR))
            ),
            what="the settings saved",
        )

        world.next_week()
        assert reflections_to(world, SUCCESSOR) == 1
        assert reflections_to(world, SUPERVISOR) == 1  # nothing more for the one who left
        world.next_week()
        assert (reflections_to(world, SUCCESSOR), reflections_to(world, SUPERVISOR)) == (2, 1)
