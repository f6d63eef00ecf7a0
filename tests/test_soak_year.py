"""A simulated year: 50 teams, 52 weeks, two replicas on one database, on the injected clock.

The runtime's own pieces are driven by hand instead of by APScheduler sleeping: each team's
timed job (`deliver_if_due`, on both replicas, at the team's moment), the catch-up sweep a
replica runs at start and every sync (`run_due`), the reminder sweep, and the hourly
housekeeping with its retention purge. Slack is the sandbox, in this process. Over the year the
teams change their day, time and time zone, take weeks off, pause, gain and lose members; people
check in (and replace their check-ins) through the check-in use case with real week seals; the
replicas restart at random moments, some killed between claiming a delivery and making it. A
London team posts in the night the clocks change, both ways.

After every simulated week the invariants are checked: each active team got exactly one prompt
and one set of supervisor reflections (none in weeks off or paused weeks), and Slack holds
exactly what the ledger says was sent; every check-in the use case accepted is in its closed
week once, and nothing else is; a closed week never reopens or changes; a block of figures,
once shown, never changes; retention keeps the database's size bounded.

Every random choice comes from one seed, printed at the start; SECUREBASE_SOAK_SEED replays a
run exactly. Each week's real time is printed (never asserted: timing lives in bench/).
"""

from __future__ import annotations

import heapq
import itertools
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime, open_database
from bot.settings import load_settings
from practice.blocks import first_kept_week
from practice.checkin import (
    CheckinAnswers,
    CheckinResult,
    OpenWeek,
    Refusal,
    check_in,
    week_to_check_in,
)
from practice.clock import ManualClock
from practice.figures import Reading, Surface
from practice.weeks import Week, week_containing
from sandbox.webapi import SlackSandbox
from scheduler.messenger import Messenger, ReminderMessenger
from scheduler.weekly import weekly_trigger
from storage.db import Database
from storage.deliveries import DeliveryKind, DeliveryStatus
from storage.models import (
    Answer,
    Comment,
    Delivery,
    PulseView,
    RosterEntry,
    SealedAnswer,
    Team,
    TeamWeek,
    WeekKey,
    WeekOff,
)
from storage.pulse import read_pulse_for
from storage.teams import TeamSpec, add_team
from storage.weeks_off import set_weeks_off

pytestmark = pytest.mark.slow

PROMPT, REFLECTIONS = DeliveryKind.PROMPT, DeliveryKind.REFLECTIONS
CLAIMED, SENT = DeliveryStatus.CLAIMED, DeliveryStatus.SENT
SEED_ENV = "SECUREBASE_SOAK_SEED"
TEAMS, WEEKS = 50, 52
WORKSPACE, BOT_TOKEN, BOT_USER = "T0SOAK0001", "xoxb-soak-bot-token", "U0SOAKBOT1"
SIGNING_SECRET = "soak-signing-secret-0123456789"
RETENTION_WEEKS = 8  # the smallest allowed, so the purge runs all year
ANONYMITY_MIN = 3
LEASE = timedelta(seconds=120)
# Monday 5 January 2026, noon UTC: the year crosses every zone's clock changes both ways.
YEAR_STARTS = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LONDON = "Europe/London"
ZONES = (LONDON, "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "Europe/Berlin", "UTC")
# Teams that never change: London in the night of each clock change (Sunday 01:30 is missing
# in March and happens twice in October), London just after midnight on Monday, New York late
# on Sunday (already Monday in UTC).
FIXED = ((6, 90, LONDON), (0, 30, LONDON), (6, 22 * 60 + 30, "America/New_York"))
# Both replicas' jobs for a team fire at the same moment; in a year of team-weeks a third of
# them race (each is costly), the rest meet the ledger in a later catch-up sweep.
BOTH_FIRE = 0.35
# Each week a random few teams' figures are read (each read is costly); a block stays for
# RETENTION_WEEKS, so every shown block is read again.
PULSE_READS = 15
REPLACE = 0.2  # how often someone checks in again the same week
COMMENTS = ("A busy week.", "Thanks for the cover.", "Short staffed again.", "Good supervision.")


class ReplicaKilled(BaseException):
    """A replica's process dying (not an error the bot could catch)."""


class Reminding:
    """The replica's reminder messenger, noting each reminder as it goes to Slack."""

    def __init__(self, inner: ReminderMessenger, sent: Callable[[Team, str], None]) -> None:
        self.inner, self.sent = inner, sent

    def members(self, team: Team) -> list[str]:
        return self.inner.members(team)

    def timezone_of(self, team: Team, user_id: str) -> str | None:
        return self.inner.timezone_of(team, user_id)

    def send_reminder(self, team: Team, user_id: str, domain: str) -> str:
        self.sent(team, user_id)
        return self.inner.send_reminder(team, user_id, domain)


class Dying:
    """The replica's messenger, noting what reached Slack; armed, it dies just before its next
    post reaches Slack, leaving the delivery claimed in the ledger by a replica that is gone."""

    def __init__(
        self,
        inner: Messenger,
        on_death: Callable[[], None],
        posted: Callable[[Team, str, str], None],
        may_die: Callable[[], bool],
    ) -> None:
        self.inner, self.on_death, self.posted, self.armed = inner, on_death, posted, False
        self.may_die = may_die  # never both replicas at once

    def _maybe_die(self) -> None:
        if self.armed and self.may_die():
            self.armed = False
            self.on_death()
            raise ReplicaKilled

    def members(self, team: Team) -> list[str]:
        return self.inner.members(team)

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        self._maybe_die()
        ts = self.inner.post_prompt(team, domain, prompt_index)
        self.posted(team, PROMPT, ts)
        return ts

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        self._maybe_die()
        ts = self.inner.send_reflections(team, supervisor_id, domain)
        self.posted(team, REFLECTIONS, ts)
        return ts


@dataclass
class Replica:
    name: str
    runtime: Runtime | None = None
    generation: int = 0
    dying: Dying | None = None

    @property
    def alive(self) -> bool:
        return self.runtime is not None

    def live(self) -> Runtime:
        assert self.runtime is not None, f"replica {self.name} is down"
        return self.runtime


@dataclass
class TeamModel:
    """What the test itself knows about one team: its settings, people and history."""

    team_id: int
    channel: str
    supervisors: tuple[str, ...]
    people: list[str]  # everyone who may ever be in the channel (not the supervisors)
    members: set[str]  # in the channel now
    day: int
    minute: int
    tz: str
    pool: int
    fixed: bool
    created: datetime
    paused: bool = False
    pause_changes: list[datetime] = field(default_factory=list)
    paused_spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    tz_changes: list[datetime] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)
    next_fire: datetime | None = None
    next_check: int = 0  # the first of its weeks not yet checked
    history: list[str] = field(default_factory=list)  # what happened to it, for a failure

    def note(self, now: datetime, what: str) -> None:
        self.history.append(f"{now:%a %d %b %H:%M}Z {what}")

    people_tz: str = LONDON  # its people's own zone (set in Slack; never changes)


@dataclass
class PeriodModel:
    team_id: int
    week_index: int
    roster: frozenset[str]
    tally: dict[str, CheckinAnswers] = field(default_factory=dict)
    closed_answers: Counter[tuple[int, int, int | None]] | None = None
    closed_comments: Counter[str] | None = None


@dataclass
class Stats:
    prompts: int = 0
    checkins: int = 0
    replaced: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    restarts: int = 0
    kills: int = 0
    purged_weeks: int = 0
    reminders: int = 0


def catch_up(runtime: Runtime) -> None:
    """The catch-up sweep each replica's sync runs (at start, then every minute)."""
    runtime.delivery.run_due()


def timed_job(team_id: int, runtime: Runtime) -> None:
    """A team's cron job, at the team's moment."""
    runtime.delivery.deliver_if_due(team_id)


def remind(runtime: Runtime) -> None:
    """The reminder sweep (every 15 minutes in the runtime)."""
    runtime.reminders.run_due()


def housekeeping(runtime: Runtime) -> None:
    """The runtime's hourly job: close finished weeks, purge past retention, scrub."""
    assert runtime.scheduler.housekeeping is not None
    runtime.scheduler.housekeeping()


class Year:
    """The simulated world: the sandbox, the database, two replicas and the test's model."""

    def __init__(self, database_url: str, seed: int, teams: int) -> None:
        self.rng = random.Random(seed)
        self.clock = ManualClock(YEAR_STARTS)
        self.sandbox = SlackSandbox().start()
        self.sandbox.add_workspace(
            WORKSPACE, "Soak Borough", bot_token=BOT_TOKEN, bot_user_id=BOT_USER
        )
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.sandbox.api_url,
            "DATABASE_URL": database_url,
            "SECUREBASE_ANONYMITY_MIN": str(ANONYMITY_MIN),
            "SECUREBASE_RETENTION_WEEKS": str(RETENTION_WEEKS),
            "SECUREBASE_CLAIM_LEASE_SECONDS": str(int(LEASE.total_seconds())),
            "SECUREBASE_SECRET_KEY": os.urandom(32).hex(),
        }
        self.settings = replace(load_settings(env), app_token=None)
        self.replicas = [Replica("a"), Replica("b")]
        self.teams: dict[int, TeamModel] = {}
        self.periods: dict[tuple[int, int], PeriodModel] = {}
        self.period_ids: dict[int, tuple[int, int]] = {}
        self.last_period_id = 0
        self.gone: set[tuple[int, int]] = set()  # team-weeks the purge erased
        self.ledger: dict[tuple[int, int, str, str], str | None] = {}  # sent, with its ts
        self.blocks: dict[tuple[int, int], Reading] = {}
        self.reminded: dict[tuple[int, int], list[str]] = {}  # (team, week) -> people
        self.newest: dict[int, int] = {}  # each team's newest week opened
        self.posts: dict[tuple[int, str], set[str]] = {}  # (team, kind) -> Slack ts
        self.sent: dict[tuple[int, str], set[str]] = {}  # the same, as the ledger has it
        self.sent_weeks: Counter[tuple[int, int, str]] = Counter()
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.stats = Stats()
        self.timing: Counter[str] = Counter()
        self.timing_n: Counter[str] = Counter()
        self.checked_through = YEAR_STARTS
        open_database(self.settings).dispose()  # migrated once, as the first replica does
        for replica in self.replicas:
            self.start(replica)
        self._add_teams(teams)

    # -- replicas -------------------------------------------------------------------------

    @property
    def db(self) -> Database:
        return self.any_replica().live().services.db

    def any_replica(self) -> Replica:
        alive = [r for r in self.replicas if r.alive]
        assert alive, "both replicas are down"
        return self.rng.choice(alive)

    def start(self, replica: Replica) -> None:
        """A replica (re)built from the database, as `securebase run` starts one: its start-up
        sync's catch-up sweep runs at once."""
        # Migrated already: a new engine on the same database, and nothing else carried over.
        db = Database(self.settings.database_url, self.settings.require_keyring())
        runtime = Runtime.assemble(self.settings, db, self.clock)
        replica.generation += 1
        worker = f"soak-{replica.name}:{replica.generation}"
        for job in (runtime.delivery, runtime.reminders):
            job.ledger = replace(job.ledger, worker=worker)
        replica.dying = Dying(
            runtime.delivery.messenger,
            lambda: self.died(replica),
            self.note_post,
            lambda: all(r.alive for r in self.replicas),
        )
        runtime.delivery.messenger = replica.dying
        runtime.reminders.messenger = Reminding(runtime.reminders.messenger, self.reminder_sent)
        replica.runtime = runtime
        if self.teams:
            self.run(replica, catch_up)

    def stop(self, replica: Replica) -> None:
        if replica.runtime is not None:
            replica.runtime.stop()
            replica.runtime = None

    def died(self, replica: Replica) -> None:
        self.stats.kills += 1
        later = self.clock.now() + timedelta(minutes=self.rng.randint(3, 30))
        self.at(later, lambda: self.restart(replica))

    def restart(self, replica: Replica) -> None:
        self.stats.restarts += 1
        self.stop(replica)
        self.start(replica)

    def run(self, replica: Replica, job: Callable[[Runtime], object]) -> None:
        """Run one of the runtime's jobs on `replica`; it may die in the middle."""
        if replica.runtime is None:
            return
        began = time.perf_counter()
        try:
            job(replica.runtime)
        except ReplicaKilled:
            runtime, replica.runtime = replica.runtime, None
            runtime.stop()  # its process is gone: nothing of it runs again
        self.note_new_periods()
        name = getattr(job, "__name__", None) or job.func.__name__
        self.timing[name] += time.perf_counter() - began
        self.timing_n[name] += 1

    # -- events ---------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.order), action))

    def run_until(self, until: datetime) -> None:
        while self.events and self.events[0][0] <= until:
            when, _, action = heapq.heappop(self.events)
            self.clock.set(max(when, self.clock.now()))
            action()
        self.clock.set(until)

    # -- teams ----------------------------------------------------------------------------

    def _add_teams(self, count: int) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            for n in range(count):
                fixed = n < len(FIXED)
                day, minute, tz = (
                    FIXED[n]
                    if fixed
                    else (
                        self.rng.randint(0, 4),
                        self.rng.randint(7 * 60, 16 * 60),
                        self.rng.choice(ZONES),
                    )
                )
                channel = f"C0SOAK{n:04d}"
                supervisors = tuple(f"U0SUP{n:03d}{k}" for k in range(1 + (n % 3 == 0)))
                people = [f"U0MEM{n:03d}{k}" for k in range(self.rng.randint(5, 7))]
                members = set(people[: len(people) - 2])
                for user in (*supervisors, *people):
                    self.sandbox.add_user(WORKSPACE, user, user.lower(), f"Person {user}", tz=tz)
                self.sandbox.add_channel(
                    WORKSPACE,
                    channel,
                    f"team-{n}",
                    members=[BOT_USER, *supervisors, *sorted(members)],
                )
                pool = 1 if fixed else self.rng.choice((1, 1, 2, 4))
                team = add_team(
                    session,
                    TeamSpec(WORKSPACE, channel, f"Team {n}", supervisors, day, minute, tz, pool),
                    now,
                )
                self.teams[team.id] = TeamModel(
                    team.id,
                    channel,
                    supervisors,
                    people,
                    members,
                    day,
                    minute,
                    tz,
                    pool,
                    fixed,
                    now,
                )
                self.teams[team.id].next_check = week_containing(now, tz).index
                self.teams[team.id].people_tz = tz
        for model in self.teams.values():
            self.schedule_timed_job(model)
        self.run(self.any_replica(), catch_up)

    def schedule_timed_job(self, model: TeamModel) -> None:
        """The team's cron job, as each replica's sync sets it from the team's settings now."""
        shape = Team(post_day=model.day, post_minute=model.minute, timezone=model.tz)
        fire: datetime | None = weekly_trigger(shape).get_next_fire_time(None, self.clock.now())
        model.next_fire = fire
        if fire is None:
            return

        def fired() -> None:
            if model.next_fire != fire:
                return  # re-timed since: this job was replaced
            replicas = [r for r in self.replicas if r.alive]
            self.rng.shuffle(replicas)
            if self.rng.random() > BOTH_FIRE:
                replicas = replicas[:1]  # the other's job comes to it later (a catch-up)
            for replica in replicas:
                self.run(replica, partial(timed_job, model.team_id))
            self.clock.advance(timedelta(seconds=1))
            self.schedule_timed_job(model)

        self.at(fire, fired)

    def team_row(self, team_id: int) -> Team:
        with self.db.session() as session:
            team = session.get(Team, team_id)
            assert team is not None
            list(team.supervisors)
            return team

    def change_settings(self, model: TeamModel) -> None:
        """A supervisor saves new settings mid-week (as /securebase's settings modal does)."""
        day, minute, tz = model.day, model.minute, model.tz
        choice = self.rng.random()
        if choice < 0.4:
            day = self.rng.randint(0, 4)
        elif choice < 0.75:
            minute = self.rng.randint(7 * 60, 16 * 60)
        else:
            tz = self.rng.choice([z for z in ZONES if z != tz])
        with self.db.session() as session:
            team = session.get(Team, model.team_id)
            assert team is not None
            team.post_day, team.post_minute, team.timezone = day, minute, tz
        if tz != model.tz:
            model.tz_changes.append(self.clock.now())
        model.note(self.clock.now(), f"settings: day {day} minute {minute} {tz}")
        model.day, model.minute, model.tz = day, minute, tz
        self.schedule_timed_job(model)
        self.sync_soon()

    def sync_soon(self) -> None:
        """Within a minute a replica's sync re-times its jobs and runs the catch-up sweep, so
        a new time already passed this week (or a team resumed after its time) posts at once."""
        self.at(
            self.clock.now() + timedelta(minutes=1), lambda: self.run(self.any_replica(), catch_up)
        )

    def set_paused(self, model: TeamModel, paused: bool) -> None:
        with self.db.session() as session:
            team = session.get(Team, model.team_id)
            assert team is not None
            team.paused = paused
        now = self.clock.now()
        model.paused = paused
        model.pause_changes.append(now)
        model.note(now, "paused" if paused else "resumed")
        if not paused:
            self.sync_soon()
        if paused:
            model.paused_spans.append((now, None))
        else:
            start, _ = model.paused_spans[-1]
            model.paused_spans[-1] = (start, now)

    def take_weeks_off(self, model: TeamModel) -> None:
        """Weeks off chosen among the next weeks (never the week already under way)."""
        from storage.weeks_off import held_deliveries

        now = self.clock.now()
        this_week = week_containing(now, model.tz).index
        offered = list(range(this_week + 1, this_week + 4))
        chosen = {w for w in offered if self.rng.random() < 0.3} or {offered[0]}
        with self.db.session() as session:
            team = session.get(Team, model.team_id)
            assert team is not None
            set_weeks_off(session, team.id, offered, chosen, held_deliveries(team), now)
        model.skipped = (model.skipped - set(offered)) | chosen
        model.note(now, f"weeks off among {offered}: {sorted(chosen)}")

    def join_or_leave(self, model: TeamModel) -> None:
        outside = [p for p in model.people if p not in model.members]
        if outside and (self.rng.random() < 0.5 or len(model.members) < 3):
            user = self.rng.choice(outside)
            self.sandbox.add_member(model.channel, user)
            model.members.add(user)
        elif model.members:
            user = self.rng.choice(sorted(model.members))
            self.sandbox.remove_member(model.channel, user)
            model.members.discard(user)

    # -- check-ins ------------------------------------------------------------------------

    def open_form(self, model: TeamModel, user: str) -> None:
        """Someone opens the check-in form; most send it within minutes, a few days later."""
        now = self.clock.now()
        form = week_to_check_in(self.db, self.team_row(model.team_id), user, now)
        if isinstance(form, Refusal):
            self.check_refusal(model, user, form, None, now)
            return
        assert isinstance(form, OpenWeek)
        period = self.periods.get((model.team_id, form.week_index))
        assert period is not None, f"a form for a week never opened: {form}"
        assert user in period.roster, f"{user} got a form for {form.week_index} off its roster"
        assert form.already_in == (user in period.tally), "already_in disagrees with the tally"
        delay = timedelta(minutes=self.rng.randint(1, 30))
        if self.rng.random() < 0.05:
            delay = timedelta(days=self.rng.randint(1, 4))
        answers = CheckinAnswers(
            availability=self.rng.randint(1, 5),
            stress=self.rng.randint(1, 5),
            domain_item=self.rng.choice((None, 1, 2, 3, 4, 5)),
            comment=self.rng.choice(COMMENTS) if self.rng.random() < 0.2 else None,
        )
        self.at(now + delay, lambda: self.submit(model, user, form.week_index, answers))

    def submit(self, model: TeamModel, user: str, week_index: int, answers: CheckinAnswers) -> None:
        now = self.clock.now()
        result = check_in(self.db, self.team_row(model.team_id), week_index, user, answers, now)
        period = self.periods[(model.team_id, week_index)]
        if isinstance(result, Refusal):
            self.check_refusal(model, user, result, week_index, now)
            return
        assert isinstance(result, CheckinResult)
        assert result.week_index == week_index
        assert not self.week_over(model, week_index, now), "a check-in stored after its week"
        assert result.replaced == (user in period.tally), "replaced disagrees with the tally"
        period.tally[user] = answers
        self.stats.checkins += 1
        self.stats.replaced += result.replaced
        if self.rng.random() < REPLACE:  # thinks better of it, and checks in again
            later = now + timedelta(minutes=self.rng.randint(5, 3 * 24 * 60))
            self.at(later, lambda: self.open_form(model, user))

    def note_post(self, team: Team, kind: str, ts: str) -> None:
        found = self.posts.setdefault((team.id, kind), set())
        assert ts not in found
        found.add(ts)

    def reminder_sent(self, team: Team, user: str) -> None:
        """A reminder is going out: only inside the person's 10:00-16:00, and (checked weekly)
        once a week, to people on the week's roster, never in a week off."""
        now = self.clock.now()
        model = self.teams[team.id]
        local = now.astimezone(ZoneInfo(model.people_tz))
        assert 10 <= local.hour < 16, f"{user} reminded at {local:%a %H:%M} their time"
        week_index = max(week_containing(now, model.tz).index, self.newest.get(team.id, -1))
        self.reminded.setdefault((team.id, week_index), []).append(user)
        self.stats.reminders += 1

    def week_over(self, model: TeamModel, week_index: int, now: datetime) -> bool:
        """The team's week has moved past `week_index`: by its clock in its zone now, or
        because a later week has opened (storage.team_weeks.current_team_week)."""
        newest = self.newest.get(model.team_id, week_index)
        return week_containing(now, model.tz).index > week_index or newest > week_index

    def check_refusal(
        self, model: TeamModel, user: str, refusal: Refusal, week_index: int | None, now: datetime
    ) -> None:
        self.stats.refused[refusal.value] += 1
        if refusal == Refusal.SUPERVISOR:
            assert user in model.supervisors
            return
        if week_index is None:  # refused as the form opened: about the team's week now
            with self.db.session() as session:
                newest = session.scalar(
                    select(func.max(TeamWeek.week_index)).where(TeamWeek.team_id == model.team_id)
                )
            week_index = max(week_containing(now, model.tz).index, newest or -1)
        period = self.periods.get((model.team_id, week_index))
        if refusal == Refusal.NOT_OPEN:
            assert period is None, f"{user} told week {week_index} is not open, but it is"
        elif refusal == Refusal.NOT_ON_ROSTER:
            assert period is not None and user not in period.roster, (
                f"{user}, on week {week_index}'s roster, was refused as not on it"
            )
        elif refusal == Refusal.WEEK_CLOSED:
            assert period is not None
            late = self.week_over(model, week_index, now)
            moved = any(abs(now - moment) < timedelta(days=8) for moment in model.tz_changes)
            assert late or moved, f"{user}'s check-in for open week {week_index} was refused"

    # -- what the database holds ----------------------------------------------------------

    def note_new_periods(self) -> None:
        """Weeks opened by the job just run: their roster is who was in the channel then."""
        with self.db.session() as session:
            rows = session.execute(
                select(
                    TeamWeek.id, TeamWeek.team_id, TeamWeek.week_index, TeamWeek.member_count
                ).where(TeamWeek.id > self.last_period_id)
            ).all()
        for row in rows:
            key = (row.team_id, row.week_index)
            assert key not in self.periods and key not in self.gone, f"week {key} opened twice"
            model = self.teams[row.team_id]
            roster = frozenset(model.members)
            assert row.member_count == len(roster), f"week {key}: roster {row.member_count}"
            self.periods[key] = PeriodModel(row.team_id, row.week_index, roster)
            self.newest[row.team_id] = max(self.newest.get(row.team_id, -1), row.week_index)
            self.period_ids[row.id] = key
            self.last_period_id = max(self.last_period_id, row.id)
            self.stats.prompts += 1
            model.note(self.clock.now(), f"week {row.week_index} opened")

    # -- the weekly checks ----------------------------------------------------------------

    def classify(self, model: TeamModel, week: Week) -> str:
        """'on' (one prompt and one set of reflections owed), 'off' (none) or 'mixed' (a
        change during the week makes either right: at most one, as always)."""
        start, end = week.starts_at(model.tz), week.ends_at(model.tz)
        margin = timedelta(days=1)
        if any(start - margin <= moment <= end + margin for moment in model.tz_changes):
            return "mixed"
        if week.index in model.skipped:
            return "off"
        if any(start - timedelta(hours=1) <= moment < end for moment in model.pause_changes):
            return "mixed"
        for paused_from, paused_to in model.paused_spans:
            if paused_from <= start and (paused_to is None or paused_to >= end):
                return "off"
        return "on"

    def check_week(self, checkpoint: datetime) -> None:
        now = self.clock.now()
        with self.db.session() as session:
            for row in session.execute(
                select(
                    Delivery.team_id,
                    Delivery.week_index,
                    Delivery.kind,
                    Delivery.recipient,
                    Delivery.status,
                    Delivery.claimed_at,
                    Delivery.slack_ts,
                ).where(Delivery.kind.in_((PROMPT, REFLECTIONS)))
            ):
                key = (row.team_id, row.week_index, row.kind, row.recipient)
                assert not (row.status == CLAIMED and row.claimed_at < now - LEASE), (
                    f"a claim left behind for good: {key}"
                )
                if row.status == SENT and key not in self.ledger:
                    self.ledger[key] = row.slack_ts
                    self.sent.setdefault((row.team_id, row.kind), set()).add(row.slack_ts)
                    self.sent_weeks[(row.team_id, row.week_index, row.kind)] += 1
            periods = session.execute(
                select(TeamWeek.id, TeamWeek.team_id, TeamWeek.week_index, TeamWeek.closed)
            ).all()
            answers: dict[int, Counter[tuple[int, int, int | None]]] = {}
            for a in session.execute(
                select(Answer.period_id, Answer.availability, Answer.stress, Answer.domain_item)
            ):
                answers.setdefault(a.period_id, Counter())[
                    (a.availability, a.stress, a.domain_item)
                ] += 1
            comments: dict[int, Counter[str]] = {}
            for c in session.execute(select(Comment.period_id, Comment.body)):
                comments.setdefault(c.period_id, Counter())[c.body] += 1
        present = set()
        for row in periods:
            key = self.period_ids[row.id]
            present.add(key)
            period = self.periods[key]
            model = self.teams[row.team_id]
            ended = Week(row.week_index).ends_at(model.tz) <= now
            if ended and not row.closed and not model.tz_changes:
                raise AssertionError(f"week {key} ended but is still open")
            if not row.closed:
                assert period.closed_answers is None, f"week {key} reopened"
                continue
            got_answers = answers.get(row.id, Counter())
            got_comments = comments.get(row.id, Counter())
            if period.closed_answers is None:
                want = Counter(
                    (a.availability, a.stress, a.domain_item) for a in period.tally.values()
                )
                want_comments = Counter(a.comment for a in period.tally.values() if a.comment)
                assert got_answers == want, (
                    f"week {key}: closed with {got_answers}, checked in {want}"
                )
                assert got_comments == want_comments, f"week {key}: comments differ"
                period.closed_answers, period.closed_comments = got_answers, got_comments
            else:
                assert got_answers == period.closed_answers, f"closed week {key} changed"
                assert got_comments == period.closed_comments, f"closed week {key} changed"
        for key in set(self.periods) - present - self.gone:
            team_id, week_index = key
            model = self.teams[team_id]
            kept = first_kept_week(
                week_containing(now, model.tz).index, model.pool, RETENTION_WEEKS
            )
            assert week_index < kept, f"week {key} went before retention allowed"
            self.gone.add(key)
            self.stats.purged_weeks += 1
        self.check_deliveries(checkpoint)
        self.check_blocks()

    def check_deliveries(self, checkpoint: datetime) -> None:
        """What reached Slack is exactly what the ledger says was sent, and each team-week got
        what it was owed."""
        for model in self.teams.values():
            for kind in (PROMPT, REFLECTIONS):
                key = (model.team_id, kind)
                assert self.posts.get(key, set()) == self.sent.get(key, set()), (
                    f"{model.channel}: {kind} in Slack and in the ledger differ"
                )
            while Week(model.next_check).ends_at(model.tz) <= checkpoint:
                self.check_team_week(model, Week(model.next_check))
                model.next_check += 1

    def check_slack(self) -> None:
        """At the end: Slack's own record (channels and DMs) matches what the year posted."""
        for model in self.teams.values():
            posted = {m.ts for m in self.sandbox.timeline(model.channel)}
            assert posted == self.posts.get((model.team_id, PROMPT), set()), model.channel
            dms = sum(len(self.sandbox.dms(s)) for s in model.supervisors)
            assert dms == len(self.posts.get((model.team_id, REFLECTIONS), set())), model.channel
            for person in model.people:
                reminded = sum(
                    people.count(person)
                    for (team_id, _w), people in self.reminded.items()
                    if team_id == model.team_id
                )
                assert len(self.sandbox.dms(person)) == reminded, f"{person}: reminders"

    def check_team_week(self, model: TeamModel, week: Week) -> None:
        kind_of_week = self.classify(model, week)
        key = (model.team_id, week.index)
        prompt = self.sent_weeks[(*key, PROMPT)]
        reflections = self.sent_weeks[(*key, REFLECTIONS)]
        reminders = self.reminded.get(key, [])
        where = (
            f"{model.channel} week {week.index} ({week.label()}, {kind_of_week}; "
            f"{model.day} {model.minute} {model.tz}; lately: {'; '.join(model.history[-8:])})"
        )
        assert prompt <= 1 and reflections <= len(model.supervisors), where
        assert len(reminders) == len(set(reminders)), f"{where}: reminded twice"
        if key in self.periods:
            roster = self.periods[key].roster
            assert set(reminders) <= roster, f"{where}: reminded someone off the roster"
        if kind_of_week == "on":
            assert prompt == 1, f"{where}: no prompt"
            assert reflections == len(model.supervisors), f"{where}: reflections missing"
            assert key in self.periods, f"{where}: never opened"
        elif kind_of_week == "off":
            assert prompt == reflections == len(reminders) == 0, f"{where}: sent in a week off"
            assert key not in self.periods, f"{where}: opened"

    def check_blocks(self) -> None:
        """Every team's figures as its supervisor sees them: a block once shown never changes."""
        now = self.clock.now()
        with self.db.session() as session:
            for model in self.rng.sample(
                list(self.teams.values()), min(PULSE_READS, len(self.teams))
            ):
                team = session.get(Team, model.team_id)
                assert team is not None
                pulse = read_pulse_for(
                    session,
                    model.supervisors[0],
                    team,
                    Surface.TEAMPULSE,
                    weeks=RETENTION_WEEKS,
                    anonymity_min=ANONYMITY_MIN,
                    retention_weeks=RETENTION_WEEKS,
                    now=now,
                )
                for reading in pulse.readings:
                    key = (model.team_id, reading.block.first_week)
                    seen = self.blocks.setdefault(key, reading)
                    assert seen == reading, f"block {key} changed: {seen} -> {reading}"

    def check_size(self) -> None:
        """Right after housekeeping: nothing past retention is left, so every table's rows
        are bounded by the teams, their people and the weeks kept."""
        now = self.clock.now()
        weeks_kept = RETENTION_WEEKS + 4 + 1
        people = sum(len(m.people) + len(m.supervisors) for m in self.teams.values())
        bounds = {
            TeamWeek: len(self.teams) * weeks_kept,
            Answer: people * weeks_kept,
            Comment: people * weeks_kept,
            Delivery: (people + 2 * len(self.teams)) * weeks_kept,
            WeekOff: len(self.teams) * (weeks_kept + 4),
            PulseView: len(self.teams) * (RETENTION_WEEKS + 2),
            WeekKey: 2 * len(self.teams),
            RosterEntry: 2 * people,
            SealedAnswer: 2 * people,
        }
        with self.db.session() as session:
            for table, bound in bounds.items():
                count = session.scalar(select(func.count()).select_from(table)) or 0
                assert count <= bound, f"{table.__tablename__}: {count} rows (bound {bound})"
            for model in self.teams.values():
                kept = first_kept_week(
                    week_containing(now, model.tz).index, model.pool, RETENTION_WEEKS
                )
                oldest = session.scalar(
                    select(func.min(TeamWeek.week_index)).where(TeamWeek.team_id == model.team_id)
                )
                assert oldest is None or oldest >= kept, f"{model.channel}: week {oldest} kept"

    # -- one simulated week ---------------------------------------------------------------

    def plan_week(self, begins: datetime) -> None:
        """Everything that happens in the week from `begins`, at random moments."""

        def moment(days: float = 7.0) -> datetime:
            return begins + timedelta(minutes=self.rng.randint(1, int(days * 24 * 60) - 1))

        for model in self.teams.values():
            for user in (*model.people, *model.supervisors):
                if self.rng.random() < 0.35:
                    self.at(moment(), lambda m=model, u=user: self.open_form(m, u))
            if self.rng.random() < 0.3:
                self.at(moment(), lambda m=model: self.join_or_leave(m))
            if model.fixed:
                continue
            if self.rng.random() < 0.05:
                self.at(moment(), lambda m=model: self.change_settings(m))
            if self.rng.random() < 0.04:
                self.at(moment(), lambda m=model: self.take_weeks_off(m))
            if not model.paused and self.rng.random() < 0.03:
                weeks = self.rng.randint(1, 3)
                pause_at = moment()
                self.at(pause_at, lambda m=model: self.set_paused(m, True))
                self.at(
                    pause_at + timedelta(weeks=weeks, hours=self.rng.randint(-36, 36)),
                    lambda m=model: self.set_paused(m, False),
                )
        # The runtime runs these every minute (catch-up), every 15 minutes (reminders) and
        # hourly (housekeeping), each over every team; a year of that is too costly here, so
        # reminders and housekeeping run at a few random moments a week, and the catch-up a
        # minute after a change that needs it (sync_soon), at each start and each checkpoint.
        for _ in range(self.rng.randint(1, 2)):  # on a day reminders may be due (Wed-Fri)
            self.at(moment(3) + timedelta(days=2), lambda: self.run(self.any_replica(), remind))
        if self.rng.random() < 0.25:
            self.at(moment(), lambda: self.run(self.any_replica(), housekeeping))
        if self.rng.random() < 0.3:
            replica = self.rng.choice(self.replicas)
            self.at(moment(), lambda: self.restart(replica) if replica.alive else None)
        if self.rng.random() < 0.4:
            replica = self.rng.choice(self.replicas)

            def arm() -> None:
                if replica.dying is not None and replica.alive:
                    replica.dying.armed = True

            self.at(moment(), arm)

    def week(self, number: int) -> float:
        began = time.perf_counter()
        begins = YEAR_STARTS + timedelta(weeks=number)
        checkpoint = begins + timedelta(weeks=1)
        self.plan_week(begins)
        self.run_until(checkpoint)
        self.run(self.any_replica(), catch_up)
        self.check_week(checkpoint)
        self.run(self.any_replica(), housekeeping)
        self.check_size()
        self.checked_through = checkpoint
        return time.perf_counter() - began

    def close(self) -> None:
        for replica in self.replicas:
            self.stop(replica)
        self.sandbox.stop()


@pytest.fixture
def seed() -> int:
    chosen = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))
    print(f"\nsimulated year: seed {chosen} (replay with {SEED_ENV}={chosen})")
    return chosen


@pytest.fixture
def year(database_url: str, seed: int, tmp_path: Path) -> Iterator[Year]:
    world = Year(database_url, seed, int(os.environ.get("SECUREBASE_SOAK_TEAMS") or TEAMS))
    try:
        yield world
    finally:
        world.close()


def test_a_simulated_year_keeps_every_promise(year: Year, seed: int) -> None:
    weeks = int(os.environ.get("SECUREBASE_SOAK_WEEKS") or WEEKS)
    took: list[float] = []
    for number in range(weeks):
        try:
            took.append(year.week(number))
        except AssertionError as failure:
            raise AssertionError(
                f"simulated week {number} (seed {seed}, {SEED_ENV}={seed} replays it): {failure}"
            ) from failure
        s = year.stats
        print(
            f"week {number:2d} {Week(week_containing(year.clock.now(), LONDON).index - 1).label()}:"
            f"{took[-1]:.2f}s  prompts {s.prompts} check-ins {s.checkins} "
            f"(replaced {s.replaced}) restarts {s.restarts} kills {s.kills} purged {s.purged_weeks}"
        )
    quarter = max(1, len(took) // 4)
    first, last = took[:quarter], took[-quarter:]
    print(
        f"real time per simulated week: first quarter {sum(first) / len(first):.2f}s, "
        f"last quarter {sum(last) / len(last):.2f}s, total {sum(took):.1f}s; "
        f"refusals {dict(year.stats.refused)}"
    )
    print(
        "real time by job: "
        + ", ".join(
            f"{name} {year.timing[name]:.1f}s/{year.timing_n[name]}" for name in sorted(year.timing)
        )
    )
    year.check_slack()
    s = year.stats
    assert s.prompts > 0 and s.checkins > 0
    if weeks == WEEKS:  # the whole year did what it is for (a shorter run, set by hand, may not)
        assert s.replaced > 0 and s.reminders > 0 and s.kills > 0 and s.restarts > 0
        assert s.purged_weeks > 0 and len(year.blocks) > 0
