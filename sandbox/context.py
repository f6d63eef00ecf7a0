"""What a method handler gets, and the lookups most handlers share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import SlackError, missing_field
from sandbox.state import JSON, Channel, SandboxState, User, Workspace


@dataclass
class CallContext:
    state: SandboxState
    workspace: Workspace | None
    params: JSON
    base_url: str  # "http://127.0.0.1:PORT", for URLs the sandbox hands out
    warnings: list[str] = field(default_factory=list)
    basic_auth: tuple[str, str] | None = None
    socket_url: Callable[[], str] | None = None  # a new Socket Mode link's URL (one use)

    @property
    def ws(self) -> Workspace:
        assert self.workspace is not None, "handler needs an authenticated call"
        return self.workspace

    def str_param(self, name: str, *, required: bool = False) -> str | None:
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing_field(name)
            return None
        if not isinstance(value, str | int | float):
            raise SlackError(
                "invalid_arguments", rejected=True, messages=[f"{name} must be a string"]
            )
        return str(value)

    def need(self, name: str) -> str:
        value = self.str_param(name, required=True)
        assert value is not None
        return value


Handler = Callable[[CallContext], JSON]


def find_user(ctx: CallContext, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    user = ctx.state.users.get(user_id)
    return user if user is not None and user.team_id == ctx.ws.team_id else None


def find_channel(ctx: CallContext, channel_id: str) -> Channel | None:
    """A conversation the bot can see: public channels, private ones it is in, its DMs."""
    channel = ctx.state.channels.get(channel_id)
    if channel is None:
        channel = next(
            (
                c
                for c in ctx.state.channels.values()
                if not c.is_im and c.team_id == ctx.ws.team_id and "#" + c.name == channel_id
            ),
            None,
        )
    if channel is None or channel.team_id != ctx.ws.team_id:
        return None
    if channel.is_private and ctx.ws.bot_user_id not in channel.members:
        return None  # private channels are invisible to non-members
    return channel


def post_target(ctx: CallContext, channel_param: str) -> Channel:
    """Where a message goes: a channel id/#name, a DM id, or a user id (that user's DM)."""
    if channel_param[:1] in ("U", "W"):
        user = find_user(ctx, channel_param)
        if user is None:
            raise SlackError("channel_not_found")
        if user.is_bot:
            raise SlackError("cannot_dm_bot")
        return ctx.state.dm_channel(user)
    channel = find_channel(ctx, channel_param)
    if channel is None:
        raise SlackError("channel_not_found")
    check_postable(ctx, channel)
    return channel


def check_postable(ctx: CallContext, channel: Channel) -> None:
    if channel.is_archived:
        raise SlackError("is_archived")
    if channel.is_im:
        user = ctx.state.users.get(channel.im_user or "")
        if user is not None and user.deleted:
            raise SlackError("is_archived")  # a deactivated user's DM is archived
        return
    if ctx.ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")


def channel_keys(state: SandboxState, params: JSON) -> set[str]:
    """Channel ids (and user ids) a call is aimed at, for matching channel faults."""
    keys: set[str] = set()
    for name in ("channel", "channel_id", "users"):
        value: Any = params.get(name)
        if isinstance(value, str) and value:
            keys.update(v.strip() for v in value.split(",") if v.strip())
    for key in list(keys):
        dm = state.dm_by_user.get(key)
        if dm is not None:
            keys.add(dm)
        channel = state.channels.get(key)
        if channel is not None and channel.im_user is not None:
            keys.add(channel.im_user)
    return keys
