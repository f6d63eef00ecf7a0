"""The delivery ledger: one claim wins, sent is final, a stale claim is taken over once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from practice.clock import ManualClock
from storage import deliveries
from storage.db import Database
from storage.deliveries import (
    LEASE,
    DeliveryKey,
    DeliveryKind,
    DeliveryStatus,
    claim,
    finish,
    last_error,
)
from storage.models import Delivery, Team
from storage.teams import TeamSpec, add_team

WEEK = 151
KEY: dict[str, Any] = {"week_index": WEEK, "kind": DeliveryKind.PROMPT, "recipient": "C0001"}


def key_of(team: Team, **key: Any) -> DeliveryKey:
    return DeliveryKey(**{"team_id": team.id, **KEY, **key})


def make_team(db: Database, now: datetime) -> Team:
    with db.session() as s:
        return add_team(s, TeamSpec("T0001", "C0001", "Blue team", ("USUPER01",)), now)


def try_claim(db: Database, team: Team, worker: str, now: datetime, **key: Any) -> bool:
    with db.session() as s:
        return claim(s, key_of(team, **key), worker=worker, now=now)


def holder(db: Database, team: Team, **key: Any) -> str:
    with db.session() as s:
        found = s.scalar(
            select(Delivery.claimed_by).where(
                Delivery.team_id == team.id,
                *(getattr(Delivery, k) == v for k, v in {**KEY, **key}.items()),
            )
        )
    assert found is not None
    return found


def done(db: Database, team: Team, **outcome: Any) -> None:
    """The claim's holder finishes it."""
    worker = holder(db, team)
    with db.session() as s:
        finish(s, key_of(team), worker=worker, **outcome)


def ledger(db: Database) -> list[Delivery]:
    with db.session() as s:
        return list(s.scalars(select(Delivery).order_by(Delivery.id)))


def test_first_claim_wins_second_loses(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "replica-a", clock.now()) is True
    assert try_claim(db, team, "replica-b", clock.now()) is False
    assert try_claim(db, team, "replica-a", clock.now() + timedelta(seconds=30)) is False
    [row] = ledger(db)
    assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.CLAIMED, "replica-a", 1)
    assert row.claimed_at == clock.now()


def test_other_recipients_weeks_and_kinds_are_separate(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "a", clock.now()) is True
    assert try_claim(db, team, "a", clock.now(), recipient="USUPER01") is True
    assert try_claim(db, team, "a", clock.now(), kind=DeliveryKind.REFLECTIONS) is True
    assert try_claim(db, team, "a", clock.now(), week_index=WEEK + 1) is True
    assert len(ledger(db)) == 4


def test_sent_is_final(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "replica-a", clock.now()) is True
    done(db, team, slack_ts="1700000000.000100")
    for later in (timedelta(seconds=1), LEASE * 2, timedelta(days=3)):
        assert try_claim(db, team, "replica-b", clock.now() + later) is False
    [row] = ledger(db)
    assert (row.status, row.slack_ts, row.error, row.attempts) == (
        DeliveryStatus.SENT,
        "1700000000.000100",
        None,
        1,
    )


def test_failed_is_final_and_reported(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    with db.session() as s:
        assert last_error(s, team.id) is None
    assert try_claim(db, team, "replica-a", clock.now()) is True
    done(db, team, error="channel_not_found")
    assert try_claim(db, team, "replica-b", clock.now() + LEASE * 2) is False
    with db.session() as s:
        assert last_error(s, team.id) == "channel_not_found"
    # The newest failure is the one reported.
    assert try_claim(db, team, "a", clock.now(), week_index=WEEK + 1) is True
    with db.session() as s:
        finish(s, key_of(team, week_index=WEEK + 1), worker="a", error="not_in_channel")
        assert last_error(s, team.id) == "not_in_channel"
        # Another team's ledger is its own.
        assert last_error(s, team.id + 1) is None


def test_lease_boundary(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "replica-a", clock.now()) is True
    assert try_claim(db, team, "replica-b", clock.now() + LEASE - timedelta(seconds=1)) is False
    assert try_claim(db, team, "replica-b", clock.now() + LEASE + timedelta(seconds=1)) is True
    [row] = ledger(db)
    assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.CLAIMED, "replica-b", 2)
    assert row.claimed_at == clock.now() + LEASE + timedelta(seconds=1)
    # The new holder has a fresh lease.
    assert try_claim(db, team, "replica-c", clock.now() + LEASE * 2) is False


def race(db: Database, team: Team, workers: tuple[str, ...], when: datetime) -> dict[str, bool]:
    """Every worker claims at the same moment, each in its own thread and session."""
    barrier = threading.Barrier(len(workers))
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            results[name] = try_claim(db, team, name, when)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    return results


def test_fresh_claim_race_has_one_winner(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    results = race(db, team, ("a", "b", "c", "d"), clock.now())
    assert sorted(results.values()) == [False, False, False, True]
    [row] = ledger(db)
    assert results[row.claimed_by] is True and row.attempts == 1


def test_stale_claim_taken_over_once_by_racing_workers(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "dead-replica", clock.now()) is True
    later = clock.now() + LEASE + timedelta(seconds=5)
    for attempt in (2, 3, 4):  # a few rounds, each starting from a fresh stale claim
        results = race(db, team, ("left", "right"), later)
        assert sorted(results.values()) == [False, True]
        [row] = ledger(db)
        winner = next(name for name, won in results.items() if won)
        assert row.claimed_by == winner and row.claimed_at == later
        assert row.attempts == attempt
        later += LEASE + timedelta(seconds=5)


@pytest.mark.slow
def test_stale_takeover_is_compare_and_set(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both workers have read the stale claim; the second one's update must find it gone."""
    if not db.is_postgres:
        pytest.skip("SQLite lets one writer in at a time: the interleaving cannot happen")
    team = make_team(db, clock.now())
    assert try_claim(db, team, "dead-replica", clock.now()) is True
    later = clock.now() + LEASE + timedelta(minutes=1)
    real_update = deliveries.update
    interleaved: list[bool] = []

    def update_after_rival(*args: Any, **kwargs: Any) -> Any:
        if not interleaved:
            # "slow" has read the stale row; "fast" now claims and commits before it writes.
            monkeypatch.setattr(deliveries, "update", real_update)
            interleaved.append(try_claim(db, team, "fast", later))
        return real_update(*args, **kwargs)

    monkeypatch.setattr(deliveries, "update", update_after_rival)
    assert try_claim(db, team, "slow", later) is False
    assert interleaved == [True]
    [row] = ledger(db)
    assert (row.claimed_by, row.attempts) == ("fast", 2)


def test_claim_rolled_back_with_its_transaction(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    with pytest.raises(RuntimeError), db.session() as s:
        assert claim(s, key_of(team), worker="a", now=clock.now()) is True
        raise RuntimeError("crashed before the claim was committed")
    assert ledger(db) == []
    assert try_claim(db, team, "b", clock.now()) is True


def test_release_gives_a_claim_back(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "a", clock.now()) is True
    with db.session() as s:
        deliveries.release(s, key_of(team), worker="a")
    assert ledger(db) == []
    assert try_claim(db, team, "b", clock.now()) is True  # at once, no lease to wait out


def test_release_never_undoes_a_finished_delivery(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "a", clock.now()) is True
    done(db, team, slack_ts="1.2")
    with db.session() as s:
        deliveries.release(s, key_of(team), worker="a")
    [row] = ledger(db)
    assert row.status == DeliveryStatus.SENT
    assert try_claim(db, team, "b", clock.now()) is False


def test_a_worker_whose_lease_was_taken_over_changes_nothing(
    db: Database, clock: ManualClock
) -> None:
    """Worker a stalls past its lease, b takes the claim over; a waking up can neither give
    b's claim back nor mark it sent or failed."""
    team = make_team(db, clock.now())
    assert try_claim(db, team, "a", clock.now()) is True
    later = clock.now() + LEASE + timedelta(seconds=1)
    assert try_claim(db, team, "b", later) is True
    with db.session() as s:
        deliveries.release(s, key_of(team), worker="a")
        finish(s, key_of(team), worker="a", error="channel_not_found")
    [row] = ledger(db)
    assert (row.status, row.claimed_by, row.error) == (DeliveryStatus.CLAIMED, "b", None)
    done(db, team, slack_ts="9.9")
    [row] = ledger(db)
    assert (row.status, row.slack_ts) == (DeliveryStatus.SENT, "9.9")


def test_the_ledgers_stored_values_are_unchanged() -> None:
    """Rows written before the enums existed still read the same: no migration."""
    assert [k.value for k in DeliveryKind] == [
        "channel_prompt",
        "supervisor_dm",
        "checkin_reminder",
        "shared_summary",
    ]
    assert [s.value for s in DeliveryStatus] == ["claimed", "sent", "failed", "waiting", "skipped"]


def test_a_lease_runs_out_at_exactly_its_length(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert try_claim(db, team, "a", clock.now()) is True
    assert try_claim(db, team, "b", clock.now() + LEASE) is True


def test_a_waiting_delivery_once_claimed_is_held_like_any_claim(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    with db.session() as s:
        deliveries.wait(s, key_of(team), worker="a", now=clock.now(), reason="ratelimited")
    assert try_claim(db, team, "b", clock.now()) is True
    assert try_claim(db, team, "c", clock.now()) is False
    [row] = ledger(db)
    assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.CLAIMED, "b", 1)


def test_one_workers_deliveries_are_settled_given_back_and_kept_waiting_one_by_one(
    db: Database, clock: ManualClock
) -> None:
    """The same worker holds deliveries that differ in one part of their key only: a team's
    prompt and its shared summary go to one channel in one week; one supervisor may supervise
    two teams. Finishing, giving back or noting the wait of one touches no other."""
    team = make_team(db, clock.now())
    with db.session() as s:
        other = add_team(s, TeamSpec("T0002", "C0002", "Green team", ("USUPER01",)), clock.now())
    prompt = key_of(team)
    summary = key_of(team, kind=DeliveryKind.SHARED)
    reflections = key_of(team, kind=DeliveryKind.REFLECTIONS, recipient="USUPER01")
    other_reflections = key_of(other, kind=DeliveryKind.REFLECTIONS, recipient="USUPER01")
    now = clock.now()
    with db.session() as s:
        for key in (prompt, summary, reflections, other_reflections):
            assert claim(s, key, worker="a", now=now) is True
        finish(s, prompt, worker="a", slack_ts="1.1")
        finish(s, reflections, worker="a", error="user_not_found")
        assert [deliveries.settled(s, k) for k in (summary, other_reflections)] == [False, False]
        deliveries.release(s, summary, worker="a")
        assert claim(s, other_reflections, worker="b", now=now) is False  # still a's
    with db.session() as s:
        for week in (WEEK + 1, WEEK + 2):
            deliveries.wait(s, key_of(team, week_index=week), worker="a", now=now, reason="w")
        deliveries.wait(s, key_of(team, week_index=WEEK + 2), worker="a", now=now, reason="why")
        deliveries.wait(s, key_of(other, week_index=WEEK + 1), worker="a", now=now, reason="x")
        deliveries.wait(
            s,
            key_of(team, week_index=WEEK + 1, kind=DeliveryKind.SHARED),
            worker="a",
            now=now,
            reason="y",
        )
        assert deliveries.waiting_since(s, team.id, WEEK + 1, DeliveryKind.PROMPT) == (now, "w")
        assert deliveries.waiting_since(s, team.id, WEEK + 2, DeliveryKind.PROMPT) == (
            now,
            "why",
        )
        assert deliveries.waiting_since(s, other.id, WEEK + 1, DeliveryKind.PROMPT) == (now, "x")
        assert deliveries.waiting_since(s, team.id, WEEK + 1, DeliveryKind.SHARED) == (now, "y")
        assert deliveries.waiting_since(s, team.id, WEEK + 3, DeliveryKind.PROMPT) is None
    states = {(r.team_id, r.week_index, r.kind): r.status for r in ledger(db)}
    assert states[(team.id, WEEK, DeliveryKind.PROMPT)] == DeliveryStatus.SENT
    assert states[(team.id, WEEK, DeliveryKind.REFLECTIONS)] == DeliveryStatus.FAILED
    assert (team.id, WEEK, DeliveryKind.SHARED) not in states
    assert states[(other.id, WEEK, DeliveryKind.REFLECTIONS)] == DeliveryStatus.CLAIMED


def test_the_failure_reported_is_the_latest_weeks_then_the_latest_recorded(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())

    def fail(error: str, **key: Any) -> None:
        with db.session() as s:
            assert claim(s, key_of(team, **key), worker="a", now=clock.now()) is True
            finish(s, key_of(team, **key), worker="a", error=error)

    fail("first_of_the_later_week", week_index=WEEK + 1)
    fail("an_earlier_week_late", week_index=WEEK)  # recorded after, but for an earlier week
    with db.session() as s:
        assert last_error(s, team.id) == "first_of_the_later_week"
    fail("second_of_the_later_week", week_index=WEEK + 1, kind=DeliveryKind.SHARED)
    with db.session() as s:
        assert last_error(s, team.id) == "second_of_the_later_week"


def test_a_stale_claim_finished_by_its_holder_meanwhile_is_not_taken_over(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker has read a stale claim; before it writes, the slow holder marks it sent (the
    claim's time unchanged). The takeover must find the claim no longer a claim: a second
    send would follow."""
    if not db.is_postgres:
        pytest.skip("SQLite lets one writer in at a time: the interleaving cannot happen")
    team = make_team(db, clock.now())
    assert try_claim(db, team, "slow-holder", clock.now()) is True
    later = clock.now() + LEASE + timedelta(minutes=1)
    real_update = deliveries.update
    interleaved: list[bool] = []

    def update_after_holder_finishes(*args: Any, **kwargs: Any) -> Any:
        if not interleaved:
            monkeypatch.setattr(deliveries, "update", real_update)
            done(db, team, slack_ts="1.1")
            interleaved.append(True)
        return real_update(*args, **kwargs)

    monkeypatch.setattr(deliveries, "update", update_after_holder_finishes)
    assert try_claim(db, team, "taker", later) is False
    [row] = ledger(db)
    assert (row.status, row.claimed_by, row.slack_ts) == (DeliveryStatus.SENT, "slow-holder", "1.1")
