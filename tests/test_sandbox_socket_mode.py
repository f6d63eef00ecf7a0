"""The sandbox's Socket Mode, checked against what Slack does, with a bare WebSocket client in
place of the bot: who may open a link, the hello, the envelopes' shape, the 3-second ack,
acks with a payload, and Slack asking for a reconnection or dropping the link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from sandbox.socket_mode import ACK_SECONDS, NoLink, NotAcknowledged
from sandbox.webapi import SlackSandbox

BOT_TOKEN = "xoxb-socket-test"


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as running:
        running.add_workspace("T0SOCKET01", bot_token=BOT_TOKEN)
        yield running


def open_url(sandbox: SlackSandbox, token: str) -> str:
    client = WebClient(token=token, base_url=sandbox.api_url)
    return str(client.apps_connections_open(app_token=token)["url"])


@contextmanager
def link(sandbox: SlackSandbox) -> Iterator[tuple[ClientConnection, dict[str, Any]]]:
    """A link as the bot opens one, with the hello it got."""
    with connect(open_url(sandbox, sandbox.add_app_token())) as connection:
        yield connection, json.loads(connection.recv(timeout=5))


def test_only_an_app_token_opens_a_link(sandbox: SlackSandbox) -> None:
    url = open_url(sandbox, sandbox.add_app_token("xapp-1-A0SANDBOX01-1-abc"))
    assert url.startswith(f"ws://127.0.0.1:{sandbox.socket_mode.port}/link/?ticket=")
    assert url.endswith(f"&app_id={sandbox.app_id}")

    errors = {}
    for token in (BOT_TOKEN, "xapp-1-A0SANDBOX01-1-unknown"):
        with pytest.raises(SlackApiError) as refused:
            WebClient(base_url=sandbox.api_url).apps_connections_open(app_token=token)
        errors[token] = refused.value.response["error"]
    assert errors == {
        BOT_TOKEN: "not_allowed_token_type",
        "xapp-1-A0SANDBOX01-1-unknown": "invalid_auth",
    }
    # An app token is no good for the Web API's workspace methods either.
    with pytest.raises(SlackApiError) as wrong_kind:
        WebClient(token="xapp-1-A0SANDBOX01-1-abc", base_url=sandbox.api_url).auth_test()
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"


def test_a_ticket_opens_one_link_only(sandbox: SlackSandbox) -> None:
    url = open_url(sandbox, sandbox.add_app_token())
    with connect(url):
        pass
    with pytest.raises(InvalidStatus) as refused:
        connect(url)
    assert refused.value.response.status_code == 401


def test_hello_then_envelopes_shaped_as_slacks(sandbox: SlackSandbox) -> None:
    with link(sandbox) as (connection, hello):
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": sandbox.app_id}
        assert set(hello["debug_info"]) == {"host", "build_number", "approximate_connection_time"}
        envelope_id = sandbox.socket_mode.post("events_api", {"type": "event_callback"})
        event = json.loads(connection.recv(timeout=5))
        assert event == {
            "envelope_id": envelope_id,
            "payload": {"type": "event_callback"},
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        connection.send(json.dumps({"envelope_id": envelope_id}))
        assert sandbox.socket_mode.acknowledged(envelope_id).ack_payload is None

        kinds = [
            ("slash_commands", {"command": "/checkin"}, True),
            ("interactive", {"type": "view_submission"}, True),
            ("interactive", {"type": "block_actions"}, False),
        ]
        for kind, payload, accepts in kinds:
            sent = sandbox.socket_mode.post(kind, payload)
            frame = json.loads(connection.recv(timeout=5))
            assert frame["type"] == kind
            assert frame["accepts_response_payload"] is accepts
            assert "retry_attempt" not in frame  # only events carry it on a first delivery
            connection.send(json.dumps({"envelope_id": sent}))
        redelivered = sandbox.socket_mode.post(
            "slash_commands", {"command": "/checkin"}, retry_attempt=1, retry_reason="timeout"
        )
        frame = json.loads(connection.recv(timeout=5))
        assert (frame["retry_attempt"], frame["retry_reason"]) == (1, "timeout")
        assert frame["envelope_id"] == redelivered != sent  # a new envelope, the same payload
        connection.send(json.dumps({"envelope_id": redelivered}))
    assert sandbox.socket_mode.problems() == []


def test_an_ack_can_carry_the_answer_slack_reads(sandbox: SlackSandbox) -> None:
    answer = {"response_action": "update", "view": {"type": "modal"}}
    with link(sandbox) as (connection, _):
        sent = sandbox.socket_mode.post("interactive", {"type": "view_submission"})
        connection.recv(timeout=5)
        connection.send(json.dumps({"envelope_id": sent, "payload": answer}))
        assert sandbox.socket_mode.acknowledged(sent).ack_payload == answer
        # A payload on an envelope that takes none is something Slack would not accept.
        clicked = sandbox.socket_mode.post("interactive", {"type": "block_actions"})
        connection.recv(timeout=5)
        connection.send(json.dumps({"envelope_id": clicked, "payload": {"text": "hi"}}))
        sandbox.socket_mode.acknowledged(clicked)
    assert len(sandbox.socket_mode.problems()) == 1
    assert "carries a payload" in sandbox.socket_mode.problems()[0]


def test_no_ack_within_three_seconds_is_a_failure_and_a_late_one_a_problem() -> None:
    now = [1000.0]
    with SlackSandbox(time_source=lambda: now[0]) as sandbox:
        sandbox.add_workspace("T0SOCKET01", bot_token=BOT_TOKEN)
        with link(sandbox) as (connection, _):
            with pytest.raises(NotAcknowledged) as unanswered:
                sandbox.socket_mode.send("slash_commands", {"command": "/teampulse"}, timeout=0.2)
            late = unanswered.value.envelope
            connection.recv(timeout=5)
            now[0] += ACK_SECONDS + 1
            connection.send(json.dumps({"envelope_id": "not-one-we-sent"}))
            connection.send("not json")
            connection.send(json.dumps({"envelope_id": late.envelope_id}))
            assert sandbox.socket_mode.acknowledged(late.envelope_id).ack_seconds == 4.0
        problems = sandbox.socket_mode.problems()
    assert len(problems) == 3
    assert "unknown envelope not-one-we-sent" in problems[0]
    assert "not an ack" in problems[1]
    assert "acknowledged after 4.0 s (Slack waits 3 s)" in problems[2]


def test_disconnect_asks_for_a_new_link_then_closes_the_old(sandbox: SlackSandbox) -> None:
    with link(sandbox) as (old, _):
        sandbox.socket_mode.disconnect("link_disabled", grace=0.2)
        message = json.loads(old.recv(timeout=5))
        assert message == {
            "type": "disconnect",
            "reason": "link_disabled",
            "debug_info": {"host": message["debug_info"]["host"]},
        }
        with pytest.raises(NoLink):  # nothing new goes to a link told to go
            sandbox.socket_mode.post("events_api", {})
        with link(sandbox) as (new, hello):
            assert hello["num_connections"] == 2
            with pytest.raises(ConnectionClosed):
                old.recv(timeout=5)  # closed by Slack after the grace period
            sandbox.socket_mode.wait_for_links(1)
            sent = sandbox.socket_mode.post("events_api", {})
            assert json.loads(new.recv(timeout=5))["envelope_id"] == sent


def test_drop_closes_every_link(sandbox: SlackSandbox) -> None:
    with link(sandbox) as (connection, _):
        assert sandbox.socket_mode.links() == 1
        sandbox.socket_mode.drop()
        with pytest.raises(ConnectionClosed):
            connection.recv(timeout=5)
        assert connection.close_code == 1001
    sandbox.wait_until(lambda: sandbox.socket_mode.links() == 0)
    with pytest.raises(NoLink):
        sandbox.socket_mode.post("events_api", {})
