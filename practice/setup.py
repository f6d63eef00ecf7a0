"""Setting a team up and changing it (`/securebase`): its settings, pausing and resuming the
prompts, weeks off, and what the next prompt will be.

Only a workspace admin or owner, or one of the team's own supervisors, may manage a team;
setting up a new one needs an admin. Every use case that changes something checks again, so a
forwarded or stale button or modal grants nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from practice.context import Practice
from practice.teams import TeamRef, row_of, team_in, team_ref
from practice.weeks import Week, week_containing
from scheduler.weekly import fire_time
from storage import deliveries
from storage.deliveries import DeliveryKey, DeliveryKind
from storage.models import Team
from storage.team_weeks import current_team_week, find_team_week, planned
from storage.teams import TeamSpec, add_team, get_team, set_supervisors
from storage.weeks_off import held_deliveries, hold_weeks_off_from, set_weeks_off, weeks_off_between

WEEKS_OFF_OFFERED = 12
WEEKS_OFF_SHOWN = 52
PREVIEW_HORIZON = 13


class People(Protocol):
    """What Slack says about people in the workspace (the adapter's side)."""

    def is_admin(self, user: str) -> bool:
        """A workspace admin or owner (False when Slack cannot say)."""
        ...

    def is_person(self, user: str) -> bool:
        """A person with an active account, not an app or a bot."""
        ...


class Refused(StrEnum):
    NOT_SET_UP = "not_set_up"  # no team in the channel (for a change that needs one)
    NOT_TEAMS = "not_teams"  # not an admin nor one of the team's supervisors
    NOT_ADMIN = "not_admin"  # setting a new team up needs a workspace admin


def may_manage(team: TeamRef | None, user: str, people: People) -> bool:
    return (team is not None and team.supervised_by(user)) or people.is_admin(user)


@dataclass(frozen=True)
class Access:
    team: TeamRef | None  # None: the channel has no team yet
    refused: Refused | None


def access(practice: Practice, workspace: str, channel: str, user: str, people: People) -> Access:
    """Whether `user` may manage the channel's team (or, with none, set one up)."""
    team = team_in(practice, workspace, channel)
    if may_manage(team, user, people):
        return Access(team, None)
    return Access(team, Refused.NOT_TEAMS if team is not None else Refused.NOT_ADMIN)


def weeks_off(practice: Practice, team: TeamRef, first: int, count: int) -> set[int]:
    """The team's weeks off among the `count` weeks from `first`."""
    with practice.db.session() as session:
        return weeks_off_between(session, team.id, first, first + count)


def this_week(practice: Practice, team: TeamRef) -> int:
    """The week by the clock in the team's time zone."""
    return week_containing(practice.clock.now(), team.timezone).index


@dataclass(frozen=True)
class Status:
    team: TeamRef
    weeks_off: list[int]  # from this week on


def status(practice: Practice, team: TeamRef) -> Status:
    first = this_week(practice, team)
    return Status(team, sorted(weeks_off(practice, team, first, WEEKS_OFF_SHOWN)))


def set_paused(practice: Practice, workspace: str, channel: str, paused: bool) -> TeamRef | None:
    """Pause or resume the channel's team's prompts; None when there is no team there."""
    with practice.db.session() as session:
        team = get_team(session, workspace, channel)
        if team is None:
            return None
        team.paused = paused
        return team_ref(team)


@dataclass(frozen=True)
class WeeksOffChoice:
    team: TeamRef
    this_week: int
    offered: list[int]
    chosen: set[int]


def weeks_off_choice(practice: Practice, team: TeamRef) -> WeeksOffChoice:
    """The weeks a team can take off (this one and the next few) and those it has."""
    first = this_week(practice, team)
    offered = list(range(first, first + WEEKS_OFF_OFFERED))
    return WeeksOffChoice(team, first, offered, weeks_off(practice, team, first, WEEKS_OFF_OFFERED))


@dataclass(frozen=True)
class WeeksOffSaved:
    team: TeamRef
    chosen: list[int]


def save_weeks_off(
    practice: Practice,
    workspace: str,
    channel: str,
    user: str,
    offered: Sequence[int],
    chosen: Sequence[int],
    people: People,
) -> WeeksOffSaved | Refused:
    """Make exactly `chosen` (among `offered`) the team's weeks off, holding or releasing each
    week's prompt and reflections in the delivery ledger to match."""
    picked = sorted(w for w in set(chosen) if w in offered)
    with practice.db.session() as session:
        team = get_team(session, workspace, channel)
        if team is None:
            return Refused.NOT_SET_UP
        if not may_manage(team_ref(team), user, people):
            return Refused.NOT_TEAMS
        set_weeks_off(
            session, team.id, offered, picked, held_deliveries(team), practice.clock.now()
        )
        return WeeksOffSaved(team_ref(team), picked)


@dataclass(frozen=True)
class Upcoming:
    fire: datetime
    domain: str
    prompt_index: int


def next_prompt(practice: Practice, team: TeamRef) -> Upcoming | None:
    """When the team's next prompt is due (not yet sent, not in a week off), with its domain and
    prompt; None when none is due within the horizon."""
    now = practice.clock.now()
    with practice.db.session() as session:
        row = row_of(session, team)
        first = current_team_week(session, row, now).index
        off = weeks_off_between(session, team.id, first, first + PREVIEW_HORIZON)
        for index in range(first, first + PREVIEW_HORIZON):
            fire = fire_time(row, Week(index))
            if fire is None or fire <= now or index in off:
                continue
            if index == first and find_team_week(session, team.id, index) is not None:
                continue  # this week's prompt is out: a later time this week does not repeat it
            domain, prompt_index = planned(session, row, Week(index), practice.rotation)
            return Upcoming(fire, domain, prompt_index)
    return None


@dataclass(frozen=True)
class TeamSettings:
    """What the settings form sets."""

    name: str
    post_day: int
    post_minute: int
    timezone: str
    supervisors: tuple[str, ...]
    pool_weeks: int | None  # None: keep the team's (a new team reports weekly)
    support_text: str | None


class ChangeStarts(StrEnum):
    """What a new day, time or time zone means for this week: one prompt a week, always."""

    NEXT_WEEK = "next_week"  # this week's prompt has gone out already
    SOON = "soon"  # not out yet and its new time has passed: it goes out within minutes


@dataclass(frozen=True)
class SettingsSaved:
    team: TeamRef
    created: bool
    left_out: int  # apps or deactivated accounts dropped from the supervisors chosen
    starts: ChangeStarts | None


class NoSupervisor(StrEnum):
    NONE_LEFT = "none_left"  # every supervisor chosen was an app or a deactivated account


def _change_starts(session: Session, team: Team, now: datetime) -> ChangeStarts | None:
    week = current_team_week(session, team, now)
    if find_team_week(session, team.id, week.index) is not None:
        return ChangeStarts.NEXT_WEEK
    prompt = DeliveryKey(team.id, week.index, DeliveryKind.PROMPT, team.channel_id)
    held = deliveries.settled(session, prompt)  # a week off, or a prompt that failed for good
    fire = fire_time(team, week)
    if not (team.paused or held) and fire is not None and fire <= now:
        return ChangeStarts.SOON
    return None


def save_settings(
    practice: Practice,
    workspace: str,
    channel: str,
    user: str,
    form: TeamSettings,
    people: People,
) -> SettingsSaved | Refused | NoSupervisor:
    """Set the channel's team up, or change its settings."""
    chosen = [u for u in form.supervisors if people.is_person(u)]
    if not chosen:
        return NoSupervisor.NONE_LEFT
    now = practice.clock.now()
    starts = None
    with practice.db.session() as session:
        team = get_team(session, workspace, channel)
        if not may_manage(None if team is None else team_ref(team), user, people):
            return Refused.NOT_TEAMS if team is not None else Refused.NOT_ADMIN
        created = team is None
        if team is None:
            spec = TeamSpec(
                workspace_id=workspace,
                channel_id=channel,
                name=form.name,
                supervisors=tuple(chosen),
                post_day=form.post_day,
                post_minute=form.post_minute,
                timezone=form.timezone,
                pool_weeks=form.pool_weeks or 1,
            )
            team = add_team(session, spec, now)
        else:
            moved = (team.post_day, team.post_minute, team.timezone) != (
                form.post_day,
                form.post_minute,
                form.timezone,
            )
            team.name = form.name
            team.post_day, team.post_minute = form.post_day, form.post_minute
            team.timezone = form.timezone
            set_supervisors(session, team, chosen)
            session.flush()
            if moved:
                starts = _change_starts(session, team, now)
        team.support_text = form.support_text
        hold_weeks_off_from(
            session,
            team.id,
            current_team_week(session, team, now).index,
            held_deliveries(team),
            now,
        )
        session.flush()
        return SettingsSaved(team_ref(team), created, len(form.supervisors) - len(chosen), starts)
