"""The bot against a misbehaving Slack (rate limits, server errors, slowness, channel errors)
and a database that does not answer in time.

It must keep running, post the weekly prompt exactly once when Slack recovers, and never lose a
check-in: the answer is stored and confirmed inside Slack's acknowledgement, so no message (and
no failing chat.postMessage) is involved; a database that times out is said so inside the
modal, and sending again stores exactly one answer.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from experience import buttons
from sealed_weeks import unsealed
from sqlalchemy import create_engine, make_url, select

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, NOT_SAVED, STRESS
from bot.render.home import HOME_CHECKIN
from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import WORKSPACE, Person, SandboxedBot, saved_view_title, wait_until
from practice.checkin import Refusal, week_to_check_in
from practice.clock import ManualClock
from storage.models import TeamWeek
from storage.teams import get_team

TEAM = "C0E2EFLT001"
SUPERVISOR = Person("U0E2EFSUP01", "Ade Supervisor")
MEMBERS = [Person(f"U0E2EFMEM{i:02d}", f"Member {i}") for i in range(1, 6)]


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[SandboxedBot]:
    with SandboxedBot(database_url, clock) as running:
        running.add_people([SUPERVISOR, *MEMBERS])
        running.add_team(TEAM, "Early Help", [SUPERVISOR.user_id], [m.user_id for m in MEMBERS])
        yield running


def answers(support: int = 4, stress: int = 2) -> dict[str, str | None]:
    return {AVAILABILITY: str(support), STRESS: str(stress), DOMAIN_ITEM: None, COMMENT: None}


def stored_answers(bot: SandboxedBot) -> list[tuple[int, int]]:
    """This open week's check-ins (opened with the operator's key, as the close will)."""
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, TEAM)
    assert team is not None
    found = unsealed(services.db, team, services.clock.now())
    return sorted((values.availability, values.stress) for values in found)


def prompt_delivered(bot: SandboxedBot) -> None:
    """The week opens when its prompt goes out: only then can anyone check in."""
    assert bot.runtime.delivery.run_due() == 2  # the prompt and the supervisor's DM


def assert_still_working(bot: SandboxedBot, member: Person = MEMBERS[-1]) -> None:
    """With the faults gone, the bot answers its health check and takes a check-in."""
    bot.sandbox.faults.clear()
    health = httpx.get(bot.events_url.removesuffix("/slack/events") + "/healthz")
    assert health.status_code == 200
    before = len(stored_answers(bot))
    bot.check_in(member.user_id, TEAM, answers(3, 3))
    assert len(stored_answers(bot)) == before + 1


def prompt_posts(bot: SandboxedBot) -> int:
    return len(bot.sandbox.timeline(TEAM))


@pytest.mark.parametrize(
    "fault",
    ["rate_limited", "server_error_500", "server_error_503", "slow"],
)
@pytest.mark.slow
def test_the_weekly_prompt_survives_a_passing_fault_and_posts_once(
    bot: SandboxedBot, fault: str
) -> None:
    faults = bot.sandbox.faults
    if fault == "rate_limited":
        faults.rate_limit("chat.postMessage", channel=TEAM, retry_after=1, times=1)
    elif fault == "slow":
        faults.slow("chat.postMessage", seconds=1.0, times=1)
    else:
        faults.server_error("chat.postMessage", status=int(fault[-3:]), times=1)

    assert bot.runtime.delivery.run_due() == 2
    assert bot.runtime.delivery.run_due() == 0
    assert prompt_posts(bot) == 1
    assert len(bot.sandbox.dms(SUPERVISOR.user_id)) == 1
    if fault != "slow":
        failed = [c for c in bot.sandbox.calls("chat.postMessage") if not c.ok]
        assert [c.injected for c in failed] == [True]  # the fault did hit, once
    assert_still_working(bot)


@pytest.mark.slow
def test_a_prompt_slack_keeps_failing_is_posted_once_on_a_later_sweep(bot: SandboxedBot) -> None:
    bot.sandbox.faults.server_error("chat.postMessage", status=500, times=None)
    assert bot.runtime.delivery.run_due() == 0
    assert prompt_posts(bot) == 0
    bot.sandbox.faults.clear()
    assert bot.runtime.delivery.run_due() == 2
    assert bot.runtime.delivery.run_due() == 0
    assert prompt_posts(bot) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_a_channel_error_opens_no_week_and_the_bot_carries_on(
    bot: SandboxedBot, error: str
) -> None:
    """A week opens only with its roster, read from the channel as the prompt goes out: while
    the channel cannot be read nothing is posted there and nobody can check in. (That the error
    is recorded once and shown to the installer is test_scale_slack_faults's.)"""
    bot.sandbox.faults.channel_error(TEAM, error)
    for _ in range(3):
        bot.runtime.delivery.run_due()
    assert prompt_posts(bot) == 0
    assert [c for c in bot.sandbox.calls("chat.postMessage") if c.params["channel"] == TEAM] == []
    with bot.runtime.services.db.session() as session:
        assert list(session.scalars(select(TeamWeek))) == []
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, TEAM)
    assert team is not None
    now = services.clock.now()
    assert week_to_check_in(services.db, team, MEMBERS[0].user_id, now) is Refusal.NOT_OPEN
    bot.sandbox.faults.clear()
    health = httpx.get(bot.events_url.removesuffix("/slack/events") + "/healthz")
    assert health.status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["rate_limited", "server_error_500", "server_error_503", "slow"])
def test_checkin_opens_the_modal_through_a_passing_views_open_fault(
    bot: SandboxedBot, fault: str
) -> None:
    prompt_delivered(bot)
    faults = bot.sandbox.faults
    if fault == "rate_limited":
        faults.rate_limit("views.open", retry_after=0, times=1)
    elif fault == "slow":
        faults.slow("views.open", seconds=1.0, times=1)
    else:
        faults.server_error("views.open", status=int(fault[-3:]), times=1)
    member = MEMBERS[0].user_id

    bot.check_in(member, TEAM, answers(5, 1))

    assert stored_answers(bot) == [(5, 1)]
    opened = bot.sandbox.calls("views.open")
    assert opened[-1].ok
    assert all(call.error != "expired_trigger_id" for call in opened)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["rate_limited", "server_error_503", "channel_not_found"])
def test_a_checkin_is_confirmed_in_the_modal_while_chat_post_message_is_failing(
    bot: SandboxedBot, fault: str
) -> None:
    """The confirmation is the acknowledgement's thank-you view: Slack failing to post messages
    changes nothing, and no message is sent about the check-in at all."""
    prompt_delivered(bot)
    member = MEMBERS[0].user_id
    faults = bot.sandbox.faults
    if fault == "rate_limited":
        faults.rate_limit("chat.postMessage", retry_after=0, times=None)
    elif fault == "server_error_503":
        faults.server_error("chat.postMessage", status=503, times=None)
    else:
        faults.channel_error(member, fault)
    posts = len(bot.sandbox.calls("chat.postMessage"))

    bot.check_in(member, TEAM, answers(4, 3))  # asserts the ack is the thank-you view

    assert stored_answers(bot) == [(4, 3)]
    assert len(bot.sandbox.calls("chat.postMessage")) == posts
    assert bot.sandbox.dms(member) == []
    assert_still_working(bot)
    assert bot.sandbox.dms(member) == []


@pytest.mark.slow
def test_when_the_form_cannot_open_the_person_is_told_to_try_again(bot: SandboxedBot) -> None:
    prompt_delivered(bot)
    member = MEMBERS[0].user_id
    bot.sandbox.faults.server_error("views.open", status=500, times=None)

    assert bot.driver.slash_command(member, TEAM, "/checkin").status_code == 200

    # slack_sdk tries once and retries twice; after that the bot has given up on the form.
    wait_until(lambda: len(bot.sandbox.calls("views.open")) == 3, timeout=10, what="retries")
    told = wait_until(lambda: bot.sandbox.ephemerals(member), 3, "an ephemeral reply")
    assert "try again" in told[0].text.lower()
    assert bot.sandbox.dms(member) == []  # never a DM: Slack's exports would keep it
    assert_still_working(bot)


@pytest.mark.slow
def test_a_home_tab_button_whose_form_cannot_open_answers_ephemerally_in_the_channel(
    bot: SandboxedBot,
) -> None:
    """A Home tab button has no response_url: the reply shows in the team's channel, to this
    person only, and is never a DM."""
    prompt_delivered(bot)
    member = MEMBERS[0].user_id
    bot.driver.app_home_opened(member)
    home = wait_until(lambda: bot.sandbox.home_view(member), what="the Home tab")
    [open_button] = [b for b in buttons(home["blocks"]) if b["value"] == TEAM]
    assert re.match(rf"{OPEN_CHECKIN}$|{HOME_CHECKIN}_", open_button["action_id"])
    bot.sandbox.faults.server_error("views.open", status=500, times=None)

    response = bot.driver.click_button(
        member, open_button["action_id"], open_button["value"], view_id=home["id"]
    )
    assert response.status_code == 200

    told = wait_until(lambda: bot.sandbox.ephemerals(member), 10, "an ephemeral reply")
    assert "try again" in told[0].text.lower()
    assert told[0].channel == TEAM
    assert bot.sandbox.dms(member) == []
    assert_still_working(bot)


@contextmanager
def database_write_lock(database_url: str) -> Iterator[None]:
    """Another connection holds a lock that stops check-ins being written (a long migration, a
    backup taking a write lock, a stuck transaction) until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # SQLite's one writer
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.exec_driver_sql("LOCK TABLE sealed_answers IN EXCLUSIVE MODE")
            yield
            transaction.rollback()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_database_that_times_out_says_so_in_the_modal_and_sending_again_stores_one(
    bot: SandboxedBot, database_url: str
) -> None:
    prompt_delivered(bot)
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)

    with database_write_lock(database_url):
        started = time.monotonic()
        response = bot.driver.answer_modal(member, view["id"], answers(2, 4))
        took = time.monotonic() - started
        assert response.status_code == 200
        # Inside Slack's 3-second window: the budget ran out and the modal says so.
        assert took < 3.0, took
        assert response.json() == {
            "response_action": "errors",
            "errors": {AVAILABILITY: NOT_SAVED},
        }
        assert stored_answers(bot) == []
    assert "replaces your answers, never doubles them" in NOT_SAVED
    assert bot.sandbox.dms(member) == []

    # The modal is still open with the person's answers: sending again stores exactly one.
    again = bot.driver.answer_modal(member, view["id"], answers(2, 4))
    assert saved_view_title(again) == "Thank you"
    assert stored_answers(bot) == [(2, 4)]
    assert bot.sandbox.dms(member) == []
