"""Slack's answer to "who is in this channel?" for the application layer
(`practice.teams.Channels`), through the members cache."""

from __future__ import annotations

import logging
from collections.abc import Collection

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.membership import ChannelMembers
from practice.teams import MembersUnknown

log = logging.getLogger(__name__)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


class SlackChannels:
    """One workspace's channels, as the bot (with `client`) can see them."""

    def __init__(self, members: ChannelMembers, client: WebClient, workspace: str) -> None:
        self._members, self._client, self._workspace = members, client, workspace

    def members(self, channel_id: str) -> Collection[str]:
        try:
            return self._members.of(self._client, self._workspace, channel_id)
        except (SlackClientError, OSError) as error:
            log.warning("channel %s: members unknown: %s", channel_id, _reason(error))
            raise MembersUnknown(_reason(error)) from None

    def includes(self, channel_id: str, user: str) -> bool:
        try:
            return self._members.includes(self._client, self._workspace, channel_id, user)
        except (SlackClientError, OSError) as error:
            log.warning("channel %s: members unknown: %s", channel_id, _reason(error))
            raise MembersUnknown(_reason(error)) from None
