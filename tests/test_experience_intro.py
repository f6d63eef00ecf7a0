"""A team that knows why: when a team is set up with `/securebase`, its channel gets an
introduction (what the prompt is, that checking in is voluntary and private, who sees what in
PRIVACY.md's words, that it is not monitoring, how to stop reminders). The supervisor can
preview it and post it again; a failure to post is told and leaves the team set up."""

from __future__ import annotations

from typing import Any

import pytest
from experience import ADMIN, CHANNEL, SUPERVISOR, World, experience, member, shown
from test_experience_admin import click, modal, told

from bot.render import admin as render
from bot.render.common import promise
from bot.render.intro import POST_INTRO
from bot.sandboxed import BOT_USER, WORKSPACE, wait_until
from practice.clock import ManualClock
from sandbox.state import Message
from storage.teams import get_team

pytestmark = pytest.mark.slow

NEW_CHANNEL = "C0EXPINTRO"


def intros(world: World, channel: str) -> list[Message]:
    return [m for m in world.sandbox.timeline(channel) if m.text.startswith("Hello from")]


def set_up(world: World) -> None:
    """A workspace admin sets a team up in NEW_CHANNEL through the settings modal."""
    reply = world.command(ADMIN, "/securebase", channel=NEW_CHANNEL)
    click(world, ADMIN, reply, render.OPEN_SETTINGS)
    view = modal(world, ADMIN)
    answers: dict[str, Any] = {
        render.NAME: "Front Door",
        render.DAY: "2",
        render.TIME: "10:15",
        render.ZONE: "Europe/London",
        render.SUPERVISORS: [member(0)],
        render.POOL: "1",
        render.SUPPORT: None,
    }
    world.bot.driver.answer_modal(ADMIN, view["id"], answers)


def test_setting_a_team_up_posts_its_introduction(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        world.sandbox.add_channel(
            WORKSPACE, NEW_CHANNEL, "front-door", [BOT_USER, ADMIN, member(0), member(1)]
        )
        set_up(world)
        said = told(world, ADMIN, "Secure Base for Front Door is set up")
        assert f"I've posted a short introduction in <#{NEW_CHANNEL}>" in said
        [intro] = intros(world, NEW_CHANNEL)
        text = shown(intro.blocks)
        assert "Wednesdays at 10:15 (Europe/London)" in text
        assert "in the prompt's thread, or bring it to the team meeting" in text
        assert "voluntary and private" in text
        minimum = world.bot.runtime.services.settings.anonymity_min
        for line in promise(minimum):  # who sees what, one line each, in PRIVACY.md's words
            assert f"• {line}" in text
        assert f"<@{member(0)}>" in text
        assert "This isn't monitoring" in text
        assert "Stop these reminders" in text


def test_a_failed_introduction_is_told_and_the_team_stays_set_up(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        world.sandbox.add_channel(
            WORKSPACE, NEW_CHANNEL, "front-door", [BOT_USER, ADMIN, member(0), member(1)]
        )
        reply = world.command(ADMIN, "/securebase", channel=NEW_CHANNEL)
        click(world, ADMIN, reply, render.OPEN_SETTINGS)
        view = modal(world, ADMIN)
        world.sandbox.faults.channel_error(NEW_CHANNEL, "not_in_channel")
        world.bot.driver.answer_modal(
            ADMIN,
            view["id"],
            {
                render.NAME: "Front Door",
                render.DAY: "2",
                render.TIME: "10:15",
                render.ZONE: "Europe/London",
                render.SUPERVISORS: [member(0)],
                render.POOL: "1",
                render.SUPPORT: None,
            },
        )
        said = told(world, ADMIN, "Secure Base for Front Door is set up")
        assert "I couldn't post the introduction" in said and "not_in_channel" in said
        assert "`/securebase intro`" in said
        world.sandbox.faults.clear()
        with world.bot.runtime.services.db.session() as session:
            assert get_team(session, WORKSPACE, NEW_CHANNEL) is not None
        assert intros(world, NEW_CHANNEL) == []

        # Once the app can post there, the supervisor posts it from the preview.
        preview = world.command(member(0), "/securebase", "intro", channel=NEW_CHANNEL)
        click(world, member(0), preview, POST_INTRO)
        told(world, member(0), "I've posted a short introduction")
        assert len(intros(world, NEW_CHANNEL)) == 1


def test_the_supervisor_previews_and_posts_it_again(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        posted = len(world.sandbox.timeline(CHANNEL))
        preview = world.command(SUPERVISOR, "/securebase", "intro")
        assert preview.text.startswith("Preview of the introduction")
        text = shown(preview.blocks)
        assert "Preview, only you can see this" in text and "Hello from Secure Base" in text
        assert len(world.sandbox.timeline(CHANNEL)) == posted  # nothing posted by a preview

        # The status menu leads to the same preview.
        status = world.command(SUPERVISOR, "/securebase")
        click(world, SUPERVISOR, status, render.PREVIEW_INTRO)
        wait_until(
            lambda: (
                len(
                    [
                        m
                        for m in world.sandbox.ephemerals(SUPERVISOR)
                        if m.text.startswith("Preview of the intro")
                    ]
                )
                == 2
            )
        )

        click(world, SUPERVISOR, preview, POST_INTRO)
        told(world, SUPERVISOR, f"I've posted a short introduction in <#{CHANNEL}>")
        [intro] = intros(world, CHANNEL)
        assert "Preview" not in shown(intro.blocks)
        assert not [b for b in intro.blocks or [] if b["type"] == "actions"]


def test_a_member_cannot_preview_or_post_it(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        reply = world.command(member(1), "/securebase", "intro")
        assert "only a workspace admin or one of this team's practice supervisors" in reply.text
        # The post button's word, typed: the same check as every /securebase action.
        reply = world.command(member(1), "/securebase", "post intro")
        assert "only a workspace admin or one of this team's practice supervisors" in reply.text
        assert intros(world, CHANNEL) == []
