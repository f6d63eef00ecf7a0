"""The threads that do the work after each ack, with a bounded queue, counting the work in hand.

Slack gets its ack first and the work (a modal, a reply, a DM) happens after (bot.after_ack),
so whoever drives the bot — the demo, the sandbox shell, a test — cannot tell from the HTTP
answer when every reply to a request has been sent. `wait_idle` can: it returns once no
listener is running or queued.

The queue is bounded: `has_room` is False once `max_workers + max_queued` pieces of work are
in hand, and bot.after_ack then tells the person the bot is busy instead of queueing more, so
that under overload the backlog (and the wait behind it) cannot grow without limit.

Each task runs in a copy of the context it was submitted from (as asyncio's tasks do), so what
a request set up when it arrived (bot.metrics.unmeasured) holds for the work it started.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ListenerPool(ThreadPoolExecutor):
    def __init__(
        self, max_workers: int, max_queued: int = 64, thread_name_prefix: str = "bolt-listener"
    ) -> None:
        super().__init__(max_workers, thread_name_prefix=thread_name_prefix)
        self.workers = max_workers
        self.limit = max_workers + max_queued
        self._busy = 0
        self._changed = threading.Condition()

    def has_room(self) -> bool:
        """Whether one more piece of work may be queued (running + queued < the limit)."""
        return self._busy < self.limit

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._changed:
            self._busy += 1
        try:
            context = contextvars.copy_context()
            future = super().submit(lambda: context.run(fn, *args, **kwargs))
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _: self._finished())
        return future

    def _finished(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no listener is running or queued; False if `timeout` s pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)
