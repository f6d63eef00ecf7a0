"""The bot against a misbehaving Slack: rate limits, server errors, slowness, channel errors.

It must keep running, post the weekly prompt exactly once when Slack recovers, and never lose a
check-in: the answer is a database write, so it is saved even when the confirmation DM cannot
be sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.sandboxed import Person, SandboxedBot, wait_until
from storage.clock import ManualClock
from storage.models import Answer, Delivery

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
    with bot.runtime.services.db.session() as session:
        rows = session.execute(select(Answer.availability, Answer.stress)).all()
    return sorted((row.availability, row.stress) for row in rows)


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


def test_a_prompt_slack_keeps_failing_is_posted_once_on_a_later_sweep(bot: SandboxedBot) -> None:
    bot.sandbox.faults.server_error("chat.postMessage", status=500, times=None)
    assert bot.runtime.delivery.run_due() == 0
    assert prompt_posts(bot) == 0
    bot.sandbox.faults.clear()
    assert bot.runtime.delivery.run_due() == 2
    assert bot.runtime.delivery.run_due() == 0
    assert prompt_posts(bot) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_a_channel_error_is_recorded_and_the_bot_carries_on(bot: SandboxedBot, error: str) -> None:
    bot.sandbox.faults.channel_error(TEAM, error)
    assert bot.runtime.delivery.run_due() == 1  # the supervisor's DM still goes out
    assert prompt_posts(bot) == 0
    with bot.runtime.services.db.session() as session:
        ledger = {d.kind: (d.status, d.error) for d in session.scalars(select(Delivery))}
    assert ledger["channel_prompt"] == ("failed", error)
    assert len(bot.sandbox.dms(SUPERVISOR.user_id)) == 1
    assert_still_working(bot)
    assert bot.runtime.delivery.run_due() == 0  # failed for good: an installer has to act


@pytest.mark.parametrize("fault", ["rate_limited", "server_error_500", "server_error_503", "slow"])
def test_checkin_opens_the_modal_through_a_passing_views_open_fault(
    bot: SandboxedBot, fault: str
) -> None:
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


@pytest.mark.parametrize("fault", ["rate_limited", "server_error_503", "slow"])
def test_the_confirmation_dm_survives_a_passing_fault(bot: SandboxedBot, fault: str) -> None:
    member = MEMBERS[0].user_id
    faults = bot.sandbox.faults
    if fault == "rate_limited":
        faults.rate_limit("chat.postMessage", channel=member, retry_after=0, times=1)
    elif fault == "slow":
        faults.slow("chat.postMessage", seconds=1.0, times=1)
    else:
        faults.server_error("chat.postMessage", status=503, times=1)

    bot.check_in(member, TEAM, answers(4, 3))

    assert stored_answers(bot) == [(4, 3)]
    assert "is saved" in bot.sandbox.dms(member)[-1].text


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_a_checkin_is_saved_even_when_the_confirmation_dm_cannot_be_sent(
    bot: SandboxedBot, error: str
) -> None:
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)
    bot.sandbox.faults.channel_error(member, error)

    assert bot.driver.answer_modal(member, view["id"], answers(2, 5)).status_code == 200

    # The DM is the handler's last step: once it has been tried, the answer is in.
    wait_until(
        lambda: [c for c in bot.sandbox.calls("chat.postMessage") if c.error == error],
        what="the confirmation DM to be tried",
    )
    assert stored_answers(bot) == [(2, 5)]
    assert bot.sandbox.dms(member) == []
    assert_still_working(bot)


def test_a_confirmation_dm_that_stays_rate_limited_does_not_lose_the_checkin(
    bot: SandboxedBot,
) -> None:
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)
    bot.sandbox.faults.rate_limit("chat.postMessage", channel=member, retry_after=0, times=None)

    bot.driver.answer_modal(member, view["id"], answers(3, 4))

    # slack_sdk tries once and retries three times, honouring Retry-After, then gives up.
    wait_until(
        lambda: (
            len([c for c in bot.sandbox.calls("chat.postMessage") if c.http_status == 429]) == 4
        ),
        timeout=10,
        what="the DM's retries to run out",
    )
    assert stored_answers(bot) == [(3, 4)]
    assert_still_working(bot)


def test_when_the_form_cannot_open_the_person_is_told_to_try_again(bot: SandboxedBot) -> None:
    member = MEMBERS[0].user_id
    bot.sandbox.faults.server_error("views.open", status=500, times=None)

    assert bot.driver.slash_command(member, TEAM, "/checkin").status_code == 200

    # slack_sdk tries once and retries twice; after that the bot has given up on the form.
    wait_until(lambda: len(bot.sandbox.calls("views.open")) == 3, timeout=10, what="retries")
    told = wait_until(
        lambda: bot.sandbox.ephemerals(member) + bot.sandbox.dms(member), 3, "a reply"
    )
    assert "try again" in told[0].text.lower()
    assert_still_working(bot)
