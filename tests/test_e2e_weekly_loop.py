"""The weekly loop end to end: the real bot over HTTP and over Socket Mode, Slack played by the
sandbox (each test runs once per mode).

Prompt and reflections go out once (the week opens with them); members check in through the
modal, each confirmed inside it; the midweek note goes to everyone alike; the week closes; the
supervisor's /teampulse shows exactly what was answered, and nobody else's does. Nothing in
anyone's DMs says who checked in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from experience import shown as text_of
from sealed_weeks import unsealed
from sqlalchemy import func, select

from bot.content import Scale, default_library
from bot.render.bands import band_phrases
from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import (
    BOT_USER,
    SAVED_TITLE,
    WORKSPACE,
    Person,
    SandboxedBot,
    saved_view_title,
    wait_until,
)
from practice.clock import ManualClock
from practice.weeks import week_containing
from sandbox.state import Message
from storage.models import PulseView
from storage.teams import get_team

pytestmark = pytest.mark.slow

TZ = "Europe/London"
TEAM = "C0E2ETEAM01"
OTHER_TEAM = "C0E2ETEAM02"
GENERAL = "C0E2EGENRL1"
SUPERVISOR = Person("U0E2ESUP001", "Sam Okoye")
MEMBERS = [
    Person(f"U0E2EMEM{i:03d}", name)
    for i, name in enumerate(
        [
            "Alex Brennan",
            "Jo Patel",
            "Chris Nwosu",
            "Lou Hughes",
            "Ray Iqbal",
            "Dee Walsh",
            "Kit Baker",
            "Vic Lowe",
        ],
        start=1,
    )
]
OUTSIDER = Person("U0E2EOUT001", "Pat Outside")

# (support, stress, belief, comment) per member who checks in.
ANSWERS = [
    (5, 2, 4, None),
    (4, 3, 4, None),
    (4, 2, 5, "Thanks for the cover on Tuesday, <@U0E2EMEM002>."),
    (3, 4, 3, None),
    (2, 5, 2, "Duty has been relentless."),
    (4, 3, None, None),
]


def modal_answers(
    support: int, stress: int, belief: int | None, comment: str | None
) -> dict[str, str | None]:
    return {
        AVAILABILITY: str(support),
        STRESS: str(stress),
        DOMAIN_ITEM: None if belief is None else str(belief),
        COMMENT: comment,
    }


def bands(values: list[int], scale: Scale) -> str:
    """How the pulse writes an item's bands, numbers first in the scale's words: "4 of 6 said
    most of the time or always (average 3.7 of 5); 1 said sometimes, 1 said rarely or never"."""
    low, middle, high = (sum(1 for v in values if v in band) for band in ((1, 2), (3,), (4, 5)))
    words = band_phrases(scale)
    return (
        f"{high} of {len(values)} said {words['high']} (average {sum(values) / len(values):.1f}"
        f" of 5); {middle} said {words['middle']}, {low} said {words['low']}"
    )


@pytest.fixture(params=["http", "socket_mode"])
def bot(
    request: pytest.FixtureRequest, database_url: str, clock: ManualClock
) -> Iterator[SandboxedBot]:
    socket_mode = request.param == "socket_mode"
    with SandboxedBot(database_url, clock, socket_mode=socket_mode) as running:
        running.add_people([SUPERVISOR, *MEMBERS, OUTSIDER])
        running.add_team(TEAM, "Duty and Assessment", [SUPERVISOR.user_id], ids(MEMBERS))
        everyone = [BOT_USER, SUPERVISOR.user_id, *ids(MEMBERS), OUTSIDER.user_id]
        running.sandbox.add_channel(WORKSPACE, GENERAL, "general", everyone)
        yield running


def ids(people: list[Person]) -> list[str]:
    return [person.user_id for person in people]


def next_monday_morning(clock: ManualClock) -> None:
    """On to 08:00 next Monday: last week has closed, this week's prompt is not out yet."""
    monday = week_containing(clock.now(), TZ).next().starts_at(TZ)
    clock.set(monday + timedelta(hours=8))


def open_answers(bot: SandboxedBot, channel: str) -> list[object]:
    """The team's check-ins this open week (opened with the operator's key)."""
    services = bot.runtime.services
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, channel)
    assert team is not None
    return list(unsealed(services.db, team, services.clock.now()))


def slash_reply(bot: SandboxedBot, user: str, command: str, text: str = "") -> Message:
    """Send a slash command and return the ephemeral reply it brought."""
    before = len(bot.sandbox.ephemerals(user))
    response = bot.driver.slash_command(user, TEAM, command, text)
    assert response.status_code == 200
    return wait_until(lambda: bot.sandbox.ephemerals(user)[before:], what=f"a reply to {command}")[
        0
    ]


def everything_in(message: Message) -> str:
    return message.text + json.dumps(message.blocks or [], ensure_ascii=False)


def test_the_weekly_loop_from_prompt_to_team_pulse(bot: SandboxedBot, clock: ManualClock) -> None:
    assert bot.runtime.delivery.run_due() == 2  # the channel prompt and the supervisor's DM
    assert bot.runtime.delivery.run_due() == 0  # and never twice
    posts = bot.sandbox.timeline(TEAM)
    assert len(posts) == 1
    blocks = posts[0].blocks or []
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].startswith("This week: ")
    sections = " ".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "*A question for us*" in sections
    assert "*Try this week*" in sections
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in buttons] == [(OPEN_CHECKIN, TEAM)]
    assert posts[0].text  # fallback text for notifications and screen readers

    reflections = bot.sandbox.dms(SUPERVISOR.user_id)
    assert len(reflections) == 1
    assert reflections[0].text.startswith("Your reflective questions this week")
    assert f"<#{TEAM}>" in everything_in(reflections[0])

    for member, answers in zip(MEMBERS, ANSWERS, strict=False):
        response = bot.check_in(member.user_id, TEAM, modal_answers(*answers))
        assert "is saved" in text_of(response.json()["view"]["blocks"])  # in the modal only

    # Wednesday 11:00: the midweek note goes to all 8 members, checked in or not.
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    assert bot.runtime.reminders.run_due() == len(MEMBERS)
    notes = [bot.sandbox.dms(member.user_id) for member in MEMBERS]
    # A week of check-ins left nothing in anyone's DMs but that one note, the same for all:
    # Slack's history cannot tell who checked in, or when.
    assert all(len(dms) == 1 for dms in notes), notes
    assert len({(dms[0].text, text_of(dms[0].blocks)) for dms in notes}) == 1
    assert notes[0][0].text.startswith("A midweek note")

    next_monday_morning(clock)
    pulse = slash_reply(bot, SUPERVISOR.user_id, "/teampulse")
    support = [a[0] for a in ANSWERS]
    stress = [a[1] for a in ANSWERS]
    assert "6 of 8 checked in" in pulse.text  # the 8 members: the supervisor is not counted
    assert f"support {sum(support) / 6:.1f} of 5" in pulse.text
    assert f"stress {sum(stress) / 6:.1f} of 5" in pulse.text
    shown = everything_in(pulse)
    library = default_library()
    assert bands(support, library.availability) in shown
    assert bands(stress, library.stress) in shown
    assert "never a reason to ask who didn't check in" in shown
    assert "Thanks for the cover on Tuesday, [someone]." in shown
    assert "Duty has been relentless." in shown
    for person in MEMBERS:
        assert person.user_id not in shown  # nobody's identity, not even a mention


def test_a_member_asking_for_the_team_pulse_is_refused_politely(
    bot: SandboxedBot, clock: ManualClock
) -> None:
    bot.runtime.delivery.run_due()
    for member, answers in zip(MEMBERS, ANSWERS, strict=False):
        bot.check_in(member.user_id, TEAM, modal_answers(*answers))
    next_monday_morning(clock)

    refusal = slash_reply(bot, MEMBERS[0].user_id, "/teampulse")
    assert "only for a team's practice supervisors" in refusal.text
    shown = everything_in(refusal)
    assert "answered" not in shown and "checked in" not in shown
    assert "3.7" not in shown and "3.2" not in shown
    assert not refusal.blocks
    with bot.runtime.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(PulseView)) == 0


def test_someone_in_no_team_is_told_kindly(bot: SandboxedBot) -> None:
    response = bot.driver.slash_command(OUTSIDER.user_id, GENERAL, "/checkin")
    assert response.status_code == 200
    reply = wait_until(lambda: bot.sandbox.ephemerals(OUTSIDER.user_id), what="a reply")
    assert "not in a team that uses Secure Base" in reply[0].text
    assert bot.sandbox.open_views(OUTSIDER.user_id) == []
    assert bot.sandbox.calls("views.open") == []


def test_a_member_of_two_teams_chooses_the_team_and_gets_its_modal(bot: SandboxedBot) -> None:
    both = MEMBERS[0]
    other_supervisor = Person("U0E2ESUP002", "Mo Fostering")
    bot.add_people([other_supervisor])
    bot.add_team(OTHER_TEAM, "Fostering", [other_supervisor.user_id], [both.user_id])
    assert bot.runtime.delivery.run_due() == 4  # both teams' prompts and supervisors' DMs
    dm = bot.sandbox.dm_channel_id(both.user_id)
    week = week_containing(bot.runtime.services.clock.now(), TZ).index

    assert bot.driver.slash_command(both.user_id, dm, "/checkin").status_code == 200
    chooser = wait_until(lambda: bot.sandbox.ephemerals(both.user_id), what="the chooser")[0]
    buttons = [e for b in chooser.blocks or [] if b["type"] == "actions" for e in b["elements"]]
    assert sorted((e["text"]["text"], e["value"]) for e in buttons) == [
        ("Duty and Assessment", TEAM),
        ("Fostering", OTHER_TEAM),
    ]
    assert bot.sandbox.open_views(both.user_id) == []

    fostering = next(e for e in buttons if e["value"] == OTHER_TEAM)
    bot.driver.click_button(
        both.user_id, fostering["action_id"], OTHER_TEAM, channel_id=dm, message_ts=chooser.ts
    )
    view = wait_until(lambda: bot.sandbox.open_views(both.user_id), what="the modal")[-1]
    assert json.loads(view["private_metadata"]) == {"channel": OTHER_TEAM, "week": week}
    assert "Private check-in for Fostering" in json.dumps(view["blocks"])
    sent = bot.driver.answer_modal(both.user_id, view["id"], modal_answers(3, 3, None, None))
    assert saved_view_title(sent) == SAVED_TITLE
    assert "Your check-in for Fostering is saved" in text_of(sent.json()["view"]["blocks"])
    assert bot.sandbox.dms(both.user_id) == []

    # One answer, in one team: the one chosen.
    assert [len(open_answers(bot, team)) for team in (TEAM, OTHER_TEAM)] == [0, 1]
    # In a team's own channel, /checkin is for that team: no question asked.
    metadata = bot.open_checkin(both.user_id, TEAM)["private_metadata"]
    assert json.loads(metadata) == {"channel": TEAM, "week": week}


def test_checkin_opens_the_modal_within_the_trigger_window_when_slack_is_slow(
    bot: SandboxedBot,
) -> None:
    bot.runtime.delivery.run_due()
    member = MEMBERS[1].user_id
    bot.sandbox.faults.slow("conversations.members", seconds=1.0)
    response = bot.driver.slash_command(member, TEAM, "/checkin")
    assert response.status_code == 200
    # The ack came back before the (slowed) work was done: Slack got its answer in time.
    assert bot.sandbox.open_views(member) == []
    view = wait_until(lambda: bot.sandbox.open_views(member), what="the modal")[-1]
    assert view["callback_id"] == "checkin"
    assert [c.error for c in bot.sandbox.calls("views.open")] == [None]


def test_app_home_shows_this_weeks_domain_and_a_checkin_button(bot: SandboxedBot) -> None:
    member = MEMBERS[2].user_id
    assert bot.driver.app_home_opened(member).status_code == 200
    home = wait_until(lambda: bot.sandbox.home_view(member) or {}, what="App Home")
    assert "this week is" in json.dumps(home["blocks"])
    buttons = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in buttons] == [(OPEN_CHECKIN, TEAM)]


def test_health_and_readiness_answer_200(bot: SandboxedBot) -> None:
    response = httpx.get(bot.base_url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    ready = httpx.get(bot.base_url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ok": True, "database": "ok", "slack": "ok"}
