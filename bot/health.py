"""`GET /healthz` and `GET /readyz`, in both modes, on `PORT`.

`/healthz` is liveness: 200 for as long as the process runs. A liveness probe or a container
HEALTHCHECK uses it, so an outage elsewhere (Slack, the database) never gets every replica
restarted at once. `/readyz` is readiness: 200 only when the database answers and Slack is
reachable — over HTTP, Slack's Web API answers `api.test` (asked at most every 15 s); in
Socket Mode, the link is open. Otherwise 503, also while the bot is still starting or already
stopping, so a load balancer sends nothing to a replica that cannot serve.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.db import SQLITE_BUSY_TIMEOUT_MS, Database
from storage.outage import is_unreachable

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECK_TIMEOUT = 3  # a check slower than this counts as a failure
SQLITE_WRITE_WAIT_MS = 1000
SLACK_CHECK_SECONDS = 15.0
OK, UNREACHABLE, STARTING, STOPPING = "ok", "unreachable", "starting", "stopping"


class Readiness:
    """What the process can reach. `database` and `slack` are filled in as start-up gets
    them; until then they report "starting"."""

    def __init__(self, database: Database | None = None) -> None:
        self.database = database
        self.slack: Callable[[], bool] | None = None
        self.stopping = False

    def database_state(self) -> str:
        return STOPPING if self.stopping else _state(self.database, _answers)

    def slack_state(self) -> str:
        return STOPPING if self.stopping else _state(self.slack, lambda reachable: reachable())


def _state(part: T | None, check: Callable[[T], bool]) -> str:
    if part is None:
        return STARTING
    try:
        return OK if check(part) else UNREACHABLE
    except Exception:
        return UNREACHABLE


def _answers(db: Database) -> bool:
    """PostgreSQL: a query is answered. SQLite: the one writer's lock can be had within a
    second (a file some other process holds locked takes no check-ins, though it still reads)."""
    try:
        with db.engine.connect() as conn:
            if db.is_postgres:
                conn.exec_driver_sql("SELECT 1")
            else:
                _can_write(conn.connection.driver_connection)
    except Exception as error:
        if is_unreachable(error):
            db.outage.failed(error, "checking readiness")
        raise
    db.outage.answered()
    return True


def _can_write(raw: Any) -> None:
    raw.execute(f"PRAGMA busy_timeout={SQLITE_WRITE_WAIT_MS}")
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("ROLLBACK")
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


class SlackWebApi:
    """Is Slack's Web API there? `api.test` (no token needed), asked at most every 15 s so
    probes every few seconds from every replica never add up to Slack traffic."""

    def __init__(
        self,
        api_url: str,
        every: float = SLACK_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = WebClient(base_url=api_url, timeout=CHECK_TIMEOUT)
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._last: tuple[float, bool] | None = None

    def __call__(self) -> bool:
        with self._lock:
            if self._last is not None and self.clock() - self._last[0] < self.every:
                return self._last[1]
            try:
                answered = bool(self.client.api_test().get("ok"))
            except Exception as error:
                log.debug("api.test failed: %s", type(error).__name__)
                answered = False
            self._last = (self.clock(), answered)
            return answered


async def _within(check: Callable[[], str]) -> str:
    """The check's answer, or "unreachable" when it takes longer than CHECK_TIMEOUT (the
    thread finishes on its own; the probe does not wait for it)."""
    try:
        return await asyncio.wait_for(run_in_threadpool(check), CHECK_TIMEOUT)
    except TimeoutError:
        return UNREACHABLE


def health_routes(readiness: Readiness) -> list[Route]:
    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        database, slack = await asyncio.gather(
            _within(readiness.database_state), _within(readiness.slack_state)
        )
        report = {"database": database, "slack": slack}
        ready = all(state == OK for state in report.values())
        return JSONResponse({"ok": ready, **report}, status_code=200 if ready else 503)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
