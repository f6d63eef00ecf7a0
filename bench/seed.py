"""Teams, people and history for the benchmarks, written through the project's own storage
functions (or in bulk where the storage layer has no bulk path, see bench.summary)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.slack_host import WORKSPACE
from bot.content import default_library
from bot.services import rotation_for
from storage.checkins import CheckinAnswers, record_checkin
from storage.db import Database
from storage.periods import close_due_periods
from storage.teams import TeamSpec, add_team, get_team

ROTATION = rotation_for(default_library())
WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Roster:
    index: int
    channel: str
    supervisor: str
    members: tuple[str, ...]

    @property
    def people(self) -> list[str]:
        return [self.supervisor, *self.members]


def rosters(teams: int, members: int) -> list[Roster]:
    return [
        Roster(
            index=i,
            channel=f"C{i:07d}X",
            supervisor=f"U{i:06d}SUP",
            members=tuple(f"U{i:06d}M{j:03d}" for j in range(members)),
        )
        for i in range(teams)
    ]


def channel_members(teams: list[Roster]) -> dict[str, list[str]]:
    return {r.channel: r.people for r in teams}


def not_yet_due(now: datetime) -> tuple[int, int, str]:
    """(day, minute, zone) an hour from `now` in the same team-week, so that a bot started now
    has every team scheduled and nothing to post while it is measured."""
    for zone in ("Europe/London", "Pacific/Kiritimati"):  # +14h: a fresh week when London's ends
        local = now.astimezone(ZoneInfo(zone))
        minute = local.weekday() * 1440 + local.hour * 60 + local.minute + 60
        if minute < WEEK_MINUTES:
            return minute // 1440, minute % 1440, zone
    raise AssertionError("one of the zones is always an hour short of its week's end")


def add_teams(
    db: Database, teams: list[Roster], now: datetime, day: int, minute: int, zone: str
) -> dict[str, int]:
    """Channel → team id."""
    with db.session() as session:
        made = {
            r.channel: add_team(
                session,
                TeamSpec(
                    workspace_id=WORKSPACE,
                    channel_id=r.channel,
                    name=f"Team {r.index}",
                    supervisors=(r.supervisor,),
                    post_day=day,
                    post_minute=minute,
                    timezone=zone,
                ),
                now,
            )
            for r in teams
        }
        return {channel: team.id for channel, team in made.items()}


def add_history(db: Database, teams: list[Roster], weeks: int, now: datetime) -> int:
    """`weeks` closed weeks in which every member checked in (a comment from every third);
    returns the answers written."""
    rng = random.Random(7)
    written = 0
    with db.session() as session:
        for roster in teams:
            team_row = get_team(session, WORKSPACE, roster.channel)
            assert team_row is not None, "add_teams first"
            for back in range(weeks, 0, -1):
                when = now - timedelta(weeks=back)
                for j, member in enumerate(roster.members):
                    answers = CheckinAnswers(
                        availability=rng.randint(1, 5),
                        stress=rng.randint(1, 5),
                        domain_item=rng.randint(1, 5),
                        comment="Thanks for the cover on Tuesday." if j % 3 == 0 else None,
                    )
                    record_checkin(session, team_row, member, answers, when, ROTATION)
                    written += 1
        close_due_periods(session, now)
    return written
