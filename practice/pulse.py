"""Reading a team's figures, always logged, and the log itself.

`team_pulse_for` is the one way the application reads figures: every look goes through
`storage.pulse.read_pulse_for`, which writes the look into the team's view log in the same
transaction, before a figure is handed back. The view log is the team's own: its members and
supervisors may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from practice.context import Practice
from practice.figures import Pulse, Reading, Surface
from practice.teams import (
    Channels,
    TeamRef,
    belongs,
    here_first,
    row_of,
    supervised_teams,
    team_in,
    workspace_teams,
)
from storage.pulse import LogSlice, read_pulse_for, view_log_page

LOOKS_PER_PAGE = 20


def team_pulse_for(
    practice: Practice,
    viewer: str,
    team: TeamRef,
    surface: Surface,
    *,
    weeks: int,
    newest: int | None = None,
    block: int | None = None,
    comments: bool = False,
    detail: str = "",
    reason: str | None = None,
) -> Pulse:
    """`viewer` looks at `team`'s finished blocks on `surface` (see read_pulse_for for the
    arguments); the look is in the team's view log before anything is returned. Whether
    `viewer` may look is the caller's use case to decide (supervisors, or an export's CLI)."""
    with practice.db.session() as session:
        return read_pulse_for(
            session,
            viewer,
            team,
            surface,
            weeks=weeks,
            newest=newest,
            block=block,
            anonymity_min=practice.anonymity_min,
            retention_weeks=practice.retention_weeks,
            now=practice.clock.now(),
            comments=comments,
            detail=detail,
            reason=reason,
        )


@dataclass(frozen=True)
class TeamPulse:
    team: TeamRef
    pulse: Pulse


def supervisor_pulse(
    practice: Practice, workspace: str, viewer: str, channel: str | None, weeks: int
) -> list[TeamPulse]:
    """`/teampulse`: the last `weeks` weeks of the channel's team when `viewer` supervises it,
    else of every team they supervise; none when they supervise no team (nothing is read)."""
    return [
        TeamPulse(
            team,
            team_pulse_for(
                practice,
                viewer,
                team,
                Surface.TEAMPULSE,
                weeks=weeks,
                comments=True,
                detail=f"{weeks} weeks",
            ),
        )
        for team in here_first(supervised_teams(practice, workspace, viewer), channel)
    ]


@dataclass(frozen=True)
class TeamLog:
    team: TeamRef
    log: LogSlice


def _log(practice: Practice, team: TeamRef, page: int) -> TeamLog:
    """Page `page` of the team's view log (the last page when asked for one past it)."""
    with practice.db.session() as session:
        return TeamLog(team, view_log_page(session, row_of(session, team), page, LOOKS_PER_PAGE))


def view_logs_for(
    practice: Practice, workspace: str, user: str, channel: str | None, channels: Channels
) -> list[TeamLog]:
    """`/teampulse log`: the first page of the view log of the channel's team when `user`
    belongs to it, else of every team they belong to; none when they belong to none."""
    teams = workspace_teams(practice, workspace)
    here = [t for t in teams if t.channel_id == channel and belongs(t, user, channels)]
    mine = here or [t for t in teams if belongs(t, user, channels)]
    return [_log(practice, team, 1) for team in mine]


def view_log_page_for(
    practice: Practice, workspace: str, channel: str, user: str, page: int, channels: Channels
) -> TeamLog | None:
    """Another page of one team's view log; None when `user` is not one of the team's own."""
    team = team_in(practice, workspace, channel)
    if team is None or not belongs(team, user, channels):
        return None
    return _log(practice, team, page)


CHART_PERIODS = 8


def chart_look(practice: Practice, viewer: str, team: TeamRef) -> list[Reading]:
    """The last finished periods for a trend chart, newest first; recorded as a chart."""
    return team_pulse_for(
        practice,
        viewer,
        team,
        Surface.CHART,
        weeks=CHART_PERIODS * team.pool_weeks,
        newest=CHART_PERIODS,
    ).readings
