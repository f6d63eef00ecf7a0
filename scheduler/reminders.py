"""One gentle midweek reminder for everyone on the week's roster.

A reminder goes out on the team's reminder day (two days after its prompt, Wednesday at the
earliest and Friday at the latest), between 10:00 and 16:00 in the member's own time zone, to
every member of the week's roster who is still in the channel and has not turned reminders off
("if you've already checked in, thank you"). It goes to those who have checked in too, so
Slack's own records of who got one say nothing about who checked in. Never in a paused team or
a week off, and never twice in a week: each one is claimed in the delivery ledger under a key
that only the week's secret can make. No log line names a person.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from practice.clock import Clock
from practice.delivery import DeliveryError, Ledger, Outcome, Refusal
from practice.rotation import Rotation
from practice.sweep import each_team
from scheduler.messenger import ReminderMessenger
from scheduler.weekly import fire_time
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKey, DeliveryKind
from storage.models import Team
from storage.reminders import forget_past_reminders, opted_out_among, was_reminded
from storage.team_weeks import (
    close_due_team_weeks,
    current_team_week,
    find_team_week,
    on_roster,
    week_seal,
)
from storage.teams import list_teams
from storage.weeks_off import is_week_off

log = logging.getLogger(__name__)

WEDNESDAY, FRIDAY = 2, 4
WINDOW = (time(10, 0), time(16, 0))
REMINDER_SWEEP = {"minutes": 15}  # how often the scheduler looks for due reminders


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
        self.rotation, self.worker = rotation, worker
        self.ledger = Ledger(db, clock, worker, lease)

    def run_due(self) -> int:
        """Send every reminder that is due now; returns how many were sent."""
        now = self.clock.now()
        with self.db.session() as session:
            close_due_team_weeks(session, now)
            teams = list(list_teams(session))
            for team in teams:
                forget_past_reminders(session, team.id, current_team_week(session, team, now).index)
        running = (team for team in teams if not team.paused)
        return each_team(running, lambda team: self.remind_team(team, now), "reminders")

    def remind_team(self, team: Team, now: datetime) -> int:
        day = reminder_day(team)
        with self.db.session() as session:
            week = current_team_week(session, team, now)
        fire = fire_time(team, week)
        if day is None or not _could_be_due(team, day, now) or fire is None or fire > now:
            return 0
        with self.db.session() as session:
            if is_week_off(session, team.id, week.index):
                return 0
            period = find_team_week(session, team.id, week.index)
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
            except DeliveryError as error:
                if error.refusal is Refusal.UNINSTALLED:
                    raise  # nobody in this workspace can be reminded now
                continue  # asked again on the next sweep
            if tz is None or not in_window(day, now, tz, team.timezone):
                continue
            key = DeliveryKey(
                team.id,
                week.index,
                DeliveryKind.REMINDER,
                seal.reminder_key(team.workspace_id, user),
            )
            send = partial(self._send, team, user, period.domain)
            outcome = self.ledger.deliver_once(key, send, channel=team.channel_id)
            sent += outcome is Outcome.SENT
        if sent:
            # Without the number: summed over a day, it is how many members had not checked in.
            log.info("team %s: check-in reminders sent", team.channel_id)
        return sent

    def _send(self, team: Team, user: str, domain: str) -> None:
        """One reminder. No message ts is kept: with it, Slack's copy of the DM would name the
        person."""
        self.messenger.send_reminder(team, user, domain)
