"""Every Web API call the bot makes must pass the sandbox's checks.

`SandboxedBot` enforces this on leaving its `with` block (`assert_clean`), so every test that
runs the bot checks it for the calls made during that test; these tests check the check.
"""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandboxed import BOT_TOKEN, BOT_USER, SandboxedBot, assert_clean
from practice.clock import ManualClock


def malformed_call(bot: SandboxedBot) -> None:
    """A call with a block Slack would refuse, made with the bot's own token."""
    client = WebClient(token=BOT_TOKEN, base_url=bot.sandbox.api_url)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0CONTRACT1", text="hi", blocks=[{"type": "nonsense"}])


def test_leaving_the_bot_fails_when_a_call_was_rejected(
    database_url: str, clock: ManualClock
) -> None:
    rejected = pytest.raises(AssertionError, match=r"rejected 1 call\(s\): chat\.postMessage")
    with rejected, SandboxedBot(database_url, clock) as running:
        running.sandbox.add_channel("T0SANDBOX1", "C0CONTRACT1", "contract", [BOT_USER])
        malformed_call(running)


def test_a_test_that_expects_rejections_can_say_so(database_url: str, clock: ManualClock) -> None:
    with SandboxedBot(database_url, clock, expect_rejections=True) as running:
        running.sandbox.add_channel("T0SANDBOX1", "C0CONTRACT1", "contract", [BOT_USER])
        malformed_call(running)
    assert len(running.sandbox.rejected_calls()) == 1


@pytest.mark.slow
def test_an_error_inside_the_block_is_not_hidden_by_the_check(
    database_url: str, clock: ManualClock
) -> None:
    with (
        pytest.raises(KeyError, match="the test's own error"),
        SandboxedBot(database_url, clock) as running,
    ):
        running.sandbox.add_channel("T0SANDBOX1", "C0CONTRACT1", "contract", [BOT_USER])
        malformed_call(running)
        raise KeyError("the test's own error")


def test_a_clean_run_passes_and_faults_are_not_rejections(
    database_url: str, clock: ManualClock
) -> None:
    with SandboxedBot(database_url, clock) as running:
        running.sandbox.faults.server_error("auth.test", status=503, times=1)
        client = WebClient(token=BOT_TOKEN, base_url=running.sandbox.api_url)
        with pytest.raises(SlackApiError):
            client.auth_test()
        assert client.auth_test()["ok"]
    assert_clean(running.sandbox)
