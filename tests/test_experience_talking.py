"""The "talking about it" card: a supervisor reaches it from `/teampulse`, the Home tab, the
chart's share offer and a share's confirmation, and it opens as a modal that says how to talk
with the team about the results, and what they are never for."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from experience import SUPERVISOR, World, button, experience, member, shown
from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.handlers.talking import open_card
from bot.handlers.wiring import provide
from bot.render.home import SHARE_PERIOD
from bot.render.talking import STEPS, TALKING
from bot.sandboxed import wait_until
from bot.services import Services
from bot.settings import load_settings
from practice.clock import ManualClock
from storage.db import Database


def a_shown_week(world: World) -> None:
    for n, (support, stress) in enumerate([(5, 2), (4, 3), (4, 2), (3, 4), (2, 5), (4, 3)]):
        world.seed(member(n), support, stress, 4)
    world.next_week()


def opened_card(world: World, user: str, before: int) -> dict[str, Any]:
    views = wait_until(lambda: world.sandbox.open_views(user)[before:], what="the card")
    [card] = views
    return card  # type: ignore[no-any-return]


def assert_is_the_card(card: dict[str, Any]) -> None:
    assert card["title"]["text"] == "Talking about it"
    text = shown(card["blocks"])
    for title, _detail in STEPS:
        assert title in text
    assert "within a week" in text and "never guess who said it" in text
    assert "appraisal, capability procedures, performance management or comparing teams" in text
    assert "What's one thing worth keeping, and one thing we could change?" in text


@pytest.mark.slow
def test_the_card_opens_from_teampulse_home_and_sharing(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        a_shown_week(world)
        driver = world.bot.driver

        reply = world.command(SUPERVISOR, "/teampulse")
        card_button = button(reply.blocks or [], TALKING)
        driver.click_button(
            SUPERVISOR,
            card_button["action_id"],
            card_button["value"],
            channel_id=reply.channel,
            message_ts=reply.ts,
        )
        card = opened_card(world, SUPERVISOR, 0)
        assert_is_the_card(card)
        driver.close_modal(SUPERVISOR, card["id"])

        home = world.home(SUPERVISOR)
        on_home = button(home["blocks"], TALKING)
        assert on_home["action_id"] == f"{TALKING}_0"  # unique within the tab
        driver.click_button(SUPERVISOR, on_home["action_id"], on_home["value"], view_id=home["id"])
        card = opened_card(world, SUPERVISOR, 0)
        assert_is_the_card(card)
        driver.close_modal(SUPERVISOR, card["id"])

        # Sharing from the Home tab: the confirmation (a DM) carries the card's button too.
        dms = len(world.sandbox.dms(SUPERVISOR))
        share = button(home["blocks"], SHARE_PERIOD)
        driver.click_button(SUPERVISOR, share["action_id"], share["value"], view_id=home["id"])
        [done] = world.new_dms(SUPERVISOR, dms)
        assert done.text.startswith("Shared ")
        after = button(done.blocks or [], TALKING)
        driver.click_button(
            SUPERVISOR,
            after["action_id"],
            after["value"],
            channel_id=done.channel,
            message_ts=done.ts,
        )
        assert_is_the_card(opened_card(world, SUPERVISOR, 0))


@pytest.mark.slow
def test_the_chart_s_share_offer_has_the_card_beside_the_share_button(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        a_shown_week(world)
        dms = len(world.sandbox.dms(SUPERVISOR))
        world.command(SUPERVISOR, "/teampulse", "chart")
        offer = world.new_dms(SUPERVISOR, dms, 2)[-1]
        labels = [b["action_id"] for b in offer.blocks[-1]["elements"]]  # type: ignore[index]
        assert labels == [SHARE_PERIOD, TALKING]


@pytest.mark.slow
def test_the_shared_summary_asks_what_to_keep_and_what_to_change(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        a_shown_week(world)
        home = world.home(SUPERVISOR)
        share = button(home["blocks"], SHARE_PERIOD)
        before = len(world.sandbox.timeline(world.team().channel_id))
        world.bot.driver.click_button(
            SUPERVISOR, share["action_id"], share["value"], view_id=home["id"]
        )
        [summary] = wait_until(lambda: world.sandbox.timeline(world.team().channel_id)[before:])
        text = shown(summary.blocks)
        assert "what's one thing worth keeping, and one thing we could change?" in text
        assert "in the thread or at the team meeting" in text


def test_a_card_that_cannot_open_is_logged_not_raised(
    db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A trigger that expired while Slack was slow: the listener logs it, and nothing fails."""

    class ExpiredTrigger:
        def views_open(self, **_kwargs: Any) -> None:
            response = SlackResponse(
                client=None,
                http_verb="POST",
                api_url="views.open",
                req_args={},
                data={"ok": False, "error": "expired_trigger_id"},
                headers={},
                status_code=200,
            )
            raise SlackApiError("expired", response)

    services = Services.create(load_settings({}, need_slack=False), db, clock)
    context = BoltContext({"team_id": "T0001"})
    provide(services)(context, lambda: None)
    acks: list[object] = []
    with caplog.at_level(logging.WARNING):
        open_card(
            lambda **kw: acks.append(kw),  # type: ignore[arg-type]
            {"trigger_id": "1.2.abc"},
            ExpiredTrigger(),  # type: ignore[arg-type]
            context,
        )
    assert acks == [{}]
    assert "expired_trigger_id" in caplog.text
