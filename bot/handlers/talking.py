"""The "talking about it" card opens as a modal from its button, wherever the button is:
under `/teampulse`, on the Home tab, under the chart's share offer and after a share."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.after_ack import after_ack
from bot.handlers.wiring import services_of
from bot.render.talking import TALKING, talking_card

log = logging.getLogger(__name__)


def open_card(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    citation = services_of(context).library.citation
    try:
        client.views_open(trigger_id=body["trigger_id"], view=talking_card(citation))
    except SlackApiError as error:  # e.g. a trigger that expired while Slack was slow
        log.warning("the talking-about-it card did not open: %s", error.response.get("error"))


def register(app: App) -> None:
    after_ack(app.action(re.compile(rf"^{TALKING}(_\d+)?$")), opens_modal=True)(open_card)
