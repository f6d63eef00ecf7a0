"""The hourly housekeeping sweep: close finished weeks, purge what is past retention, scrub.

Each team is closed and purged in a transaction of its own, so one team's trouble never keeps
another team's answers past their time (see storage.retention for what goes and how).
"""

from __future__ import annotations

from datetime import datetime

from practice.sweep import each_team
from storage.db import Database
from storage.models import Team
from storage.retention import purge_team, purge_views, scrub
from storage.team_weeks import close_due_team_weeks
from storage.teams import list_teams


def housekeeping(db: Database, retention_weeks: int, now: datetime) -> int:
    """Returns the number of team-weeks purged."""
    with db.session() as session:
        teams = list(list_teams(session))

    def keep(team: Team) -> int:
        with db.session() as session:
            close_due_team_weeks(session, now, team.id)
            return purge_team(session, team, retention_weeks, now)

    purged = each_team(teams, keep, "housekeeping")
    with db.session() as session:
        purge_views(session, retention_weeks, now)
    scrub(db)
    return purged
