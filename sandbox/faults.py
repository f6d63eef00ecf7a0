"""Faults the sandbox can inject at run time, and an optional Slack-like rate limiter.

Used as ``sandbox.faults``::

    sandbox.faults.rate_limit("chat.postMessage", retry_after=1, times=2)
    sandbox.faults.server_error("views.open", status=503)
    sandbox.faults.slow("chat.postMessage", seconds=2.5)
    sandbox.faults.channel_error("C0001", "not_in_channel")
    sandbox.faults.enforce_limits(per_channel_per_second=1.0, burst=3, workspace_per_minute=50)
    sandbox.faults.clear()

``method=None`` matches every method. ``times`` counts the calls a fault hits before it wears
off; ``None`` means "until cleared". The pseudo methods ``"response_url"`` and
``"files.upload"`` (the upload URL) can be slowed down or failed too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Literal

ChannelError = Literal["channel_not_found", "not_in_channel", "account_inactive", "invalid_auth"]
CHANNEL_ERRORS: frozenset[str] = frozenset(
    {"channel_not_found", "not_in_channel", "account_inactive", "invalid_auth", "is_archived"}
)


@dataclass
class _Rule:
    kind: Literal["rate_limit", "server_error", "slow", "channel_error"]
    method: str | None = None
    channel: str | None = None
    remaining: int | None = None
    retry_after: int = 1
    status: int = 500
    seconds: float = 0.0
    error: str = ""

    def matches(self, method: str, channels: Collection[str]) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.channel is None or self.channel in channels

    def spend(self) -> bool:
        """Count one hit; True when the rule is used up."""
        if self.remaining is None:
            return False
        self.remaining -= 1
        return self.remaining <= 0


@dataclass(frozen=True)
class Injected:
    """What a fault turns a call into."""

    http_status: int
    error: str
    retry_after: int | None = None


class _Bucket:
    """Token bucket: ``capacity`` calls at once, refilled at ``rate`` calls per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.last = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Limits:
    per_channel_per_second: float
    burst: int
    workspace_per_minute: int | None
    per_channel_methods: frozenset[str]


class FaultInjector:
    """Switchable faults; thread-safe."""

    def __init__(self, time_source: Callable[[], float] = time.monotonic) -> None:
        self._time = time_source
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._limits: _Limits | None = None
        self._buckets: dict[tuple[str, ...], _Bucket] = {}

    # -- switches ------------------------------------------------------------------------------

    def rate_limit(
        self,
        method: str | None = None,
        channel: str | None = None,
        retry_after: int = 1,
        times: int | None = 1,
    ) -> None:
        """Answer HTTP 429 ``ratelimited`` with a ``Retry-After`` header."""
        self._add(_Rule("rate_limit", method, channel, times, retry_after=retry_after))

    def server_error(
        self, method: str | None = None, status: int = 500, times: int | None = 1
    ) -> None:
        """Answer HTTP ``status`` (500 or 503 are what Slack sends) without doing anything."""
        self._add(_Rule("server_error", method, None, times, status=status))

    def slow(
        self, method: str | None = None, seconds: float = 1.0, times: int | None = None
    ) -> None:
        """Delay the answer by ``seconds`` (the call still happens)."""
        self._add(_Rule("slow", method, None, times, seconds=seconds))

    def channel_error(
        self,
        channel: str,
        error: ChannelError | str = "channel_not_found",
        times: int | None = None,
    ) -> None:
        """Fail every call aimed at ``channel`` (an id, or a user id for DMs) with ``error``."""
        if error not in CHANNEL_ERRORS:
            raise ValueError(
                f"unsupported channel error {error!r}; pick one of {sorted(CHANNEL_ERRORS)}"
            )
        self._add(_Rule("channel_error", None, channel, times, error=error))

    def enforce_limits(
        self,
        per_channel_per_second: float = 1.0,
        burst: int = 1,
        workspace_per_minute: int | None = None,
        per_channel_methods: Iterable[str] = ("chat.postMessage",),
    ) -> None:
        """Slack-like limits: per channel for posting methods, per workspace and method overall.

        Over-limit calls get HTTP 429 with ``Retry-After`` = whole seconds until allowed (≥ 1).
        """
        if per_channel_per_second <= 0 or burst < 1:
            raise ValueError("per_channel_per_second must be > 0 and burst >= 1")
        with self._lock:
            self._limits = _Limits(
                per_channel_per_second, burst, workspace_per_minute, frozenset(per_channel_methods)
            )
            self._buckets.clear()

    def clear(self) -> None:
        """Switch every fault and the rate limiter off."""
        with self._lock:
            self._rules.clear()
            self._limits = None
            self._buckets.clear()

    def _add(self, rule: _Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be >= 1 (or None for 'always')")
        with self._lock:
            self._rules.append(rule)

    # -- used by the server --------------------------------------------------------------------

    def delay(self, method: str, channels: Collection[str]) -> float:
        return sum(r.seconds for r in self._hit("slow", method, channels))

    def injected(self, method: str, channels: Collection[str]) -> Injected | None:
        """A server error or rate limit switched on for this call, if any."""
        for rule in self._hit("server_error", method, channels, first_only=True):
            error = "service_unavailable" if rule.status == 503 else "internal_error"
            return Injected(rule.status, error)
        for rule in self._hit("rate_limit", method, channels, first_only=True):
            return Injected(429, "ratelimited", max(0, int(rule.retry_after)))
        return None

    def channel_failure(self, method: str, channels: Collection[str]) -> str | None:
        for rule in self._hit("channel_error", method, channels, first_only=True):
            return rule.error
        return None

    def throttle(self, team_id: str, method: str, channel: str | None) -> Injected | None:
        """Apply ``enforce_limits``: None when allowed (and counted), else a 429."""
        with self._lock:
            limits = self._limits
            if limits is None:
                return None
            now = self._time()
            buckets: list[_Bucket] = []
            if channel is not None and method in limits.per_channel_methods:
                key = ("channel", team_id, channel)
                if key not in self._buckets:
                    self._buckets[key] = _Bucket(limits.burst, limits.per_channel_per_second, now)
                buckets.append(self._buckets[key])
            if limits.workspace_per_minute is not None:
                key = ("workspace", team_id, method)
                if key not in self._buckets:
                    per_minute = float(limits.workspace_per_minute)
                    self._buckets[key] = _Bucket(per_minute, per_minute / 60.0, now)
                buckets.append(self._buckets[key])
            wait = max((b.wait(now) for b in buckets), default=0.0)
            if wait > 0:
                return Injected(429, "ratelimited", max(1, math.ceil(wait)))
            for bucket in buckets:
                bucket.take()
            return None

    def _hit(
        self, kind: str, method: str, channels: Collection[str], *, first_only: bool = False
    ) -> list[_Rule]:
        with self._lock:
            hits: list[_Rule] = []
            for rule in list(self._rules):
                if rule.kind != kind or not rule.matches(method, channels):
                    continue
                hits.append(rule)
                if rule.spend():
                    self._rules.remove(rule)
                if first_only:
                    break
            return hits
