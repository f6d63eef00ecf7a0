"""`/teampulse [weeks|log|chart|help]`: the anonymised picture, for a team's supervisors only,
and the view log, for the team's own members and supervisors."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.handlers import chart
from bot.handlers.wiring import (
    channel_and_number,
    channels_of,
    practice_of,
    services_of,
    workspace_of,
)
from bot.render.pulse import pulse_blocks
from bot.render.view_log import NEWER, OLDER, LogPage, log_page
from practice.pulse import TeamLog, supervisor_pulse, view_log_page_for, view_logs_for
from practice.teams import MembersUnknown

log = logging.getLogger(__name__)

DEFAULT_WEEKS, MAX_WEEKS = 8, 52
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
COULD_NOT_LOOK = (
    "Sorry, I couldn't check which teams you're in just then (Slack was busy). "
    "Please try again in a moment."
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


def _rendered(context: BoltContext, found: TeamLog) -> tuple[str, list[dict[str, Any]]]:
    retention = services_of(context).settings.retention_weeks
    return log_page(LogPage(found.team.name, found.team.channel_id, found.log, retention))


def teampulse(
    ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    text = (command.get("text") or "").strip()
    if text.lower() == "chart":
        chart.chart_command(command, respond, client, context)
    elif text.lower() == "log":
        show_logs(command, respond, client, context)
    else:
        show_pulse(command, respond, context, text)


def show_pulse(command: dict[str, Any], respond: Respond, context: BoltContext, text: str) -> None:
    weeks = parse_weeks(text)
    if weeks is None:
        respond(
            text=f"Sorry, I didn't understand “{text[:40]}”. {USAGE}", response_type="ephemeral"
        )
        return
    workspace, user = workspace_of(command, context), command["user_id"]
    found = supervisor_pulse(
        practice_of(context), workspace, user, command.get("channel_id"), weeks
    )
    if not found:
        respond(text=NOT_SUPERVISOR, response_type="ephemeral")
    minimum, library = services_of(context).settings.anonymity_min, services_of(context).library
    for each in found:
        pulse = each.pulse
        summary, blocks = pulse_blocks(
            library, each.team.name, pulse.readings, pulse.comments, minimum, weeks
        )
        respond(text=summary, blocks=blocks, response_type="ephemeral")


def show_logs(
    command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    """Any member (and supervisor) can see who has looked at their team's results, and when:
    the team of this channel, else every team they are in, one message each."""
    workspace, user = workspace_of(command, context), command["user_id"]
    channels = channels_of(context, client, workspace)
    try:
        logs = view_logs_for(
            practice_of(context), workspace, user, command.get("channel_id"), channels
        )
    except MembersUnknown:
        respond(text=COULD_NOT_LOOK, response_type="ephemeral")
        return
    if not logs:
        respond(text=NOT_IN_A_TEAM, response_type="ephemeral")
    for found in logs:
        text, blocks = _rendered(context, found)
        respond(text=text, blocks=blocks, response_type="ephemeral")


def turn_page(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """The log's "Older looks" / "Newer looks" buttons: the same message, another page."""
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    found_value = channel_and_number(body, "page")
    if found_value is None:
        return
    channel, page = found_value
    channels = channels_of(context, client, workspace)
    try:
        found = view_log_page_for(practice_of(context), workspace, channel, user, page, channels)
    except MembersUnknown:
        respond(text=COULD_NOT_LOOK, response_type="ephemeral", replace_original=False)
        return
    if found is None:
        respond(text=NOT_THIS_TEAM, response_type="ephemeral", replace_original=False)
        return
    text, blocks = _rendered(context, found)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=True)


def register(app: App) -> None:
    after_ack(app.command("/teampulse"))(teampulse)
    after_ack(app.action(re.compile(rf"^({OLDER}|{NEWER})$")))(turn_page)
