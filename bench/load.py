"""A closed-loop load generator: `clients` concurrent clients, each sending its next request as
soon as the previous one is answered, for `duration` seconds (asyncio + httpx, one process).

Latency is measured per request with `time.perf_counter`, from just before the request is sent
to its full response; signing happens before the clock starts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from bench.slack_requests import sign


@dataclass
class LoadResult:
    clients: int
    duration: float  # seconds the measured phase lasted
    latencies: list[float] = field(default_factory=list)  # seconds, answered 200
    statuses: Counter[str] = field(default_factory=Counter)
    ran_dry: bool = False  # the request source ran out before the time was up
    client_cpu: float = 0.0  # CPU seconds this process used during the measured phase

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    @property
    def throughput(self) -> float:
        return self.ok / self.duration if self.duration > 0 else 0.0


async def _client(
    http: httpx.AsyncClient,
    url: str,
    secret: str,
    bodies: Iterator[bytes],
    deadline: float,
    result: LoadResult | None,
) -> None:
    while time.perf_counter() < deadline:
        body = next(bodies, None)
        if body is None:
            if result is not None:
                result.ran_dry = True
            return
        request = sign(secret, body)
        started = time.perf_counter()
        try:
            response = await http.post(url, content=request.body, headers=request.headers)
            status = str(response.status_code)
        except httpx.HTTPError as error:
            status = type(error).__name__
        elapsed = time.perf_counter() - started
        if result is None:
            continue
        result.statuses[status] += 1
        if status == "200":
            result.latencies.append(elapsed)


async def _run(
    url: str, secret: str, bodies: Iterator[bytes], clients: int, duration: float, warmup: float
) -> LoadResult:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
        if warmup > 0:
            until = time.perf_counter() + warmup
            await asyncio.gather(
                *(_client(http, url, secret, bodies, until, None) for _ in range(clients))
            )
        result = LoadResult(clients, duration)
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _client(http, url, secret, bodies, started + duration, result)
                for _ in range(clients)
            )
        )
        result.duration = time.perf_counter() - started
        result.client_cpu = time.process_time() - cpu
        return result


def closed_loop(
    url: str,
    secret: str,
    bodies: Iterator[bytes],
    *,
    clients: int,
    duration: float,
    warmup: float = 0.0,
) -> LoadResult:
    """Run the load; `bodies` is shared by all clients (a request is sent once, by one)."""
    return asyncio.run(_run(url, secret, bodies, clients, duration, warmup))
