"""The Slack sandbox, driven through a real slack_sdk WebClient, and the SlackDriver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier

from sandbox import ModalAnswerError, SlackDriver, SlackSandbox, sign_request
from sandbox.spec import build_table, required_params

# The sandbox's methods from Slack's OpenAPI spec (its source: tests/data/README.md).
SPEC_FILE = Path(__file__).resolve().parent / "data" / "slack_web_openapi_v2_excerpt.json"
TEAM = "T0001"
BOT = "UBOT0001"
SECRET = "sandbox-signing-secret"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[SlackSandbox]:
    with SlackSandbox(time_source=clock) as sb:
        sb.add_workspace(TEAM, "Family Team", bot_token="xoxb-test", bot_user_id=BOT)
        sb.add_user(TEAM, "U1", "alice", "Alice Adams", tz="Europe/London")
        sb.add_user(TEAM, "U2", "bob", "Bob Brown", tz="America/New_York", is_admin=True)
        sb.add_user(TEAM, "U3", "carol", "Carol Cole", deleted=True)
        sb.add_channel(TEAM, "C1", "team", ["U1", "U2", BOT])
        sb.add_channel(TEAM, "C2", "elsewhere", ["U1"])
        sb.add_channel(TEAM, "G1", "secret", ["U1"], is_private=True)
        yield sb


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token="xoxb-test", base_url=sandbox.api_url, timeout=5)


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(exc.value.response["error"])


def modal(title: str = "Check-in", blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "checkin",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": blocks or [section("How are you?")],
    }


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(action_id: str, value: str, text: str = "Go") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": text},
    }


def radio_block() -> dict[str, Any]:
    def option(value: str, text: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "value": value}

    return {
        "type": "input",
        "block_id": "mood",
        "label": {"type": "plain_text", "text": "How was today?"},
        "element": {
            "type": "radio_buttons",
            "action_id": "mood_pick",
            "options": [option("good", "Good"), option("hard", "Hard")],
        },
    }


# -- messages ----------------------------------------------------------------------------------


def test_post_message_appears_in_the_channel_timeline(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    resp = client.chat_postMessage(channel="C1", text="hello team", blocks=[section("*hello*")])
    assert resp["channel"] == "C1"
    assert resp["message"]["bot_id"] == "B0001BOT"
    [message] = sandbox.timeline("C1")
    assert (message.ts, message.user, message.text) == (resp["ts"], BOT, "hello team")
    assert message.blocks is not None and message.blocks[0]["text"]["text"] == "*hello*"
    assert message.blocks[0]["block_id"]  # Slack fills in missing block_ids
    assert sandbox.rejected_calls() == []


def test_post_to_a_user_id_or_opened_dm_goes_to_their_dm(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    dm = client.conversations_open(users="U1")["channel"]["id"]
    assert dm.startswith("D")
    assert client.conversations_open(users="U1")["channel"]["id"] == dm  # stable
    client.chat_postMessage(channel=dm, text="one")
    assert client.chat_postMessage(channel="U1", text="two")["channel"] == dm
    assert [m.text for m in sandbox.dms("U1")] == ["one", "two"]
    assert sandbox.dms("U2") == []
    info = client.conversations_info(channel=dm)["channel"]
    assert info["is_im"] and info["user"] == "U1"


def test_channel_errors_for_missing_or_unjoined_channels(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1NOPE", text="x")
    assert error_of(exc) == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C2", text="x")
    assert error_of(exc) == "not_in_channel"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="G1", text="x")  # private channels are invisible
    assert error_of(exc) == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="U3")
    assert error_of(exc) == "user_disabled"


def test_ephemeral_and_update(sandbox: SlackSandbox, client: WebClient) -> None:
    ts = client.chat_postEphemeral(channel="C1", user="U2", text="only you")["message_ts"]
    [eph] = sandbox.ephemerals("U2")
    assert (eph.ts, eph.ephemeral_for, eph.channel) == (ts, "U2", "C1")
    assert sandbox.timeline("C1") == []
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel="C1", user="U3", text="x")
    assert error_of(exc) == "user_not_in_channel"

    posted = client.chat_postMessage(channel="C1", text="draft")
    client.chat_update(channel="C1", ts=posted["ts"], text="final")
    assert [m.text for m in sandbox.timeline("C1")] == ["final"]
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C1", ts="1.000001", text="x")
    assert error_of(exc) == "message_not_found"


def test_members_pagination(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.add_channel(TEAM, "C9", "big", [f"UM{i:03d}" for i in range(7)] + [BOT])
    members: list[str] = []
    cursor = None
    pages = 0
    while True:
        resp = client.conversations_members(channel="C9", limit=3, cursor=cursor)
        members += resp["members"]
        pages += 1
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert members == [f"UM{i:03d}" for i in range(7)] + [BOT]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_members(channel="C9", cursor="bm9wZQ==")
    assert error_of(exc) == "invalid_cursor"


def test_users_info_has_timezone_and_flags(client: WebClient) -> None:
    user = client.users_info(user="U2")["user"]
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert user["is_admin"] is True and user["is_bot"] is False and user["deleted"] is False
    assert client.users_info(user="U3")["user"]["deleted"] is True
    assert client.users_info(user=BOT)["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="UNOPE")
    assert error_of(exc) == "user_not_found"


def test_auth_test(client: WebClient) -> None:
    resp = client.auth_test()
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == (TEAM, BOT, "B0001BOT")
    assert resp["url"].startswith("https://")


def test_response_url_posts_become_messages(sandbox: SlackSandbox) -> None:
    url = sandbox.new_response_url(user_id="U1", channel_id="C1")
    assert httpx.post(url, json={"text": "just you"}).json() == {"ok": True}
    assert httpx.post(url, json={"text": "all", "response_type": "in_channel"}).status_code == 200
    assert [m.text for m in sandbox.ephemerals("U1")] == ["just you"]
    assert [m.text for m in sandbox.timeline("C1")] == ["all"]
    bad = httpx.post(url, json={"text": "x", "blocks": [{"type": "nope"}]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_blocks"
    assert [c.method for c in sandbox.rejected_calls()] == ["response_url"]


@pytest.mark.slow
def test_response_url_allows_five_uses_within_thirty_minutes(
    sandbox: SlackSandbox, clock: FakeClock
) -> None:
    url = sandbox.new_response_url(user_id="U1", channel_id="C1")
    assert [httpx.post(url, json={"text": str(i)}).status_code for i in range(6)] == [200] * 5 + [
        404
    ]
    late = sandbox.new_response_url(user_id="U1")
    clock.advance(31 * 60)
    assert httpx.post(late, json={"text": "late"}).json()["error"] == "expired_url"


def test_answers_to_says_whether_a_request_was_answered(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    """What a load generator reads to know a person has their answer: a view opened with the
    request's trigger, or the texts posted to its response_url."""
    trigger, url = sandbox.issue_trigger_id("U1"), sandbox.new_response_url("U1", "C1")
    assert sandbox.answers_to(trigger, url) == (False, [])
    httpx.post(url, json={"text": "busy, try again"})
    assert sandbox.answers_to(trigger, url) == (False, ["busy, try again"])
    client.views_open(trigger_id=trigger, view=modal())
    assert sandbox.answers_to(trigger, url) == (True, ["busy, try again"])
    assert sandbox.answers_to("unknown", url + "x") == (False, [])


def test_wait_until_wakes_on_calls_from_other_threads(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    go = threading.Event()

    def background_listener() -> None:
        go.wait(5)
        client.chat_postMessage(channel="U1", text="after ack")

    worker = threading.Thread(target=background_listener)
    worker.start()
    go.set()
    [message] = sandbox.wait_until(lambda: sandbox.dms("U1"), timeout=5)
    worker.join()
    assert message.text == "after ack"
    with pytest.raises(TimeoutError):
        sandbox.wait_until(lambda: sandbox.dms("U2"), timeout=0.05)


# -- views -------------------------------------------------------------------------------------


def test_views_open_with_valid_expired_unknown_and_reused_triggers(
    sandbox: SlackSandbox, client: WebClient, clock: FakeClock
) -> None:
    trigger = sandbox.issue_trigger_id("U1")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert [v["id"] for v in sandbox.open_views("U1")] == [view["id"]]

    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=trigger, view=modal())
    assert error_of(exc) == "exchanged_trigger_id"

    stale = sandbox.issue_trigger_id("U1")
    clock.advance(4)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=stale, view=modal())
    assert error_of(exc) == "expired_trigger_id"

    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id="123.456.nope", view=modal())
    assert error_of(exc) == "invalid_trigger_id"
    assert sandbox.rejected_calls() == []


def test_views_update_push_and_hash_conflict(sandbox: SlackSandbox, client: WebClient) -> None:
    view = client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=modal())["view"]
    updated = client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Step 2"))
    assert updated["view"]["id"] == view["id"]
    assert sandbox.open_views("U1")[0]["title"]["text"] == "Step 2"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=view["id"], hash=view["hash"], view=modal("Stale"))
    assert error_of(exc) == "hash_conflict"
    pushed = client.views_push(trigger_id=sandbox.issue_trigger_id("U1"), view=modal("More"))
    assert pushed["view"]["previous_view_id"] == view["id"]
    assert len(sandbox.open_views("U1")) == 2
    sandbox.close_view(view["id"])
    assert sandbox.open_views("U1") == []
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=view["id"], view=modal())
    assert error_of(exc) == "not_found"

    keyed = {**modal(), "external_id": "checkin-U1-w12"}
    opened = client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=keyed)["view"]
    by_external = client.views_update(
        external_id="checkin-U1-w12", view={**keyed, "blocks": [section("2")]}
    )
    assert by_external["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=sandbox.issue_trigger_id("U2"), view=keyed)
    assert error_of(exc) == "duplicate_external_id"


def test_views_publish_app_home(sandbox: SlackSandbox, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("Welcome home")]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    again = client.views_publish(user_id="U1", view=home, hash=first["hash"])["view"]
    assert first["id"] == again["id"]
    stored = sandbox.home_view("U1")
    assert stored is not None and stored["blocks"][0]["text"]["text"] == "Welcome home"
    with pytest.raises(SlackApiError) as exc:
        client.views_publish(user_id="U1", view=modal())
    assert error_of(exc) == "invalid_blocks"


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("51 blocks", [section("x")] * 51),
        (
            "duplicate action_id",
            [{"type": "actions", "elements": [button("a", "1"), button("a", "2")]}],
        ),
        ("unknown block type", [{"type": "carousel_of_doom"}]),
        ("section text as a bare string", [{"type": "section", "text": "hi"}]),
        (
            "header too long",
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        ),
        ("button text too long", [{"type": "actions", "elements": [button("b", "1", "t" * 76)]}]),
    ],
)
def test_invalid_message_blocks_are_rejected(
    sandbox: SlackSandbox, client: WebClient, kind: str, payload: list[dict[str, Any]]
) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text=kind, blocks=payload)
    assert error_of(exc) == "invalid_blocks"
    assert exc.value.response["errors"]
    assert sandbox.timeline("C1") == []
    [rejected] = sandbox.rejected_calls()
    assert rejected.error == "invalid_blocks" and rejected.messages


def test_invalid_views_are_rejected(sandbox: SlackSandbox, client: WebClient) -> None:
    bad_views = [
        modal(title="x" * 25),
        modal(blocks=[section("x")] * 101),
        modal(blocks=[{"type": "actions", "elements": [button("a", "1"), button("a", "2")]}]),
        {**modal(blocks=[radio_block()]), "submit": None},
        {**modal(), "private_metadata": "m" * 3001},
    ]
    for view in bad_views:
        with pytest.raises(SlackApiError) as exc:
            client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=view)
        assert error_of(exc) == "invalid_blocks", view
    assert len(sandbox.rejected_calls()) == len(bad_views)
    assert sandbox.open_views("U1") == []


def test_blocks_without_fallback_text_are_accepted_with_a_warning(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    with pytest.warns(UserWarning):  # slack_sdk itself warns too
        client.chat_postMessage(channel="C1", blocks=[section("no text")])
    [call] = sandbox.warned_calls("missing_fallback_text")
    assert call.ok and call.method == "chat.postMessage"
    assert sandbox.rejected_calls() == []


# -- request validation ------------------------------------------------------------------------


def test_missing_required_param(sandbox: SlackSandbox, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json={"text": "where to?"})
    assert exc.value.response.data == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required field: channel"]},
    }
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postEphemeral", params={"channel": "C1", "text": "hi"})
    assert exc.value.response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: user"
    ]
    assert [c.error for c in sandbox.rejected_calls()] == ["invalid_arguments"] * 2


def test_unknown_method_and_bad_tokens(sandbox: SlackSandbox) -> None:
    good = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    with pytest.raises(SlackApiError) as exc:
        good.api_call("chat.teleport")
    assert error_of(exc) == "unknown_method"
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-wrong", base_url=sandbox.api_url).auth_test()
    assert error_of(exc) == "invalid_auth"
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=sandbox.api_url).auth_test()
    assert error_of(exc) == "not_authed"
    # a form-encoded token parameter works too
    resp = httpx.post(sandbox.api_url + "auth.test", data={"token": "xoxb-test"})
    assert resp.json()["ok"] is True


def test_form_encoded_calls_with_json_fields(sandbox: SlackSandbox) -> None:
    form = {
        "token": "xoxb-test",
        "channel": "C1",
        "text": "form",
        "blocks": json.dumps([section("from a form")]),
    }
    assert httpx.post(sandbox.api_url + "chat.postMessage", data=form).json()["ok"] is True
    view = json.dumps(modal())
    trigger = sandbox.issue_trigger_id("U1")
    query = {"trigger_id": trigger, "view": view}
    resp = httpx.get(
        sandbox.api_url + "views.open", params=query, headers={"Authorization": "Bearer xoxb-test"}
    )
    assert resp.json()["view"]["callback_id"] == "checkin"
    bad = httpx.post(sandbox.api_url + "chat.postMessage", data={**form, "blocks": "[{"})
    assert bad.json()["error"] == "invalid_blocks_format"
    assert [m.text for m in sandbox.timeline("C1")] == ["form"]


def test_required_params_file_matches_slacks_spec() -> None:
    openapi = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    expected = {method: tuple(names) for method, names in build_table(openapi).items()}
    assert required_params() == expected
    assert required_params()["chat.postMessage"] == ("channel",)
    assert required_params()["files.getUploadURLExternal"] == ("filename", "length")


# -- files -------------------------------------------------------------------------------------


def test_file_upload_flow_end_to_end(sandbox: SlackSandbox, client: WebClient) -> None:
    content = b"week,score\n1,4\n2,5\n"
    resp = client.files_upload_v2(
        channel="C1",
        content=content,
        filename="trend.csv",
        title="Team trend",
        alt_txt="Scores rising from 4 to 5",
        initial_comment="This week's trend",
    )
    file_id = resp["file"]["id"]
    [stored] = sandbox.uploaded_files()
    assert (stored.id, stored.content, stored.title) == (file_id, content, "Team trend")
    assert stored.alt_txt == "Scores rising from 4 to 5"
    assert stored.shared_to == ["C1"]
    [share] = sandbox.timeline("C1")
    assert share.text == "This week's trend" and [f.id for f in share.files] == [file_id]
    assert [c.method for c in sandbox.calls()] == [
        "files.getUploadURLExternal",
        "files.upload",
        "files.completeUploadExternal",
    ]


# -- oauth -------------------------------------------------------------------------------------


def test_oauth_install_and_token_rotation(sandbox: SlackSandbox, clock: FakeClock) -> None:
    sandbox.add_workspace("T0002", "Other Team", installed=False)
    sandbox.configure_oauth("cid", "csecret", token_rotation=True, expires_in=60)
    anonymous = WebClient(base_url=sandbox.api_url)
    code = sandbox.issue_oauth_code("T0002", "U77")
    with pytest.raises(SlackApiError) as exc:
        anonymous.oauth_v2_access(client_id="cid", client_secret="wrong", code=code)
    assert error_of(exc) == "bad_client_secret"
    install = anonymous.oauth_v2_access(client_id="cid", client_secret="csecret", code=code)
    assert install["team"]["id"] == "T0002" and install["authed_user"]["id"] == "U77"
    assert install["bot_user_id"] == "UBOT0002" and install["expires_in"] == 60
    bot = WebClient(token=install["access_token"], base_url=sandbox.api_url)
    assert bot.auth_test()["team_id"] == "T0002"
    with pytest.raises(SlackApiError) as exc:
        anonymous.oauth_v2_access(client_id="cid", client_secret="csecret", code=code)
    assert error_of(exc) == "invalid_code"

    clock.advance(61)
    with pytest.raises(SlackApiError) as exc:
        bot.auth_test()
    assert error_of(exc) == "token_expired"
    refreshed = anonymous.oauth_v2_access(
        client_id="cid",
        client_secret="csecret",
        grant_type="refresh_token",
        refresh_token=install["refresh_token"],
    )
    fresh = WebClient(token=refreshed["access_token"], base_url=sandbox.api_url)
    assert fresh.auth_test()["team_id"] == "T0002"


# -- faults ------------------------------------------------------------------------------------


def test_rate_limit_sends_retry_after_and_the_retry_handler_recovers(
    sandbox: SlackSandbox, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.faults.rate_limit("chat.postMessage", retry_after=7, times=1)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert error_of(exc) == "ratelimited"

    slept: list[float] = []
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=slept.append))
    sandbox.faults.rate_limit("chat.postMessage", channel="C1", retry_after=3, times=2)
    patient = WebClient(
        token="xoxb-test",
        base_url=sandbox.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
    )
    assert patient.chat_postMessage(channel="C1", text="finally")["ok"]
    assert len(slept) == 2 and all(3 <= s < 4 for s in slept)  # honoured Retry-After
    statuses = [c.http_status for c in sandbox.calls("chat.postMessage")]
    assert statuses == [429, 429, 429, 200]
    assert sandbox.rejected_calls() == []
    assert all(c.injected for c in sandbox.calls() if not c.ok)


def test_server_error_then_success_with_retry_handler(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    sandbox.faults.server_error("chat.postMessage", status=500, times=1)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 500

    sandbox.faults.server_error("chat.postMessage", status=503, times=1)
    retrying = WebClient(
        token="xoxb-test",
        base_url=sandbox.api_url,
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=2, interval_calculator=FixedValueRetryIntervalCalculator(0.0)
            )
        ],
    )
    assert retrying.chat_postMessage(channel="C1", text="through")["ok"]
    assert [c.http_status for c in sandbox.calls("chat.postMessage")] == [500, 503, 200]
    assert [m.text for m in sandbox.timeline("C1")] == ["through"]


def test_slow_and_channel_error_faults(sandbox: SlackSandbox, client: WebClient) -> None:
    sandbox.faults.slow("auth.test", seconds=0.2, times=1)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.2

    sandbox.faults.channel_error("C1", "account_inactive", times=1)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert error_of(exc) == "account_inactive"
    assert client.chat_postMessage(channel="C1", text="ok")["ok"]

    sandbox.faults.channel_error("U1", "channel_not_found")  # a user's DM, by user id
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="U1", text="x")
    sandbox.faults.clear()
    assert client.chat_postMessage(channel="U1", text="x")["ok"]
    assert sandbox.rejected_calls() == []


def test_enforced_limits_per_channel_and_per_workspace(
    sandbox: SlackSandbox, client: WebClient, clock: FakeClock
) -> None:
    sandbox.faults.enforce_limits(per_channel_per_second=1.0, burst=2)
    client.chat_postMessage(channel="C1", text="1")
    client.chat_postMessage(channel="C1", text="2")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="3")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "1"
    client.chat_postMessage(channel="U1", text="other channel is fine")
    clock.advance(1.0)
    client.chat_postMessage(channel="C1", text="3 again")

    sandbox.faults.enforce_limits(per_channel_per_second=100, burst=100, workspace_per_minute=2)
    client.auth_test()
    client.auth_test()
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "30"  # 1 call per 30 s refills


# -- driver ------------------------------------------------------------------------------------


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.form()["payload"])
        return result


@dataclass
class FakeBot:
    """A stand-in for the bot's HTTP endpoint that records what it receives."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    reply_status: int = 200
    reply_body: bytes = b""


@pytest.fixture
def bot() -> Iterator[FakeBot]:
    fake = FakeBot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            self.send_response(fake.reply_status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.reply_body)))
            self.end_headers()
            self.wfile.write(fake.reply_body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def driver(bot: FakeBot, sandbox: SlackSandbox) -> Iterator[SlackDriver]:
    with SlackDriver(bot.url, SECRET, sandbox) as d:
        yield d


def test_driver_signs_like_slack(bot: FakeBot, driver: SlackDriver) -> None:
    driver.slash_command("U1", "C1", "/checkin", "now")
    [request] = bot.requests
    ts = request.headers["X-Slack-Request-Timestamp"]
    signature = request.headers["X-Slack-Signature"]
    assert SignatureVerifier(SECRET).is_valid(request.body, ts, signature)
    assert signature == sign_request(SECRET, ts, request.body)
    assert not SignatureVerifier("other-secret").is_valid(request.body, ts, signature)

    driver.url_verification(timestamp=12345, signature="v0=forged", retry_num=1)
    forged = bot.requests[-1]
    assert forged.headers["X-Slack-Request-Timestamp"] == "12345"
    assert forged.headers["X-Slack-Signature"] == "v0=forged"
    assert forged.headers["X-Slack-Retry-Num"] == "1"
    assert forged.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert json.loads(forged.body)["type"] == "url_verification"


def test_slash_command_payload(bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox) -> None:
    driver.slash_command("U1", "C1", "/checkin", "weekly")
    form = bot.requests[0].form()
    assert bot.requests[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form["command"] == "/checkin" and form["text"] == "weekly"
    assert (form["user_id"], form["user_name"], form["channel_name"]) == ("U1", "alice", "team")
    assert form["team_id"] == TEAM and form["api_app_id"] == sandbox.app_id
    assert form["is_enterprise_install"] == "false"
    client = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    assert client.views_open(trigger_id=form["trigger_id"], view=modal())["ok"]
    httpx.post(form["response_url"], json={"text": "got it"})
    assert [m.text for m in sandbox.ephemerals("U1")] == ["got it"]


def test_click_button_in_a_message(
    bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    client = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    blocks = [section("Ready?"), {"type": "actions", "elements": [button("start", "go")]}]
    ts = client.chat_postMessage(channel="C1", text="Ready?", blocks=blocks)["ts"]
    driver.click_button("U1", "start", "go", channel_id="C1", message_ts=ts)
    payload = bot.requests[0].payload()
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == ts and payload["channel"]["id"] == "C1"
    [action] = payload["actions"]
    assert (action["action_id"], action["value"], action["type"]) == ("start", "go", "button")
    assert action["block_id"] == sandbox.timeline("C1")[0].blocks[1]["block_id"]  # type: ignore[index]
    httpx.post(payload["response_url"], json={"text": "Started", "replace_original": True})
    assert [m.text for m in sandbox.timeline("C1")] == ["Started"]
    with pytest.raises(LookupError):
        driver.click_button("U1", "missing", "go", channel_id="C1", message_ts=ts)


def test_answer_modal_builds_radio_state_and_rejects_unknown_options(
    bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    client = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    note = {
        "type": "input",
        "block_id": "note",
        "optional": True,
        "label": {"type": "plain_text", "text": "Anything else?"},
        "element": {"type": "plain_text_input", "action_id": "note_text"},
    }
    view = client.views_open(
        trigger_id=sandbox.issue_trigger_id("U1"),
        view={**modal(blocks=[radio_block(), note]), "private_metadata": "week-12"},
    )["view"]

    with pytest.raises(ModalAnswerError):
        driver.answer_modal("U1", view["id"], {"mood": "ecstatic"})
    with pytest.raises(ModalAnswerError):
        driver.answer_modal("U1", view["id"], {"note": "no mood given"})  # mood is required
    assert bot.requests == []

    bot.reply_status, bot.reply_body = 200, b'{"response_action":"errors","errors":{"note":"?"}}'
    driver.answer_modal("U1", view["id"], {"mood": "hard", "note": "long day"})
    submitted = bot.requests[-1].payload()
    assert submitted["type"] == "view_submission"
    assert submitted["view"]["id"] == view["id"]
    assert submitted["view"]["private_metadata"] == "week-12"
    assert submitted["view"]["callback_id"] == "checkin"
    assert submitted["view"]["state"]["values"] == {
        "mood": {
            "mood_pick": {
                "type": "radio_buttons",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Hard"},
                    "value": "hard",
                },
            }
        },
        "note": {"note_text": {"type": "plain_text_input", "value": "long day"}},
    }
    assert sandbox.view_is_open(view["id"])  # "errors" keeps the modal open

    bot.reply_body = b""
    driver.answer_modal("U1", view["id"], {"mood": "good"})
    assert bot.requests[-1].payload()["view"]["state"]["values"]["note"] == {
        "note_text": {"type": "plain_text_input", "value": None}
    }
    assert sandbox.open_views("U1") == []  # an empty 200 closes it
    assert sandbox.rejected_calls() == []


def test_view_submission_update_reply_replaces_the_view(
    bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    client = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    view = client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=modal())["view"]
    bot.reply_body = json.dumps({"response_action": "update", "view": modal("Thanks")}).encode()
    driver.submit_view("U1", view["id"], {})
    [open_view] = sandbox.open_views("U1")
    assert open_view["id"] == view["id"] and open_view["title"]["text"] == "Thanks"

    bot.reply_body = json.dumps({"response_action": "update", "view": modal("t" * 30)}).encode()
    driver.submit_view("U1", view["id"], {})
    [rejected] = sandbox.rejected_calls()
    assert rejected.method == "view_submission" and rejected.error == "invalid_blocks"


def test_app_home_opened_event(bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox) -> None:
    driver.app_home_opened("U1")
    request = bot.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert body["type"] == "event_callback" and body["team_id"] == TEAM
    assert body["api_app_id"] == sandbox.app_id and body["event_id"].startswith("Ev")
    assert isinstance(body["event_time"], int)
    event = body["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", "U1", "home")
    assert event["channel"] == sandbox.dm_channel_id("U1")


def test_close_modal_sends_view_closed_when_asked(
    bot: FakeBot, driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    client = WebClient(token="xoxb-test", base_url=sandbox.api_url)
    quiet = client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=modal())["view"]
    assert driver.close_modal("U1", quiet["id"]) is None
    noisy = {**modal(), "notify_on_close": True}
    view = client.views_open(trigger_id=sandbox.issue_trigger_id("U1"), view=noisy)["view"]
    driver.close_modal("U1", view["id"])
    payload = bot.requests[-1].payload()
    assert payload["type"] == "view_closed" and payload["view"]["id"] == view["id"]
    assert sandbox.open_views("U1") == []
    with pytest.raises(LookupError):
        driver.submit_view("U1", view["id"], {})
