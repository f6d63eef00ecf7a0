"""Check-in reminders on Slack: the buttons that turn reminders off (in the reminder itself and
the Home tab) and back on (the Home tab). The reminders themselves go out through the
scheduler's messenger (bot.messenger)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.handlers.app_home import publish_home
from bot.handlers.wiring import practice_of, workspace_of
from bot.render.reminder import REMINDERS_OFF, REMINDERS_ON, reminders_changed
from practice.reminders import choose_reminders


def change(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    on = body["actions"][0]["action_id"] == REMINDERS_ON
    choose_reminders(practice_of(context), workspace, user, on)
    if (body.get("container") or {}).get("type") == "view":
        publish_home(context, client, workspace, user)
        return
    confirmation = reminders_changed(on)
    respond(text=confirmation.text, blocks=confirmation.blocks, replace_original=True)


def register(app: App) -> None:
    after_ack(app.action(REMINDERS_OFF))(change)
    after_ack(app.action(REMINDERS_ON))(change)
