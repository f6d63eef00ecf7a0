"""`/securebase` in a channel: a workspace admin sets a team up, a supervisor changes it, pauses
and resumes the prompts, plans weeks off and previews the next prompt; anyone else is politely
refused. Everything is played through Slack; the scheduler then does what was set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from experience import (
    ADMIN,
    CHANNEL,
    OUTSIDER,
    SUPERVISOR,
    World,
    button,
    experience,
    member,
    shown,
)
from sqlalchemy import select

from bot.render import admin as render
from bot.sandboxed import BOT_USER, WORKSPACE, wait_until
from practice.clock import ManualClock
from practice.weeks import Week, week_containing
from sandbox.state import Message
from storage.deliveries import DeliveryStatus
from storage.models import Delivery
from storage.team_weeks import rotation_pick
from storage.teams import get_team

NEW_CHANNEL = "C0EXPNEW01"


def click(world: World, user: str, message: Message, action_id: str) -> None:
    target = button(message.blocks or [], action_id)
    response = world.bot.driver.click_button(
        user, action_id, target["value"], channel_id=message.channel, message_ts=message.ts
    )
    assert response.status_code == 200, response.text


def modal(world: World, user: str) -> dict[str, Any]:
    return wait_until(lambda: world.sandbox.open_views(user), what="a modal")[-1]  # type: ignore[no-any-return]


def told(world: World, user: str, words: str) -> str:
    """Wait for an ephemeral (or DM) to `user` containing `words`; return its text."""

    def find() -> str | None:
        for m in [*world.sandbox.ephemerals(user), *world.sandbox.dms(user)]:
            if words in m.text:
                return m.text
        return None

    return wait_until(find, what=f"“{words}” for {user}")


def prompts_posted(world: World, channel: str = CHANNEL) -> list[str]:
    return [m.text for m in world.sandbox.timeline(channel) if m.text.startswith("This week's")]


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [block] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return block["element"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_workspace_admin_sets_a_team_up_and_the_prompt_follows(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        world.sandbox.add_channel(
            WORKSPACE, NEW_CHANNEL, "front-door", [BOT_USER, ADMIN, member(0), member(1)]
        )
        reply = world.command(ADMIN, "/securebase", channel=NEW_CHANNEL)
        assert "isn't set up in" in reply.text
        click(world, ADMIN, reply, render.OPEN_SETTINGS)
        view = modal(world, ADMIN)
        assert view["title"]["text"] == "Set up Secure Base"
        assert element(view, render.NAME)["initial_value"] == "#front-door"
        assert element(view, render.ZONE)["initial_option"]["value"] == "Europe/London"
        world.bot.driver.answer_modal(
            ADMIN,
            view["id"],
            {
                render.NAME: "Front Door",
                render.DAY: "2",
                render.TIME: "10:15",
                render.ZONE: "Europe/Dublin",
                render.SUPERVISORS: [member(0)],
                render.POOL: "2",
                render.SUPPORT: "Call the EAP free on 0800 123 4567, any time.",
            },
        )
        said = told(world, ADMIN, "Secure Base for Front Door is set up")
        assert "Wednesdays at 10:15 (Europe/Dublin)" in said and f"<@{member(0)}>" in said

        with world.bot.runtime.services.db.session() as session:
            team = get_team(session, WORKSPACE, NEW_CHANNEL)
            assert team is not None
            assert (team.post_day, team.post_minute, team.timezone, team.pool_weeks) == (
                2,
                10 * 60 + 15,
                "Europe/Dublin",
                2,
            )
            assert [s.user_id for s in team.supervisors] == [member(0)]
            assert team.support_text == "Call the EAP free on 0800 123 4567, any time."

        world.deliver()  # Tuesday: not yet
        assert prompts_posted(world, NEW_CHANNEL) == []
        clock.set(datetime(2026, 11, 25, 10, 15, tzinfo=UTC))
        world.deliver()
        assert len(prompts_posted(world, NEW_CHANNEL)) == 1


@pytest.mark.slow
def test_anyone_else_is_politely_refused(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        reply = world.command(member(1), "/securebase")
        assert reply.text.startswith("Sorry, only a workspace admin or one of this team's")
        assert reply.blocks is None
        reply = world.command(OUTSIDER, "/securebase", "setup", channel="C0EXPGENRL")
        assert reply.text.startswith("Sorry, only a workspace admin can set Secure Base up")
        assert world.sandbox.open_views(OUTSIDER) == []
        # The supervisor of one team is nobody special in another channel.
        reply = world.command(SUPERVISOR, "/securebase", "pause", channel="C0EXPGENRL")
        assert reply.text.startswith("Sorry")
        # An admin in a channel the bot is not in is asked to invite it first.
        world.sandbox.add_channel(WORKSPACE, NEW_CHANNEL, "no-bot", [ADMIN])
        reply = world.command(ADMIN, "/securebase", "setup", channel=NEW_CHANNEL)
        assert "Please invite me first" in reply.text
        dm = world.sandbox.dm_channel_id(ADMIN)
        assert "team's own channel" in world.command(ADMIN, "/securebase", channel=dm).text
        assert "didn't understand" in world.command(SUPERVISOR, "/securebase", "frobnicate").text
        with world.bot.runtime.services.db.session() as session:
            assert get_team(session, WORKSPACE, "C0EXPGENRL") is None
            assert not get_team(session, WORKSPACE, CHANNEL).paused  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_supervisor_changes_the_settings(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        status = world.command(SUPERVISOR, "/securebase")
        assert "Mondays at 09:30 (Europe/London)" in shown(status.blocks)
        click(world, SUPERVISOR, status, render.OPEN_SETTINGS)
        view = modal(world, SUPERVISOR)
        assert view["title"]["text"] == "Team settings"
        assert element(view, render.TIME)["initial_time"] == "09:30"
        assert element(view, render.DAY)["initial_option"]["value"] == "0"
        assert element(view, render.SUPERVISORS)["initial_users"] == [SUPERVISOR]
        assert render.POOL not in [b.get("block_id") for b in view["blocks"]]  # fixed for good
        world.bot.driver.answer_modal(
            SUPERVISOR,
            view["id"],
            {
                render.NAME: "Duty and Assessment",
                render.DAY: "3",
                render.TIME: "14:00",
                render.ZONE: "Europe/London",
                render.SUPERVISORS: [SUPERVISOR, member(7), BOT_USER],
                render.SUPPORT: None,
            },
        )
        said = told(world, SUPERVISOR, "settings are saved")
        assert "Thursdays at 14:00" in said and "1 app or deactivated account left out" in said
        team = world.team()
        assert (team.post_day, team.post_minute) == (3, 14 * 60)
        assert sorted(s.user_id for s in team.supervisors) == sorted([SUPERVISOR, member(7)])

        # An empty time is sent back to the modal as an error, and nothing changes.
        click(world, SUPERVISOR, world.command(SUPERVISOR, "/securebase"), render.OPEN_SETTINGS)
        view = modal(world, SUPERVISOR)
        values = {
            render.NAME: {render.NAME: {"type": "plain_text_input", "value": "X"}},
            render.SUPERVISORS: {
                render.SUPERVISORS: {"type": "multi_users_select", "selected_users": []}
            },
        }
        response = world.bot.driver.submit_view(SUPERVISOR, view["id"], values)
        assert response.json()["response_action"] == "errors"
        assert set(response.json()["errors"]) >= {render.TIME, render.SUPERVISORS, render.DAY}
        assert world.team().name == "Duty and Assessment"


@pytest.mark.slow
def test_pause_and_resume(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        reply = world.command(SUPERVISOR, "/securebase", "pause")
        assert "are paused" in reply.text
        reflections = len(world.sandbox.dms(SUPERVISOR))
        world.next_week()
        assert len(prompts_posted(world)) == 1
        assert len(world.sandbox.dms(SUPERVISOR)) == reflections
        assert "Prompts are paused" in shown(world.home(member(0))["blocks"])

        status = world.command(SUPERVISOR, "/securebase")
        assert "*paused*" in shown(status.blocks)
        click(world, SUPERVISOR, status, render.RESUME)
        told(world, SUPERVISOR, "are back on")
        world.deliver()
        assert len(prompts_posted(world)) == 2


@pytest.mark.slow
def test_weeks_off_hold_back_prompt_reflections_and_reminders(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        this_week = week_containing(clock.now(), "Europe/London").index
        status = world.command(SUPERVISOR, "/securebase")
        click(world, SUPERVISOR, status, render.OPEN_WEEKS_OFF)
        view = modal(world, SUPERVISOR)
        options = element(view, render.WEEKS)["options"]
        assert len(options) == 12
        assert options[0]["text"]["text"] == "w/c 23 Nov 2026 (this week)"
        next_week = str(this_week + 1)
        world.bot.driver.answer_modal(SUPERVISOR, view["id"], {render.WEEKS: [next_week]})
        told(world, SUPERVISOR, "Weeks off for Duty and Assessment: w/c 30 Nov 2026")
        status = world.command(SUPERVISOR, "/securebase")
        assert "Weeks off: w/c 30 Nov 2026" in shown(status.blocks)

        reflections = len(world.sandbox.dms(SUPERVISOR))
        world.next_week()
        assert len(prompts_posted(world)) == 1
        assert len(world.sandbox.dms(SUPERVISOR)) == reflections
        assert "week off for the team" in shown(world.home(member(0))["blocks"])
        clock.set(datetime(2026, 12, 2, 11, 0, tzinfo=UTC))  # that week's Wednesday
        assert world.remind() == 0

        world.next_week()
        assert len(prompts_posted(world)) == 2
        assert len(world.sandbox.dms(SUPERVISOR)) == reflections + 1

        # Planned weeks off can be taken back: the held deliveries are released.
        click(world, SUPERVISOR, world.command(SUPERVISOR, "/securebase"), render.OPEN_WEEKS_OFF)
        view = modal(world, SUPERVISOR)
        world.bot.driver.answer_modal(SUPERVISOR, view["id"], {render.WEEKS: [str(this_week + 4)]})
        told(world, SUPERVISOR, "w/c 21 Dec 2026")
        click(world, SUPERVISOR, world.command(SUPERVISOR, "/securebase"), render.OPEN_WEEKS_OFF)
        view = modal(world, SUPERVISOR)
        assert [o["value"] for o in element(view, render.WEEKS)["initial_options"]] == [
            str(this_week + 4)
        ]
        world.bot.driver.answer_modal(SUPERVISOR, view["id"], {render.WEEKS: []})
        told(world, SUPERVISOR, "No weeks off planned")
        with world.bot.runtime.services.db.session() as session:
            held = session.scalars(
                select(Delivery.week_index).where(Delivery.status == DeliveryStatus.WEEK_OFF)
            ).all()
        assert held == [this_week + 1, this_week + 1]  # the past week off stays as it was


@pytest.mark.slow
def test_preview_shows_the_next_prompt_to_the_supervisor_only(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        library = world.bot.runtime.services.library
        this_week = week_containing(clock.now(), "Europe/London").index
        posted = len(world.sandbox.timeline(CHANNEL))
        reply = world.command(SUPERVISOR, "/securebase", "preview")
        services = world.bot.runtime.services
        with services.db.session() as session:
            pick = rotation_pick(session, world.team(), Week(this_week + 1), services.rotation)
        question = library.domain(pick.domain).prompts[pick.prompt_index].question
        text = shown(reply.blocks)
        assert "Monday 30 November 2026 at 09:30 (GMT)" in text
        assert question in text.replace("&amp;", "&")
        assert not [b for b in reply.blocks or [] if b["type"] == "actions"]
        assert reply.text.startswith("Preview of the next prompt")
        assert len(world.sandbox.timeline(CHANNEL)) == posted

        world.next_week()
        assert prompts_posted(world)[-1].endswith(question)
        assert Week(this_week + 1).label() == "w/c 30 Nov 2026"


@pytest.mark.slow
def test_status_buttons_check_again_who_is_clicking(database_url: str, clock: ManualClock) -> None:
    """A stale menu is no key: once someone stops being a supervisor its buttons refuse."""
    with experience(database_url, clock) as world:
        status = world.command(SUPERVISOR, "/securebase")
        with world.bot.runtime.services.db.session() as session:
            team = session.merge(world.team())
            team.supervisors[0].user_id = member(7)
        click(world, SUPERVISOR, status, render.PAUSE)
        told(world, SUPERVISOR, "Sorry, only a workspace admin")
        assert not world.team().paused
        assert json.dumps(status.blocks).count(render.PAUSE) == 1


def _save_time(world: World, day: str, time: str) -> None:
    click(world, SUPERVISOR, world.command(SUPERVISOR, "/securebase"), render.OPEN_SETTINGS)
    view = modal(world, SUPERVISOR)
    world.bot.driver.answer_modal(
        SUPERVISOR,
        view["id"],
        {
            render.NAME: "Duty and Assessment",
            render.DAY: day,
            render.TIME: time,
            render.ZONE: "Europe/London",
            render.SUPERVISORS: [SUPERVISOR],
            render.SUPPORT: None,
        },
    )


@pytest.mark.slow
def test_a_new_time_says_when_it_starts_and_never_repeats_the_prompt(
    database_url: str, clock: ManualClock
) -> None:
    """This week's prompt is out: a new time starts next week. Next Monday before the prompt,
    moved to a time already passed: the person is told it goes out now, and it does, once;
    moved again to Thursday, Thursday passes with nothing more."""
    with experience(database_url, clock) as world:
        assert len(prompts_posted(world, CHANNEL)) == 1  # Monday 09:30's, caught up on Tuesday
        _save_time(world, "4", "09:30")
        told(world, SUPERVISOR, "already gone out, so the change starts next week")
        clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))  # Friday 09:30
        assert world.deliver() == 0

        clock.set(datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # next Monday, 07:00
        world.deliver()
        _save_time(world, "0", "06:00")
        said = told(world, SUPERVISOR, "its new time has passed, so it goes out")
        assert "Mondays at 06:00" in said
        world.deliver()
        assert len(prompts_posted(world, CHANNEL)) == 2
        _save_time(world, "3", "14:00")
        said = told(world, SUPERVISOR, "Thursdays at 14:00")
        assert said.endswith(
            "This week's prompt has already gone out, so the change starts next week."
        )
        clock.set(datetime(2026, 12, 3, 14, 0, tzinfo=UTC))
        assert world.deliver() == 0
        assert len(prompts_posted(world, CHANNEL)) == 2
