"""`/securebase` in a team channel: set the team up, change its settings, pause and resume the
prompts, plan weeks off, preview the next prompt and the team's introduction.

Who may do what, and every change, is practice.setup (a workspace admin or owner, or one of the
team's own supervisors; a new team needs an admin; every button and modal checks again). This
module parses the command, buttons and modals, and says what came of it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import introduction
from bot.after_ack import after_ack
from bot.handlers.wiring import practice_of, services_of, workspace_of
from bot.people import SlackPeople
from bot.render import admin as render
from bot.render.intro import POST_INTRO, IntroTeam
from bot.render.prompt import weekly_prompt
from practice import setup
from practice.teams import TeamRef
from practice.weeks import Week

log = logging.getLogger(__name__)

COMMAND = "/securebase"
SUPPORT_MAX = 1000
USAGE = (
    "Try `/securebase` for this channel's settings, or `/securebase setup`, `pause`, `resume`, "
    "`weeks off`, `preview` or `intro`."
)
REFUSE_TEAM = (
    "Sorry, only a workspace admin or one of this team's practice supervisors can change "
    "Secure Base here. If something needs changing, your supervisor is the best person to ask."
)
REFUSE_NEW = (
    "Sorry, only a workspace admin can set Secure Base up in a channel. If your team would like "
    "it, ask an admin to type `/securebase` here."
)
NOT_HERE = "Please use `/securebase` in the team's own channel, not in a direct message."
NOT_SET_UP = "Secure Base isn't set up in this channel yet: type `/securebase` to set it up."
INVITE_FIRST = (
    "I'm not in this channel yet, so I couldn't post the prompts. Please invite me first "
    "(`/invite @Secure Base`), then type `/securebase` again."
)


@dataclass(frozen=True)
class Request:
    """Who asked, and where."""

    user: str
    workspace: str
    channel: str


def channel_info(client: WebClient, channel: str) -> dict[str, Any] | None:
    """The channel as the bot sees it; None when it cannot see it at all."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError:
        return None
    return info if isinstance(info, dict) else None


def _settings(team: TeamRef) -> render.TeamSettings:
    return render.TeamSettings(
        channel_id=team.channel_id,
        name=team.name,
        post_day=team.post_day,
        post_minute=team.post_minute,
        timezone=team.timezone,
        supervisors=team.supervisors,
        support_text=team.support_text,
        pool_weeks=team.pool_weeks,
        new=False,
    )


def _intro(team: TeamRef) -> IntroTeam:
    return IntroTeam(
        team.name,
        team.channel_id,
        team.supervisors,
        team.post_day,
        team.post_minute,
        team.timezone,
    )


REFUSALS = {
    setup.Refused.NOT_SET_UP: NOT_SET_UP,
    setup.Refused.NOT_TEAMS: REFUSE_TEAM,
    setup.Refused.NOT_ADMIN: REFUSE_NEW,
}
STARTS = {
    setup.ChangeStarts.NEXT_WEEK: (
        " This week's prompt has already gone out, so the change starts next week."
    ),
    setup.ChangeStarts.SOON: (
        " This week's prompt hasn't gone out yet and its new time has passed,"
        " so it goes out in the next minute or so."
    ),
}


def status(context: BoltContext, team: TeamRef | None, request: Request, respond: Respond) -> None:
    if team is None:
        message = render.not_set_up(request.channel)
    else:
        found = setup.status(practice_of(context), team)
        labels = [Week(w).label() for w in found.weeks_off]
        message = render.status_message(_settings(found.team), found.team.paused, labels)
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def open_settings(
    context: BoltContext,
    client: WebClient,
    team: TeamRef | None,
    request: Request,
    trigger_id: str,
    respond: Respond,
) -> None:
    default_zone = services_of(context).settings.timezone
    if team is not None:
        settings = _settings(team)
    else:
        channel = channel_info(client, request.channel)
        if channel is None or not channel.get("is_member"):
            respond(text=INVITE_FIRST, response_type="ephemeral")
            return
        name = channel.get("name")
        settings = render.TeamSettings(
            channel_id=request.channel,
            name=f"#{name}" if name else "Our team",
            post_day=0,
            post_minute=9 * 60 + 30,
            timezone=default_zone,
            supervisors=(),
            support_text=None,
            pool_weeks=1,
            new=True,
        )
    own = SlackPeople(client).timezone(request.user)
    zones = [*([own] if own else []), default_zone]
    client.views_open(trigger_id=trigger_id, view=render.settings_modal(settings, zones))


def set_paused(context: BoltContext, request: Request, paused: bool, respond: Respond) -> None:
    team = setup.set_paused(practice_of(context), request.workspace, request.channel, paused)
    if team is None:
        respond(text=NOT_SET_UP, response_type="ephemeral")
        return
    text = (
        f"Prompts for {team.name} are paused. Nothing is posted and nobody is reminded until you "
        "resume; people can still check in."
        if paused
        else f"Prompts for {team.name} are back on: this week's prompt goes out at its usual "
        "time, or within a few minutes if that time has already passed."
    )
    respond(text=text, response_type="ephemeral")


def open_weeks_off(context: BoltContext, client: WebClient, team: TeamRef, trigger_id: str) -> None:
    choice = setup.weeks_off_choice(practice_of(context), team)
    weeks = [
        (w, Week(w).label() + (" (this week)" if w == choice.this_week else ""))
        for w in choice.offered
    ]
    modal = render.weeks_off_modal(team.channel_id, team.name, weeks, choice.chosen)
    client.views_open(trigger_id=trigger_id, view=modal)


def preview(context: BoltContext, team: TeamRef, respond: Respond) -> None:
    upcoming = setup.next_prompt(practice_of(context), team)
    if upcoming is None:
        message = render.preview_message(team.channel_id, None, [], "", team.paused)
    else:
        library = services_of(context).library
        domain = library.domain(upcoming.domain)
        prompt = weekly_prompt(library, domain, upcoming.prompt_index, team.channel_id)
        message = render.preview_message(
            team.channel_id, upcoming.fire, prompt.blocks, prompt.text, team.paused
        )
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def intro(
    context: BoltContext, client: WebClient, team: TeamRef, respond: Respond, post: bool
) -> None:
    """`/securebase intro`: the introduction, to preview (only the asker sees it) or post."""
    services = services_of(context)
    if not post:
        message = introduction.preview_message(services, _intro(team))
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    message = introduction.intro_message(services, _intro(team))
    reason = introduction.post_introduction(client, message, team.channel_id)
    line = introduction.outcome(team.channel_id, reason)
    respond(text=line, response_type="ephemeral", replace_original=False)


def allowed(
    context: BoltContext, client: WebClient, request: Request, respond: Respond
) -> setup.Access | None:
    """The team (or none yet) when the asker may manage this channel's; None when not."""
    if request.channel[:1] == "D":
        respond(text=NOT_HERE, response_type="ephemeral")
        return None
    found = setup.access(
        practice_of(context), request.workspace, request.channel, request.user, SlackPeople(client)
    )
    if found.refused is not None:
        respond(text=REFUSALS[found.refused], response_type="ephemeral")
        return None
    return found


NEEDS_A_TEAM = {"pause", "resume", "weeks off", "preview", "intro", "post intro"}
WORDS = {"help": "status", "": "status", "set up": "setup", "settings": "setup"}
WORDS |= {"skip": "weeks off", "holidays": "weeks off", "introduction": "intro"}


def act(
    context: BoltContext,
    client: WebClient,
    request: Request,
    word: str,
    trigger_id: str,
    respond: Respond,
) -> None:
    found = allowed(context, client, request, respond)
    if found is None:
        return
    team, word = found.team, WORDS.get(word, word)
    if word in ("pause", "resume"):
        set_paused(context, request, word == "pause", respond)
    elif word in NEEDS_A_TEAM and team is None:
        respond(text=NOT_SET_UP, response_type="ephemeral")
    elif word == "status":
        status(context, team, request, respond)
    elif word == "setup":
        open_settings(context, client, team, request, trigger_id, respond)
    elif word == "weeks off" and team is not None:
        open_weeks_off(context, client, team, trigger_id)
    elif word == "preview" and team is not None:
        preview(context, team, respond)
    elif word in ("intro", "post intro") and team is not None:
        intro(context, client, team, respond, post=word == "post intro")
    else:
        respond(
            text=f"Sorry, I didn't understand “{word[:40]}”. {USAGE}", response_type="ephemeral"
        )


def securebase(
    ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    request = Request(
        command["user_id"], workspace_of(command, context), command.get("channel_id", "")
    )
    word = " ".join((command.get("text") or "").lower().split())
    act(context, client, request, word, command["trigger_id"], respond)


BUTTONS = {
    render.OPEN_SETTINGS: "setup",
    render.PAUSE: "pause",
    render.RESUME: "resume",
    render.OPEN_WEEKS_OFF: "weeks off",
    render.PREVIEW: "preview",
    render.PREVIEW_INTRO: "intro",
    POST_INTRO: "post intro",
}


def button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    action = body["actions"][0]
    request = Request(
        body["user"]["id"], workspace_of(body, context), str(action.get("value") or "")
    )
    act(context, client, request, BUTTONS[action["action_id"]], body["trigger_id"], respond)


# -- modal submissions -------------------------------------------------------------------------


def _state(values: dict[str, Any], block: str) -> dict[str, Any]:
    state = (values.get(block) or {}).get(block)
    return state if isinstance(state, dict) else {}


def _selected(values: dict[str, Any], block: str) -> str | None:
    option = _state(values, block).get("selected_option")
    return str(option.get("value")) if isinstance(option, dict) else None


def parse_settings(values: dict[str, Any]) -> tuple[setup.TeamSettings | None, dict[str, str]]:
    errors: dict[str, str] = {}
    name = str(_state(values, render.NAME).get("value") or "").strip()
    if not name:
        errors[render.NAME] = "Please give the team a name."
    day = _selected(values, render.DAY)
    if day not in [str(i) for i in range(7)]:
        errors[render.DAY] = "Please choose a day."
    match = re.fullmatch(
        r"([01]\d|2[0-3]):([0-5]\d)", _state(values, render.TIME).get("selected_time") or ""
    )
    if match is None:
        errors[render.TIME] = "Please choose a time."
    zone = _selected(values, render.ZONE) or ""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors[render.ZONE] = "Please choose a time zone."
    supervisors = tuple(
        dict.fromkeys(_state(values, render.SUPERVISORS).get("selected_users") or [])
    )
    if not supervisors:
        errors[render.SUPERVISORS] = "Please choose at least one practice supervisor."
    pool = _selected(values, render.POOL)
    support = str(_state(values, render.SUPPORT).get("value") or "").strip()
    if len(support) > SUPPORT_MAX:
        errors[render.SUPPORT] = f"Please keep it under {SUPPORT_MAX} characters."
    if errors or day is None or match is None:
        return None, errors
    return (
        setup.TeamSettings(
            name=name[:200],
            post_day=int(day),
            post_minute=int(match.group(1)) * 60 + int(match.group(2)),
            timezone=zone,
            supervisors=supervisors,
            pool_weeks=int(pool) if pool in ("1", "2", "4") else None,
            support_text=support or None,
        ),
        {},
    )


def _tell(client: WebClient, user: str, channel: str, text: str) -> None:
    """An ephemeral note in the channel, or a DM when that is not possible."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError:
        client.chat_postMessage(channel=user, text=text)


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(body["view"].get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _saved_line(context: BoltContext, client: WebClient, saved: setup.SettingsSaved) -> str:
    team = saved.team
    supervisors = ", ".join(f"<@{u}>" for u in team.supervisors)
    moment = render.when(team.post_day, team.post_minute, team.timezone)
    verb = "is set up" if saved.created else "settings are saved"
    note = f" ({saved.left_out} app or deactivated account left out)" if saved.left_out else ""
    after = STARTS[saved.starts] if saved.starts else ""
    if saved.created:  # posted once the team is saved: a failure undoes nothing
        message = introduction.intro_message(services_of(context), _intro(team))
        reason = introduction.post_introduction(client, message, team.channel_id)
        after += " " + introduction.outcome(team.channel_id, reason)
    return (
        f"Secure Base for {team.name} {verb}: prompts on {moment}. Supervisors: "
        f"{supervisors}{note}.{after}"
    )


def settings_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    form, errors = parse_settings(body["view"].get("state", {}).get("values", {}))
    if form is None:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    channel = str(_metadata(body).get("channel") or "")
    saved = setup.save_settings(
        practice_of(context), workspace, channel, user, form, SlackPeople(client)
    )
    if isinstance(saved, setup.SettingsSaved):
        line = _saved_line(context, client, saved)
    elif isinstance(saved, setup.Refused):
        line = REFUSALS[saved]
    else:
        line = "Please choose at least one practice supervisor (a person, not an app)."
    _tell(client, user, channel, line)


def weeks_off_submitted(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    user, workspace = body["user"]["id"], workspace_of(body, context)
    meta = _metadata(body)
    channel = str(meta.get("channel") or "")
    offered = [int(w) for w in meta.get("weeks") or [] if isinstance(w, int)]
    values = body["view"].get("state", {}).get("values", {})
    picked = _state(values, render.WEEKS).get("selected_options") or []
    chosen = [int(o["value"]) for o in picked if str(o.get("value", "")).isdigit()]
    saved = setup.save_weeks_off(
        practice_of(context), workspace, channel, user, offered, chosen, SlackPeople(client)
    )
    if isinstance(saved, setup.Refused):
        text = REFUSALS[saved]
    elif not saved.chosen:
        text = f"No weeks off planned for {saved.team.name}."
    else:
        labels = ", ".join(Week(w).label() for w in saved.chosen)
        text = (
            f"Weeks off for {saved.team.name}: {labels}. No prompt, reflective questions or "
            "reminders in those weeks."
        )
    _tell(client, user, channel, text)


def register(app: App) -> None:
    after_ack(app.command(COMMAND), opens_modal=True)(securebase)
    for action_id in BUTTONS:
        after_ack(app.action(action_id), opens_modal=True)(button)
    app.view(render.SETTINGS_CALLBACK)(settings_submitted)
    app.view(render.WEEKS_OFF_CALLBACK)(weeks_off_submitted)
