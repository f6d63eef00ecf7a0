"""views.open / push / update / publish, trigger_ids, and what a view_submission reply does."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.block_ids import fill_block_ids
from sandbox.context import CallContext, Handler, find_user
from sandbox.errors import SlackError, invalid_arguments, missing_field
from sandbox.state import (
    JSON,
    MAX_MODAL_STACK,
    TRIGGER_TTL_SECONDS,
    Trigger,
    ViewRecord,
)
from sandbox.validation import as_bool, decode_json_param, invalid_blocks, validate_view


def _exchange_trigger(ctx: CallContext) -> Trigger:
    trigger = ctx.state.triggers.get(ctx.need("trigger_id"))
    if trigger is None or trigger.team_id != ctx.ws.team_id:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if ctx.state.time_source() - trigger.issued_at > TRIGGER_TTL_SECONDS:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def _view_param(ctx: CallContext, expected_type: str | None) -> JSON:
    if ctx.params.get("view") in (None, ""):
        raise missing_field("view")
    decode_json_param(ctx.params, "view", error="invalid_arguments")
    view: Any = ctx.params["view"]
    errors = validate_view(view, expected_type=expected_type)
    if errors:
        raise invalid_blocks(errors)
    assert isinstance(view, dict)
    return view


def _new_hash(ctx: CallContext) -> str:
    return f"{int(ctx.state.wall_clock())}.{ctx.state.next_id('h', 8)}"


def _build(
    ctx: CallContext,
    view: JSON,
    view_id: str,
    *,
    previous_view_id: str | None = None,
    root_view_id: str | None = None,
) -> JSON:
    ws = ctx.ws
    return {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": fill_block_ids(ctx.state, copy.deepcopy(view.get("blocks") or [])),
        "private_metadata": view.get("private_metadata") or "",
        "callback_id": view.get("callback_id") or "",
        "state": {"values": {}},
        "hash": _new_hash(ctx),
        "title": copy.deepcopy(view.get("title")),
        "clear_on_close": as_bool(view.get("clear_on_close")),
        "notify_on_close": as_bool(view.get("notify_on_close")),
        "close": copy.deepcopy(view.get("close")),
        "submit": copy.deepcopy(view.get("submit")),
        "previous_view_id": previous_view_id,
        "root_view_id": root_view_id or view_id,
        "app_id": ctx.state.app_id,
        "external_id": view.get("external_id") or "",
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }


def _check_external_id(ctx: CallContext, view: JSON, own_id: str | None = None) -> None:
    external_id = view.get("external_id")
    if not external_id:
        return
    for view_id, record in ctx.state.views.items():
        if (
            view_id != own_id
            and record.team_id == ctx.ws.team_id
            and record.view.get("external_id") == external_id
        ):
            raise SlackError("duplicate_external_id")


def views_open(ctx: CallContext) -> JSON:
    view = _view_param(ctx, "modal")
    trigger = _exchange_trigger(ctx)
    _check_external_id(ctx, view)
    ctx.state.clear_views(trigger.user_id)  # a new modal replaces whatever was open
    view_id = ctx.state.next_id("V")
    built = _build(ctx, view, view_id)
    ctx.state.views[view_id] = ViewRecord(built, trigger.user_id, ctx.ws.team_id)
    ctx.state.modal_stacks[trigger.user_id] = [view_id]
    return {"ok": True, "view": built}


def views_push(ctx: CallContext) -> JSON:
    view = _view_param(ctx, "modal")
    trigger = _exchange_trigger(ctx)
    stack = ctx.state.modal_stacks.get(trigger.user_id, [])
    if not stack:
        raise SlackError("not_found", messages=["views.push needs an open modal to push onto"])
    if len(stack) >= MAX_MODAL_STACK:
        raise SlackError("push_limit_reached")
    _check_external_id(ctx, view)
    view_id = ctx.state.next_id("V")
    built = _build(ctx, view, view_id, previous_view_id=stack[-1], root_view_id=stack[0])
    ctx.state.views[view_id] = ViewRecord(built, trigger.user_id, ctx.ws.team_id)
    stack.append(view_id)
    return {"ok": True, "view": built}


def views_update(ctx: CallContext) -> JSON:
    view_id = ctx.str_param("view_id")
    external_id = ctx.str_param("external_id")
    if view_id is None and external_id is None:
        raise invalid_arguments("missing required field: view_id or external_id")
    record = None
    if view_id is not None:
        record = ctx.state.views.get(view_id)
    else:
        record = next(
            (
                r
                for r in ctx.state.views.values()
                if r.team_id == ctx.ws.team_id and r.view.get("external_id") == external_id
            ),
            None,
        )
    if record is None or record.closed or record.team_id != ctx.ws.team_id:
        raise SlackError("not_found")
    view = _view_param(ctx, record.view["type"])
    expected_hash = ctx.str_param("hash")
    if expected_hash is not None and expected_hash != record.view["hash"]:
        raise SlackError("hash_conflict")
    _check_external_id(ctx, view, own_id=record.view["id"])
    record.view = _build(
        ctx,
        view,
        record.view["id"],
        previous_view_id=record.view["previous_view_id"],
        root_view_id=record.view["root_view_id"],
    )
    return {"ok": True, "view": record.view}


def views_publish(ctx: CallContext) -> JSON:
    user = find_user(ctx, ctx.need("user_id"))
    if user is None or user.is_bot:
        raise SlackError("user_not_found")
    view = _view_param(ctx, "home")
    existing_id = ctx.state.home_views.get(user.id)
    expected_hash = ctx.str_param("hash")
    if (
        expected_hash is not None
        and existing_id is not None
        and expected_hash != ctx.state.views[existing_id].view["hash"]
    ):
        raise SlackError("hash_conflict")
    view_id = existing_id or ctx.state.next_id("V")
    built = _build(ctx, view, view_id)
    ctx.state.views[view_id] = ViewRecord(built, user.id, ctx.ws.team_id)
    ctx.state.home_views[user.id] = view_id
    return {"ok": True, "view": built}


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}


def after_submission(ctx: CallContext, user_id: str, view_id: str, reply: JSON | None) -> None:
    """What Slack does with the app's answer to a view_submission.

    Empty answer: close the submitted view. ``clear``: close every view. ``update``: replace
    the submitted view. ``push``: push a new one. ``errors``: keep it open. A view in the answer
    is validated like views.update's (SlackError on failure, the view stays as it was).
    """
    action = (reply or {}).get("response_action")
    if action is None:
        ctx.state.close_view(view_id)
    elif action == "clear":
        ctx.state.clear_views(user_id)
    elif action == "errors":
        errors = (reply or {}).get("errors")
        if not isinstance(errors, dict) or not errors:
            raise invalid_arguments("response_action errors needs a non-empty errors object")
        record = ctx.state.views[view_id]
        block_ids = {b.get("block_id") for b in record.view["blocks"] if b.get("type") == "input"}
        unknown = sorted(k for k in errors if k not in block_ids)
        if unknown:
            raise invalid_arguments(f"errors names blocks that are not input blocks: {unknown}")
    elif action in ("update", "push"):
        ctx.params = {"view": (reply or {}).get("view")}
        view = _view_param(ctx, "modal")
        stack = ctx.state.modal_stacks.get(user_id, [])
        if action == "update":
            record = ctx.state.views[view_id]
            record.view = _build(
                ctx,
                view,
                view_id,
                previous_view_id=record.view["previous_view_id"],
                root_view_id=record.view["root_view_id"],
            )
        else:
            if len(stack) >= MAX_MODAL_STACK:
                raise SlackError("push_limit_reached")
            new_id = ctx.state.next_id("V")
            built = _build(ctx, view, new_id, previous_view_id=stack[-1], root_view_id=stack[0])
            ctx.state.views[new_id] = ViewRecord(built, user_id, ctx.ws.team_id)
            stack.append(new_id)
    else:
        raise invalid_arguments(f"unknown response_action: {action!r}")
