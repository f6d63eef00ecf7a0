"""Under overload nothing fails silently: the work after each ack waits in a bounded queue, and
a /checkin the bot cannot get to in time says "busy, try again" (ephemeral, never a DM)
instead of leaving the person with nothing (bot.after_ack)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from experience import CHANNEL, SUPERVISOR, experience, member

from bot import after_ack
from bot.listener_pool import ListenerPool
from bot.sandboxed import wait_until
from practice.clock import ManualClock

BUSY = "Secure Base is very busy just now"


@contextmanager
def blocked(pool: ListenerPool, tasks: int) -> Iterator[None]:
    """`tasks` pieces of work that hold the pool (its threads first, then its queue) until
    the block is left."""
    go = threading.Event()
    try:
        for _ in range(tasks):
            pool.submit(go.wait, 30)
        yield
    finally:
        go.set()
        assert pool.wait_idle(30)


def test_the_queue_has_room_only_up_to_its_limit() -> None:
    pool = ListenerPool(2, max_queued=3)
    go, last = threading.Event(), threading.Event()
    try:
        for _ in range(4):
            pool.submit(go.wait, 30)
        assert pool.has_room()
        pool.submit(last.wait, 30)
        assert not pool.has_room()  # 2 running + 3 queued
        go.set()
        last.set()
        assert pool.wait_idle(30)
        assert pool.has_room()
    finally:
        go.set()
        last.set()
        pool.shutdown()


@pytest.mark.slow
def test_a_full_queue_answers_checkin_busy_in_its_ack(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        pool = world.bot.runtime.listeners
        user = member(0)
        dms = len(world.sandbox.dms(user))
        with blocked(pool, pool.limit):
            response = world.bot.driver.slash_command(user, CHANNEL, "/checkin")
            assert response.status_code == 200
            assert BUSY in response.json()["text"] and "`/checkin`" in response.json()["text"]
            assert response.json().get("response_type") == "ephemeral"
        assert world.sandbox.open_views(user) == []
        assert len(world.sandbox.dms(user)) == dms  # never by DM
        # Room again: the same person's /checkin opens the form.
        world.bot.driver.slash_command(user, CHANNEL, "/checkin")
        assert wait_until(lambda: world.sandbox.open_views(user), what="the check-in form")


@pytest.mark.slow
def test_a_checkin_reached_too_late_for_its_trigger_says_busy_by_ephemeral_reply(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(after_ack, "TRIGGER_WINDOW", 0.2)
    with experience(database_url, clock) as world:
        pool = world.bot.runtime.listeners
        user = member(1)
        dms = len(world.sandbox.dms(user))
        before = len(world.sandbox.ephemerals(user))
        with blocked(pool, pool.workers):  # every thread busy: the /checkin waits
            response = world.bot.driver.slash_command(user, CHANNEL, "/checkin")
            assert response.status_code == 200 and response.text == ""  # acked at once
            threading.Event().wait(0.4)  # past the (shortened) trigger window
        replies = wait_until(lambda: world.sandbox.ephemerals(user)[before:], what="the busy reply")
        assert len(replies) == 1 and BUSY in replies[0].text
        assert "`/checkin`" in replies[0].text
        assert world.sandbox.open_views(user) == []
        assert len(world.sandbox.dms(user)) == dms  # never by DM


@pytest.mark.slow
def test_work_that_can_wait_still_runs_after_a_wait(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/teampulse opens no modal: its reply goes by response_url, which outlives the trigger,
    so waiting its turn past the trigger window still gets the picture, not "busy"."""
    monkeypatch.setattr(after_ack, "TRIGGER_WINDOW", 0.2)
    with experience(database_url, clock) as world:
        pool = world.bot.runtime.listeners
        before = len(world.sandbox.ephemerals(SUPERVISOR))
        with blocked(pool, pool.workers):
            world.bot.driver.slash_command(SUPERVISOR, CHANNEL, "/teampulse")
            threading.Event().wait(0.4)
        replies = wait_until(
            lambda: world.sandbox.ephemerals(SUPERVISOR)[before:], what="the pulse"
        )
        assert all(BUSY not in m.text for m in replies)
