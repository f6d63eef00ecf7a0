"""The scheduler's one messenger (the weekly job's and the reminder sweep's), on Slack's Web API.

Transient trouble (429, 5xx, dropped connections) is retried inside slack_sdk by the client's
retry handlers (bot.app.web_client). What still fails is sorted by bot.refusals, the one
place that maps Slack's errors to `practice.delivery.Refusal`: errors no retry can mend are
recorded once in the ledger and shown by `securebase team list`; the rest give the claim back
for the next sweep. Every call, including finding the workspace's token, is inside that
mapping, so one workspace's lost install is that workspace's failure and nobody else's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot import metrics
from bot.dm import send_dm
from bot.membership import WorkspaceBots, a_person, channel_members
from bot.refusals import slack_failure
from bot.render.prompt import supervisor_reflections, weekly_prompt
from bot.render.reminder import reminder
from bot.services import Services
from storage.models import Team

T = TypeVar("T")


class SlackMessenger:
    """scheduler.messenger.Messenger and ReminderMessenger, for every workspace at once."""

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

    def _call(self, team: Team, call: Callable[[WebClient], T]) -> T:
        """`call` with the team's workspace client; any failure becomes a DeliveryError."""
        try:
            return call(self.client_for(team.workspace_id))
        except (SlackClientError, OSError) as error:
            raise slack_failure(error) from None

    def members(self, team: Team) -> list[str]:
        """The channel's people: neither this bot nor any other bot or app user."""

        def people(client: WebClient) -> frozenset[str]:
            found = channel_members(client, team.channel_id)
            return found - self.bots.of(client, team.workspace_id)

        found = self._call(team, people)
        return sorted(found - {self.bot_user_for(team.workspace_id) or ""})

    def timezone_of(self, team: Team, user_id: str) -> str | None:
        user = self._call(team, lambda client: client.users_info(user=user_id)["user"])
        if not a_person(user):
            return None
        return str(user.get("tz") or team.timezone)

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        library = self.services.library
        message = weekly_prompt(library, library.domain(domain), prompt_index, team.channel_id)
        response = self._call(
            team,
            lambda client: client.chat_postMessage(
                channel=team.channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
            ),
        )
        metrics.prompt_posted()
        return str(response.get("ts"))

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        library = self.services.library
        message = supervisor_reflections(library, library.domain(domain), team.channel_id)
        return self._call(team, lambda client: send_dm(client, supervisor_id, message))

    def send_reminder(self, team: Team, user_id: str, domain: str) -> str:
        message = reminder(team.name, team.channel_id, self.services.library.domain(domain))
        return self._call(team, lambda client: send_dm(client, user_id, message))
