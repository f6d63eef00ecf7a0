"""chat.postMessage, chat.postEphemeral, chat.update and response_url posts."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.block_ids import fill_block_ids
from sandbox.context import CallContext, Handler, check_postable, find_channel, post_target
from sandbox.errors import SlackError
from sandbox.state import (
    JSON,
    RESPONSE_URL_MAX_USES,
    RESPONSE_URL_TTL_SECONDS,
    Message,
    SandboxState,
)
from sandbox.validation import (
    MAX_MESSAGE_TEXT,
    as_bool,
    decode_json_param,
    invalid_blocks,
    validate_message_blocks,
)


def message_content(
    state: SandboxState, params: JSON, warnings: list[str]
) -> tuple[str, list[JSON] | None, list[JSON] | None]:
    """Validate text/blocks/attachments of a message; returns (text, blocks, attachments)."""
    decode_json_param(params, "blocks", error="invalid_blocks_format")
    decode_json_param(params, "attachments", error="invalid_attachments")
    text: Any = params.get("text")
    blocks: Any = params.get("blocks")
    attachments: Any = params.get("attachments")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format", rejected=True)
        errors = validate_message_blocks(blocks)
        if errors:
            raise invalid_blocks(errors)
        blocks = fill_block_ids(state, copy.deepcopy(blocks))
        if not blocks:
            blocks = None
    if attachments is not None and not isinstance(attachments, list):
        raise SlackError("invalid_attachments", rejected=True)
    if text is not None and not isinstance(text, str):
        text = str(text)
    if not text and not blocks and not attachments:
        raise SlackError("no_text", rejected=True)
    if text and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long", rejected=True)
    if blocks and not text:
        warnings.append("missing_fallback_text")
    return text or "", blocks, attachments or None


def post_message(ctx: CallContext) -> JSON:
    channel = post_target(ctx, ctx.need("channel"))
    text, blocks, attachments = message_content(ctx.state, ctx.params, ctx.warnings)
    thread_ts = ctx.str_param("thread_ts")
    if thread_ts is not None and ctx.state.find_message(channel.id, thread_ts) is None:
        raise SlackError("thread_not_found")
    message = Message(
        ts=ctx.state.next_ts(),
        channel=channel.id,
        user=ctx.ws.bot_user_id,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        team_id=ctx.ws.team_id,
        attachments=attachments,
    )
    ctx.state.messages.append(message)
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "message": message.to_slack(ctx.ws),
    }


def post_ephemeral(ctx: CallContext) -> JSON:
    channel = post_target(ctx, ctx.need("channel"))
    user_id = ctx.need("user")
    user = ctx.state.users.get(user_id)
    if user is None or user.deleted or user_id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = message_content(ctx.state, ctx.params, ctx.warnings)
    message = Message(
        ts=ctx.state.next_ts(),
        channel=channel.id,
        user=ctx.ws.bot_user_id,
        text=text,
        blocks=blocks,
        ephemeral_for=user_id,
        thread_ts=ctx.str_param("thread_ts"),
        team_id=ctx.ws.team_id,
        attachments=attachments,
    )
    ctx.state.messages.append(message)
    return {"ok": True, "message_ts": message.ts}


def update_message(ctx: CallContext) -> JSON:
    channel_id = ctx.need("channel")
    ts = ctx.need("ts")
    channel = find_channel(ctx, channel_id)
    if channel is None:
        raise SlackError("channel_not_found")  # a user id is not accepted here
    check_postable(ctx, channel)
    message = ctx.state.find_message(channel.id, ts)
    if message is None or message.ephemeral_for is not None:
        raise SlackError("message_not_found")
    if message.user != ctx.ws.bot_user_id:
        raise SlackError("cant_update_message")
    text, blocks, attachments = message_content(ctx.state, ctx.params, ctx.warnings)
    message.text, message.blocks, message.attachments = text, blocks, attachments
    message.edited = True
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_slack(ctx.ws),
    }


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update_message,
}


def respond(state: SandboxState, token: str, body: JSON, warnings: list[str]) -> JSON:
    """A POST to a response_url: record it as a message to the user (ephemeral or in_channel)."""
    target = state.response_urls.get(token)
    if target is None:
        raise SlackError("invalid_url", http_status=404, rejected=True)
    if state.time_source() - target.issued_at > RESPONSE_URL_TTL_SECONDS:
        raise SlackError("expired_url", http_status=404)
    if target.uses >= RESPONSE_URL_MAX_USES:
        raise SlackError("used_url", http_status=404)
    target.uses += 1
    workspace = state.workspaces[target.team_id]
    original = (
        state.find_message(target.channel_id, target.message_ts)
        if target.channel_id is not None and target.message_ts is not None
        else None
    )
    if as_bool(body.get("delete_original")):
        if original is None:
            raise SlackError("message_not_found", http_status=404)
        state.messages.remove(original)
        return {"ok": True}
    try:
        text, blocks, attachments = message_content(state, body, warnings)
    except SlackError as err:
        err.http_status = 400  # webhooks answer bad payloads with HTTP 400
        raise
    target.texts.append(text)
    if as_bool(body.get("replace_original")) and original is not None:
        original.text, original.blocks, original.attachments = text, blocks, attachments
        original.edited = True
        if body.get("response_type") == "in_channel":
            original.ephemeral_for = None
        return {"ok": True}
    in_channel = body.get("response_type") == "in_channel"
    channel_id = target.channel_id
    if channel_id is None:
        if target.user_id is None:
            raise SlackError("channel_not_found", http_status=404)
        channel_id = state.dm_channel(state.users[target.user_id]).id
    state.messages.append(
        Message(
            ts=state.next_ts(),
            channel=channel_id,
            user=workspace.bot_user_id,
            text=text,
            blocks=blocks,
            ephemeral_for=None if in_channel else (target.user_id or ""),
            thread_ts=body.get("thread_ts") if isinstance(body.get("thread_ts"), str) else None,
            team_id=workspace.team_id,
            attachments=attachments,
            via="response_url",
        )
    )
    return {"ok": True}
