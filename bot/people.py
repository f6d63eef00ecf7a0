"""Slack's answers about people (`practice.setup.People`): admins, and people rather than apps."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.membership import a_person

log = logging.getLogger(__name__)


class SlackPeople:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def _info(self, user: str) -> dict[str, Any] | None:
        try:
            info = self._client.users_info(user=user)["user"]
        except SlackApiError as error:
            log.warning("users.info failed: %s", error.response.get("error"))
            return None
        return info if isinstance(info, dict) else None

    def is_admin(self, user: str) -> bool:
        info = self._info(user) or {}
        return bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))

    def is_person(self, user: str) -> bool:
        info = self._info(user)
        return info is not None and a_person(info)

    def timezone(self, user: str) -> str | None:
        """The person's own time zone, as Slack has it."""
        tz = (self._info(user) or {}).get("tz")
        return tz if isinstance(tz, str) and tz else None
