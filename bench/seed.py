"""Teams, people and history for the benchmarks, written through the project's own storage
functions (or in bulk where the storage layer has no bulk path, see bench.summary).

The operator's key that seals open weeks is made afresh for each benchmark run (`KEY`): the
servers under test are given it, as an installer gives `securebase run` its own."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.slack_host import WORKSPACE
from bot.content import default_library
from bot.services import rotation_for
from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.keys import KEY_BYTES, Keyring, SecretKey
from practice.weeks import Week
from storage.db import Database
from storage.team_weeks import close_due_team_weeks, current_week, open_team_week
from storage.teams import TeamSpec, add_team, get_team

ROTATION = rotation_for(default_library())
WEEK_MINUTES = 7 * 24 * 60
KEY = os.urandom(KEY_BYTES).hex()  # SECUREBASE_SECRET_KEY of every server a benchmark starts
KEYRING = Keyring(SecretKey(bytes.fromhex(KEY)))


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


def open_weeks(db: Database, teams: list[Roster], now: datetime, back: int = 0) -> None:
    """Open each team's week (`back` weeks before `now`'s) as its prompt does: with the
    channel's members, less the supervisor, on its roster. `db` must have the keyring."""
    with db.session() as session:
        for roster in teams:
            team = get_team(session, WORKSPACE, roster.channel)
            assert team is not None, "add_teams first"
            week = Week(current_week(team, now).index - back)
            open_team_week(session, team, week, ROTATION, roster.members)


def add_history(db: Database, teams: list[Roster], weeks: int, now: datetime) -> int:
    """`weeks` closed weeks in which every member checked in (a comment from every third),
    each opened with its roster, checked in through `practice.checkin` and closed; returns the
    answers written. `db` must have the keyring."""
    rng = random.Random(7)
    written = 0
    with db.session() as session:
        found = {r.channel: get_team(session, WORKSPACE, r.channel) for r in teams}
    for back in range(weeks, 0, -1):
        when = now - timedelta(weeks=back)
        open_weeks(db, teams, when)
        for roster in teams:
            team = found[roster.channel]
            assert team is not None, "add_teams first"
            week = current_week(team, when).index
            for j, member in enumerate(roster.members):
                answers = CheckinAnswers(
                    availability=rng.randint(1, 5),
                    stress=rng.randint(1, 5),
                    domain_item=rng.randint(1, 5),
                    comment="Thanks for the cover on Tuesday." if j % 3 == 0 else None,
                )
                result = check_in(db, team, week, member, answers, when)
                assert isinstance(result, CheckinResult), result
                written += 1
    with db.session() as session:
        close_due_team_weeks(session, now)
    return written
