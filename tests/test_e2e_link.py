"""The bot's connection to Slack on a bad day, in both modes where it applies: a Socket Mode
link that Slack drops or asks to refresh is opened again (and /readyz says 503 meanwhile),
and a request Slack delivers twice is handled once: a check-in sent again gets the same
acknowledgement (the thank-you view) and is stored once, with nothing in the member's DMs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sealed_weeks import unsealed

from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.sandboxed import SAVED_TITLE, WORKSPACE, Person, SandboxedBot, saved_view_title, wait_until
from practice.clock import ManualClock
from sandbox.state import Message
from storage.teams import get_team

pytestmark = pytest.mark.slow

TEAM = "C0LINKTEAM1"
SUPERVISOR = Person("U0LINKSUP01", "Nia Supervisor")
MEMBERS = [Person(f"U0LINKMEM0{i}", f"Member {i}") for i in range(1, 4)]


def start(database_url: str, clock: ManualClock, socket_mode: bool) -> SandboxedBot:
    bot = SandboxedBot(database_url, clock, socket_mode=socket_mode).__enter__()
    bot.add_people([SUPERVISOR, *MEMBERS])
    bot.add_team(TEAM, "Link Team", [SUPERVISOR.user_id], [m.user_id for m in MEMBERS])
    return bot


@pytest.fixture
def socket_bot(database_url: str, clock: ManualClock) -> Iterator[SandboxedBot]:
    bot = start(database_url, clock, socket_mode=True)
    yield bot
    bot.__exit__(None, None, None)


@pytest.fixture(params=["http", "socket_mode"])
def bot(
    request: pytest.FixtureRequest, database_url: str, clock: ManualClock
) -> Iterator[SandboxedBot]:
    running = start(database_url, clock, socket_mode=request.param == "socket_mode")
    yield running
    running.__exit__(None, None, None)


def prompt_delivered(bot: SandboxedBot) -> None:
    """The week opens when its prompt goes out: only then can anyone check in."""
    assert bot.runtime.delivery.run_due() == 2  # the prompt and the supervisor's DM


def stored_check_ins(bot: SandboxedBot) -> int:
    """How many check-ins this open week holds (opened with the operator's key)."""
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, TEAM)
    assert team is not None
    return len(unsealed(services.db, team, services.clock.now()))


def readiness(bot: SandboxedBot) -> tuple[int, dict[str, str]]:
    response = httpx.get(bot.base_url + "/readyz", timeout=10)
    return response.status_code, response.json()


def pulse_reply(bot: SandboxedBot) -> Message:
    """The supervisor's /teampulse, answered (so the link works end to end)."""
    before = len(bot.sandbox.ephemerals(SUPERVISOR.user_id))
    assert bot.driver.slash_command(SUPERVISOR.user_id, TEAM, "/teampulse").status_code == 200
    return wait_until(
        lambda: bot.sandbox.ephemerals(SUPERVISOR.user_id)[before:], what="the pulse"
    )[0]


def test_a_dropped_link_is_opened_again_and_readyz_says_so_meanwhile(
    socket_bot: SandboxedBot,
) -> None:
    links = socket_bot.sandbox.socket_mode
    assert readiness(socket_bot) == (200, {"ok": True, "database": "ok", "slack": "ok"})
    opened = links.links_opened()
    # Slack will not hand out a new link for now: the bot must wait, and say it cannot serve.
    socket_bot.sandbox.faults.server_error("apps.connections.open", status=503)
    links.drop()
    wait_until(lambda: readiness(socket_bot)[0] == 503, what="/readyz to turn 503")
    assert readiness(socket_bot)[1] == {"ok": False, "database": "ok", "slack": "unreachable"}
    assert httpx.get(socket_bot.base_url + "/healthz").status_code == 200  # still alive
    wait_until(
        lambda: socket_bot.sandbox.calls("apps.connections.open")[opened:],
        what="the bot to try for a new link",
    )

    socket_bot.sandbox.faults.clear()
    links.wait_for_links(1, opened=opened + 1, timeout=15)
    wait_until(lambda: readiness(socket_bot)[0] == 200, what="/readyz to turn 200 again")
    assert "no finished weeks yet" in pulse_reply(socket_bot).text


@pytest.mark.parametrize("reason", ["refresh_requested", "link_disabled"])
def test_a_disconnect_message_moves_the_bot_to_a_new_link(
    socket_bot: SandboxedBot, reason: str
) -> None:
    links = socket_bot.sandbox.socket_mode
    opened = links.links_opened()
    links.disconnect(reason, grace=1.0)  # type: ignore[arg-type]
    links.wait_for_links(1, opened=opened + 1)
    assert "no finished weeks yet" in pulse_reply(socket_bot).text  # on the new link
    wait_until(lambda: links.links() == 1, what="the old link to close")
    assert readiness(socket_bot)[0] == 200
    assert [e.link for e in links.envelopes()][-1] == opened + 1


def settle() -> None:
    """Time enough for a second reply to land, were a redelivery handled again."""
    time.sleep(0.5)


def test_a_redelivered_slash_command_is_answered_once(bot: SandboxedBot) -> None:
    first = pulse_reply(bot)
    again = bot.driver.redeliver(retry_num=1)
    assert again.status_code == 200
    settle()
    assert bot.sandbox.ephemerals(SUPERVISOR.user_id) == [first]
    assert len(bot.sandbox.calls("response_url")) == 1


def test_a_redelivered_event_is_handled_once(bot: SandboxedBot) -> None:
    member = MEMBERS[0].user_id
    assert bot.driver.app_home_opened(member).status_code == 200
    wait_until(lambda: bot.sandbox.home_view(member), what="App Home")
    assert bot.driver.redeliver(retry_num=1).status_code == 200
    assert bot.driver.redeliver(retry_num=2).status_code == 200
    settle()
    assert len(bot.sandbox.calls("views.publish")) == 1


def test_a_redelivered_submission_gets_the_same_answer_and_is_stored_once(
    bot: SandboxedBot,
) -> None:
    prompt_delivered(bot)
    member = MEMBERS[1].user_id
    view = bot.open_checkin(member, TEAM)
    errors = bot.driver.submit_view(member, view["id"], {})  # nothing answered
    # The form's own errors come back in the ack (HTTP body or Socket Mode ack payload), and
    # Slack keeps the form open to show them.
    assert errors.json()["response_action"] == "errors"
    assert bot.sandbox.view_is_open(view["id"])
    assert bot.driver.redeliver(retry_num=1).json() == errors.json()
    assert stored_check_ins(bot) == 0

    answers = {AVAILABILITY: "4", STRESS: "2", DOMAIN_ITEM: None, COMMENT: None}
    first = bot.driver.answer_modal(member, view["id"], answers)
    assert saved_view_title(first) == SAVED_TITLE, first.text  # stored inside its ack
    again = bot.driver.redeliver(retry_num=1)
    assert (again.status_code, again.content) == (200, first.content)
    settle()
    assert stored_check_ins(bot) == 1
    assert bot.sandbox.dms(member) == []  # confirmed in the modal, never in a DM


def test_an_ack_that_updates_the_form_reaches_slack(bot: SandboxedBot) -> None:
    """A view submission's ack with `response_action: update` (here the thank-you view, with
    the support note after a hard week) turns the form into the new view, over HTTP and over
    Socket Mode alike."""
    prompt_delivered(bot)
    member = MEMBERS[2].user_id
    view = bot.open_checkin(member, TEAM)
    answers = {AVAILABILITY: "2", STRESS: "5", DOMAIN_ITEM: None, COMMENT: None}
    sent = bot.driver.answer_modal(member, view["id"], answers)
    assert saved_view_title(sent) == SAVED_TITLE, sent.text
    (shown,) = bot.sandbox.open_views(member)
    assert shown["id"] == view["id"]  # the same modal, now showing the bot's answer
    assert shown["title"]["text"] == SAVED_TITLE
    assert "It sounds like this week has been heavy." in str(shown["blocks"])
    settle()
    assert bot.sandbox.dms(member) == []
