"""Deliver each team's weekly prompt and supervisor DMs exactly once per week.

Each delivery is claimed in the ledger (committed) before Slack is called, so restarts,
overlapping sweeps and several replicas never post twice. A team whose time has passed this
week with nothing sent is caught up on the next sweep; a week that has ended is never posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from apscheduler.triggers.cron import CronTrigger

from scheduler.messenger import DeliveryError, Messenger
from storage import deliveries
from storage.clock import Clock
from storage.db import Database
from storage.models import Period, Team
from storage.periods import close_due_periods, find_period, open_period, planned, team_week
from storage.rotation import Rotation
from storage.teams import DAYS, list_teams
from storage.weeks import Week

log = logging.getLogger(__name__)

PROMPT, REFLECTIONS = "channel_prompt", "supervisor_dm"


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
        self.rotation, self.worker, self.lease = rotation, worker, lease

    def run_due(self) -> int:
        """Close finished weeks, then deliver for every team whose time has come this week."""
        now = self.clock.now()
        self.db.retry_scrub()
        with self.db.session() as session:
            close_due_periods(session, now)
            teams = [t for t in list_teams(session) if not t.paused]
            weeks = {t.id: team_week(session, t, now) for t in teams}
        delivered = 0
        for team in teams:
            # With the team's settings as they are now: a day, time or time zone changed to a
            # moment already passed this week is caught up here, once (the ledger holds the
            # week's prompt, so one already made is never made again).
            fire = fire_time(team, weeks[team.id])
            if fire is not None and fire <= now:
                delivered += self.deliver(team.id)
        return delivered

    def deliver_if_due(self, team_id: int) -> int:
        """The team's timed job: deliver only if, by the team's settings now, this week's time
        has come (a job left from a day, time or zone just changed does nothing until the next
        sync re-times it)."""
        now = self.clock.now()
        with self.db.session() as session:
            team = session.get(Team, team_id)
            week = None if team is None else team_week(session, team, now)
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
            week = team_week(session, team, now)
            period = find_period(session, team.id, week.index)
            domain, prompt_index = planned(session, team, week, self.rotation)
        supervisors = [s.user_id for s in team.supervisors]
        if period is None and not self._prompt_given_up(team, week):
            period = self._open_week(team, week, supervisors)
            if period is None and not self._prompt_given_up(team, week):
                return 0  # members unreadable for now: the next sweep tries again
        made = 0
        if period is not None and self._claim(team_id, week, PROMPT, team.channel_id):
            made += self._post_prompt(team, week, domain, prompt_index)
        for supervisor in supervisors:
            if self._claim(team_id, week, REFLECTIONS, supervisor):
                made += self._attempt(
                    team,
                    week,
                    REFLECTIONS,
                    supervisor,
                    partial(self.messenger.send_reflections, team, supervisor, domain),
                )
        return made

    def _open_week(self, team: Team, week: Week, supervisors: list[str]) -> Period | None:
        """Open the week with its roster: the channel's members now, less the supervisors. A
        week is never opened without one: if Slack can't say who is in the channel, the prompt
        waits for the next sweep, or, when Slack says it never will (channel gone, bot removed,
        token revoked), is recorded as failed for good, once, like a post that failed."""
        try:
            people = self.messenger.members(team)
        except DeliveryError as error:
            if error.permanent and self._claim(team.id, week, PROMPT, team.channel_id):
                self._failed(team, week, PROMPT, team.channel_id, error)
            elif not error.permanent:
                log.warning(
                    "team %s: the prompt waits: channel members unreadable: %s",
                    team.channel_id,
                    error.code,
                )
                with self.db.session() as session:
                    deliveries.wait(
                        session,
                        team_id=team.id,
                        week_index=week.index,
                        kind=PROMPT,
                        recipient=team.channel_id,
                        worker=self.worker,
                        now=self.clock.now(),
                        reason=error.code,
                    )
            return None
        roster = [person for person in people if person not in supervisors]
        with self.db.session() as session:
            return open_period(session, team, week, self.rotation, roster)

    def _prompt_given_up(self, team: Team, week: Week) -> bool:
        """This week's prompt failed for good (the channel's members were unreadable for good):
        no week opens, and the supervisors still get their reflections."""
        with self.db.session() as session:
            return deliveries.settled(
                session,
                team_id=team.id,
                week_index=week.index,
                kind=PROMPT,
                recipient=team.channel_id,
            )

    def _post_prompt(self, team: Team, week: Week, domain: str, prompt_index: int) -> int:
        return self._attempt(
            team,
            week,
            PROMPT,
            team.channel_id,
            partial(self.messenger.post_prompt, team, domain, prompt_index),
        )

    def _claim(self, team_id: int, week: Week, kind: str, recipient: str) -> bool:
        with self.db.session() as session:
            return deliveries.claim(
                session,
                team_id=team_id,
                week_index=week.index,
                kind=kind,
                recipient=recipient,
                worker=self.worker,
                now=self.clock.now(),
                lease=self.lease,
            )

    def _failed(
        self, team: Team, week: Week, kind: str, recipient: str, error: DeliveryError
    ) -> None:
        """Settle a claimed delivery that Slack refused: failed for good (recorded once, for
        `team list`), or given back for the next sweep to try again."""
        with self.db.session() as session:
            if error.permanent:
                log.error("team %s: %s failed for good: %s", team.channel_id, kind, error.code)
                deliveries.finish(
                    session,
                    team_id=team.id,
                    week_index=week.index,
                    kind=kind,
                    recipient=recipient,
                    worker=self.worker,
                    error=error.code,
                )
            else:
                log.warning("team %s: %s will be retried: %s", team.channel_id, kind, error.code)
                deliveries.release(
                    session,
                    team_id=team.id,
                    week_index=week.index,
                    kind=kind,
                    recipient=recipient,
                    worker=self.worker,
                )

    def _attempt(
        self, team: Team, week: Week, kind: str, recipient: str, send: Callable[[], str]
    ) -> int:
        try:
            ts = send()
        except DeliveryError as error:
            self._failed(team, week, kind, recipient, error)
            return 0
        with self.db.session() as session:
            deliveries.finish(
                session,
                team_id=team.id,
                week_index=week.index,
                kind=kind,
                recipient=recipient,
                worker=self.worker,
                slack_ts=ts,
            )
        return 1
