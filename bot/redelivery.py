"""Slack's redeliveries, answered without doing the work twice.

Slack sends a request again when it thinks the first went unanswered: over HTTP with an
`X-Slack-Retry-Num` header, over Socket Mode as a new envelope with `retry_attempt` > 0 and the
same payload. A redelivered `/checkin` or event must not post a second reply, so each payload
this process handles is remembered for a while by what Slack keeps the same across attempts
(an event's `event_id`, an interaction's or command's `trigger_id`); a redelivery of one gets
the first answer again (the same ack, so a view submission's `response_action` still holds)
and runs nothing.

The memory is this process's own. The ledger and the database's unique constraints keep
posts and check-ins single across replicas; what this adds is that a reply is not repeated
when the redelivery reaches the process that handled the first attempt.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltResponse

REMEMBER_SECONDS = 15 * 60.0  # Slack retries within minutes (at once, after 1 and 5 minutes)
REMEMBER_MOST = 10_000
WAIT_FOR_FIRST_SECONDS = 10.0


def delivery_key(payload: Mapping[str, Any]) -> str:
    """What stays the same when Slack delivers one payload again."""
    for name in ("event_id", "trigger_id"):
        value = payload.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class _Handled:
    at: float
    done: threading.Event = field(default_factory=threading.Event)
    response: BoltResponse | None = None


class Redeliveries:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, _Handled] = OrderedDict()
        self._lock = threading.Lock()

    def answer(
        self,
        payload: Mapping[str, Any],
        retry_attempt: int | None,
        dispatch: Callable[[], BoltResponse],
    ) -> BoltResponse:
        """`dispatch()`'s answer; for a redelivery of a payload handled here before, the first
        answer again (waiting for it if the first attempt is still running)."""
        key = delivery_key(payload)
        if retry_attempt:
            with self._lock:
                earlier = self._seen.get(key)
            answered = earlier is not None and earlier.done.wait(WAIT_FOR_FIRST_SECONDS)
            if answered and earlier is not None and earlier.response is not None:
                return earlier.response
            # Never handled here, or the first attempt failed: this one does the work.
        mine = _Handled(self._clock())
        with self._lock:
            self._forget_old()
            self._seen.pop(key, None)
            self._seen[key] = mine
        try:
            response = dispatch()
            if response.status < 500:  # a failure is worth trying again when Slack does
                mine.response = response
        finally:
            mine.done.set()
        return response

    def _forget_old(self) -> None:
        horizon = self._clock() - REMEMBER_SECONDS
        while self._seen:
            key, handled = next(iter(self._seen.items()))
            if handled.at >= horizon and len(self._seen) <= REMEMBER_MOST:
                break
            del self._seen[key]
