"""Teams and their supervisors. Every query is scoped by Slack workspace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from storage.models import Supervisor, Team

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class TeamError(Exception):
    """A team operation that cannot be done, with a message fit for the person who asked."""


@dataclass(frozen=True)
class TeamSpec:
    workspace_id: str
    channel_id: str
    name: str
    supervisors: tuple[str, ...]
    post_day: int = 0
    post_minute: int = 9 * 60 + 30
    timezone: str = "Europe/London"
    pool_weeks: int = 1


def add_team(session: Session, spec: TeamSpec, now: datetime) -> Team:
    if get_team(session, spec.workspace_id, spec.channel_id) is not None:
        raise TeamError(f"channel {spec.channel_id} already has a team")
    if not spec.supervisors:
        raise TeamError("a team needs at least one supervisor")
    team = Team(
        workspace_id=spec.workspace_id,
        channel_id=spec.channel_id,
        name=spec.name,
        post_day=spec.post_day,
        post_minute=spec.post_minute,
        timezone=spec.timezone,
        pool_weeks=spec.pool_weeks,
        paused=False,
        created_at=now,
        supervisors=[Supervisor(user_id=u) for u in dict.fromkeys(spec.supervisors)],
    )
    session.add(team)
    session.flush()
    return team


def team_by_id(session: Session, team_id: int) -> Team | None:
    """A team by its id, its supervisors joined in (one statement, not two)."""
    return session.get(Team, team_id, options=[joinedload(Team.supervisors)])


def get_team(session: Session, workspace_id: str, channel_id: str) -> Team | None:
    """The channel's team, its supervisors joined in (one statement, not two: every request
    that names a channel starts here)."""
    return (
        session.scalars(
            select(Team)
            .options(joinedload(Team.supervisors))
            .where(Team.workspace_id == workspace_id, Team.channel_id == channel_id)
        )
        .unique()
        .one_or_none()
    )


def list_teams(session: Session, workspace_id: str | None = None) -> Sequence[Team]:
    query = select(Team).order_by(Team.workspace_id, Team.name)
    if workspace_id is not None:
        query = query.where(Team.workspace_id == workspace_id)
    return session.scalars(query).all()


def teams_supervised_by(session: Session, workspace_id: str, user_id: str) -> Sequence[Team]:
    return session.scalars(
        select(Team)
        .join(Supervisor)
        .where(Team.workspace_id == workspace_id, Supervisor.user_id == user_id)
        .order_by(Team.name)
    ).all()


def set_supervisors(session: Session, team: Team, supervisors: Sequence[str]) -> None:
    session.execute(delete(Supervisor).where(Supervisor.team_id == team.id))
    team.supervisors = [Supervisor(user_id=u) for u in dict.fromkeys(supervisors)]
