"""Posting a team's introduction in its channel: on setup (`securebase team add`, `/securebase`)
and again when a supervisor asks (`/securebase intro`).

The team is saved before the introduction is posted, so a failure to post never undoes the
setup: it is told, in words, with the way to post it later.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.render.intro import IntroTeam, intro_preview, introduction
from bot.render.prompt import Message
from bot.services import Services
from storage.models import Team

log = logging.getLogger(__name__)

POST_AGAIN = "`/securebase intro` in the channel shows it and lets you post it"
POSTED = "I've posted a short introduction in <#{channel}> so everyone knows what this is."
NOT_POSTED = (
    "I couldn't post the introduction in <#{channel}> ({reason}). Nothing else is affected: "
    f"{POST_AGAIN} when you're ready."
)


def intro_team(team: Team) -> IntroTeam:
    """The introduction's facts about a team (its row, loaded with its supervisors)."""
    return IntroTeam(
        team.name,
        team.channel_id,
        tuple(s.user_id for s in team.supervisors),
        team.post_day,
        team.post_minute,
        team.timezone,
    )


def intro_message(services: Services, team: IntroTeam) -> Message:
    settings = services.settings
    return introduction(
        team, settings.anonymity_min, settings.privacy_url, services.library.citation
    )


def preview_message(services: Services, team: IntroTeam) -> Message:
    settings = services.settings
    return intro_preview(
        team, settings.anonymity_min, settings.privacy_url, services.library.citation
    )


def failure_reason(error: Exception) -> str:
    """Why Slack would not take the post, in a few words."""
    if isinstance(error, SlackApiError):
        code = error.response.get("error")
        if code in ("not_in_channel", "channel_not_found"):
            return f"Slack said “{code}”: invite the app to the channel first"
        return f"Slack said “{code}”"
    return "Slack could not be reached"


def post_introduction(client: WebClient, message: Message, channel: str) -> str | None:
    """Post `message` in `channel`; None when it went, else why not (a few words)."""
    try:
        client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)
    except (SlackApiError, SlackClientError, OSError) as error:
        reason = failure_reason(error)
        log.warning("team %s: the introduction was not posted: %s", channel, reason)
        return reason
    return None


def outcome(channel: str, reason: str | None) -> str:
    """What to tell the person who set the team up, or asked for the post."""
    if reason is None:
        return POSTED.format(channel=channel)
    return NOT_POSTED.format(channel=channel, reason=reason)
