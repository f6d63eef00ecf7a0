"""The App Home tab, published when someone opens it, and again after they change their
reminders or check in from it (a check-in made elsewhere shows the next time the tab opens).
What it holds, and the look a supervisor's tab counts as, is `practice.home.home_for`; this
module renders it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.after_ack import after_ack
from bot.content import Library
from bot.handlers.wiring import channels_of, practice_of, services_of
from bot.render.home import MemberCard, SupervisorCard, home_view
from practice.home import BelongingTeam, Home, Note, SupervisedTeam, home_for

log = logging.getLogger(__name__)

MAX_SUPERVISED, MAX_BELONGING = 5, 10  # keeps the tab within Slack's 100 blocks
NOTES = {
    Note.PAUSED: "Prompts are paused for this team at the moment.",
    Note.WEEK_OFF: "This is a week off for the team: no prompt and no reminders.",
}


def _member_card(library: Library, found: BelongingTeam) -> MemberCard:
    domain = library.domain(found.domain)
    return MemberCard(
        team_name=found.team.name,
        channel_id=found.team.channel_id,
        domain=domain,
        prompt=domain.prompts[found.prompt_index],
        checked_in=found.checked_in,
        note=NOTES.get(found.note) if found.note else None,
        support=found.team.support_text,
    )


def _supervisor_card(library: Library, found: SupervisedTeam) -> SupervisorCard:
    return SupervisorCard(
        team_name=found.team.name,
        channel_id=found.team.channel_id,
        domain=library.domain(found.domain),
        readings=found.readings,
        profile=found.profile,
        weeks_off=found.weeks_off,
        note=NOTES.get(found.note) if found.note else None,
    )


def render_home(context: BoltContext, home: Home) -> dict[str, Any]:
    services = services_of(context)
    library = services.library
    return home_view(
        library,
        [_supervisor_card(library, s) for s in home.supervising],
        [_member_card(library, m) for m in home.belonging],
        home.reminders_on,
        services.settings.anonymity_min,
        home.more,
    )


def publish_home(context: BoltContext, client: WebClient, workspace: str, user: str) -> None:
    """Publish `user`'s Home tab (a supervisor's holds figures: each publish is a look)."""
    home = home_for(
        practice_of(context),
        workspace,
        user,
        channels_of(context, client, workspace),
        max_supervised=MAX_SUPERVISED,
        max_belonging=MAX_BELONGING,
    )
    client.views_publish(user_id=user, view=render_home(context, home))


def refresh_home(context: BoltContext, client: WebClient, workspace: str, user: str) -> None:
    """After a check-in from the tab: show the new "you've checked in" (best effort; never fails
    the check-in)."""
    try:
        publish_home(context, client, workspace, user)
    except SlackApiError as error:
        log.warning("the Home tab could not be refreshed: %s", error.response.get("error"))


def opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab") not in (None, "home"):
        return
    publish_home(context, client, context.team_id or "", event["user"])


def register(app: App) -> None:
    after_ack(app.event("app_home_opened"))(opened)
