"""A supervisor shares a finished period's summary with the team channel, with one button (on
the Home tab and under the chart). Only a period that met the anonymity minimum can be shared,
each period at most once (the delivery ledger), and sharing is recorded in the view log."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.handlers.wiring import workspace_of
from bot.messenger import slack_failure
from bot.render.home import SHARE_PERIOD
from bot.render.share import team_summary
from bot.render.talking import with_card_button
from bot.services import Services
from practice.delivery import Ledger, NothingToSend, Outcome
from storage.deliveries import DeliveryKey, DeliveryKind
from storage.models import Team
from storage.periods import current_week
from storage.pulse import Block, BlockFigures, Surface, read_pulse_for
from storage.teams import get_team

log = logging.getLogger(__name__)

NOT_SUPERVISOR = "Only the team's practice supervisors can share its results."
NOT_SHOWN = (
    "That period didn't have enough answers to show, so there's nothing to share. "
    "Nothing was posted."
)
ALREADY = "{label} has already been shared with the team in <#{channel}>."
DONE = "Shared {label} with the team in <#{channel}>. Only the anonymous totals were posted."
FAILED = "Sorry, I couldn't post in <#{channel}> just now. Is the app still in the channel?"

SHARE_WORKER = "share"  # shares are made by whoever clicks, not by a replica


def share_period(
    services: Services, client: WebClient, team: Team, supervisor: str, first_week: int
) -> str:
    """Post the period starting `first_week` in the team channel; returns what to tell the
    supervisor. The ledger is claimed before the figures are read, so a period already shared
    is not read (nor logged as a look) again."""
    now = services.clock.now()
    minimum = services.settings.anonymity_min
    label, channel = Block(first_week, team.pool_weeks, ()).label(), team.channel_id

    def send() -> str:
        with services.db.session() as session:
            readings = read_pulse_for(
                session,
                supervisor,
                session.merge(team),
                Surface.SHARE,
                weeks=max(1, current_week(team, now).index - first_week),
                block=first_week,
                anonymity_min=minimum,
                retention_weeks=services.settings.retention_weeks,
                now=now,
                detail="with the team",
            ).readings
        figures = next((r for r in readings if isinstance(r, BlockFigures)), None)
        if figures is None:
            raise NothingToSend
        message = team_summary(services.library, figures, minimum, supervisor)
        try:
            posted = client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks
            )
        except (SlackClientError, OSError) as error:
            raise slack_failure(error) from None
        return str(posted.get("ts"))

    key = DeliveryKey(team.id, first_week, DeliveryKind.SHARED, channel)
    ledger = Ledger(services.db, services.clock, SHARE_WORKER)
    outcome = ledger.deliver_once(key, send, channel=channel, give_back_refusals=True)
    return {
        Outcome.SENT: DONE,
        Outcome.TAKEN: ALREADY,
        Outcome.NOTHING: NOT_SHOWN,
    }.get(outcome, FAILED).format(label=label, channel=channel)


def register(app: App, services: Services) -> None:
    @app.action(re.compile(rf"^{SHARE_PERIOD}(_\d+)?$"))
    def share(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
    ) -> None:
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        try:
            value = json.loads(body["actions"][0].get("value") or "{}")
            channel, first_week = str(value["channel"]), int(value["week"])
        except (ValueError, KeyError, TypeError):
            log.warning("a share button without a period")
            return
        with services.db.session() as session:
            team = get_team(session, workspace, channel)
            supervises = team is not None and any(s.user_id == user for s in team.supervisors)
        if team is None or not supervises:
            line = NOT_SUPERVISOR
        else:
            line = share_period(services, client, team, user, first_week)
        # Whatever came of it, the way into talking with the team about the results is next.
        blocks = None if line == NOT_SUPERVISOR else with_card_button(line)
        if body.get("response_url"):
            respond(text=line, blocks=blocks, response_type="ephemeral", replace_original=False)
        else:  # a Home tab button has nowhere to answer but the DM
            client.chat_postMessage(channel=user, text=line, blocks=blocks)
