"""Who is in a team's channel, asked of Slack (paginated) and remembered for a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

TTL_SECONDS = 60.0


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
        members: set[str] = set()
        cursor: str | None = None
        while True:
            page = client.conversations_members(channel=channel_id, limit=500, cursor=cursor)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        result = frozenset(members)
        with self._lock:
            self._cache[key] = (now, result)
        return result

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
