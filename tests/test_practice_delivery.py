"""deliver_once: claim, send, then settle by how the send ended; never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from practice.clock import ManualClock
from practice.delivery import DeliveryError, Ledger, NothingToSend, Outcome, Refusal
from storage.db import Database
from storage.deliveries import LEASE, DeliveryKey, DeliveryKind, DeliveryStatus
from storage.models import Delivery
from storage.teams import TeamSpec, add_team

CHANNEL = "C0LEDGER1"


@pytest.fixture
def key(db: Database, clock: ManualClock) -> DeliveryKey:
    with db.session() as session:
        team = add_team(
            session, TeamSpec("T0LEDGER1", CHANNEL, "Ledger team", ("U0SUP1",)), clock.now()
        )
        return DeliveryKey(team.id, 151, DeliveryKind.PROMPT, CHANNEL)


def rows(db: Database) -> list[tuple[str, str | None, str | None, int]]:
    with db.session() as session:
        found = session.scalars(select(Delivery).order_by(Delivery.id))
        return [(d.status, d.slack_ts, d.error, d.attempts) for d in found]


class Sender:
    """Counts its calls; answers each with the next of `results` (a ts, or an exception)."""

    def __init__(self, *results: str | Exception | None) -> None:
        self.results = list(results)
        self.calls = 0

    def __call__(self) -> str | None:
        self.calls += 1
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def test_sent_once_and_never_again(db: Database, clock: ManualClock, key: DeliveryKey) -> None:
    ledger = Ledger(db, clock, "replica-a")
    send = Sender("1.1", "1.2")
    assert ledger.deliver_once(key, send, channel=CHANNEL) is Outcome.SENT
    assert rows(db) == [(DeliveryStatus.SENT, "1.1", None, 1)]
    clock.advance(LEASE * 3)
    for worker in ("replica-a", "replica-b"):
        assert Ledger(db, clock, worker).deliver_once(key, send, channel=CHANNEL) is Outcome.TAKEN
    assert send.calls == 1


def test_a_send_that_keeps_no_ts(db: Database, clock: ManualClock, key: DeliveryKey) -> None:
    assert Ledger(db, clock, "a").deliver_once(key, Sender(None), channel=CHANNEL) is Outcome.SENT
    assert rows(db) == [(DeliveryStatus.SENT, None, None, 1)]


def test_a_transient_refusal_is_given_back_and_tried_again(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    ledger = Ledger(db, clock, "a")
    send = Sender(DeliveryError("ratelimited", Refusal.TRANSIENT), "2.1")
    assert ledger.deliver_once(key, send, channel=CHANNEL) is Outcome.RETRY
    assert rows(db) == []
    assert ledger.deliver_once(key, send, channel=CHANNEL) is Outcome.SENT
    assert rows(db) == [(DeliveryStatus.SENT, "2.1", None, 1)]


@pytest.mark.parametrize("refusal", [r for r in Refusal if r is not Refusal.TRANSIENT])
def test_a_lasting_refusal_is_recorded_once_and_not_tried_again(
    db: Database, clock: ManualClock, key: DeliveryKey, refusal: Refusal
) -> None:
    ledger = Ledger(db, clock, "a")
    send = Sender(DeliveryError("some_code", refusal), "never")
    assert ledger.deliver_once(key, send, channel=CHANNEL) is Outcome.FAILED
    clock.advance(LEASE * 3)
    assert ledger.deliver_once(key, send, channel=CHANNEL) is Outcome.TAKEN
    assert send.calls == 1
    assert rows(db) == [(DeliveryStatus.FAILED, None, "some_code", 1)]
    assert ledger.settled(key)


def test_a_refusal_someone_can_mend_is_given_back_when_asked(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    ledger = Ledger(db, clock, "share")
    send = Sender(DeliveryError("not_in_channel", Refusal.NOT_IN_CHANNEL), "3.1")
    deliver = ledger.deliver_once
    assert deliver(key, send, channel=CHANNEL, give_back_refusals=True) is Outcome.FAILED
    assert rows(db) == []
    assert deliver(key, send, channel=CHANNEL, give_back_refusals=True) is Outcome.SENT


def test_nothing_to_send_gives_the_claim_back(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    ledger = Ledger(db, clock, "a")
    assert ledger.deliver_once(key, Sender(NothingToSend()), channel=CHANNEL) is Outcome.NOTHING
    assert rows(db) == []


def test_a_send_that_crashes_keeps_the_claim_until_its_lease_runs_out(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    """The message may have gone before the crash: only a stale lease lets it be tried again."""
    send = Sender(RuntimeError("crashed mid-send"), "4.1", "4.2")
    with pytest.raises(RuntimeError):
        Ledger(db, clock, "a").deliver_once(key, send, channel=CHANNEL)
    assert rows(db) == [(DeliveryStatus.CLAIMED, None, None, 1)]
    later = Ledger(db, clock, "b")
    assert later.deliver_once(key, send, channel=CHANNEL) is Outcome.TAKEN
    clock.advance(LEASE + timedelta(seconds=1))
    assert later.deliver_once(key, send, channel=CHANNEL) is Outcome.SENT
    assert rows(db) == [(DeliveryStatus.SENT, "4.1", None, 2)]


def test_a_waiting_delivery_is_made_by_the_next_sweep(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    ledger = Ledger(db, clock, "a")
    ledger.wait(key, "ratelimited")
    assert rows(db) == [(DeliveryStatus.WAITING, None, "ratelimited", 0)]
    assert not ledger.settled(key)
    assert ledger.deliver_once(key, Sender("5.1"), channel=CHANNEL) is Outcome.SENT
    assert rows(db) == [(DeliveryStatus.SENT, "5.1", None, 1)]


def test_a_ledgers_own_lease_decides_when_a_crashed_claim_is_tried_again(
    db: Database, clock: ManualClock, key: DeliveryKey
) -> None:
    """The lease comes from the settings (`claim_lease_seconds`), not the ledger's default."""
    short = timedelta(seconds=30)
    send = Sender(RuntimeError("crashed mid-send"), "5.1")
    with pytest.raises(RuntimeError):
        Ledger(db, clock, "a", short).deliver_once(key, send, channel=CHANNEL)
    clock.advance(short + timedelta(seconds=1))
    assert Ledger(db, clock, "b", short).deliver_once(key, send, channel=CHANNEL) is Outcome.SENT


def test_the_log_says_which_team_what_and_slacks_code(
    db: Database, clock: ManualClock, key: DeliveryKey, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator's one record of why a delivery failed or was given back: the team's
    channel, the kind of delivery and Slack's code (never a person)."""
    ledger = Ledger(db, clock, "a")
    refusals = Sender(
        DeliveryError("ratelimited", Refusal.TRANSIENT),
        DeliveryError("channel_not_found", Refusal.NOT_IN_CHANNEL),
    )
    with caplog.at_level("WARNING", logger="practice.delivery"):
        ledger.deliver_once(key, refusals, channel=CHANNEL)
        ledger.deliver_once(key, refusals, channel=CHANNEL)
    assert caplog.messages == [
        f"team {CHANNEL}: channel_prompt given back: ratelimited",
        f"team {CHANNEL}: channel_prompt failed for good: channel_not_found",
    ]
    assert str(DeliveryError("ratelimited", Refusal.TRANSIENT)) == "ratelimited"
