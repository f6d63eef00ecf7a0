"""Who is in a team's channel, asked of Slack (paginated), and which users are bots.

`channel_members` is the one lookup of a channel's members; `ChannelMembers` remembers it for a
minute for requests (the scheduler asks afresh: a week's roster is who is there now).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient

TTL_SECONDS = 60.0
PAGE = 500  # members per conversations.members page


def channel_members(client: WebClient, channel_id: str) -> frozenset[str]:
    """Everyone in the channel (people, bots and this app alike), every page of it."""
    members: set[str] = set()
    cursor: str | None = None
    while True:
        page = client.conversations_members(channel=channel_id, limit=PAGE, cursor=cursor)
        members.update(page.get("members") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return frozenset(members)


class ChannelMembers:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def of(self, client: WebClient, workspace_id: str, channel_id: str) -> frozenset[str]:
        key = (workspace_id, channel_id)
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < TTL_SECONDS:
            return cached[1]
        result = channel_members(client, channel_id)
        with self._lock:
            self._cache[key] = (now, result)
        return result

    def includes(self, client: WebClient, workspace_id: str, channel_id: str, user: str) -> bool:
        """Whether `user` is in the channel. A miss is asked of Slack again before it counts, so
        someone who has just joined is never told they're not in the team."""
        if user in self.of(client, workspace_id, channel_id):
            return True
        with self._lock:
            self._cache.pop((workspace_id, channel_id), None)
        return user in self.of(client, workspace_id, channel_id)

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def a_person(user: Mapping[str, Any]) -> bool:
    """Whether a `users.info` user is a person who can take part: not a bot or an app user,
    and not deactivated."""
    return not (user.get("is_bot") or user.get("deleted") or user.get("is_app_user"))


BOTS_TTL_SECONDS = 6 * 3600.0


class WorkspaceBots:
    """The bot and app users of each workspace (from `users.list`, paginated), remembered for
    a few hours: a week's roster leaves them out, so they never count as members who did not
    check in. One listing per workspace, not one call per channel member."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def of(self, client: WebClient, workspace_id: str) -> frozenset[str]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(workspace_id)
        if cached is not None and now - cached[0] < BOTS_TTL_SECONDS:
            return cached[1]
        bots: set[str] = set()
        cursor: str | None = None
        while True:
            page = client.users_list(limit=200, cursor=cursor)
            bots.update(
                str(user["id"])
                for user in page.get("members") or []
                if user.get("is_bot") or user.get("is_app_user") or user.get("id") == "USLACKBOT"
            )
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        result = frozenset(bots)
        with self._lock:
            self._cache[workspace_id] = (now, result)
        return result
