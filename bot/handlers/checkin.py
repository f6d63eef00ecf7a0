"""`/checkin`, the "Check in privately" button, and the private modal's submission."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
from sqlalchemy.exc import SQLAlchemyError

from bot.handlers.payload import workspace_of
from bot.handlers.signpost import signpost_reply
from bot.membership import ChannelMembers
from bot.render import checkin as view
from bot.render.home import HOME_CHECKIN
from bot.render.prompt import OPEN_CHECKIN
from bot.services import Services
from storage.checkins import CheckinAnswers, CheckinError, record_checkin
from storage.models import Team
from storage.periods import current_week, ensure_period
from storage.teams import get_team, list_teams

log = logging.getLogger(__name__)
CHOOSE_TEAM = "checkin_for_team"
# Every button that opens the check-in form: in the weekly prompt, a reminder and the App Home
# (OPEN_CHECKIN), the App Home's other teams and the "which team?" chooser.
OPENS_FORM = re.compile(rf"{OPEN_CHECKIN}|({CHOOSE_TEAM}|{HOME_CHECKIN})_\d+")


def is_checkin(body: Mapping[str, Any]) -> bool:
    """Whether a request from Slack is part of someone checking in: `/checkin`, a button that
    opens the form, or the form itself. Metrics leave these out (see bot.metrics)."""
    if body.get("command") == "/checkin":
        return True
    kind = body.get("type")
    if kind in ("view_submission", "view_closed"):
        return (body.get("view") or {}).get("callback_id") == view.CALLBACK_ID
    if kind == "block_actions":
        actions = body.get("actions") or []
        return any(OPENS_FORM.fullmatch(str(a.get("action_id", ""))) for a in actions)
    return False


NO_TEAM = (
    "You're not in a team that uses Secure Base yet, so there's nothing to check in to. "
    "If you think you should be, ask your practice supervisor to add the team's channel."
)


def my_teams(
    services: Services,
    members: ChannelMembers,
    client: WebClient,
    workspace: str,
    user: str,
    channel: str | None,
) -> list[Team]:
    """The teams whose channel this person is in; just the current channel's when it is one
    (the usual case, answered without loading every team in the workspace)."""
    with services.db.session() as session:
        here = get_team(session, workspace, channel) if channel else None
    if here is not None and user in members.of(client, workspace, here.channel_id):
        return [here]
    with services.db.session() as session:
        teams = list(list_teams(session, workspace))
    return [t for t in teams if user in members.of(client, workspace, t.channel_id)]


COULD_NOT_OPEN = (
    "Sorry, the check-in form couldn't open just then (Slack was busy). "
    "Please try again in a moment with `/checkin`."
)


def open_modal(services: Services, client: WebClient, trigger_id: str, team: Team) -> bool:
    """Open the check-in for `team`; False (and logged, without who) if Slack refused."""
    with services.db.session() as session:
        period = ensure_period(
            session, team, current_week(team, services.clock.now()), services.rotation
        )
        domain_key = period.domain
    modal = view.checkin_modal(
        services.library,
        services.library.domain(domain_key),
        team.channel_id,
        team.name,
        services.settings.anonymity_min,
        services.settings.privacy_url,
    )
    try:
        client.views_open(trigger_id=trigger_id, view=modal)
    except (SlackApiError, SlackClientError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        log.warning("the check-in form could not be opened: %s", reason)
        return False
    return True


UNREADABLE = 0  # an answer was sent but is not one of ours: reported, never stored


def _choice(values: dict[str, Any], block: str) -> int | None:
    """The chosen value; None when nothing was chosen; UNREADABLE for anything else."""
    element = values.get(block, {}).get(block)
    if not isinstance(element, dict):
        return None if element is None else UNREADABLE
    selected = element.get("selected_option")
    if selected is None:
        return None
    value = selected.get("value") if isinstance(selected, dict) else None
    if not isinstance(value, str) or not re.fullmatch(r"[1-5]", value):
        return UNREADABLE
    return int(value)


def parse_submission(values: dict[str, Any]) -> tuple[CheckinAnswers | None, dict[str, str]]:
    errors: dict[str, str] = {}
    availability = _choice(values, view.AVAILABILITY)
    stress = _choice(values, view.STRESS)
    domain_item = _choice(values, view.DOMAIN_ITEM)
    if availability not in range(1, 6):
        errors[view.AVAILABILITY] = "Please pick one of the five answers."
    if stress not in range(1, 6):
        errors[view.STRESS] = "Please pick one of the five answers."
    if domain_item is not None and domain_item not in range(1, 6):
        errors[view.DOMAIN_ITEM] = "Please pick one of the five answers, or leave it blank."
    raw_comment = (values.get(view.COMMENT, {}).get(view.COMMENT) or {}).get("value")
    comment = raw_comment.strip() if isinstance(raw_comment, str) else None
    if comment and len(comment) > view.COMMENT_MAX:
        errors[view.COMMENT] = f"Please keep it under {view.COMMENT_MAX} characters."
    if errors or availability is None or stress is None:
        return None, errors
    return CheckinAnswers(availability, stress, domain_item, comment or None), {}


def register(
    app: App,
    services: Services,
    members: ChannelMembers,
    after_checkin: Callable[[WebClient, str, str], None] | None = None,
) -> None:
    @app.command("/checkin")
    def checkin_command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()
        user, workspace = command["user_id"], context.team_id or command.get("team_id", "")
        teams = my_teams(services, members, client, workspace, user, command.get("channel_id"))
        if not teams:
            respond(text=NO_TEAM, response_type="ephemeral")
        elif len(teams) == 1:
            if not open_modal(services, client, command["trigger_id"], teams[0]):
                respond(text=COULD_NOT_OPEN, response_type="ephemeral")
        else:
            question = "You're in more than one team. Which one is this check-in for?"
            chooser = ActionsBlock(
                block_id="choose_team",
                elements=[
                    ButtonElement(
                        text=t.name[:75], action_id=f"{CHOOSE_TEAM}_{i}", value=t.channel_id
                    )
                    for i, t in enumerate(teams[:25])
                ],
            )
            respond(
                text=question,
                blocks=[SectionBlock(text=question).to_dict(), chooser.to_dict()],
                response_type="ephemeral",
            )

    def open_for_channel(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        channel = body["actions"][0].get("value", "")
        with services.db.session() as session:
            team = get_team(session, workspace, channel)
        if team is None or user not in members.of(client, workspace, channel):
            client.chat_postMessage(channel=user, text=NO_TEAM)
            return
        if not open_modal(services, client, body["trigger_id"], team):
            client.chat_postMessage(channel=user, text=COULD_NOT_OPEN)

    app.action(re.compile(rf"^({OPENS_FORM.pattern})$"))(open_for_channel)

    @app.view(view.CALLBACK_ID)
    def checkin_submitted(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        answers, errors = parse_submission(body["view"].get("state", {}).get("values", {}))
        if answers is None:
            ack(response_action="errors", errors=errors)
            return
        ack(**signpost_reply(services, body, context, answers.stress))
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        try:
            channel = json.loads(body["view"].get("private_metadata") or "{}")["channel"]
        except (ValueError, KeyError, TypeError):
            log.warning("check-in submission without a team in its metadata")
            return
        with services.db.session() as session:
            team = get_team(session, workspace, channel)
        if team is None or user not in members.of(client, workspace, channel):
            client.chat_postMessage(channel=user, text=NO_TEAM)
            return
        try:
            with services.db.session() as session:
                team = session.merge(team)
                result = record_checkin(
                    session, team, user, answers, services.clock.now(), services.rotation
                )
        except (CheckinError, SQLAlchemyError):
            log.exception("a check-in could not be saved")
            client.chat_postMessage(
                channel=user,
                text="Sorry, your check-in could not be saved just now. Please try again.",
            )
            return
        try:
            client.chat_postMessage(
                channel=user, text=view.confirmation(team.name, result.replaced)
            )
        except SlackApiError as error:
            log.warning(
                "check-in saved; the confirmation DM failed: %s", error.response.get("error")
            )
        if after_checkin is not None:
            after_checkin(client, workspace, user)
