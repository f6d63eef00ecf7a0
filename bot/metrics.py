"""Prometheus metrics, for the people who run the bot: is it answering Slack in time, is Slack
refusing it, are prompts going out, is the scheduler keeping up.

Off unless METRICS_ENABLED=1; then served on METRICS_PORT (127.0.0.1 unless METRICS_HOST says)
apart from Slack's port, so a scraper never needs the bot's public address.

No metric moves when someone checks in. On a one-team install a global count of check-ins *is*
that team's participation, live: who is watching the graph at 14:02 learns that someone just
checked in, and the weekly total is exactly the figure the anonymity minimum hides when it is
small. Opening the check-in form is as telling as sending it. So the whole check-in path, the
`/checkin` command, every button that opens the form, and the form's submission or closing
(`bot.handlers.checkin.is_checkin`), is neither counted nor timed, and the Slack calls made
while handling it (the confirmation message, the App Home refresh) do not count their errors.
Nothing is labelled by team, channel, workspace or person; the labels are the surface (a
command's name or a kind of interaction), an HTTP status, a Slack error code and a job's kind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from wsgiref.simple_server import WSGIServer

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.handlers.checkin import is_checkin

# Only the bot's own series: nothing here changes unless the bot does something (no process
# figures, no `_created` timestamps beside every counter).
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "securebase_requests",
    "Requests from Slack answered, by surface and HTTP status (check-ins are not counted)",
    ["surface", "status"],
    registry=REGISTRY,
)
ACK_SECONDS = Histogram(
    "securebase_ack_seconds",
    "Time to answer (ack) a request from Slack, which allows 3 seconds (check-ins not timed)",
    ["surface"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "securebase_slack_api_errors",
    "Web API calls Slack refused or did not answer, by error code (each attempt)",
    ["code"],
    registry=REGISTRY,
)
PROMPTS_POSTED = Counter(
    "securebase_prompts_posted", "Weekly prompts posted in team channels", registry=REGISTRY
)
SCHEDULER_LAG = Histogram(
    "securebase_scheduler_lag_seconds",
    "How long after its time a scheduled job was handed to a worker, by kind of job",
    ["job"],
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0),
    registry=REGISTRY,
)

# Set while a check-in is being handled; carried into Bolt's listener threads (the runtime's
# listener pool copies the context of whoever submits a task).
_unmeasured: ContextVar[bool] = ContextVar("securebase_unmeasured", default=False)


@contextmanager
def unmeasured() -> Iterator[None]:
    token = _unmeasured.set(True)
    try:
        yield
    finally:
        _unmeasured.reset(token)


def surface(body: Mapping[str, Any]) -> str | None:
    """What a request is, as a label: a slash command's name or the kind of interaction or
    event; None for the check-in path, which is never measured."""
    if is_checkin(body):
        return None
    command = body.get("command")
    if isinstance(command, str):
        return command if command in ("/teampulse", "/securebase") else "other_command"
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "view_closed"):
        return str(kind)
    if kind == "event_callback":
        return "event"
    return "other"


def answered(kind: str, status: int, seconds: float | None = None) -> None:
    """A request answered with `status`; `seconds` to the ack, when it reached the app."""
    REQUESTS.labels(kind, str(status)).inc()
    if seconds is not None:
        ACK_SECONDS.labels(kind).observe(seconds)


def prompt_posted() -> None:
    PROMPTS_POSTED.inc()


class SlackErrorCounter(RetryHandler):
    """Counts Slack's error answers; never asks for a retry.

    slack_sdk has no hook for responses, but it shows each retry handler every answer (and
    every failure to get one), and Bolt copies the handlers into the clients it makes per
    request: first in the list, this one sees every Web API call the bot makes.
    """

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        code = _error_code(response, error)
        if code is not None and not _unmeasured.get():
            SLACK_ERRORS.labels(code).inc()
        return False


def _error_code(response: HttpResponse | None, error: Exception | None) -> str | None:
    if response is None:
        return "unreachable" if error is not None else None
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code != 200:
        return f"http_{response.status_code}"
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("ok") is False:
        return str(body.get("error") or "unknown")
    return None


def watch(scheduler: BaseScheduler) -> None:
    """Record each job's lag: weekly posts as one kind ("weekly"), never per team."""

    def submitted(event: JobSubmissionEvent) -> None:
        if not event.scheduled_run_times:
            return
        due = max(event.scheduled_run_times).timestamp()
        kind = "weekly" if event.job_id.startswith("team-") else event.job_id
        SCHEDULER_LAG.labels(kind).observe(max(0.0, time.time() - due))

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)


def serve(host: str, port: int) -> WSGIServer:
    """Serve /metrics (any path, as prometheus_client does) in a daemon thread."""
    server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    return server
