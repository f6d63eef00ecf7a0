"""Which teams a person may act on: the ones they supervise, and the ones whose channel they
are in. Use cases hand teams out as `TeamRef` values (never database rows), and take them back
by id, so nothing outside this layer holds a row or a session."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from practice.context import Practice
from storage.models import Team
from storage.teams import get_team, list_teams, team_by_id, teams_supervised_by


@dataclass(frozen=True)
class TeamRef:
    """A team as the application layer shows it to an adapter."""

    id: int
    workspace_id: str
    channel_id: str
    name: str
    timezone: str
    post_day: int
    post_minute: int
    pool_weeks: int
    paused: bool
    supervisors: tuple[str, ...]
    support_text: str | None

    def supervised_by(self, user: str) -> bool:
        return user in self.supervisors


def team_ref(team: Team) -> TeamRef:
    return TeamRef(
        id=team.id,
        workspace_id=team.workspace_id,
        channel_id=team.channel_id,
        name=team.name,
        timezone=team.timezone,
        post_day=team.post_day,
        post_minute=team.post_minute,
        pool_weeks=team.pool_weeks,
        paused=team.paused,
        supervisors=tuple(s.user_id for s in team.supervisors),
        support_text=team.support_text,
    )


def row_of(session: Session, team: TeamRef) -> Team:
    """The team's row in this session (a team removed meanwhile is an error: LookupError)."""
    row = team_by_id(session, team.id)
    if row is None:
        raise LookupError(f"team {team.id} is gone")
    return row


class MembersUnknown(Exception):
    """Slack could not say who is in a channel just then (busy, or the bot was removed)."""


class Channels(Protocol):
    """Who is in a workspace's channels, as Slack says (the adapter's side)."""

    def members(self, channel_id: str) -> Collection[str]:
        """Everyone in the channel; raises MembersUnknown when Slack cannot say."""
        ...

    def includes(self, channel_id: str, user: str) -> bool:
        """Whether `user` is in the channel (asked again before a miss counts)."""
        ...


def team_in(practice: Practice, workspace: str, channel: str) -> TeamRef | None:
    """The team that uses this channel, if any."""
    with practice.db.session() as session:
        team = get_team(session, workspace, channel)
        return None if team is None else team_ref(team)


def workspace_teams(practice: Practice, workspace: str) -> list[TeamRef]:
    with practice.db.session() as session:
        return [team_ref(t) for t in list_teams(session, workspace)]


def supervised_teams(practice: Practice, workspace: str, user: str) -> list[TeamRef]:
    """Every team `user` supervises in the workspace, by name."""
    with practice.db.session() as session:
        return [team_ref(t) for t in teams_supervised_by(session, workspace, user)]


def supervised_team(practice: Practice, workspace: str, channel: str, user: str) -> TeamRef | None:
    """The channel's team when `user` is one of its supervisors; None otherwise (no team
    there, or not theirs), so a forwarded or stale button grants nothing."""
    team = team_in(practice, workspace, channel)
    return team if team is not None and team.supervised_by(user) else None


def here_first(teams: Iterable[TeamRef], channel: str | None) -> list[TeamRef]:
    """The team of `channel` when it is among `teams`, else all of them."""
    every = list(teams)
    here = [t for t in every if t.channel_id == channel]
    return here or every


def member_teams(
    teams: Iterable[TeamRef], user: str, channels: Channels, *, skip_unknown: bool = False
) -> list[TeamRef]:
    """The teams whose channel `user` is in. A channel Slack cannot answer for raises
    MembersUnknown, or with `skip_unknown` is left out rather than failing the whole list."""
    mine = []
    for team in teams:
        try:
            if user in channels.members(team.channel_id):
                mine.append(team)
        except MembersUnknown:
            if not skip_unknown:
                raise
    return mine


def belongs(team: TeamRef, user: str, channels: Channels) -> bool:
    """A team's own: its supervisors and the members of its channel."""
    return team.supervised_by(user) or user in channels.members(team.channel_id)
