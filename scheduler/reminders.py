"""One gentle midweek reminder for everyone on the week's roster.

A reminder goes out on the team's reminder day (two days after its prompt, Wednesday at the
earliest and Friday at the latest), between 10:00 and 16:00 in the member's own time zone, to
every member of the week's roster who is still in the channel and has not turned reminders off
("if you've already checked in, thank you"). It goes to those who have checked in too, so
Slack's own records of who got one say nothing about who checked in. Never in a paused or
skipped week, and never twice in a week: each one is claimed in the delivery ledger under a key
that only the week's secret can make. No log line names a person.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.messenger import DeliveryError
from scheduler.weekly import fire_time
from storage import deliveries
from storage.clock import Clock
from storage.db import Database
from storage.models import Team
from storage.periods import close_due_periods, find_period, on_roster, team_week, week_seal
from storage.reminders import REMINDER, forget_past_reminders, opted_out_among, was_reminded
from storage.rotation import Rotation
from storage.skips import is_skipped
from storage.teams import list_teams

log = logging.getLogger(__name__)

WEDNESDAY, FRIDAY = 2, 4
WINDOW = (time(10, 0), time(16, 0))
REMINDER_SWEEP = {"minutes": 15}  # how often the scheduler looks for due reminders


class ReminderMessenger(Protocol):
    def members(self, team: Team) -> list[str]:
        """People in the team's channel (not the bot)."""
        ...

    def timezone_of(self, team: Team, user_id: str) -> str | None:
        """The person's IANA time zone; None when they cannot be reminded (an app, deactivated)."""
        ...

    def send_reminder(self, team: Team, user_id: str, domain: str) -> str:
        """DM the reminder; returns the message ts."""
        ...


def reminder_day(team: Team) -> int | None:
    """Weekday (0 = Monday) of the team's reminder, or None when its prompt comes too late in
    the week for a reminder to make sense."""
    day = min(max(WEDNESDAY, team.post_day + 2), FRIDAY)
    return day if day > team.post_day else None


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def in_window(day: int, now: datetime, tz: str | None, fallback_tz: str) -> bool:
    local = now.astimezone(_zone(tz, fallback_tz))
    return local.weekday() == day and WINDOW[0] <= local.time() < WINDOW[1]


def _could_be_due(team: Team, day: int, now: datetime) -> bool:
    """Cheap team-level test before asking Slack anything: somewhere in the world it might be
    the reminder day (time zones are at most a day apart)."""
    local_day = now.astimezone(_zone(team.timezone, "UTC")).weekday()
    return abs(local_day - day) <= 1


class ReminderDelivery:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        messenger: ReminderMessenger,
        rotation: Rotation,
        worker: str,
        lease: timedelta = deliveries.LEASE,
    ) -> None:
        self.db, self.clock, self.messenger = db, clock, messenger
        self.rotation, self.worker, self.lease = rotation, worker, lease

    def run_due(self) -> int:
        """Send every reminder that is due now; returns how many were sent."""
        now = self.clock.now()
        with self.db.session() as session:
            close_due_periods(session, now)
            teams = list(list_teams(session))
            for team in teams:
                forget_past_reminders(session, team.id, team_week(session, team, now).index)
        sent = 0
        for team in teams:
            if team.paused:
                continue
            try:
                sent += self.remind_team(team, now)
            except DeliveryError as error:
                log.warning("team %s: reminders will be retried: %s", team.channel_id, error.code)
        return sent

    def remind_team(self, team: Team, now: datetime) -> int:
        day = reminder_day(team)
        with self.db.session() as session:
            week = team_week(session, team, now)
        fire = fire_time(team, week)
        if day is None or not _could_be_due(team, day, now) or fire is None or fire > now:
            return 0
        with self.db.session() as session:
            if is_skipped(session, team.id, week.index):
                return 0
            period = find_period(session, team.id, week.index)
            seal = None if period is None else week_seal(session, period)
        if period is None or seal is None:
            return 0  # not opened (no prompt yet), or closed
        supervisors = {s.user_id for s in team.supervisors}
        people = [u for u in self.messenger.members(team) if u not in supervisors]
        with self.db.session() as session:
            off = opted_out_among(session, team.workspace_id, people)
            waiting = [
                u
                for u in people
                if u not in off
                and (
                    not period.roster_known
                    or on_roster(session, period, seal, team.workspace_id, u)
                )
                and not was_reminded(
                    session, team.id, week.index, seal.reminder_key(team.workspace_id, u)
                )
            ]
        sent = 0
        for user in waiting:
            try:
                tz = self.messenger.timezone_of(team, user)
            except DeliveryError:
                continue  # asked again on the next sweep
            if tz is None or not in_window(day, now, tz, team.timezone):
                continue
            key = seal.reminder_key(team.workspace_id, user)
            sent += self._remind(team, week.index, user, key, period.domain)
        if sent:
            # Without the number: summed over a day, it is how many members had not checked in.
            log.info("team %s: check-in reminders sent", team.channel_id)
        return sent

    def _remind(self, team: Team, week_index: int, user: str, key: str, domain: str) -> int:
        """Claim, send, settle: one reminder, at most once."""
        with self.db.session() as session:
            claimed = deliveries.claim(
                session,
                team_id=team.id,
                week_index=week_index,
                kind=REMINDER,
                recipient=key,
                worker=self.worker,
                now=self.clock.now(),
                lease=self.lease,
            )
        if not claimed:
            return 0
        error: DeliveryError | None = None
        try:
            self.messenger.send_reminder(team, user, domain)
        except DeliveryError as failure:
            error = failure
        with self.db.session() as session:
            if error is not None and not error.permanent:
                deliveries.release(
                    session,
                    team_id=team.id,
                    week_index=week_index,
                    kind=REMINDER,
                    recipient=key,
                    worker=self.worker,
                )
                return 0
            # No message ts is kept: with it, Slack's copy of the DM would name the person.
            deliveries.finish(
                session,
                team_id=team.id,
                week_index=week_index,
                kind=REMINDER,
                recipient=key,
                worker=self.worker,
                error=error.code if error is not None else None,
            )
        return 0 if error is not None else 1
