"""The one way the app sends someone a direct message (a module of its own, importing nothing of
the bot's, so that listeners and the scheduler's messenger alike can use it)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.render.prompt import Message


def open_dm(client: WebClient, user_id: str) -> str:
    """The id of the app's DM with `user_id` (opened if need be)."""
    dm = client.conversations_open(users=user_id)
    return str((dm.get("channel") or {}).get("id") or user_id)


def send_dm(client: WebClient, user_id: str, message: Message) -> str:
    """Post `message` in the app's DM with `user_id`; returns the message ts."""
    channel = open_dm(client, user_id)
    posted = client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)
    return str(posted.get("ts"))
