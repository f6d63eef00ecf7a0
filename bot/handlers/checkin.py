"""`/checkin`, the "Check in privately" button, and the private modal's submission."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.after_ack import after_ack, later
from bot.handlers.app_home import refresh_home
from bot.handlers.wiring import channels_of, practice_of, services_of, workspace_of
from bot.render import checkin as view
from bot.render.home import HOME_CHECKIN
from bot.render.prompt import OPEN_CHECKIN
from bot.render.signpost import needs_signpost, support_text
from practice.checkin import (
    CheckinAnswers,
    NotSaved,
    OpenWeek,
    Refusal,
    form_for,
    form_in_channel,
    submit,
    teams_to_check_in,
)
from practice.keys import KeyProblem
from practice.teams import MembersUnknown, TeamRef

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


COULD_NOT_LOOK = (
    "Sorry, Secure Base couldn't check which teams you're in just then (Slack was busy). "
    "Please try again in a moment with `/checkin`."
)


COULD_NOT_OPEN = (
    "Sorry, the check-in form couldn't open just then (Slack was busy). "
    "Please try again in a moment with `/checkin`."
)


def form_view(
    context: BoltContext, team: TeamRef, week: OpenWeek | Refusal, from_home: bool = False
) -> dict[str, Any]:
    """The check-in modal for this person's team-week, or a notice saying kindly why not."""
    if isinstance(week, Refusal):
        return view.notice_view(view.refusal_text(week, team.name))
    services = services_of(context)
    return view.checkin_modal(
        services.library,
        services.library.domain(week.domain),
        team.channel_id,
        week.week_index,
        team.name,
        services.settings.anonymity_min,
        services.settings.privacy_url,
        from_home,
    )


def open_form(client: WebClient, trigger_id: str, form: dict[str, Any]) -> bool:
    """Open `form`; False (and logged, without who) if Slack refused."""
    try:
        client.views_open(trigger_id=trigger_id, view=form)
    except (SlackApiError, SlackClientError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        log.warning("the check-in form could not be opened: %s", reason)
        return False
    return True


def tell_privately(
    client: WebClient, body: dict[str, Any], respond: Respond, channel: str, text: str
) -> None:
    """An ephemeral reply (never a DM: Slack's exports would keep it). A message button has a
    response_url; a Home tab button does not, so the reply shows in the team's channel, to this
    person only."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
        return
    try:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)
    except (SlackApiError, SlackClientError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        log.warning("an ephemeral check-in notice could not be shown: %s", reason)


UNREADABLE = 0  # an answer was sent but is not one of ours: reported, never stored
NOT_NEEDED = -1  # "I didn't need any this week" (availability only)


def _choice(values: dict[str, Any], block: str) -> int | None:
    """The chosen value; None when nothing was chosen; NOT_NEEDED for the extra choice of the
    availability item; UNREADABLE for anything else."""
    element = values.get(block, {}).get(block)
    if not isinstance(element, dict):
        return None if element is None else UNREADABLE
    selected = element.get("selected_option")
    if selected is None:
        return None
    value = selected.get("value") if isinstance(selected, dict) else None
    if block == view.AVAILABILITY and value == view.NOT_NEEDED:
        return NOT_NEEDED
    if not isinstance(value, str) or not re.fullmatch(r"[1-5]", value):
        return UNREADABLE
    return int(value)


def parse_submission(values: dict[str, Any]) -> tuple[CheckinAnswers | None, dict[str, str]]:
    errors: dict[str, str] = {}
    availability = _choice(values, view.AVAILABILITY)
    stress = _choice(values, view.STRESS)
    domain_item = _choice(values, view.DOMAIN_ITEM)
    if availability != NOT_NEEDED and availability not in range(1, 6):
        errors[view.AVAILABILITY] = "Please pick one of the answers."
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
    support = None if availability == NOT_NEEDED else availability
    return CheckinAnswers(support, stress, domain_item, comment or None), {}


@dataclass(frozen=True)
class FormTarget:
    """What a submitted form was opened for: the channel's team-week, and whether it was
    opened from the App Home tab."""

    channel: str
    week: int
    from_home: bool


def _form_target(body: dict[str, Any]) -> FormTarget | None:
    try:
        meta = json.loads(body["view"].get("private_metadata") or "{}")
        return FormTarget(str(meta["channel"]), int(meta["week"]), meta.get("home") is True)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def checkin_command(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    user, workspace = command["user_id"], workspace_of(command, context)
    practice, channels = practice_of(context), channels_of(context, client, workspace)
    try:
        teams = teams_to_check_in(practice, workspace, user, command.get("channel_id"), channels)
    except MembersUnknown:
        respond(text=COULD_NOT_LOOK, response_type="ephemeral")
        return
    if not teams:
        respond(text=NO_TEAM, response_type="ephemeral")
    elif len(teams) == 1:
        form = form_view(context, teams[0], form_for(practice, teams[0], user))
        if not open_form(client, command["trigger_id"], form):
            respond(text=COULD_NOT_OPEN, response_type="ephemeral")
    else:
        respond(**_chooser(teams), response_type="ephemeral")


def _chooser(teams: list[TeamRef]) -> dict[str, Any]:
    question = "You're in more than one team. Which one is this check-in for?"
    chooser = ActionsBlock(
        block_id="choose_team",
        elements=[
            ButtonElement(text=t.name[:75], action_id=f"{CHOOSE_TEAM}_{i}", value=t.channel_id)
            for i, t in enumerate(teams[:25])
        ],
    )
    return {"text": question, "blocks": [SectionBlock(text=question).to_dict(), chooser.to_dict()]}


def open_for_channel(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Every button that opens the form (its value is the team's channel)."""
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    channel = str(body["actions"][0].get("value") or "")
    channels = channels_of(context, client, workspace)
    try:
        found = form_in_channel(practice_of(context), workspace, channel, user, channels)
    except MembersUnknown:
        tell_privately(client, body, respond, channel, COULD_NOT_LOOK)
        return
    from_home = (body.get("view") or {}).get("type") == "home"
    form = (
        view.notice_view(NO_TEAM)
        if found is None
        else form_view(context, found.team, found.week, from_home)
    )
    if not open_form(client, body["trigger_id"], form):
        tell_privately(client, body, respond, channel, COULD_NOT_OPEN)


def checkin_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Stored inside the acknowledgement, whose updated view is the confirmation."""
    answers, errors = parse_submission(body["view"].get("state", {}).get("values", {}))
    if answers is None:
        ack(response_action="errors", errors=errors)
        return
    user, workspace = body["user"]["id"], workspace_of(body, context)
    target = _form_target(body)
    try:
        found = (
            None
            if target is None
            else submit(practice_of(context), workspace, target.channel, target.week, user, answers)
        )
    except (NotSaved, KeyProblem) as error:
        log.info("a check-in was not saved: %s", error)
        ack(response_action="errors", errors={view.AVAILABILITY: view.NOT_SAVED})
        return
    if found is None:
        ack(response_action="update", view=view.notice_view(NO_TEAM))
        return
    team, result = found.team, found.outcome
    if isinstance(result, Refusal):
        ack(response_action="update", view=view.notice_view(view.refusal_text(result, team.name)))
        return
    support = support_text(team.support_text) if needs_signpost(answers.stress) else None
    library = services_of(context).library
    ack(
        response_action="update",
        view=view.saved_view(team.name, result.replaced, support, library.citation),
    )
    # The Home tab is published afresh whenever it is opened; one the person is looking at
    # (the form came from it) shows the new check-in once refreshed, after the ack.
    if target is not None and target.from_home:
        later(context, "the Home tab's refresh", refresh_home, context, client, workspace, user)


def register(app: App) -> None:
    after_ack(app.command("/checkin"), opens_modal=True)(checkin_command)
    after_ack(app.action(re.compile(rf"^({OPENS_FORM.pattern})$")), opens_modal=True)(
        open_for_channel
    )
    app.view(view.CALLBACK_ID)(checkin_submitted)
