"""Check-in reminders on Slack: the reminder job's messenger, and the buttons that turn
reminders off (in the reminder itself and the Home tab) and back on (the Home tab)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.handlers.app_home import publish_home
from bot.handlers.wiring import workspace_of
from bot.membership import ChannelMembers
from bot.messenger import PERMANENT
from bot.render.reminder import REMINDERS_OFF, REMINDERS_ON, reminder, reminders_changed
from bot.services import Services
from scheduler.messenger import DeliveryError
from storage.models import Team
from storage.reminders import set_reminders

log = logging.getLogger(__name__)


def _failure(error: Exception) -> DeliveryError:
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or f"http_{error.response.status_code}")
        return DeliveryError(code, permanent=code in PERMANENT)
    return DeliveryError(type(error).__name__, permanent=False)


class SlackReminderMessenger:
    """scheduler.reminders.ReminderMessenger on Slack's Web API."""

    def __init__(
        self,
        services: Services,
        client_for: Callable[[str], WebClient],
        bot_user_for: Callable[[str], str | None],
        members: ChannelMembers | None = None,
    ) -> None:
        self.services = services
        self.client_for = client_for
        self.bot_user_for = bot_user_for
        self.channel_members = members or ChannelMembers()

    def members(self, team: Team) -> list[str]:
        client = self.client_for(team.workspace_id)
        try:
            found = self.channel_members.of(client, team.workspace_id, team.channel_id)
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        bot = self.bot_user_for(team.workspace_id)
        return sorted(found - {bot or ""})

    def timezone_of(self, team: Team, user_id: str) -> str | None:
        try:
            user = self.client_for(team.workspace_id).users_info(user=user_id)["user"]
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        if user.get("is_bot") or user.get("deleted") or user.get("is_app_user"):
            return None
        return str(user.get("tz") or team.timezone)

    def send_reminder(self, team: Team, user_id: str, domain: str) -> str:
        message = reminder(team.name, team.channel_id, self.services.library.domain(domain))
        client = self.client_for(team.workspace_id)
        try:
            dm = client.conversations_open(users=user_id)
            channel = (dm.get("channel") or {}).get("id") or user_id
            response = client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks
            )
        except (SlackClientError, OSError) as error:
            raise _failure(error) from None
        return str(response.get("ts"))


def register(app: App, services: Services) -> None:
    def change(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
    ) -> None:
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        on = body["actions"][0]["action_id"] == REMINDERS_ON
        with services.db.session() as session:
            set_reminders(session, workspace, user, on)
        if (body.get("container") or {}).get("type") == "view":
            publish_home(context, client, workspace, user)
            return
        confirmation = reminders_changed(on)
        respond(text=confirmation.text, blocks=confirmation.blocks, replace_original=True)

    app.action(REMINDERS_OFF)(change)
    app.action(REMINDERS_ON)(change)
