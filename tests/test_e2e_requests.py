"""Requests the bot must refuse or take only once, sent over HTTP as Slack (or a forger) would.

Unsigned, forged and stale requests get 401 and change nothing; a Slack retry and a second
check-in in the same week each count once; answers the modal could never have produced get
`response_action: errors` and are not stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.sandboxed import SIGNING_SECRET, WORKSPACE, Person, SandboxedBot, wait_until
from sandbox import SlackDriver, sign_request
from storage.clock import ManualClock
from storage.models import Answer, Base

TEAM = "C0E2EREQ001"
SUPERVISOR = Person("U0E2ERSUP01", "Nia Supervisor")
MEMBERS = [Person(f"U0E2ERMEM{i:02d}", f"Member {i}") for i in range(1, 7)]

Tamper = Callable[[SandboxedBot], dict[str, Any]]


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[SandboxedBot]:
    with SandboxedBot(database_url, clock) as running:
        running.add_people([SUPERVISOR, *MEMBERS])
        running.add_team(
            TEAM, "Children in Care", [SUPERVISOR.user_id], [m.user_id for m in MEMBERS]
        )
        running.runtime.delivery.run_due()
        yield running


def answers(support: int, stress: int) -> dict[str, str | None]:
    return {AVAILABILITY: str(support), STRESS: str(stress), DOMAIN_ITEM: None, COMMENT: None}


def table_rows(bot: SandboxedBot) -> dict[str, int]:
    """How many rows every table holds: a fingerprint of the whole database."""
    with bot.runtime.services.db.session() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def stored_answers(bot: SandboxedBot) -> list[tuple[int, int]]:
    with bot.runtime.services.db.session() as session:
        rows = session.execute(select(Answer.availability, Answer.stress)).all()
    return sorted((row.availability, row.stress) for row in rows)


def stale(_: SandboxedBot) -> dict[str, Any]:
    return {"timestamp": int(time.time()) - 6 * 60}  # correctly signed, but 6 minutes old


def forged(_: SandboxedBot) -> dict[str, Any]:
    return {"signature": sign_request("not-the-signing-secret", int(time.time()), b"forged")}


def unsigned(bot: SandboxedBot) -> dict[str, Any]:
    """Swap in a driver whose requests lose their X-Slack-Signature header on the way."""

    def strip(request: httpx.Request) -> None:
        del request.headers["X-Slack-Signature"]

    client = httpx.Client(event_hooks={"request": [strip]})
    bot.driver = SlackDriver(bot.events_url, SIGNING_SECRET, bot.sandbox, WORKSPACE, client=client)
    return {}


@pytest.mark.parametrize("tamper", [forged, stale, unsigned], ids=["forged", "stale", "unsigned"])
def test_a_bad_signature_gets_401_and_changes_nothing(bot: SandboxedBot, tamper: Tamper) -> None:
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)
    before = table_rows(bot)
    calls = len(bot.sandbox.calls())

    signing = tamper(bot)
    submitted = bot.driver.answer_modal(member, view["id"], answers(4, 2), **signing)
    pulse = bot.driver.slash_command(SUPERVISOR.user_id, TEAM, "/teampulse", **signing)
    again = bot.driver.slash_command(member, TEAM, "/checkin", **signing)

    assert (submitted.status_code, pulse.status_code, again.status_code) == (401, 401, 401)
    assert table_rows(bot) == before
    assert len(bot.sandbox.calls()) == calls  # the bot did nothing in Slack either
    assert bot.sandbox.view_is_open(view["id"])  # Slack keeps the form when the app refuses


def recording_driver(bot: SandboxedBot) -> tuple[SlackDriver, list[httpx.Request]]:
    sent: list[httpx.Request] = []
    client = httpx.Client(event_hooks={"request": [sent.append]})
    return SlackDriver(bot.events_url, SIGNING_SECRET, bot.sandbox, WORKSPACE, client=client), sent


def resend_as_retry(bot: SandboxedBot, request: httpx.Request, attempt: int) -> httpx.Response:
    """What Slack does when it thinks a delivery failed: the same body again, signed afresh,
    with X-Slack-Retry-Num."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": request.headers["Content-Type"],
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign_request(SIGNING_SECRET, timestamp, request.content),
        "X-Slack-Retry-Num": str(attempt),
        "X-Slack-Retry-Reason": "http_timeout",
    }
    return httpx.post(bot.events_url, content=request.content, headers=headers)


@pytest.mark.parametrize("when", ["after", "meanwhile"])
def test_a_slack_retry_of_a_submission_is_counted_once(bot: SandboxedBot, when: str) -> None:
    member = MEMBERS[0].user_id
    driver, sent = recording_driver(bot)
    bot.driver = driver
    view = bot.open_checkin(member, TEAM)
    retried: list[httpx.Response] = []
    if when == "after":
        assert driver.answer_modal(member, view["id"], answers(4, 2)).status_code == 200
        retried.append(resend_as_retry(bot, sent[-1], 1))
    else:  # the retry races the first delivery, as when the first one was slow
        first = threading.Thread(
            target=driver.answer_modal, args=(member, view["id"], answers(4, 2))
        )
        first.start()
        wait_until(
            lambda: sent[-1].url.path == "/slack/events" and b"view_submission" in sent[-1].content
        )
        retried.append(resend_as_retry(bot, sent[-1], 1))
        first.join()
    assert [r.status_code for r in retried] == [200]
    # The retry gets the first delivery's answer and is not handled again: one confirmation.
    wait_until(lambda: bot.sandbox.dms(member), what="the confirmation")
    time.sleep(0.5)  # time enough for a second one, were the retry handled
    assert len(bot.sandbox.dms(member)) == 1
    assert stored_answers(bot) == [(4, 2)]


def test_a_second_checkin_in_the_same_week_replaces_the_first(bot: SandboxedBot) -> None:
    member = MEMBERS[0].user_id
    bot.check_in(member, TEAM, answers(1, 5))
    bot.check_in(member, TEAM, answers(4, 2))
    first, second = (m.text for m in bot.sandbox.dms(member))
    assert "replaces" not in first
    assert "It replaces the one you sent earlier this week." in second
    bot.check_in(MEMBERS[1].user_id, TEAM, answers(3, 3))
    assert stored_answers(bot) == [(3, 3), (4, 2)]


def radio(value: str | None) -> dict[str, Any]:
    option = (
        None if value is None else {"text": {"type": "plain_text", "text": value}, "value": value}
    )
    return {"type": "radio_buttons", "selected_option": option}


def state(
    support: str | None, stress: str | None, belief: str | None = None, comment: str | None = None
) -> dict[str, Any]:
    return {
        AVAILABILITY: {AVAILABILITY: radio(support)},
        STRESS: {STRESS: radio(stress)},
        DOMAIN_ITEM: {DOMAIN_ITEM: radio(belief)},
        COMMENT: {COMMENT: {"type": "plain_text_input", "value": comment}},
    }


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        (state("9", "3"), {AVAILABILITY}),
        (state("0", "3"), {AVAILABILITY}),
        (state("3", None), {STRESS}),
        (state(None, None), {AVAILABILITY, STRESS}),
        (state("abc", "3"), {AVAILABILITY}),
        (state("3", "3", belief="6"), {DOMAIN_ITEM}),
        (state("3", "3", comment="x" * 1001), {COMMENT}),
        ({}, {AVAILABILITY, STRESS}),
    ],
    ids=[
        "too-high",
        "zero",
        "no-stress",
        "nothing",
        "not-a-number",
        "belief-6",
        "long-comment",
        "no-state",
    ],
)
def test_impossible_answers_get_errors_and_nothing_is_stored(
    bot: SandboxedBot, values: dict[str, Any], wrong: set[str]
) -> None:
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)
    before = table_rows(bot)

    response = bot.driver.submit_view(member, view["id"], values)

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == wrong
    assert all(reply["errors"].values())  # every error says what to do
    assert bot.sandbox.view_is_open(view["id"])  # the person can put it right
    assert table_rows(bot) == before
    # ... and putting it right works, in the same form.
    bot.driver.answer_modal(member, view["id"], answers(2, 4))
    wait_until(lambda: bot.sandbox.dms(member), what="the confirmation")
    assert stored_answers(bot) == [(2, 4)]
