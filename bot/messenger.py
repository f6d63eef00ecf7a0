"""The scheduler's Messenger, on Slack's Web API.

Transient trouble (429, 5xx, dropped connections) is retried inside slack_sdk by the client's
retry handlers (bot.app.web_client). What still fails is sorted here: errors no retry can mend
are permanent, recorded once in the ledger and shown by `securebase team list`; the rest give
the claim back for the next sweep.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import metrics
from bot.membership import WorkspaceBots
from bot.oauth import NotInstalled
from bot.render.prompt import supervisor_reflections, weekly_prompt
from bot.services import Services
from scheduler.messenger import DeliveryError
from storage.models import Team

# Errors that will not mend themselves by trying again; an installer has to act.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "team_access_not_granted",
    }
)


def _failure(error: Exception) -> DeliveryError:
    if isinstance(error, NotInstalled):
        return DeliveryError("not_installed", permanent=True)
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        return DeliveryError(code, permanent=code in PERMANENT)
    return DeliveryError(type(error).__name__, permanent=False)


class SlackMessenger:
    def __init__(
        self,
        services: Services,
        client_for: Callable[[str], WebClient],
        bot_user_for: Callable[[str], str | None],
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.bot_user_for = bot_user_for
        self.bots = WorkspaceBots()

    def members(self, team: Team) -> list[str]:
        """The channel's people: neither this bot nor any other bot or app user."""
        members: set[str] = set()
        cursor: str | None = None
        try:
            client = self.client_for(team.workspace_id)
            while True:
                page = client.conversations_members(
                    channel=team.channel_id, limit=500, cursor=cursor
                )
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
            bots = self.bots.of(client, team.workspace_id)
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        members.discard(self.bot_user_for(team.workspace_id) or "")
        return sorted(members - bots)

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        library = self.services.library
        message = weekly_prompt(library, library.domain(domain), prompt_index, team.channel_id)
        try:
            response = self.client_for(team.workspace_id).chat_postMessage(
                channel=team.channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
            )
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        metrics.prompt_posted()
        return str(response.get("ts"))

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        library = self.services.library
        message = supervisor_reflections(library, library.domain(domain), team.channel_id)
        try:
            client = self.client_for(team.workspace_id)
            dm = client.conversations_open(users=supervisor_id)
            channel = (dm.get("channel") or {}).get("id") or supervisor_id
            response = client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks
            )
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        return str(response.get("ts"))
