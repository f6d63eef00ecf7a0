"""`/teampulse [weeks|log|help]`: the anonymised picture, for a team's supervisors only."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.handlers import chart
from bot.membership import ChannelMembers
from bot.render.common import escape
from bot.render.pulse import pulse_blocks
from bot.services import Services
from storage.models import PulseView, Team
from storage.pulse import BlockFigures, block_comments, record_view, team_pulse, view_log
from storage.teams import list_teams, teams_supervised_by

DEFAULT_WEEKS, MAX_WEEKS = 8, 52
USAGE = (
    "Try `/teampulse` for the last 8 weeks, `/teampulse 12` for a number of weeks (1 to 52), "
    "or `/teampulse log` to see who has looked at your team's results."
)
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
            show_log(services, members, client, respond, workspace, user, command.get("channel_id"))
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


def team_picture(
    services: Services, team: Team, viewer: str, weeks: int
) -> tuple[str, list[dict[str, Any]]]:
    minimum = services.settings.anonymity_min
    now = services.clock.now()
    with services.db.session() as session:
        team = session.merge(team)
        readings = team_pulse(session, team, weeks, minimum, now)
        latest = readings[0] if readings else None
        comments = (
            block_comments(session, team, latest.block, minimum)
            if isinstance(latest, BlockFigures)
            else []
        )
        shown = (
            f"{readings[-1].block.label()} to {readings[0].block.label()}" if readings else "none"
        )
        record_view(session, team, viewer, f"/teampulse {weeks} weeks: {shown}", now)
    return pulse_blocks(services.library, team.name, readings, comments, minimum, weeks)


def _looked(view: PulseView) -> str:
    """When, in the reader's own time zone (Slack's date token), with a UTC fallback."""
    fallback = f"{view.viewed_at:%a %d %b %Y at %H:%M} UTC"
    return f"<!date^{int(view.viewed_at.timestamp())}^{{date_long_pretty}} at {{time}}|{fallback}>"


def show_log(
    services: Services,
    members: ChannelMembers,
    client: WebClient,
    respond: Respond,
    workspace: str,
    user: str,
    channel: str | None,
) -> None:
    """Any member (and supervisor) can see who has looked at their team's results, and when."""
    with services.db.session() as session:
        teams = list(list_teams(session, workspace))

    def belongs(team: Team) -> bool:
        return any(s.user_id == user for s in team.supervisors) or user in members.of(
            client, workspace, team.channel_id
        )

    here = [t for t in teams if t.channel_id == channel and belongs(t)]
    mine = here or [t for t in teams if belongs(t)]
    sections = []
    with services.db.session() as session:
        for team in mine:
            lines = [
                f"• <@{v.viewer_id}> looked {_looked(v)} ({escape(v.what)})"
                for v in view_log(session, session.merge(team))
            ] or ["• Nobody has looked at the results yet."]
            sections.append(
                f"*Who has looked at {escape(team.name)}'s results*\n" + "\n".join(lines)
            )
    if not sections:
        respond(text="You're not in a team that uses Secure Base.", response_type="ephemeral")
        return
    respond(text="\n\n".join(sections)[:3900], response_type="ephemeral")
