"""In-memory model of the Slack workspaces the sandbox plays, and the record of every call.

Nothing here is thread-safe on its own: ``SlackSandbox`` holds one lock around every use.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_TTL_SECONDS = 30 * 60.0
RESPONSE_URL_MAX_USES = 5
MAX_MODAL_STACK = 3


@dataclass
class Workspace:
    team_id: str
    name: str
    domain: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    installed: bool = True


@dataclass
class User:
    id: str
    team_id: str
    name: str
    real_name: str
    tz: str = "Europe/London"
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False
    is_owner: bool = False


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    members: list[str]
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_archived: bool = False
    created: int = 0


@dataclass
class File:
    id: str
    filename: str
    title: str
    alt_txt: str | None
    content: bytes
    shared_to: list[str] = field(default_factory=list)
    team_id: str = ""
    length: int = 0
    uploaded: bool = False
    completed: bool = False


@dataclass
class Message:
    ts: str
    channel: str
    user: str
    text: str
    blocks: list[JSON] | None = None
    files: list[File] = field(default_factory=list)
    ephemeral_for: str | None = None
    thread_ts: str | None = None
    team_id: str = ""
    attachments: list[JSON] | None = None
    via: str = "api"  # "api" (Web API) or "response_url"
    edited: bool = False

    def to_slack(self, workspace: Workspace | None) -> JSON:
        """The message object as Slack returns it (e.g. in chat.postMessage's ``message``)."""
        out: JSON = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts}
        if workspace is not None and self.user == workspace.bot_user_id:
            out["bot_id"] = workspace.bot_id
        if self.team_id:
            out["team"] = self.team_id
        if self.blocks is not None:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = [file_object(f) for f in self.files]
        return out


@dataclass
class ApiCall:
    """One request the sandbox answered, in arrival order."""

    method: str
    params: JSON
    ok: bool
    error: str | None
    http_status: int
    team_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    rejected: bool = False  # failed validation: the request itself was malformed
    injected: bool = False  # failed because a fault was switched on
    messages: list[str] = field(default_factory=list)  # validation details
    response: JSON | None = None


@dataclass
class ViewRecord:
    view: JSON  # as Slack returns it: id, hash, state, ...
    user_id: str
    team_id: str
    closed: bool = False


@dataclass
class Trigger:
    user_id: str
    team_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    user_id: str | None
    channel_id: str | None
    team_id: str
    message_ts: str | None
    issued_at: float
    uses: int = 0
    texts: list[str] = field(default_factory=list)  # the text of each message posted to it


@dataclass
class TokenInfo:
    team_id: str
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class OAuthConfig:
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    token_rotation: bool = False
    expires_in: int = 43200
    scopes: tuple[str, ...] = ("chat:write", "commands", "im:write", "users:read")
    user_scopes: tuple[str, ...] = ()


@dataclass
class OAuthCode:
    team_id: str
    user_id: str
    redirect_uri: str | None
    used: bool = False


def file_object(f: File) -> JSON:
    """A file object as Slack returns it (abridged)."""
    out: JSON = {"id": f.id, "name": f.filename, "title": f.title, "size": len(f.content)}
    if f.alt_txt is not None:
        out["alt_txt"] = f.alt_txt
    if f.shared_to:
        out["channels"] = list(f.shared_to)
    return out


class SandboxState:
    """Workspaces, users, channels, messages, views, files and the call record."""

    def __init__(
        self,
        *,
        app_id: str,
        time_source: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.time_source = time_source
        self.wall_clock = wall_clock
        self.workspaces: dict[str, Workspace] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.app_tokens: set[str] = set()  # app-level (xapp-) tokens: Socket Mode only
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.dm_by_user: dict[str, str] = {}
        self.messages: list[Message] = []
        self.files: dict[str, File] = {}
        self.upload_tokens: dict[str, str] = {}
        self.views: dict[str, ViewRecord] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.oauth = OAuthConfig()
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team_id
        self.call_log: list[ApiCall] = []
        self._counter = itertools.count(1)
        self._last_ts = 0.0

    # -- identifiers ---------------------------------------------------------------------------

    def next_id(self, prefix: str, width: int = 9) -> str:
        return f"{prefix}{next(self._counter):0{width}d}"

    def next_ts(self) -> str:
        """A unique, increasing Slack timestamp ("seconds.micros") from the wall clock."""
        now = max(self.wall_clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # -- lookups -------------------------------------------------------------------------------

    def bot_user_ids(self) -> set[str]:
        return {w.bot_user_id for w in self.workspaces.values()}

    def dm_channel(self, user: User) -> Channel:
        """The bot's DM with ``user``, created on first use; its id is stable per user."""
        existing = self.dm_by_user.get(user.id)
        if existing is not None:
            return self.channels[existing]
        candidate = "D" + user.id[1:]
        if candidate in self.channels:
            candidate = self.next_id("D")
        bot = self.workspaces[user.team_id].bot_user_id
        channel = Channel(
            id=candidate,
            team_id=user.team_id,
            name=user.id,
            members=[user.id, bot],
            is_im=True,
            im_user=user.id,
            created=int(self.wall_clock()),
        )
        self.channels[channel.id] = channel
        self.dm_by_user[user.id] = channel.id
        return channel

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        for message in reversed(self.messages):
            if message.channel == channel_id and message.ts == ts:
                return message
        return None

    # -- queries -------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return [c for c in self.call_log if method is None or c.method == method]

    def timeline(self, channel_id: str, include_ephemeral: bool = False) -> list[Message]:
        return [
            m
            for m in self.messages
            if m.channel == channel_id and (include_ephemeral or m.ephemeral_for is None)
        ]

    def dms(self, user_id: str) -> list[Message]:
        channel_id = self.dm_by_user.get(user_id)
        if channel_id is None:
            return []
        bots = self.bot_user_ids()
        return [m for m in self.timeline(channel_id) if m.user in bots]

    def ephemerals(self, user_id: str) -> list[Message]:
        return [m for m in self.messages if m.ephemeral_for == user_id]

    def open_views(self, user_id: str) -> list[JSON]:
        return [self.views[v].view for v in self.modal_stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> JSON | None:
        view_id = self.home_views.get(user_id)
        return None if view_id is None else self.views[view_id].view

    # -- modal stack ---------------------------------------------------------------------------

    def close_view(self, view_id: str) -> None:
        """Close ``view_id`` and every view pushed on top of it."""
        record = self.views.get(view_id)
        if record is None:
            return
        stack = self.modal_stacks.get(record.user_id, [])
        if view_id in stack:
            for closed in stack[stack.index(view_id) :]:
                self.views[closed].closed = True
            del stack[stack.index(view_id) :]

    def clear_views(self, user_id: str) -> None:
        for view_id in self.modal_stacks.pop(user_id, []):
            self.views[view_id].closed = True
