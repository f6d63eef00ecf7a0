"""`/securebase` in a team channel: set the team up, change its settings, pause and resume the
prompts, plan weeks off, and preview the next prompt.

Only a workspace admin or owner (users.info) or one of the team's own supervisors may; setting
up a new team needs an admin. Everyone else gets a polite no. Every button and modal checks
again when it is used, so a forwarded or stale message grants nothing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot import introduction
from bot.handlers.wiring import workspace_of
from bot.render import admin as render
from bot.render.intro import POST_INTRO
from bot.render.prompt import weekly_prompt
from bot.services import Services
from scheduler.holidays import week_entries
from scheduler.weekly import fire_time
from storage import deliveries
from storage.deliveries import DeliveryKey, DeliveryKind
from storage.models import Team
from storage.periods import current_week, find_period, planned, team_week
from storage.skips import hold_skipped_from, set_skipped, skipped_weeks
from storage.teams import TeamSpec, add_team, get_team, set_supervisors
from storage.weeks import Week

log = logging.getLogger(__name__)

COMMAND = "/securebase"
WEEKS_OFFERED = 12
PREVIEW_HORIZON = 13
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
    """Who asked, where, and how to answer them."""

    user: str
    workspace: str
    channel: str


def is_admin(client: WebClient, user: str) -> bool:
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError as error:
        log.warning("users.info failed: %s", error.response.get("error"))
        return False
    return bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))


def may_manage(client: WebClient, user: str, team: Team | None) -> bool:
    if team is not None and any(s.user_id == user for s in team.supervisors):
        return True
    return is_admin(client, user)


def channel_info(client: WebClient, channel: str) -> dict[str, Any] | None:
    """The channel as the bot sees it; None when it cannot see it at all."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError:
        return None
    return info if isinstance(info, dict) else None


def _settings(team: Team) -> render.TeamSettings:
    return render.TeamSettings(
        channel_id=team.channel_id,
        name=team.name,
        post_day=team.post_day,
        post_minute=team.post_minute,
        timezone=team.timezone,
        supervisors=tuple(s.user_id for s in team.supervisors),
        support_text=team.support_text,
        pool_weeks=team.pool_weeks,
        new=False,
    )


def _when_the_change_starts(session: Session, team: Team, now: datetime) -> str:
    """What a new day, time or time zone means for this week: one prompt a week, always."""
    week = team_week(session, team, now)
    if find_period(session, team.id, week.index) is not None:
        return " This week's prompt has already gone out, so the change starts next week."
    prompt = DeliveryKey(team.id, week.index, DeliveryKind.PROMPT, team.channel_id)
    held = deliveries.settled(session, prompt)  # a week off, or a prompt that failed for good
    fire = fire_time(team, week)
    if not (team.paused or held) and fire is not None and fire <= now:
        return (
            " This week's prompt hasn't gone out yet and its new time has passed,"
            " so it goes out in the next minute or so."
        )
    return ""


def _suggested_zones(client: WebClient, user: str) -> list[str]:
    try:
        tz = client.users_info(user=user)["user"].get("tz")
    except SlackApiError:
        return []
    return [tz] if isinstance(tz, str) and tz else []


class Admin:
    """The `/securebase` surface, shared by the command, its buttons and its modals."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def team(self, request: Request) -> Team | None:
        with self.services.db.session() as session:
            return get_team(session, request.workspace, request.channel)

    def status(self, request: Request, respond: Respond) -> None:
        team = self.team(request)
        if team is None:
            message = render.not_set_up(request.channel)
        else:
            now = self.services.clock.now()
            this_week = current_week(team, now).index
            with self.services.db.session() as session:
                off = sorted(skipped_weeks(session, team.id, this_week, this_week + 52))
            message = render.status_message(
                _settings(team), team.paused, [Week(w).label() for w in off]
            )
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    def open_settings(
        self, client: WebClient, request: Request, trigger_id: str, respond: Respond
    ) -> None:
        team = self.team(request)
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
                timezone=self.services.settings.timezone,
                supervisors=(),
                support_text=None,
                pool_weeks=1,
                new=True,
            )
        zones = [*_suggested_zones(client, request.user), self.services.settings.timezone]
        client.views_open(trigger_id=trigger_id, view=render.settings_modal(settings, zones))

    def set_paused(self, request: Request, paused: bool, respond: Respond) -> None:
        with self.services.db.session() as session:
            team = get_team(session, request.workspace, request.channel)
            if team is None:
                respond(text=NOT_SET_UP, response_type="ephemeral")
                return
            team.paused = paused
            name = team.name
        text = (
            f"Prompts for {name} are paused. Nothing is posted and nobody is reminded until you "
            "resume; people can still check in."
            if paused
            else f"Prompts for {name} are back on: this week's prompt goes out at its usual "
            "time, or within a few minutes if that time has already passed."
        )
        respond(text=text, response_type="ephemeral")

    def open_weeks_off(
        self, client: WebClient, request: Request, trigger_id: str, respond: Respond
    ) -> None:
        team = self.team(request)
        if team is None:
            respond(text=NOT_SET_UP, response_type="ephemeral")
            return
        this_week = current_week(team, self.services.clock.now()).index
        weeks = [
            (w, Week(w).label() + (" (this week)" if w == this_week else ""))
            for w in range(this_week, this_week + WEEKS_OFFERED)
        ]
        with self.services.db.session() as session:
            skipped = skipped_weeks(session, team.id, this_week, this_week + WEEKS_OFFERED)
        modal = render.weeks_off_modal(team.channel_id, team.name, weeks, skipped)
        client.views_open(trigger_id=trigger_id, view=modal)

    def preview(self, request: Request, respond: Respond) -> None:
        team = self.team(request)
        if team is None:
            respond(text=NOT_SET_UP, response_type="ephemeral")
            return
        with self.services.db.session() as session:
            team = session.merge(team)
            upcoming = self._next_prompt(session, team)
        if upcoming is None:
            message = render.preview_message(team.channel_id, None, [], "", team.paused)
        else:
            fire, domain, prompt_index = upcoming
            library = self.services.library
            prompt = weekly_prompt(library, library.domain(domain), prompt_index, team.channel_id)
            message = render.preview_message(
                team.channel_id, fire, prompt.blocks, prompt.text, team.paused
            )
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral")

    def intro(self, client: WebClient, request: Request, respond: Respond, post: bool) -> None:
        """`/securebase intro`: the introduction, to preview (only the asker sees it) or post."""
        team = self.team(request)
        if team is None:
            respond(text=NOT_SET_UP, response_type="ephemeral")
            return
        facts = introduction.intro_team(team)
        if not post:
            message = introduction.preview_message(self.services, facts)
            respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
            return
        message = introduction.intro_message(self.services, facts)
        reason = introduction.post_introduction(client, message, team.channel_id)
        line = introduction.outcome(team.channel_id, reason)
        respond(text=line, response_type="ephemeral", replace_original=False)

    def _next_prompt(self, session: Session, team: Team) -> tuple[datetime, str, int] | None:
        """When the next prompt is due (not yet sent, not in a week off), with its domain and
        prompt; None when none is due within the horizon."""
        now = self.services.clock.now()
        this_week = team_week(session, team, now).index
        off = skipped_weeks(session, team.id, this_week, this_week + PREVIEW_HORIZON)
        for index in range(this_week, this_week + PREVIEW_HORIZON):
            fire = fire_time(team, Week(index))
            if fire is None or fire <= now or index in off:
                continue
            if index == this_week and find_period(session, team.id, index) is not None:
                continue  # this week's prompt is out: a later time this week does not repeat it
            if index == this_week:
                domain, prompt_index = planned(session, team, Week(index), self.services.rotation)
                return fire, domain, prompt_index
            pick = self.services.rotation.for_team(team.workspace_id, team.channel_id, index)
            return fire, pick.domain, pick.prompt_index
        return None

    # -- modal submissions ---------------------------------------------------------------------

    def save_settings(
        self, client: WebClient, user: str, workspace: str, channel: str, form: Form
    ) -> str:
        """Apply the settings modal; returns what to tell the person."""
        people = [u for u in form.supervisors if _is_person(client, u)]
        if not people:
            return "Please choose at least one practice supervisor (a person, not an app)."
        now = self.services.clock.now()
        when_note = ""
        intro = None
        with self.services.db.session() as session:
            team = get_team(session, workspace, channel)
            if not may_manage(client, user, team):
                return REFUSE_TEAM if team is not None else REFUSE_NEW
            if team is None:
                spec = TeamSpec(
                    workspace_id=workspace,
                    channel_id=channel,
                    name=form.name,
                    supervisors=tuple(people),
                    post_day=form.post_day,
                    post_minute=form.post_minute,
                    timezone=form.timezone,
                    pool_weeks=form.pool_weeks or 1,
                )
                team = add_team(session, spec, now)
                verb = "is set up"
                intro = introduction.intro_team(team)
            else:
                moved = (team.post_day, team.post_minute, team.timezone) != (
                    form.post_day,
                    form.post_minute,
                    form.timezone,
                )
                team.name = form.name
                team.post_day, team.post_minute = form.post_day, form.post_minute
                team.timezone = form.timezone
                set_supervisors(session, team, people)
                session.flush()
                verb = "settings are saved"
                if moved:
                    when_note = _when_the_change_starts(session, team, now)
            team.support_text = form.support_text
            hold_skipped_from(
                session, team.id, team_week(session, team, now).index, week_entries(team), now
            )
            supervisors = ", ".join(f"<@{u}>" for u in people)
            moment = render.when(team.post_day, team.post_minute, team.timezone)
            name = team.name
        left_out = len(form.supervisors) - len(people)
        note = f" ({left_out} app or deactivated account left out)" if left_out else ""
        if intro is not None:  # posted once the team is saved: a failure undoes nothing
            message = introduction.intro_message(self.services, intro)
            reason = introduction.post_introduction(client, message, channel)
            when_note += " " + introduction.outcome(channel, reason)
        return (
            f"Secure Base for {name} {verb}: prompts on {moment}. Supervisors: {supervisors}{note}."
            f"{when_note}"
        )

    def save_weeks_off(
        self,
        client: WebClient,
        user: str,
        workspace: str,
        channel: str,
        offered: list[int],
        chosen: list[int],
    ) -> str:
        now = self.services.clock.now()
        with self.services.db.session() as session:
            team = get_team(session, workspace, channel)
            if team is None:
                return NOT_SET_UP
            if not may_manage(client, user, team):
                return REFUSE_TEAM
            set_skipped(session, team.id, offered, chosen, week_entries(team), now)
            name = team.name
        if not chosen:
            return f"No weeks off planned for {name}."
        labels = ", ".join(Week(w).label() for w in sorted(chosen))
        return (
            f"Weeks off for {name}: {labels}. No prompt, reflective questions or reminders in "
            "those weeks."
        )


@dataclass(frozen=True)
class Form:
    name: str
    post_day: int
    post_minute: int
    timezone: str
    supervisors: tuple[str, ...]
    pool_weeks: int | None
    support_text: str | None


def _state(values: dict[str, Any], block: str) -> dict[str, Any]:
    state = (values.get(block) or {}).get(block)
    return state if isinstance(state, dict) else {}


def _selected(values: dict[str, Any], block: str) -> str | None:
    option = _state(values, block).get("selected_option")
    return str(option.get("value")) if isinstance(option, dict) else None


def parse_settings(values: dict[str, Any]) -> tuple[Form | None, dict[str, str]]:
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
        Form(
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


def _is_person(client: WebClient, user: str) -> bool:
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError:
        return False
    return not (info.get("is_bot") or info.get("deleted") or info.get("is_app_user"))


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


def register(app: App, services: Services) -> None:
    admin = Admin(services)

    def allowed(client: WebClient, request: Request, respond: Respond) -> bool:
        if request.channel[:1] == "D":
            respond(text=NOT_HERE, response_type="ephemeral")
            return False
        team = admin.team(request)
        if may_manage(client, request.user, team):
            return True
        respond(text=REFUSE_TEAM if team is not None else REFUSE_NEW, response_type="ephemeral")
        return False

    def act(
        client: WebClient, request: Request, word: str, trigger_id: str, respond: Respond
    ) -> None:
        if word in ("", "help", "status"):
            admin.status(request, respond)
        elif word in ("setup", "set up", "settings"):
            admin.open_settings(client, request, trigger_id, respond)
        elif word in ("pause", "resume"):
            admin.set_paused(request, word == "pause", respond)
        elif word in ("skip", "weeks off", "holidays"):
            admin.open_weeks_off(client, request, trigger_id, respond)
        elif word == "preview":
            admin.preview(request, respond)
        elif word in ("intro", "introduction", "post intro"):
            admin.intro(client, request, respond, post=word == "post intro")
        else:
            respond(
                text=f"Sorry, I didn't understand “{word[:40]}”. {USAGE}", response_type="ephemeral"
            )

    @app.command(COMMAND)
    def command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()
        request = Request(
            command["user_id"],
            context.team_id or command.get("team_id", ""),
            command.get("channel_id", ""),
        )
        if allowed(client, request, respond):
            word = " ".join((command.get("text") or "").lower().split())
            act(client, request, word, command["trigger_id"], respond)

    buttons = {
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
            body["user"]["id"],
            workspace_of(body, context),
            str(action.get("value") or ""),
        )
        if allowed(client, request, respond):
            act(client, request, buttons[action["action_id"]], body["trigger_id"], respond)

    for action_id in buttons:
        app.action(action_id)(button)

    @app.view(render.SETTINGS_CALLBACK)
    def settings_submitted(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        form, errors = parse_settings(body["view"].get("state", {}).get("values", {}))
        if form is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        channel = str(_metadata(body).get("channel") or "")
        _tell(client, user, channel, admin.save_settings(client, user, workspace, channel, form))

    @app.view(render.WEEKS_OFF_CALLBACK)
    def weeks_off_submitted(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        user = body["user"]["id"]
        workspace = workspace_of(body, context)
        meta = _metadata(body)
        channel = str(meta.get("channel") or "")
        offered = [int(w) for w in meta.get("weeks") or [] if isinstance(w, int)]
        picked = (
            _state(body["view"].get("state", {}).get("values", {}), render.WEEKS).get(
                "selected_options"
            )
            or []
        )
        chosen = [int(o["value"]) for o in picked if str(o.get("value", "")).isdigit()]
        chosen = [w for w in chosen if w in offered]
        text = admin.save_weeks_off(client, user, workspace, channel, offered, chosen)
        _tell(client, user, channel, text)
