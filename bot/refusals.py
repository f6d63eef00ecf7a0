"""The one mapping from Slack's failures to what a delivery does about them
(`practice.delivery.Refusal`): try again next sweep, or record it once and wait for an installer.
A module of its own, so that listeners and the scheduler's messenger alike can import it."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.oauth import NotInstalled
from practice.delivery import DeliveryError, Refusal

# Slack's error codes that no retry mends, by what an installer has to do about them.
REFUSALS: dict[str, Refusal] = {
    **dict.fromkeys(
        (
            "account_inactive",
            "invalid_auth",
            "not_authed",
            "token_revoked",
            "token_expired",
            "team_access_not_granted",
        ),
        Refusal.UNINSTALLED,
    ),
    **dict.fromkeys(("channel_not_found", "not_in_channel", "is_archived"), Refusal.NOT_IN_CHANNEL),
    **dict.fromkeys(
        ("missing_scope", "user_not_found", "user_disabled", "cannot_dm_bot"), Refusal.PERMANENT
    ),
}
NOT_INSTALLED = "not_installed"


def slack_failure(error: Exception) -> DeliveryError:
    """What a failed Slack call (or finding the workspace's token) means for a delivery."""
    if isinstance(error, NotInstalled):
        return DeliveryError(NOT_INSTALLED, Refusal.UNINSTALLED)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        return DeliveryError(code, REFUSALS.get(code, Refusal.TRANSIENT))
    return DeliveryError(type(error).__name__, Refusal.TRANSIENT)
