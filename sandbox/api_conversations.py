"""auth.test, conversations.open / members / info, users.info and users.list."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.context import CallContext, Handler, find_channel, find_user
from sandbox.errors import SlackError
from sandbox.state import JSON, Channel, User
from sandbox.validation import as_bool

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def auth_test(ctx: CallContext) -> JSON:
    ws = ctx.ws
    return {
        "ok": True,
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.name,
        "user": ctx.state.users[ws.bot_user_id].name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def conversations_open(ctx: CallContext) -> JSON:
    channel_id = ctx.str_param("channel")
    users = ctx.str_param("users")
    already_open = True
    if channel_id is not None:
        channel = find_channel(ctx, channel_id)
        if channel is None or not channel.is_im:
            raise SlackError("channel_not_found")
    elif users is not None:
        ids = [u.strip() for u in users.split(",") if u.strip()]
        if len(ids) != 1:
            raise SlackError(
                "invalid_arguments",
                rejected=True,
                messages=["the sandbox supports DMs with one user (users=U…) only"],
            )
        user = find_user(ctx, ids[0])
        if user is None:
            raise SlackError("user_not_found")
        if user.deleted:
            raise SlackError("user_disabled")
        if user.is_bot:
            raise SlackError("cannot_dm_bot")
        already_open = user.id in ctx.state.dm_by_user
        channel = ctx.state.dm_channel(user)
    else:
        raise SlackError("users_list_not_supplied", rejected=True)
    body: JSON = {"ok": True}
    if as_bool(ctx.params.get("return_im")):
        body["channel"] = channel_object(ctx, channel)
    else:
        body["channel"] = {"id": channel.id}
    if already_open:
        body["no_op"] = True
        body["already_open"] = True
    return body


def conversations_members(ctx: CallContext) -> JSON:
    channel_id = ctx.str_param("channel")
    if channel_id is None:
        raise SlackError("channel_not_found", rejected=True)
    channel = find_channel(ctx, channel_id)
    if channel is None:
        raise SlackError("channel_not_found")
    page, next_cursor = _page(ctx, [m for m in channel.members if not _deleted(ctx, m)])
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}


def _page(ctx: CallContext, ids: list[str]) -> tuple[list[str], str]:
    """One page of user ids by the call's `limit` and `cursor`, and the next page's cursor."""
    limit_param = ctx.str_param("limit")
    try:
        limit = DEFAULT_PAGE if limit_param is None else int(limit_param)
    except ValueError:
        raise SlackError("invalid_limit", rejected=True) from None
    if limit < 1:
        raise SlackError("invalid_limit", rejected=True)
    start = 0
    cursor = ctx.str_param("cursor")
    if cursor is not None:
        start = _decode_cursor(cursor, ids)
    page = ids[start : start + min(limit, MAX_PAGE)]
    rest = ids[start + len(page) :]
    return page, _encode_cursor(rest[0]) if rest else ""


def conversations_info(ctx: CallContext) -> JSON:
    channel_id = ctx.str_param("channel")
    if channel_id is None:
        raise SlackError("channel_not_found", rejected=True)
    channel = find_channel(ctx, channel_id)
    if channel is None:
        raise SlackError("channel_not_found")
    body = channel_object(ctx, channel)
    if as_bool(ctx.params.get("include_num_members")) and not channel.is_im:
        body["num_members"] = len(channel.members)
    return {"ok": True, "channel": body}


def users_info(ctx: CallContext) -> JSON:
    user_id = ctx.str_param("user")
    if user_id is None:
        raise SlackError("user_not_found", rejected=True)
    user = find_user(ctx, user_id)
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user_object(user, ctx.state.app_id)}


def users_list(ctx: CallContext) -> JSON:
    """The workspace's users (bots and deleted users included, as Slack lists them), paged."""
    ids = sorted(u.id for u in ctx.state.users.values() if u.team_id == ctx.ws.team_id)
    page, next_cursor = _page(ctx, ids)
    return {
        "ok": True,
        "members": [user_object(ctx.state.users[i], ctx.state.app_id) for i in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.open": conversations_open,
    "conversations.members": conversations_members,
    "conversations.info": conversations_info,
    "users.info": users_info,
    "users.list": users_list,
}


def channel_object(ctx: CallContext, channel: Channel) -> JSON:
    if channel.is_im:
        user = ctx.state.users.get(channel.im_user or "")
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.im_user,
            "is_user_deleted": bool(user and user.deleted),
            "priority": 0,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "created": channel.created,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "is_archived": channel.is_archived,
        "is_general": channel.name == "general",
        "is_member": ctx.ws.bot_user_id in channel.members,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "context_team_id": channel.team_id,
    }


def user_object(user: User, app_id: str) -> JSON:
    try:
        now = datetime.now(ZoneInfo(user.tz))
    except (ZoneInfoNotFoundError, ValueError):
        now = datetime.now(UTC)
    offset = now.utcoffset()
    body: JSON = {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": now.tzname() or user.tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
        "profile": {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name,
            "display_name_normalized": user.name,
            "team": user.team_id,
        },
    }
    if user.is_bot:
        body["profile"]["api_app_id"] = app_id
    return body


def _deleted(ctx: CallContext, user_id: str) -> bool:
    user = ctx.state.users.get(user_id)
    return user is not None and user.deleted


def _encode_cursor(user_id: str) -> str:
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _decode_cursor(cursor: str, members: list[str]) -> int:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor", rejected=True) from None
    kind, _, user_id = decoded.partition(":")
    if kind != "user" or user_id not in members:
        raise SlackError("invalid_cursor", rejected=True)
    return members.index(user_id)
