"""Deliver each team's weekly prompt and supervisor DMs exactly once per week.

Each delivery goes out through the ledger (practice.delivery.Ledger.deliver_once), so
restarts, overlapping sweeps and several replicas never post twice. A team whose time has
passed this week with nothing sent is caught up on the next sweep; a week that has ended is
never posted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from apscheduler.triggers.cron import CronTrigger

from practice.clock import Clock
from practice.delivery import DeliveryError, Ledger, Outcome, Send
from practice.rotation import Rotation
from practice.sweep import each_team
from practice.weeks import Week
from scheduler.messenger import Messenger
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind
from storage.models import Team, TeamWeek
from storage.team_weeks import (
    close_due_team_weeks,
    current_team_week,
    find_team_week,
    open_team_week,
    plan_of,
)
from storage.teams import DAYS, list_teams
from storage.weeks_off import is_week_off

log = logging.getLogger(__name__)


def weekly_trigger(team: Team) -> CronTrigger:
    return CronTrigger(
        day_of_week=DAYS[team.post_day],
        hour=team.post_minute // 60,
        minute=team.post_minute % 60,
        timezone=team.timezone,
    )


def fire_time(team: Team, week: Week) -> datetime | None:
    """When the team's prompt is due in `week` (DST-correct), or None if it falls outside it."""
    fire: datetime | None = weekly_trigger(team).get_next_fire_time(
        None, week.starts_at(team.timezone)
    )
    if fire is None or fire >= week.ends_at(team.timezone):
        return None
    return fire


def _refused(error: DeliveryError) -> Send:
    """A send that Slack has already refused (the roster could not be read for good)."""

    def send() -> str | None:
        raise error

    return send


class WeeklyDelivery:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        messenger: Messenger,
        rotation: Rotation,
        worker: str,
        lease: timedelta = deliveries.LEASE,
    ) -> None:
        self.db, self.clock, self.messenger = db, clock, messenger
        self.rotation, self.worker = rotation, worker
        self.ledger = Ledger(db, clock, worker, lease)

    def run_due(self) -> int:
        """Close finished weeks, then deliver for every team whose time has come this week."""
        now = self.clock.now()
        self.db.retry_scrub()
        with self.db.session() as session:
            close_due_team_weeks(session, now)
            teams = [t for t in list_teams(session) if not t.paused]
            weeks = {t.id: current_team_week(session, t, now) for t in teams}
            # A team whose week's prompt and reflections are all settled is owed nothing: one
            # statement tells, instead of a visit per team on every sweep.
            owed = {t.id: _owed(t, weeks[t.id]) for t in teams}
            settled = deliveries.settled_of(session, [k for keys in owed.values() for k in keys])

        def due(team: Team) -> bool:
            # With the team's settings as they are now: a day, time or time zone changed to a
            # moment already passed this week is caught up here, once (the ledger holds the
            # week's prompt, so one already made is never made again).
            fire = fire_time(team, weeks[team.id])
            return fire is not None and fire <= now and not owed[team.id] <= settled

        return each_team(
            (t for t in teams if due(t)), lambda t: self.deliver(t.id), "the weekly prompt"
        )

    def deliver_if_due(self, team_id: int) -> int:
        """The team's timed job: deliver only if, by the team's settings now, this week's time
        has come (a job left from a day, time or zone just changed does nothing until the next
        sync re-times it)."""
        now = self.clock.now()
        with self.db.session() as session:
            team = session.get(Team, team_id)
            week = None if team is None else current_team_week(session, team, now)
        if team is None or week is None or team.paused:
            return 0
        fire = fire_time(team, week)
        if fire is None or fire > now:
            return 0
        return self.deliver(team_id)

    def deliver(self, team_id: int) -> int:
        """Make whatever is still owed to this team this week; returns posts made."""
        now = self.clock.now()
        with self.db.session() as session:
            team = session.get(Team, team_id)
            if team is None:
                return 0
            week = current_team_week(session, team, now)
            if is_week_off(session, team.id, week.index):
                return 0  # a week off: nothing is owed, and the week is never opened
            period = find_team_week(session, team.id, week.index)
            prompt = _prompt_key(team, week)
            # Failed for good already (the channel's members unreadable for good): no week
            # opens, and the supervisors still get their reflections.
            given_up = period is None and deliveries.settled(session, prompt)
            supervisors = [s.user_id for s in team.supervisors]
        if period is None and not given_up:
            period = self._open_week(team, week, supervisors, prompt)
            if period is None and not self.ledger.settled(prompt):
                return 0  # members unreadable for now: the next sweep tries again
        domain, prompt_index = plan_of(period, team, week, self.rotation)
        sends: list[tuple[DeliveryKey, Send]] = []
        if period is not None:
            sends.append((prompt, partial(self.messenger.post_prompt, team, domain, prompt_index)))
        for supervisor in supervisors:
            key = _reflections_key(team, week, supervisor)
            sends.append((key, partial(self.messenger.send_reflections, team, supervisor, domain)))
        return sum(
            self.ledger.deliver_once(key, send, channel=team.channel_id) is Outcome.SENT
            for key, send in sends
        )

    def _open_week(
        self, team: Team, week: Week, supervisors: list[str], prompt: DeliveryKey
    ) -> TeamWeek | None:
        """Open the week with its roster: the channel's members now, less the supervisors. A
        week is never opened without one: if Slack can't say who is in the channel, the prompt
        waits for the next sweep, or, when Slack says it never will (channel gone, bot removed,
        token revoked), is settled as failed for good, once, like a post that failed."""
        try:
            people = self.messenger.members(team)
        except DeliveryError as error:
            if error.permanent:
                self.ledger.deliver_once(prompt, _refused(error), channel=team.channel_id)
            else:
                log.warning(
                    "team %s: the prompt waits: channel members unreadable: %s",
                    team.channel_id,
                    error.code,
                )
                self.ledger.wait(prompt, error.code)
            return None
        roster = [person for person in people if person not in supervisors]
        with self.db.session() as session:
            return open_team_week(session, team, week, self.rotation, roster)


def _prompt_key(team: Team, week: Week) -> DeliveryKey:
    return DeliveryKey(team.id, week.index, DeliveryKind.PROMPT, team.channel_id)


def _reflections_key(team: Team, week: Week, supervisor: str) -> DeliveryKey:
    return DeliveryKey(team.id, week.index, DeliveryKind.REFLECTIONS, supervisor)


def _owed(team: Team, week: Week) -> set[DeliveryKey]:
    """What a team is sent in `week`: its prompt and each supervisor's reflections."""
    return {_prompt_key(team, week)} | {
        _reflections_key(team, week, s.user_id) for s in team.supervisors
    }
