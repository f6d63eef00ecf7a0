"""The one mapping from Slack's failures to what a delivery does about them."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.oauth import NotInstalled
from bot.refusals import slack_failure
from practice.delivery import Refusal


def refused(code: str | None, status: int = 200) -> SlackApiError:
    data = {"ok": False} if code is None else {"ok": False, "error": code}
    response = SlackResponse(
        client=WebClient(),
        http_verb="POST",
        api_url="https://slack.test/api/chat.postMessage",
        req_args={},
        data=data,
        headers={},
        status_code=status,
    )
    return SlackApiError("refused", response)


@pytest.mark.parametrize(
    ("code", "refusal"),
    [
        ("account_inactive", Refusal.UNINSTALLED),
        ("invalid_auth", Refusal.UNINSTALLED),
        ("token_revoked", Refusal.UNINSTALLED),
        ("channel_not_found", Refusal.NOT_IN_CHANNEL),
        ("not_in_channel", Refusal.NOT_IN_CHANNEL),
        ("is_archived", Refusal.NOT_IN_CHANNEL),
        ("missing_scope", Refusal.PERMANENT),
        ("cannot_dm_bot", Refusal.PERMANENT),
        ("ratelimited", Refusal.TRANSIENT),
        ("fatal_error", Refusal.TRANSIENT),
    ],
)
def test_slack_error_codes(code: str, refusal: Refusal) -> None:
    error = slack_failure(refused(code))
    assert (error.code, error.refusal) == (code, refusal)
    assert error.permanent is (refusal is not Refusal.TRANSIENT)


def test_a_lost_install_is_an_uninstalled_workspace() -> None:
    error = slack_failure(NotInstalled("no install for T1"))
    assert (error.code, error.refusal) == ("not_installed", Refusal.UNINSTALLED)


def test_an_answer_without_a_code_and_a_dropped_connection_are_transient() -> None:
    assert slack_failure(refused(None, 503)).code == "http_503"
    assert slack_failure(refused(None, 503)).refusal is Refusal.TRANSIENT
    dropped = slack_failure(ConnectionResetError("reset"))
    assert (dropped.code, dropped.refusal) == ("ConnectionResetError", Refusal.TRANSIENT)
