"""The App Home tab, published when someone opens it and again after they check in.

Supervisors see, for each team they supervise, this week's domain with their reflective
questions, the last 8 finished periods and the team's secure base profile: every publish of
those figures, whatever prompted it (opening the tab, a button on it, a check-in), is a look in
the team's view log. Members see only the teams whose channel they are in:
this week's prompt, whether *they* have checked in (a fact only they are shown) and a button
to check in. Anyone else gets a friendly explanation.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.content import DOMAIN_ORDER
from bot.membership import ChannelMembers
from bot.render.home import MemberCard, SupervisorCard, home_view
from bot.services import Services
from practice.checkin import has_checked_in
from storage.models import Team
from storage.periods import planned, team_week
from storage.profile import secure_base_profile
from storage.pulse import Surface, read_pulse_for
from storage.reminders import wants_reminders
from storage.skips import is_skipped, skipped_weeks
from storage.teams import list_teams, teams_supervised_by

log = logging.getLogger(__name__)

TREND_PERIODS = 8
MAX_SUPERVISED, MAX_BELONGING = 5, 10  # keeps the tab within Slack's 100 blocks
PAUSED = "Prompts are paused for this team at the moment."
WEEK_OFF = "This is a week off for the team: no prompt and no reminders."


def member_teams(
    members: ChannelMembers, client: WebClient, workspace: str, user: str, teams: list[Team]
) -> list[Team]:
    """The teams whose channel this person is in (a channel the bot can no longer see is
    left out rather than failing the whole tab)."""
    mine = []
    for team in teams:
        try:
            if user in members.of(client, workspace, team.channel_id):
                mine.append(team)
        except SlackApiError as error:
            log.warning("team %s: members unknown: %s", team.channel_id, error.response["error"])
    return mine


def _note(session: Session, team: Team, week_index: int) -> str | None:
    if team.paused:
        return PAUSED
    if is_skipped(session, team.id, week_index):
        return WEEK_OFF
    return None


def _member_card(services: Services, session: Session, team: Team, user: str) -> MemberCard:
    now = services.clock.now()
    week = team_week(session, team, now)
    domain_key, prompt_index = planned(session, team, week, services.rotation)
    domain = services.library.domain(domain_key)
    return MemberCard(
        team_name=team.name,
        channel_id=team.channel_id,
        domain=domain,
        prompt=domain.prompts[prompt_index],
        checked_in=has_checked_in(services.db, team, user, now),
        note=_note(session, team, week.index),
    )


def _supervisor_card(
    services: Services, session: Session, team: Team, viewer: str
) -> SupervisorCard:
    now = services.clock.now()
    week = team_week(session, team, now)
    domain_key, _prompt = planned(session, team, week, services.rotation)
    readings = read_pulse_for(
        session,
        viewer,
        team,
        Surface.HOME,
        weeks=TREND_PERIODS * team.pool_weeks,
        newest=TREND_PERIODS,
        anonymity_min=services.settings.anonymity_min,
        retention_weeks=services.settings.retention_weeks,
        now=now,
    ).readings
    skipped = (
        skipped_weeks(session, team.id, readings[-1].block.first_week, readings[0].block.last_week)
        if readings
        else set()
    )
    return SupervisorCard(
        team_name=team.name,
        channel_id=team.channel_id,
        domain=services.library.domain(domain_key),
        readings=readings,
        profile=secure_base_profile(readings, DOMAIN_ORDER, team.pool_weeks),
        skipped=frozenset(skipped),
        note=_note(session, team, week.index),
    )


def home_for(
    services: Services,
    members: ChannelMembers,
    client: WebClient,
    workspace: str,
    user: str,
) -> dict[str, Any]:
    with services.db.session() as session:
        teams = list(list_teams(session, workspace))
        supervised = list(teams_supervised_by(session, workspace, user))
    belonging = member_teams(members, client, workspace, user, teams)
    with services.db.session() as session:
        supervisor_cards = [
            _supervisor_card(services, session, session.merge(team), user)
            for team in supervised[:MAX_SUPERVISED]
        ]
        member_cards = [
            _member_card(services, session, session.merge(team), user)
            for team in belonging[:MAX_BELONGING]
        ]
        reminders_on = wants_reminders(session, workspace, user)
    more = max(0, len(supervised) - MAX_SUPERVISED) + max(0, len(belonging) - MAX_BELONGING)
    return home_view(
        services.library,
        supervisor_cards,
        member_cards,
        reminders_on,
        services.settings.anonymity_min,
        more,
    )


def publish_home(
    services: Services,
    members: ChannelMembers,
    client: WebClient,
    workspace: str,
    user: str,
) -> None:
    """Publish `user`'s Home tab (a supervisor's holds figures: each publish is a look)."""
    view = home_for(services, members, client, workspace, user)
    client.views_publish(user_id=user, view=view)


def register(app: App, services: Services, members: ChannelMembers) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab") not in (None, "home"):
            return
        publish_home(services, members, client, context.team_id or "", event["user"])


def refresh_home(
    services: Services, members: ChannelMembers, client: WebClient, workspace: str, user: str
) -> None:
    """After a check-in: show the new "you've checked in" (best effort; never fails the
    check-in)."""
    try:
        publish_home(services, members, client, workspace, user)
    except SlackApiError as error:
        log.warning("the Home tab could not be refreshed: %s", error.response.get("error"))
