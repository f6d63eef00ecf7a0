"""APScheduler wiring, one scheduler per replica.

APScheduler 3 must never share a job store between schedulers, so each replica keeps its own
in-memory store, re-derived every minute from the teams table: a cron job per team (its own
day, time and IANA zone) plus a sweep that catches up anything missed while the bot was down.
Duplicates between replicas are stopped by the delivery ledger, not by the scheduler.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.weekly import WeeklyDelivery, weekly_trigger
from storage.db import Database
from storage.outage import is_unreachable
from storage.teams import list_teams

log = logging.getLogger(__name__)
SYNC_SECONDS = 60
T = TypeVar("T")


class PromptScheduler:
    def __init__(
        self,
        delivery: WeeklyDelivery,
        housekeeping: Callable[[], object] | None = None,
    ) -> None:
        self.delivery = delivery
        self.housekeeping = housekeeping
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        # `sync` changes the scheduler's own jobs, which needs the job-store lock that
        # APScheduler's shutdown holds while it waits for running jobs: shutdown lets a running
        # sync finish first and stops later ones, so the two never wait on each other.
        self._syncing = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> None:
        self.add_job(
            self.sync,
            "interval",
            seconds=SYNC_SECONDS,
            id="sync",
            # APScheduler runs on the wall clock, not the injected one: sync at once, even when
            # a test or the demo has moved the injected clock into the future.
            next_run_time=datetime.now(UTC),
        )
        if self.housekeeping is not None:
            self.add_job(self.housekeeping, "interval", hours=1, id="housekeeping")
        self.scheduler.start()

    def add_job(self, job: Callable[..., object], trigger: Any, **options: Any) -> None:
        """APScheduler's add_job, for a job that rides out a database outage: it fails, says
        so in the database's one line a minute (no traceback), and the next run catches up."""
        self.scheduler.add_job(
            survives_outage(self.delivery.db, options.get("id", "a scheduled job"), job),
            trigger,
            **options,
        )

    def sync(self) -> None:
        """Make the team jobs match the teams table, then catch up whatever is overdue."""
        with self._syncing:
            if not self._stopping.is_set():
                self._sync()

    def _sync(self) -> None:
        with self.delivery.db.session() as session:
            teams = [t for t in list_teams(session) if not t.paused]
        wanted = {f"team-{t.id}": t for t in teams}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("team-") and job.id not in wanted:
                job.remove()
        for job_id, team in wanted.items():
            self.add_job(
                self.delivery.deliver_if_due,
                weekly_trigger(team),
                args=[team.id],
                id=job_id,
                replace_existing=True,
            )
        try:
            self.delivery.run_due()
        except Exception as error:
            if is_unreachable(error):
                raise  # said once a minute by survives_outage
            log.exception("catch-up sweep failed; the next sync will try again")

    def team_jobs(self) -> dict[str, str]:
        """Job id → next run (ISO), for `team list` and tests."""
        return {
            job.id: job.next_run_time.isoformat()
            for job in self.scheduler.get_jobs()
            if job.id.startswith("team-") and job.next_run_time is not None
        }

    def shutdown(self) -> None:
        self._stopping.set()
        with self._syncing:  # a sync already running finishes; none starts after
            pass
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def survives_outage(db: Database, name: str, job: Callable[..., T]) -> Callable[..., T | None]:
    """`job`, reporting a database it cannot reach to `db.outage` instead of raising (which
    would have APScheduler log a traceback every run), and the database's return likewise."""

    @functools.wraps(job)
    def run(*args: Any, **kwargs: Any) -> T | None:
        try:
            done = job(*args, **kwargs)
        except Exception as error:
            if not is_unreachable(error):
                raise
            db.outage.failed(error, f"running {name}")
            return None
        db.outage.answered()
        return done

    return run
