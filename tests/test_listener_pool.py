"""The listener pool knows when every piece of work after an ack is done (bot.listener_pool)."""

from __future__ import annotations

import threading

from bot.listener_pool import ListenerPool


def test_idle_only_once_every_listener_and_queued_one_has_finished() -> None:
    pool = ListenerPool(1)
    go = threading.Event()
    try:
        assert pool.wait_idle(0)
        running = pool.submit(go.wait, 5)
        queued = pool.submit(lambda: "after")  # waits behind the first: one thread
        assert not pool.wait_idle(0.05)
        go.set()
        assert pool.wait_idle(5)
        assert running.done() and queued.result() == "after"
    finally:
        go.set()
        pool.shutdown()


def test_a_failing_listener_still_counts_as_finished() -> None:
    pool = ListenerPool(2)
    try:
        failed = pool.submit(lambda: 1 / 0)
        assert pool.wait_idle(5)
        assert isinstance(failed.exception(), ZeroDivisionError)
    finally:
        pool.shutdown()
