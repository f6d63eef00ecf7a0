"""`/teampulse [weeks|log|help]`: the anonymised picture, for a team's supervisors only."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.handlers import chart
from bot.handlers.payload import workspace_of
from bot.membership import ChannelMembers
from bot.render.pulse import pulse_blocks
from bot.render.view_log import NEWER, OLDER, LogPage, log_page
from bot.services import Services
from storage.models import Team
from storage.pulse import Surface, read_pulse_for, view_log_page
from storage.teams import get_team, list_teams, teams_supervised_by

log = logging.getLogger(__name__)

DEFAULT_WEEKS, MAX_WEEKS = 8, 52
LOOKS_PER_PAGE = 20
USAGE = (
    "Try `/teampulse` for the last 8 weeks, `/teampulse 12` for a number of weeks (1 to 52), "
    "or `/teampulse log` to see who has looked at your team's results."
)
NOT_IN_A_TEAM = "You're not in a team that uses Secure Base."
NOT_THIS_TEAM = "That log is only for the team's own members and supervisors."
NOT_SUPERVISOR = (
    "The team pulse is only for a team's practice supervisors, so there's nothing to show you "
    "here. Your own check-ins stay private either way. To see who has looked at your team's "
    "results, try `/teampulse log`."
)


def parse_weeks(text: str) -> int | None:
    """Weeks asked for, or None when the text is not something we understand."""
    words = text.strip().lower().split()
    if not words:
        return DEFAULT_WEEKS
    if (
        len(words) == 1
        and words[0].isascii()
        and words[0].isdigit()
        and 1 <= int(words[0]) <= MAX_WEEKS
    ):
        return int(words[0])
    return None


def register(app: App, services: Services, members: ChannelMembers) -> None:
    @app.command("/teampulse")
    def teampulse(
        ack: Ack,
        command: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ack()
        user, workspace = command["user_id"], context.team_id or command.get("team_id", "")
        text = (command.get("text") or "").strip()
        if text.lower() == "chart":
            channel = command.get("channel_id")
            chart.chart_command(services, client, respond, workspace, user, channel)
            return
        if text.lower() == "log":
            show_logs(
                services, members, client, respond, workspace, user, command.get("channel_id")
            )
            return
        weeks = parse_weeks(text)
        if weeks is None:
            respond(
                text=f"Sorry, I didn't understand “{text[:40]}”. {USAGE}", response_type="ephemeral"
            )
            return
        with services.db.session() as session:
            teams = list(teams_supervised_by(session, workspace, user))
        if not teams:
            respond(text=NOT_SUPERVISOR, response_type="ephemeral")
            return
        here = [t for t in teams if t.channel_id == command.get("channel_id")]
        for team in here or teams:
            summary, blocks = team_picture(services, team, user, weeks)
            respond(text=summary, blocks=blocks, response_type="ephemeral")

    @app.action(re.compile(rf"^({OLDER}|{NEWER})$"))
    def turn_page(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
    ) -> None:
        """The log's "Older looks" / "Newer looks" buttons: the same message, another page."""
        ack()
        user, workspace = body["user"]["id"], workspace_of(body, context)
        try:
            value = json.loads(body["actions"][0].get("value") or "{}")
            channel, page = str(value["channel"]), int(value["page"])
        except (ValueError, KeyError, TypeError):
            log.warning("a view-log button without a page")
            return
        with services.db.session() as session:
            team = get_team(session, workspace, channel)
        if team is None or not _belongs(members, client, workspace, user, team):
            respond(text=NOT_THIS_TEAM, response_type="ephemeral", replace_original=False)
            return
        text, blocks = log_for(services, team, page)
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def team_picture(
    services: Services, team: Team, viewer: str, weeks: int
) -> tuple[str, list[dict[str, Any]]]:
    minimum = services.settings.anonymity_min
    with services.db.session() as session:
        team = session.merge(team)
        pulse = read_pulse_for(
            session,
            viewer,
            team,
            Surface.TEAMPULSE,
            weeks=weeks,
            anonymity_min=minimum,
            retention_weeks=services.settings.retention_weeks,
            now=services.clock.now(),
            comments=True,
            detail=f"{weeks} weeks",
        )
    return pulse_blocks(services.library, team.name, pulse.readings, pulse.comments, minimum, weeks)


def _belongs(
    members: ChannelMembers, client: WebClient, workspace: str, user: str, team: Team
) -> bool:
    return any(s.user_id == user for s in team.supervisors) or user in members.of(
        client, workspace, team.channel_id
    )


def log_for(services: Services, team: Team, page: int) -> tuple[str, list[dict[str, Any]]]:
    """Page `page` of the team's view log (the last page when asked for one past it)."""
    with services.db.session() as session:
        team = session.merge(team)
        found = view_log_page(session, team, page, LOOKS_PER_PAGE)
        return log_page(
            LogPage(team.name, team.channel_id, found, services.settings.retention_weeks)
        )


def show_logs(
    services: Services,
    members: ChannelMembers,
    client: WebClient,
    respond: Respond,
    workspace: str,
    user: str,
    channel: str | None,
) -> None:
    """Any member (and supervisor) can see who has looked at their team's results, and when:
    the team of this channel, else every team they are in, one message each."""
    with services.db.session() as session:
        teams = list(list_teams(session, workspace))
    here = [
        t
        for t in teams
        if t.channel_id == channel and _belongs(members, client, workspace, user, t)
    ]
    mine = here or [t for t in teams if _belongs(members, client, workspace, user, t)]
    if not mine:
        respond(text=NOT_IN_A_TEAM, response_type="ephemeral")
        return
    for team in mine:
        text, blocks = log_for(services, team, 1)
        respond(text=text, blocks=blocks, response_type="ephemeral")
