"""Closed-loop load generators: `clients` threads, each with its own keep-alive connection,
for a warm-up and then `duration` measured seconds. In `closed_loop` each client sends its next
request as soon as the previous one is acked; in `people_loop` each is a person who waits, as
someone in Slack would, until their request has really been answered (a modal opened, a reply
posted, or "busy, try again") before sending the next.

Each client is a thread on the standard library's `http.client`: the leanest client there is,
so that on a 2-core machine the load generator takes as little CPU from the server as it can
(an asyncio + httpx client needed several milliseconds of CPU per request at 50 connections
and became the bottleneck itself). Latency is `time.perf_counter` from just before the
request is written to the end of its response; signing happens before the clock starts.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from bench.slack_requests import SignedRequest, sign

T = TypeVar("T")


@dataclass
class LoadResult:
    clients: int
    duration: float  # seconds the measured phase lasted
    latencies: list[float] = field(default_factory=list)  # seconds, answered 200
    statuses: Counter[str] = field(default_factory=Counter)
    ran_dry: bool = False  # the request source ran out before the time was up
    answered: int = 0  # every 200, warm-up and stragglers after the end included
    sent: int = 0  # every request sent, whatever became of it

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    @property
    def throughput(self) -> float:
        return self.ok / self.duration if self.duration > 0 else 0.0


@dataclass
class _Shared(Generic[T]):
    """What every client draws its next request from (each request is sent once, by one)."""

    items: Iterator[T]
    lock: threading.Lock = field(default_factory=threading.Lock)
    dry: bool = False

    def next(self) -> T | None:
        with self.lock:
            item = next(self.items, None)
            if item is None:
                self.dry = True
            return item


def _post(
    connection: http.client.HTTPConnection, path: str, request: SignedRequest
) -> tuple[str, bytes]:
    """Send one signed request; its HTTP status (or the error's name) and body. A broken
    connection is closed, to reconnect on the next request."""
    try:
        connection.request("POST", path, request.body, request.headers)
        response = connection.getresponse()
        return str(response.status), response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return type(error).__name__, b""


def _client(
    url: str,
    secret: str,
    shared: _Shared[bytes],
    measure_from: float,
    deadline: float,
    samples: list[tuple[float, str, bool]],
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        while time.perf_counter() < deadline:
            body = shared.next()
            if body is None:
                return
            request = sign(secret, body)
            started = time.perf_counter()
            status, _ = _post(connection, parts.path, request)
            finished = time.perf_counter()
            counted = started >= measure_from and finished <= deadline
            samples.append((finished - started, status, counted))
    finally:
        connection.close()


def closed_loop(
    url: str,
    secret: str,
    bodies: Iterator[bytes],
    *,
    clients: int,
    duration: float,
    warmup: float = 0.0,
) -> LoadResult:
    """Run the load; `bodies` is shared by all clients (each request is sent once, by one).

    Requests started during the warm-up, or answered after the end, are left out of the
    figures (but counted in `answered`).
    """
    shared = _Shared(bodies)
    samples: list[list[tuple[float, str, bool]]] = [[] for _ in range(clients)]
    begin = time.perf_counter()
    measure_from = begin + warmup
    deadline = measure_from + duration
    threads = [
        threading.Thread(
            target=_client, args=(url, secret, shared, measure_from, deadline, samples[i])
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = LoadResult(clients, duration, ran_dry=shared.dry)
    for per_client in samples:
        for latency, status, counted in per_client:
            result.sent += 1
            result.answered += status == "200"
            if not counted:
                continue
            result.statuses[status] += 1
            if status == "200":
                result.latencies.append(latency)
    return result


@dataclass(frozen=True)
class Ask:
    """A person's request, and where its answer will show: the trigger id and response URL
    it carries."""

    body: bytes
    trigger_id: str
    response_url: str


@dataclass
class PeopleResult:
    clients: int
    sent: int = 0  # requests sent in the measured time
    total: int = 0  # every request sent, warm-up included
    outcomes: Counter[str] = field(default_factory=Counter)  # of those: "modal", "busy", …

    def share(self, outcome: str) -> float:
        return self.outcomes[outcome] / self.sent if self.sent else float("nan")


def _person(
    url: str,
    secret: str,
    asks: _Shared[Ask],
    answered: Callable[[Ask, bytes], str],
    measure_from: float,
    deadline: float,
    outcomes: list[tuple[bool, str]],
) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        while time.perf_counter() < deadline:
            ask = asks.next()
            if ask is None:
                return
            request = sign(secret, ask.body)
            started = time.perf_counter()
            status, ack = _post(connection, parts.path, request)
            outcome = answered(ask, ack) if status == "200" else status
            outcomes.append((started >= measure_from, outcome))
    finally:
        connection.close()


def people_loop(
    url: str,
    secret: str,
    asks: Iterator[Ask],
    answered: Callable[[Ask, bytes], str],
    *,
    clients: int,
    duration: float,
    warmup: float = 0.0,
) -> PeopleResult:
    """Run the load; `answered(ask, ack_body)` waits until the request was answered and says
    how. Requests started during the warm-up are left out of the figures; the last one each
    person started is waited for even after the time is up, so none is left uncounted."""
    shared = _Shared(asks)
    outcomes: list[list[tuple[bool, str]]] = [[] for _ in range(clients)]
    measure_from = time.perf_counter() + warmup
    deadline = measure_from + duration
    threads = [
        threading.Thread(
            target=_person,
            args=(url, secret, shared, answered, measure_from, deadline, outcomes[i]),
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = PeopleResult(clients)
    for per_person in outcomes:
        for counted, outcome in per_person:
            result.total += 1
            if counted:
                result.sent += 1
                result.outcomes[outcome] += 1
    return result
