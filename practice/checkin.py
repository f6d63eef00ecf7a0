"""Checking in: who may, for which week, and storing it sealed within Slack's deadline.

Only the week's roster checks in: the channel's members when the week's prompt went out, less
the team's supervisors. A form carries the team-week it was opened for; an answer for a week
that has ended is refused rather than filed under the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from practice.context import Practice
from practice.redact import redact
from practice.sealing import SealedValues
from practice.teams import (
    Channels,
    TeamRef,
    member_teams,
    team_in,
    team_ref,
    workspace_teams,
)
from practice.weeks import Week
from storage.checkins import has_sealed, lock_open, replace_sealed
from storage.db import QUICK_BUDGET_SECONDS, Database
from storage.models import Team, TeamWeek
from storage.outage import is_unreachable
from storage.team_weeks import (
    current_with_week,
    on_roster,
    week_and_current,
    week_seal,
)
from storage.teams import get_team

SCALE = range(1, 6)


class CheckinError(ValueError):
    """An answer outside the scales, with a message fit for the person who sent it."""


class NotSaved(Exception):
    """The database did not answer within the budget: nothing was stored."""


@dataclass(frozen=True)
class CheckinAnswers:
    """One person's answers. `availability` is None for "I didn't need any this week": they
    checked in, but that item has no answer from them to count."""

    availability: int | None
    stress: int
    domain_item: int | None = None
    comment: str | None = None

    def validate(self) -> None:
        if self.availability is not None and self.availability not in SCALE:
            raise CheckinError("Please choose how available support has been (1 to 5).")
        if self.stress not in SCALE:
            raise CheckinError("Please choose how stressed you have felt (1 to 5).")
        if self.domain_item is not None and self.domain_item not in SCALE:
            raise CheckinError("The last question takes an answer from 1 to 5, or none.")


class Refusal(StrEnum):
    """Why someone cannot check in (each has its own kind words in `bot/render/checkin.py`)."""

    NOT_OPEN = "not_open"  # no prompt has gone out this week (yet, or a week off)
    WEEK_CLOSED = "week_closed"  # the form's week has ended
    SUPERVISOR = "supervisor"  # supervisors reflect; they never check in to their own team
    NOT_ON_ROSTER = "not_on_roster"  # joined the channel after this week's prompt


@dataclass(frozen=True)
class OpenWeek:
    """The week a form is for."""

    week_index: int
    domain: str
    already_in: bool


@dataclass(frozen=True)
class CheckinResult:
    replaced: bool
    week_index: int
    domain: str


def _refusal(
    supervisors: Collection[str], period: TeamWeek | None, user: str, current: Week
) -> Refusal | None:
    """Why `user` cannot check in to `period` while `current` is the team's week, if they
    cannot."""
    if period is None:
        return Refusal.NOT_OPEN
    if period.closed or current.index != period.week_index:
        return Refusal.WEEK_CLOSED
    if user in supervisors:
        return Refusal.SUPERVISOR
    return None


def week_to_check_in(db: Database, team: Team, user: str, now: datetime) -> OpenWeek | Refusal:
    """The week a form opened now is for, or why this person cannot check in."""
    with db.session() as session:
        return _week_to_check_in(session, team_ref(team), user, now)


def _week_to_check_in(
    session: Session, team: TeamRef, user: str, now: datetime
) -> OpenWeek | Refusal:
    week, period = current_with_week(session, team, now)
    refused = _refusal(team.supervisors, period, user, week)
    if refused is not None or period is None:
        return refused or Refusal.NOT_OPEN
    seal = week_seal(session, period)
    if seal is None:
        return Refusal.WEEK_CLOSED
    if period.roster_known and not on_roster(session, period, seal, team.workspace_id, user):
        return Refusal.NOT_ON_ROSTER
    mine = seal.respondent_key(team.workspace_id, user)
    return OpenWeek(period.week_index, period.domain, has_sealed(session, period.id, mine))


def check_in(
    db: Database,
    team: Team,
    week_index: int,
    user: str,
    answers: CheckinAnswers,
    now: datetime,
    budget: float = QUICK_BUDGET_SECONDS,
) -> CheckinResult | Refusal:
    """Store `user`'s answers for the team-week their form was opened for, sealed, replacing
    any earlier check-in of theirs that week. Every database wait gives up within `budget`
    seconds and the whole write must finish inside it, or nothing is stored (NotSaved)."""
    stored = _store(db, lambda _session: team, week_index, user, answers, now, budget)
    return Refusal.NOT_OPEN if stored is None else stored[1]  # None only when no team is found


def _store(
    db: Database,
    team_of: Callable[[Session], Team | None],
    week_index: int,
    user: str,
    answers: CheckinAnswers,
    now: datetime,
    budget: float,
) -> tuple[Team, CheckinResult | Refusal] | None:
    """One quick session for the whole submission, team lookup included, so that one budget
    bounds every wait inside Slack's acknowledgement; None when `team_of` finds no team."""
    answers.validate()
    comment = redact(answers.comment) if answers.comment else ""
    values = SealedValues(answers.availability, answers.stress, answers.domain_item, comment)
    started = time.monotonic()
    try:
        with db.quick_session(budget) as session:
            team = team_of(session)
            if team is None:
                return None
            found = week_and_current(session, team, week_index, now)
            if found is None:
                return team, Refusal.NOT_OPEN
            period, current = found
            refused = _refusal({s.user_id for s in team.supervisors}, period, user, current)
            if refused is not None:
                return team, refused
            if not lock_open(session, period.id):
                return team, Refusal.WEEK_CLOSED
            seal = week_seal(session, period)
            if seal is None:
                return team, Refusal.WEEK_CLOSED
            if period.roster_known and not on_roster(
                session, period, seal, team.workspace_id, user
            ):
                return team, Refusal.NOT_ON_ROSTER
            key = seal.respondent_key(team.workspace_id, user)
            replaced = replace_sealed(session, period.id, key, seal.seal(key, values))
            if time.monotonic() - started > budget:
                raise NotSaved("the check-in took longer than its budget")
            return team, CheckinResult(replaced, period.week_index, period.domain)
    except IntegrityError:
        # A double-clicked submit racing us stored the same person's row first: one row stays,
        # so asking them to send again replaces it.
        raise NotSaved("a simultaneous check-in from the same person") from None
    except (PoolTimeout, SQLAlchemyError) as error:
        raise _not_saved(db, error) from None


def _not_saved(db: Database, error: Exception) -> NotSaved:
    """A database that is away is the operator's one line a minute (storage.outage)."""
    if is_unreachable(error):
        db.outage.failed(error, "storing a check-in")
    return NotSaved(type(error).__name__)


def has_checked_in(db: Database, team: Team, user: str, now: datetime) -> bool:
    """For the member themself only (their own Home tab); never shown to anyone else."""
    found = week_to_check_in(db, team, user, now)
    return isinstance(found, OpenWeek) and found.already_in


# -- use cases: the teams, the form and the submission, as the adapter asks for them ----------


def teams_to_check_in(
    practice: Practice, workspace: str, user: str, channel: str | None, channels: Channels
) -> list[TeamRef]:
    """The teams whose channel this person is in; just the current channel's when it is one
    (the usual case, answered without loading every team in the workspace). Raises
    MembersUnknown when Slack cannot say."""
    here = team_in(practice, workspace, channel) if channel else None
    if here is not None and channels.includes(here.channel_id, user):
        return [here]
    return member_teams(workspace_teams(practice, workspace), user, channels)


def form_for(practice: Practice, team: TeamRef, user: str) -> OpenWeek | Refusal:
    """The team-week a form opened now for `user` is for, or why they cannot check in."""
    with practice.db.session() as session:
        return _week_to_check_in(session, team, user, practice.clock.now())


@dataclass(frozen=True)
class Form:
    team: TeamRef
    week: OpenWeek | Refusal


def form_in_channel(
    practice: Practice, workspace: str, channel: str, user: str, channels: Channels
) -> Form | None:
    """A button that opens the form for a channel's team; None when there is no team there or
    `user` is not in its channel. Raises MembersUnknown when Slack cannot say."""
    team = team_in(practice, workspace, channel)
    if team is None or not channels.includes(channel, user):
        return None
    return Form(team, form_for(practice, team, user))


@dataclass(frozen=True)
class Submitted:
    team: TeamRef
    outcome: CheckinResult | Refusal


def submit(
    practice: Practice,
    workspace: str,
    channel: str,
    week_index: int,
    user: str,
    answers: CheckinAnswers,
    budget: float = QUICK_BUDGET_SECONDS,
) -> Submitted | None:
    """Store a submitted form for the team-week it was opened for (check_in); None when the
    channel has no team. Raises NotSaved (or KeyProblem) when nothing could be stored."""
    now = practice.clock.now()
    stored = _store(
        practice.db,
        lambda session: get_team(session, workspace, channel),
        week_index,
        user,
        answers,
        now,
        budget,
    )
    return None if stored is None else Submitted(team_ref(stored[0]), stored[1])
