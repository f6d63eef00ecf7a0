"""The "Share with the team" button (on the Home tab and under the chart): who may share what,
and at most once, is practice.share; this module posts the summary and tells the supervisor."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.after_ack import after_ack
from bot.handlers.wiring import channel_and_number, practice_of, services_of, workspace_of
from bot.refusals import slack_failure
from bot.render.home import SHARE_PERIOD
from bot.render.share import team_summary
from bot.render.talking import with_card_button
from practice.figures import BlockFigures
from practice.share import Shared, share_period

log = logging.getLogger(__name__)

NOT_SUPERVISOR = "Only the team's practice supervisors can share its results."
NOT_SHOWN = (
    "That period didn't have enough answers to show, so there's nothing to share. "
    "Nothing was posted."
)
ALREADY = "{label} has already been shared with the team in <#{channel}>."
DONE = "Shared {label} with the team in <#{channel}>. Only the anonymous totals were posted."
FAILED = "Sorry, I couldn't post in <#{channel}> just now. Is the app still in the channel?"
LINES = {
    Shared.SENT: DONE,
    Shared.ALREADY: ALREADY,
    Shared.NOT_SHOWN: NOT_SHOWN,
    Shared.FAILED: FAILED,
    Shared.NOT_SUPERVISOR: NOT_SUPERVISOR,
}


def share(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    found_value = channel_and_number(body, "week")
    if found_value is None:
        return
    channel, first_week = found_value
    services = services_of(context)

    def post(figures: BlockFigures) -> str:
        message = team_summary(services.library, figures, services.settings.anonymity_min, user)
        try:
            posted = client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks
            )
        except (SlackClientError, OSError) as error:
            raise slack_failure(error) from None
        return str(posted.get("ts"))

    result = share_period(practice_of(context), workspace, channel, user, first_week, post)
    label = result.block.label() if result.block else ""
    line = LINES[result.outcome].format(label=label, channel=channel)
    # Whatever came of it, the way into talking with the team about the results is next.
    blocks = None if result.outcome is Shared.NOT_SUPERVISOR else with_card_button(line)
    if body.get("response_url"):
        respond(text=line, blocks=blocks, response_type="ephemeral", replace_original=False)
    else:  # a Home tab button has nowhere to answer but the DM
        client.chat_postMessage(channel=user, text=line, blocks=blocks)


def register(app: App) -> None:
    after_ack(app.action(re.compile(rf"^{SHARE_PERIOD}(_\d+)?$")))(share)
