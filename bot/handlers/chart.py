"""The trend chart for supervisors, sent as a PNG in a DM: `/teampulse chart` (a branch of the
teampulse command) and the Home tab's "Send me the chart" button. Each chart is a look at the
team's figures, so it goes in the team's view log."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.handlers.payload import workspace_of
from bot.render.chart import ChartImage, trend_chart
from bot.render.home import SEND_CHART
from bot.render.share import share_offer
from bot.services import Services
from storage.models import Team
from storage.pulse import BlockFigures, Reading, Surface, read_pulse_for
from storage.teams import get_team, teams_supervised_by

log = logging.getLogger(__name__)

CHART_PERIODS = 8
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


def look(services: Services, team: Team, viewer: str) -> list[Reading]:
    """The last finished periods, newest first; recorded in the view log as a chart."""
    with services.db.session() as session:
        team = session.merge(team)
        return read_pulse_for(
            session,
            viewer,
            team,
            Surface.CHART,
            weeks=CHART_PERIODS * team.pool_weeks,
            newest=CHART_PERIODS,
            anonymity_min=services.settings.anonymity_min,
            retention_weeks=services.settings.retention_weeks,
            now=services.clock.now(),
        ).readings


def draw(services: Services, team: Team, readings: list[Reading]) -> ChartImage | None:
    if not any(isinstance(r, BlockFigures) for r in readings):
        return None
    return trend_chart(services.library, team.name, readings)


def send_chart(services: Services, client: WebClient, team: Team, viewer: str) -> str:
    """DM `viewer` the team's chart (with an offer to share the newest shown period); returns
    the line to tell them."""
    readings = look(services, team, viewer)
    image = draw(services, team, readings)
    if image is None:
        return NOTHING_TO_DRAW.format(team=team.name, periods=CHART_PERIODS)
    try:
        dm = client.conversations_open(users=viewer)["channel"]["id"]
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


def chart_file(services: Services, team: Team, viewer: str, directory: Path) -> Path | None:
    """Write the chart `viewer` would be sent to `directory` (for the demo); None when there is
    nothing to draw. Recorded in the view log like any look."""
    image = draw(services, team, look(services, team, viewer))
    if image is None:
        return None
    path = directory / f"team-pulse-{team.channel_id}.png"
    path.write_bytes(image.png)
    return path


def chart_command(
    services: Services,
    client: WebClient,
    respond: Respond,
    workspace: str,
    user: str,
    channel: str | None,
) -> None:
    """`/teampulse chart`: the chart of the team in this channel, or of every team supervised."""
    with services.db.session() as session:
        teams = list(teams_supervised_by(session, workspace, user))
    if not teams:
        respond(text=NOT_SUPERVISOR, response_type="ephemeral")
        return
    here = [t for t in teams if t.channel_id == channel]
    lines = [send_chart(services, client, team, user) for team in here or teams]
    respond(text="\n".join(lines), response_type="ephemeral")


def register(app: App, services: Services) -> None:
    @app.action(re.compile(rf"^{SEND_CHART}_\d+$"))
    def send_from_home(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        channel = body["actions"][0].get("value", "")
        with services.db.session() as session:
            team = get_team(session, workspace, channel)
            supervises = team is not None and any(s.user_id == user for s in team.supervisors)
        if team is None or not supervises:
            client.chat_postMessage(channel=user, text=NOT_SUPERVISOR)
            return
        line = send_chart(services, client, team, user)
        if line != SENT.format(team=team.name):
            client.chat_postMessage(channel=user, text=line)
