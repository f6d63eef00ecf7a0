"""PromptScheduler: the APScheduler jobs follow the teams table, one cron job per active team.

APScheduler times its jobs by the wall clock; the tests never wait for a cron time. They call
sync() themselves and wait (bounded) only for the scheduler's own first sync to finish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy.orm import Session

from bot.content import default_library
from bot.services import rotation_for
from practice.clock import ManualClock
from scheduler import service
from scheduler.service import PromptScheduler
from scheduler.weekly import WeeklyDelivery
from storage.db import Database
from storage.models import Team
from storage.retention import forget_team
from storage.teams import TeamSpec, add_team

ROTATION = rotation_for(default_library())
WAIT = 10.0  # seconds: an upper bound, only reached when something is broken


class RecordingMessenger:
    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.reflections: list[str] = []
        self._lock = threading.Lock()

    def members(self, team: Team) -> list[str]:
        return [f"U0MEM{n}" for n in range(5)]

    def post_prompt(self, team: Team, domain: str, prompt_index: int) -> str:
        with self._lock:
            self.prompts.append(team.channel_id)
            return f"1.{len(self.prompts)}"

    def send_reflections(self, team: Team, supervisor_id: str, domain: str) -> str:
        with self._lock:
            self.reflections.append(supervisor_id)
            return f"2.{len(self.reflections)}"


class JobWatch:
    """Signals when a given job has finished a run (APScheduler's executed/error events)."""

    def __init__(self, scheduler: PromptScheduler) -> None:
        self._events: dict[str, threading.Event] = {}
        self.results: dict[str, JobExecutionEvent] = {}
        self._lock = threading.Lock()
        scheduler.scheduler.add_listener(self._seen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _event(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(job_id, threading.Event())

    def _seen(self, event: JobExecutionEvent) -> None:
        self.results[event.job_id] = event
        self._event(event.job_id).set()

    def wait(self, job_id: str) -> JobExecutionEvent:
        """The job's next run (each run is waited for once)."""
        ran = self._event(job_id)
        assert ran.wait(WAIT), f"job {job_id} did not run within {WAIT}s"
        ran.clear()
        return self.results[job_id]


def add(
    db: Database,
    clock: ManualClock,
    channel: str,
    *,
    day: int = 0,
    minute: int = 9 * 60 + 30,
    tz: str = "Europe/London",
) -> int:
    with db.session() as session:
        spec = TeamSpec("T0001", channel, f"Team {channel}", ("U0SUP1",), day, minute, tz)
        return add_team(session, spec, clock.now()).id


def set_paused(db: Database, team_id: int, paused: bool) -> None:
    with db.session() as session:
        team = session.get(Team, team_id)
        assert team is not None
        team.paused = paused


Started = tuple[PromptScheduler, RecordingMessenger, JobWatch]


@pytest.fixture
def start(db: Database, clock: ManualClock) -> Iterator[Callable[..., Started]]:
    """Start a PromptScheduler and wait until its own first sync has run."""
    running: list[PromptScheduler] = []

    def go(housekeeping: Callable[[], object] | None = None) -> Started:
        messenger = RecordingMessenger()
        delivery = WeeklyDelivery(db, clock, messenger, ROTATION, "host-a:1")
        scheduler = PromptScheduler(delivery, housekeeping=housekeeping)
        watch = JobWatch(scheduler)
        running.append(scheduler)
        scheduler.start()
        assert watch.wait("sync").exception is None
        return scheduler, messenger, watch

    yield go
    for scheduler in running:
        scheduler.shutdown()


def test_start_syncs_at_once_even_when_the_clock_is_in_the_future(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    # A demo or test clock weeks ahead of the wall clock must not delay the first sync.
    clock.set(datetime.now(UTC) + timedelta(days=30))
    team_id = add(db, clock, "C0TEAM1")
    scheduler, _, _ = start(housekeeping=lambda: None)
    assert set(scheduler.team_jobs()) == {f"team-{team_id}"}
    assert scheduler.scheduler.get_job("sync") is not None
    assert scheduler.scheduler.get_job("housekeeping") is not None


def test_sync_makes_one_job_per_active_team_at_its_next_local_fire_time(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    scheduler, _, _ = start()
    assert scheduler.team_jobs() == {}
    teams = {
        add(db, clock, "C0LONDON"): (0, 9, 30, "Europe/London"),
        add(db, clock, "C0NYC", day=4, minute=17 * 60, tz="America/New_York"): (
            4,
            17,
            0,
            "America/New_York",
        ),
        add(db, clock, "C0AKL", day=6, minute=22 * 60 + 45, tz="Pacific/Auckland"): (
            6,
            22,
            45,
            "Pacific/Auckland",
        ),
    }
    paused = add(db, clock, "C0PAUSED")
    set_paused(db, paused, True)

    before = datetime.now(UTC)
    scheduler.sync()
    jobs = scheduler.team_jobs()
    assert set(jobs) == {f"team-{team_id}" for team_id in teams}
    for team_id, (day, hour, minute, tz) in teams.items():
        next_run = datetime.fromisoformat(jobs[f"team-{team_id}"])
        local = next_run.astimezone(ZoneInfo(tz))
        assert (local.weekday(), local.hour, local.minute, local.second) == (day, hour, minute, 0)
        assert before < next_run <= before + timedelta(days=7)
        job = scheduler.scheduler.get_job(f"team-{team_id}")
        assert job.func.__wrapped__ == scheduler.delivery.deliver_if_due
        assert tuple(job.args) == (team_id,)


def test_sync_drops_jobs_of_removed_and_paused_teams(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    scheduler, _, _ = start()
    gone = add(db, clock, "C0GONE")
    resting = add(db, clock, "C0REST")
    staying = add(db, clock, "C0STAY")
    scheduler.sync()
    assert set(scheduler.team_jobs()) == {f"team-{gone}", f"team-{resting}", f"team-{staying}"}

    with db.session() as session:
        forget_team(session, gone)
    set_paused(db, resting, True)
    scheduler.sync()
    assert set(scheduler.team_jobs()) == {f"team-{staying}"}
    assert scheduler.scheduler.get_job("sync") is not None  # its own job is never dropped

    set_paused(db, resting, False)
    scheduler.sync()
    assert set(scheduler.team_jobs()) == {f"team-{resting}", f"team-{staying}"}


def test_sync_catches_up_what_is_overdue_once(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    # The clock says Tuesday 10:00: a Monday 09:30 team is overdue, a Friday one is not.
    add(db, clock, "C0MONDAY")
    add(db, clock, "C0FRIDAY", day=4)
    scheduler, messenger, _ = start()
    assert messenger.prompts == ["C0MONDAY"]  # the first sync (at start) caught it up
    scheduler.sync()
    scheduler.sync()
    assert messenger.prompts == ["C0MONDAY"]
    assert messenger.reflections == ["U0SUP1"]


def test_a_team_job_delivers_for_its_team_once_its_time_has_come(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    """The job reads the team's settings as they are when it fires: early (by the project's
    clock, as a job left from an old time would be) it does nothing; on time it posts."""
    team_id = add(db, clock, "C0FRIDAY", day=4)  # not due yet by the clock
    scheduler, messenger, watch = start()
    assert messenger.prompts == []
    scheduler.scheduler.modify_job(f"team-{team_id}", next_run_time=datetime.now(UTC))
    event = watch.wait(f"team-{team_id}")
    assert (event.exception, event.retval, messenger.prompts) == (None, 0, [])
    clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))  # Friday 09:30 in London
    scheduler.scheduler.modify_job(f"team-{team_id}", next_run_time=datetime.now(UTC))
    event = watch.wait(f"team-{team_id}")
    assert event.exception is None
    assert event.retval == 2  # the prompt and the supervisor's DM
    assert messenger.prompts == ["C0FRIDAY"]


def test_a_failing_sweep_does_not_stop_sync(
    db: Database,
    clock: ManualClock,
    start: Callable[..., Started],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler, _, _ = start()
    team_id = add(db, clock, "C0TEAM1")

    def broken() -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(scheduler.delivery, "run_due", broken)
    with caplog.at_level(logging.ERROR, logger="scheduler.service"):
        scheduler.sync()
    assert set(scheduler.team_jobs()) == {f"team-{team_id}"}
    assert "catch-up sweep failed" in caplog.text


def test_shutdown_stops_cleanly_and_twice_is_harmless(
    db: Database, clock: ManualClock, start: Callable[..., Started]
) -> None:
    add(db, clock, "C0TEAM1")
    before = set(threading.enumerate())
    scheduler, messenger, _ = start()
    assert scheduler.scheduler.running
    started = set(threading.enumerate()) - before
    assert started  # the scheduler's thread and the pool thread that ran the first sync
    scheduler.shutdown()
    assert not scheduler.scheduler.running
    assert [t.name for t in started if t.is_alive()] == []
    scheduler.shutdown()
    assert not scheduler.scheduler.running
    assert messenger.prompts == ["C0TEAM1"]  # nothing half-done: the first sweep completed


def test_shutdown_before_start_is_harmless(db: Database, clock: ManualClock) -> None:
    delivery = WeeklyDelivery(db, clock, RecordingMessenger(), ROTATION, "host-a:1")
    scheduler = PromptScheduler(delivery)
    scheduler.shutdown()
    assert not scheduler.scheduler.running


def test_shutdown_while_a_sync_is_running_lets_it_finish_and_returns(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APScheduler's shutdown holds its job-store lock while it waits for running jobs; a sync
    that asks for the jobs after that must not leave both waiting for ever."""
    entered, release = threading.Event(), threading.Event()
    real_list_teams = service.list_teams

    def slow_list_teams(session: Session, workspace_id: str | None = None) -> list[Team]:
        entered.set()
        release.wait(10)  # the sync is held here, before it touches the scheduler's jobs
        return list(real_list_teams(session, workspace_id))

    monkeypatch.setattr(service, "list_teams", slow_list_teams)
    scheduler = PromptScheduler(WeeklyDelivery(db, clock, RecordingMessenger(), ROTATION, "w1"))
    scheduler.start()  # the first sync runs at once
    assert entered.wait(10)
    stopper = threading.Thread(target=scheduler.shutdown)
    stopper.start()
    time.sleep(0.3)  # shutdown is now waiting for the sync
    release.set()
    stopper.join(15)
    assert not stopper.is_alive(), "shutdown and the running sync wait on each other"
    assert not scheduler.scheduler.running
