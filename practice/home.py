"""What someone's Home tab holds. A supervisor sees, for each team they supervise, this week's
domain, the last finished periods and the team's secure base profile — a look at the figures,
logged every time. A member sees the teams whose channel they are in: this week's prompt and
whether *they* have checked in (a fact shown to nobody else)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from practice.checkin import has_checked_in
from practice.context import Practice
from practice.figures import Reading, Surface
from practice.profile import Profile, profile_weeks, secure_base_profile
from practice.pulse import team_pulse_for
from practice.teams import (
    Channels,
    TeamRef,
    member_teams,
    row_of,
    supervised_teams,
    team_ref,
    workspace_teams,
)
from storage.models import Team
from storage.reminders import wants_reminders
from storage.team_weeks import current_team_week, planned
from storage.weeks_off import is_week_off, weeks_off_between

TREND_PERIODS = 8


class Note(StrEnum):
    """Why a team's week is quiet."""

    PAUSED = "paused"
    WEEK_OFF = "week_off"


@dataclass(frozen=True)
class BelongingTeam:
    team: TeamRef
    domain: str
    prompt_index: int
    checked_in: bool
    note: Note | None


@dataclass(frozen=True)
class SupervisedTeam:
    team: TeamRef
    domain: str
    readings: list[Reading]
    profile: Profile
    weeks_off: frozenset[int]
    note: Note | None


@dataclass(frozen=True)
class Home:
    supervising: list[SupervisedTeam]
    belonging: list[BelongingTeam]
    reminders_on: bool
    more: int  # teams left out to keep the tab within its size


def _note(session: Session, team: Team, week_index: int) -> Note | None:
    if team.paused:
        return Note.PAUSED
    if is_week_off(session, team.id, week_index):
        return Note.WEEK_OFF
    return None


def _belonging(practice: Practice, session: Session, team: Team, user: str) -> BelongingTeam:
    now = practice.clock.now()
    week = current_team_week(session, team, now)
    domain, prompt_index = planned(session, team, week, practice.rotation)
    return BelongingTeam(
        team=team_ref(team),
        domain=domain,
        prompt_index=prompt_index,
        checked_in=has_checked_in(practice.db, team, user, now),
        note=_note(session, team, week.index),
    )


def _supervised(practice: Practice, team: TeamRef, viewer: str) -> SupervisedTeam:
    order = practice.rotation.order
    # The trend's periods, or as many as the profile's rotations need if more.
    weeks = max(TREND_PERIODS * team.pool_weeks, profile_weeks(team.pool_weeks, len(order)))
    readings = team_pulse_for(practice, viewer, team, Surface.HOME, weeks=weeks).readings
    trend = readings[:TREND_PERIODS]
    with practice.db.session() as session:
        row = row_of(session, team)
        week = current_team_week(session, row, practice.clock.now())
        domain, _prompt = planned(session, row, week, practice.rotation)
        off = (
            weeks_off_between(
                session, team.id, trend[-1].block.first_week, trend[0].block.last_week
            )
            if trend
            else set()
        )
        note = _note(session, row, week.index)
    return SupervisedTeam(
        team=team,
        domain=domain,
        readings=trend,
        profile=secure_base_profile(readings, order, team.pool_weeks, practice.anonymity_min),
        weeks_off=frozenset(off),
        note=note,
    )


def home_for(
    practice: Practice,
    workspace: str,
    user: str,
    channels: Channels,
    *,
    max_supervised: int,
    max_belonging: int,
) -> Home:
    """`user`'s Home tab: at most `max_supervised` supervised teams (each a logged look) and
    `max_belonging` teams they are in (a channel Slack cannot answer for is left out)."""
    supervised = supervised_teams(practice, workspace, user)
    belonging = member_teams(
        workspace_teams(practice, workspace), user, channels, skip_unknown=True
    )
    supervising = [_supervised(practice, t, user) for t in supervised[:max_supervised]]
    with practice.db.session() as session:
        cards = []
        for ref in belonging[:max_belonging]:
            team = session.get(Team, ref.id)
            if team is not None:
                cards.append(_belonging(practice, session, team, user))
        reminders_on = wants_reminders(session, workspace, user)
    more = max(0, len(supervised) - max_supervised) + max(0, len(belonging) - max_belonging)
    return Home(supervising, cards, reminders_on, more)
