"""Listeners are plain module-level functions of what Bolt hands them: each one can be called
here with a context made by hand (the services the middleware would put there), a fake `ack`
and `respond`, and a client that records what it was asked — no server, no sandbox."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt import BoltContext
from sqlalchemy import select

from bot.handlers import admin, app_home, chart, checkin, teampulse, uninstall
from bot.handlers.wiring import provide, services_of
from bot.services import Services
from bot.settings import load_settings
from practice.clock import ManualClock
from storage.db import Database
from storage.models import PulseView
from storage.teams import TeamSpec, add_team, get_team

WORKSPACE, CHANNEL = "T0LISTEN1", "C0LISTEN1"
SUPERVISOR, MEMBER, OUTSIDER = "U0LSUP001", "U0LMEM001", "U0LOUT001"


@dataclass
class Recorder:
    """Stands in for Bolt's `ack` and `respond`: remembers every call's keywords."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@dataclass
class FakeClient:
    """The few Web API methods these listeners use, answered from a channel's member list."""

    channel_members: list[str]
    published: list[dict[str, Any]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)

    def conversations_members(self, **_kwargs: Any) -> dict[str, Any]:
        return {"members": self.channel_members, "response_metadata": {"next_cursor": ""}}

    def views_publish(self, **kwargs: Any) -> None:
        self.published.append(kwargs)

    def chat_postMessage(self, **kwargs: Any) -> None:
        self.posted.append(kwargs)

    def users_info(self, user: str) -> dict[str, Any]:
        return {"user": {"id": user, "is_admin": False}}


@pytest.fixture
def services(db: Database, clock: ManualClock) -> Iterator[Services]:
    with db.session() as session:
        add_team(
            session,
            TeamSpec(WORKSPACE, CHANNEL, "Duty team", (SUPERVISOR,)),
            clock.now(),
        )
    yield Services.create(load_settings({}, need_slack=False), db, clock)


def context_for(services: Services) -> BoltContext:
    """The context Bolt would build for a request from WORKSPACE, after our middleware."""
    context = BoltContext({"team_id": WORKSPACE})
    provide(services)(context, lambda: None)
    return context


def looks(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(v.viewer_id, v.surface) for v in session.scalars(select(PulseView))]


def command(user: str, text: str = "") -> dict[str, Any]:
    return {"user_id": user, "channel_id": CHANNEL, "team_id": WORKSPACE, "text": text}


def test_the_middleware_puts_the_services_in_the_context(services: Services) -> None:
    assert services_of(context_for(services)) is services
    with pytest.raises(LookupError):
        services_of(BoltContext({}))


def test_a_lazy_listeners_copy_of_the_context_shares_the_same_services(
    services: Services,
) -> None:
    """Bolt deep-copies a request's context for lazy listeners: the services (database engine,
    clock, caches) must come through as the very same objects, not copies."""
    copied = copy.deepcopy(context_for(services))
    assert services_of(copied) is services


def test_teampulse_tells_someone_who_supervises_nothing_and_reads_nothing(
    services: Services,
) -> None:
    ack, respond = Recorder(), Recorder()
    client = FakeClient([MEMBER])
    teampulse.teampulse(ack, command(MEMBER), respond, client, context_for(services))
    assert ack.calls == [{}]
    assert respond.calls == [{"text": teampulse.NOT_SUPERVISOR, "response_type": "ephemeral"}]
    assert looks(services.db) == []


def test_teampulse_shows_a_supervisor_the_picture_and_logs_the_look(services: Services) -> None:
    respond = Recorder()
    client = FakeClient([MEMBER])
    teampulse.teampulse(
        Recorder(), command(SUPERVISOR, "12"), respond, client, context_for(services)
    )
    [reply] = respond.calls
    assert reply["response_type"] == "ephemeral" and "Duty team" in reply["text"]
    assert looks(services.db) == [(SUPERVISOR, "/teampulse")]


def test_teampulse_answers_what_it_does_not_understand_with_its_usage(
    services: Services,
) -> None:
    respond = Recorder()
    teampulse.teampulse(
        Recorder(), command(SUPERVISOR, "banana"), respond, FakeClient([]), context_for(services)
    )
    [reply] = respond.calls
    assert reply["text"].startswith("Sorry, I didn't understand “banana”.")
    assert teampulse.USAGE in reply["text"]
    assert looks(services.db) == []


def test_the_view_log_is_refused_to_someone_outside_the_team(services: Services) -> None:
    respond = Recorder()
    body = {
        "user": {"id": OUTSIDER, "team_id": WORKSPACE},
        "actions": [{"value": f'{{"channel": "{CHANNEL}", "page": 2}}'}],
    }
    teampulse.turn_page(Recorder(), body, FakeClient([MEMBER]), context_for(services), respond)
    assert respond.calls == [
        {"text": teampulse.NOT_THIS_TEAM, "response_type": "ephemeral", "replace_original": False}
    ]


def test_a_member_reads_the_view_log_of_their_team(services: Services) -> None:
    respond = Recorder()
    client = FakeClient([MEMBER])
    teampulse.teampulse(Recorder(), command(MEMBER, "log"), respond, client, context_for(services))
    [reply] = respond.calls
    assert reply["text"].startswith("*Who has looked at Duty team's results*")


def test_the_home_tab_of_a_member_is_published_without_a_look(services: Services) -> None:
    client = FakeClient([MEMBER])
    app_home.opened({"user": MEMBER, "tab": "home"}, client, context_for(services))
    [published] = client.published
    assert published["user_id"] == MEMBER
    assert "Duty team" in str(published["view"])
    assert looks(services.db) == []


def test_a_supervisors_home_tab_is_a_look(services: Services) -> None:
    client = FakeClient([MEMBER])
    app_home.opened({"user": SUPERVISOR}, client, context_for(services))
    assert len(client.published) == 1
    assert looks(services.db) == [(SUPERVISOR, "App Home")]


def test_the_chart_button_refuses_someone_who_does_not_supervise_the_team(
    services: Services,
) -> None:
    client = FakeClient([MEMBER])
    body = {"user": {"id": MEMBER, "team_id": WORKSPACE}, "actions": [{"value": CHANNEL}]}
    chart.send_from_home(Recorder(), body, client, context_for(services))
    assert client.posted == [{"channel": MEMBER, "text": chart.NOT_SUPERVISOR}]
    assert looks(services.db) == []


def test_checkin_tells_someone_in_no_team_so_and_opens_no_form(services: Services) -> None:
    ack, respond = Recorder(), Recorder()
    client = FakeClient([MEMBER])
    body = command(OUTSIDER) | {"trigger_id": "trigger"}
    checkin.checkin_command(ack, body, client, respond, context_for(services))
    assert ack.calls == [{}]
    assert respond.calls == [{"text": checkin.NO_TEAM, "response_type": "ephemeral"}]


def test_an_uninstall_pauses_the_workspaces_teams(services: Services) -> None:
    uninstall.uninstalled({"team_id": WORKSPACE}, context_for(services))
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, CHANNEL)
        assert team is not None and team.paused


def test_securebase_refuses_someone_who_is_neither_admin_nor_the_teams_supervisor(
    services: Services,
) -> None:
    respond = Recorder()
    body = command(MEMBER, "pause") | {"trigger_id": "trigger"}
    admin.securebase(Recorder(), body, FakeClient([MEMBER]), respond, context_for(services))
    assert respond.calls == [{"text": admin.REFUSE_TEAM, "response_type": "ephemeral"}]
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, CHANNEL)
        assert team is not None and not team.paused


def test_securebase_lets_the_teams_supervisor_pause_it(services: Services) -> None:
    respond = Recorder()
    body = command(SUPERVISOR, "pause") | {"trigger_id": "trigger"}
    admin.securebase(Recorder(), body, FakeClient([MEMBER]), respond, context_for(services))
    [reply] = respond.calls
    assert reply["text"].startswith("Prompts for Duty team are paused.")
    with services.db.session() as session:
        team = get_team(session, WORKSPACE, CHANNEL)
        assert team is not None and team.paused


def test_securebase_in_a_direct_message_asks_for_the_teams_channel(services: Services) -> None:
    respond = Recorder()
    body = command(SUPERVISOR) | {"channel_id": "D0DIRECT1", "trigger_id": "trigger"}
    admin.securebase(Recorder(), body, FakeClient([]), respond, context_for(services))
    assert respond.calls == [{"text": admin.NOT_HERE, "response_type": "ephemeral"}]
