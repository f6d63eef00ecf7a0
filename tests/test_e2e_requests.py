"""Requests the bot must refuse or take only once, sent over HTTP as Slack (or a forger) would.

Unsigned, forged and stale requests get 401 and change nothing; a Slack retry and a second
check-in in the same week each count once; answers the modal could never have produced get
`response_action: errors` and are not stored. Only the week's roster checks in: someone who
joined after the prompt and the team's supervisor are told kindly why not, and a form from a
week that has ended is refused, never filed under the next week.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from experience import shown
from sealed_weeks import unsealed
from sqlalchemy import func, select

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, NOT_SAVED, STRESS
from bot.sandboxed import (
    SAVED_TITLE,
    SIGNING_SECRET,
    WORKSPACE,
    Person,
    SandboxedBot,
    saved_view_title,
    wait_until,
)
from practice.clock import ManualClock
from sandbox import SlackDriver, sign_request
from storage.models import Answer, Base, Comment
from storage.teams import get_team

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
    """This open week's check-ins (opened with the operator's key, as the close will)."""
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, TEAM)
    assert team is not None
    found = unsealed(services.db, team, services.clock.now())
    return sorted((values.availability, values.stress) for values in found)


def ack_text(response: httpx.Response) -> str:
    """Everything the view the acknowledgement turned the modal into says."""
    return shown(response.json()["view"]["blocks"])


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


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("when", ["after", "meanwhile"])
def test_a_slack_retry_of_a_submission_is_counted_once(bot: SandboxedBot, when: str) -> None:
    member = MEMBERS[0].user_id
    driver, sent = recording_driver(bot)
    bot.driver = driver
    view = bot.open_checkin(member, TEAM)
    responses: list[httpx.Response] = []
    if when == "after":
        responses.append(driver.answer_modal(member, view["id"], answers(4, 2)))
        responses.append(resend_as_retry(bot, sent[-1], 1))
    else:  # the retry races the first delivery, as when the first one was slow
        first = threading.Thread(
            target=lambda: responses.append(driver.answer_modal(member, view["id"], answers(4, 2)))
        )
        first.start()
        wait_until(
            lambda: sent[-1].url.path == "/slack/events" and b"view_submission" in sent[-1].content
        )
        responses.append(resend_as_retry(bot, sent[-1], 1))
        first.join()
    assert [r.status_code for r in responses] == [200, 200]
    # Each delivery the bot handles is stored inside its own acknowledgement, replacing any
    # earlier one; two racing may leave one saying "may not have been saved, send again".
    outcomes = [
        "saved" if saved_view_title(r) == SAVED_TITLE else r.json()["errors"][AVAILABILITY]
        for r in responses
    ]
    assert "saved" in outcomes and set(outcomes) <= {"saved", NOT_SAVED}
    assert stored_answers(bot) == [(4, 2)]
    assert bot.sandbox.dms(member) == []


def test_a_second_checkin_in_the_same_week_replaces_the_first(bot: SandboxedBot) -> None:
    member = MEMBERS[0].user_id
    first = bot.check_in(member, TEAM, answers(1, 5))
    second = bot.check_in(member, TEAM, answers(4, 2))
    assert "replaces" not in ack_text(first)
    assert "It replaces the one you sent earlier this week." in ack_text(second)
    bot.check_in(MEMBERS[1].user_id, TEAM, answers(3, 3))
    assert stored_answers(bot) == [(3, 3), (4, 2)]
    assert bot.sandbox.dms(member) == []


def test_someone_who_joined_after_the_prompt_is_told_to_check_in_from_next_week(
    bot: SandboxedBot, clock: ManualClock
) -> None:
    late = Person("U0E2ERLATE1", "Lee Late")
    bot.add_people([late])
    bot.sandbox.add_member(TEAM, late.user_id)  # after this week's prompt went out

    notice = bot.open_checkin(late.user_id, TEAM)
    said = shown(notice["blocks"])
    assert "You joined Children in Care after this week's prompt went out" in said
    assert "from next week" in said
    assert notice.get("submit") is None  # a notice, not a form
    assert stored_answers(bot) == []
    assert bot.sandbox.dms(late.user_id) == []

    # The next week's prompt takes them onto its roster.
    clock.advance(timedelta(days=7))
    bot.runtime.delivery.run_due()
    bot.check_in(late.user_id, TEAM, answers(3, 3))
    assert stored_answers(bot) == [(3, 3)]


def test_a_supervisor_is_kindly_pointed_to_their_reflections(bot: SandboxedBot) -> None:
    notice = bot.open_checkin(SUPERVISOR.user_id, TEAM)
    said = shown(notice["blocks"])
    assert "As a practice supervisor for Children in Care, you don't check in" in said
    assert "reflective questions" in said
    assert notice.get("submit") is None
    assert stored_answers(bot) == []


@pytest.mark.slow
def test_a_form_opened_before_the_prompt_is_a_notice_that_the_week_opens_with_it(
    database_url: str, clock: ManualClock
) -> None:
    with SandboxedBot(database_url, clock) as running:
        running.add_people([SUPERVISOR, MEMBERS[0]])
        running.add_team(TEAM, "Children in Care", [SUPERVISOR.user_id], [MEMBERS[0].user_id])
        notice = running.open_checkin(MEMBERS[0].user_id, TEAM)
        assert "opens when the weekly prompt goes out" in shown(notice["blocks"])
        assert notice.get("submit") is None


@pytest.mark.slow
@pytest.mark.parametrize("swept", [False, True], ids=["before-the-close", "after-the-close"])
def test_a_form_from_last_week_sent_after_it_ended_is_refused_and_nothing_is_stored(
    bot: SandboxedBot, clock: ManualClock, swept: bool
) -> None:
    member = MEMBERS[0].user_id
    view = bot.open_checkin(member, TEAM)
    clock.advance(timedelta(days=7))  # the form's week has ended
    if swept:
        bot.runtime.delivery.run_due()  # closed, and the next week opened
    before = table_rows(bot)

    response = bot.driver.answer_modal(member, view["id"], answers(1, 5))

    assert response.status_code == 200
    assert response.json()["response_action"] == "update"
    assert "That week has closed, so your answer wasn't stored" in ack_text(response)
    assert table_rows(bot) == before
    assert stored_answers(bot) == []  # not filed under the new week
    with bot.runtime.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0
        assert session.scalar(select(func.count()).select_from(Comment)) == 0
    assert bot.sandbox.dms(member) == []


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
@pytest.mark.slow
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
    again = bot.driver.answer_modal(member, view["id"], answers(2, 4))
    assert saved_view_title(again) == SAVED_TITLE
    assert stored_answers(bot) == [(2, 4)]
