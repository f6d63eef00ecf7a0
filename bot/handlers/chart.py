"""The trend chart for supervisors, sent as a PNG in a DM: `/teampulse chart` (a branch of the
teampulse command) and the Home tab's "Send me the chart" button. Each chart is a look at the
team's figures, so it goes in the team's view log (practice.pulse.chart_look)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.after_ack import after_ack
from bot.content import Library
from bot.dm import open_dm
from bot.handlers.wiring import practice_of, services_of, workspace_of
from bot.render.chart import ChartImage, trend_chart
from bot.render.home import SEND_CHART
from bot.render.share import share_offer
from practice.context import Practice
from practice.figures import BlockFigures, Reading
from practice.pulse import CHART_PERIODS, chart_look
from practice.teams import TeamRef, here_first, supervised_team, supervised_teams

log = logging.getLogger(__name__)

NOT_SUPERVISOR = (
    "The chart is only for a team's practice supervisors, so there's nothing to show you here. "
    "Your own check-ins stay private either way."
)
SENT = "I've sent you the chart for {team} in a direct message."
NOTHING_TO_DRAW = (
    "None of {team}'s last {periods} finished periods had enough answers to show yet, so "
    "there's no chart to draw. It will fill in as weeks close."
)
FAILED = "Sorry, I couldn't send the chart just now. Please try again in a minute."


def draw(library: Library, team: TeamRef, readings: list[Reading]) -> ChartImage | None:
    if not any(isinstance(r, BlockFigures) for r in readings):
        return None
    return trend_chart(library, team.name, readings)


def send_chart(
    practice: Practice, library: Library, client: WebClient, team: TeamRef, viewer: str
) -> str:
    """DM `viewer` the team's chart (with an offer to share the newest shown period); returns
    the line to tell them."""
    readings = chart_look(practice, viewer, team)
    image = draw(library, team, readings)
    if image is None:
        return NOTHING_TO_DRAW.format(team=team.name, periods=CHART_PERIODS)
    try:
        dm = open_dm(client, viewer)
        client.files_upload_v2(
            channel=dm,
            content=image.png,
            filename=f"team-pulse-{team.channel_id}.png",
            title=image.title,
            alt_txt=image.alt_text,
            initial_comment=f"{team.name}: the last {len(readings)} finished periods.",
        )
        latest = next(r for r in readings if isinstance(r, BlockFigures))
        offer = share_offer(team.channel_id, latest)
        client.chat_postMessage(channel=dm, text=offer.text, blocks=offer.blocks)
    except SlackApiError as error:
        log.warning(
            "team %s: the chart could not be sent: %s", team.channel_id, error.response.get("error")
        )
        return FAILED
    return SENT.format(team=team.name)


def chart_file(
    practice: Practice, library: Library, team: TeamRef, viewer: str, directory: Path
) -> Path | None:
    """Write the chart `viewer` would be sent to `directory` (for the demo); None when there is
    nothing to draw. Recorded in the view log like any look."""
    image = draw(library, team, chart_look(practice, viewer, team))
    if image is None:
        return None
    path = directory / f"team-pulse-{team.channel_id}.png"
    path.write_bytes(image.png)
    return path


def chart_command(
    command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """`/teampulse chart`: the chart of the team in this channel, or of every team supervised."""
    practice, library = practice_of(context), services_of(context).library
    user = command["user_id"]
    teams = supervised_teams(practice, workspace_of(command, context), user)
    if not teams:
        respond(text=NOT_SUPERVISOR, response_type="ephemeral")
        return
    lines = [
        send_chart(practice, library, client, team, user)
        for team in here_first(teams, command.get("channel_id"))
    ]
    respond(text="\n".join(lines), response_type="ephemeral")


def send_from_home(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The Home tab's "Send me the chart" button (the team's channel is its value)."""
    ack()
    user, practice = body["user"]["id"], practice_of(context)
    channel = str(body["actions"][0].get("value") or "")
    team = supervised_team(practice, workspace_of(body, context), channel, user)
    if team is None:
        client.chat_postMessage(channel=user, text=NOT_SUPERVISOR)
        return
    line = send_chart(practice, services_of(context).library, client, team, user)
    if line != SENT.format(team=team.name):
        client.chat_postMessage(channel=user, text=line)


def register(app: App) -> None:
    after_ack(app.action(re.compile(rf"^{SEND_CHART}_\d+$")))(send_from_home)
