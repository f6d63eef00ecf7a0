"""Every delivery at most once: claim it in the ledger, send it, then settle it.

The weekly prompt, a supervisor's reflections, a member's reminder and a shared summary all go
out through `Ledger.deliver_once`. The claim is committed before anything is sent, so restarts,
overlapping sweeps and several replicas never send twice; what happens after the send depends
only on how it ended (`Outcome`), never on who sent it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from practice.clock import Clock
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKey

log = logging.getLogger(__name__)


class Refusal(StrEnum):
    """Why a send failed, sorted by what can be done about it."""

    TRANSIENT = "transient"  # a retry may mend it: the claim is given back for the next sweep
    NOT_IN_CHANNEL = "not_in_channel"  # the channel is gone, archived, or the app was removed
    UNINSTALLED = "uninstalled"  # the workspace's token is gone: nothing can be sent there
    PERMANENT = "permanent"  # refused for good for another reason (a scope, a person gone)


class DeliveryError(Exception):
    """A send failed. `code` is Slack's error code (or the exception's type), never anything
    about a person; every refusal but a transient one is recorded once and not retried."""

    def __init__(self, code: str, refusal: Refusal) -> None:
        super().__init__(code)
        self.code = code
        self.refusal = refusal

    @property
    def permanent(self) -> bool:
        return self.refusal is not Refusal.TRANSIENT


class NothingToSend(Exception):
    """Raised by a send that found, once it held the claim, that there is nothing to deliver
    (a share whose figures cannot be shown): the claim is given back."""


class Outcome(StrEnum):
    SENT = "sent"
    TAKEN = "taken"  # already made, refused for good, held back, or another worker has it
    FAILED = "failed"  # refused for good, and recorded so (or given back: `give_back_refusals`)
    RETRY = "retry"  # given back: the next sweep (or click) tries again
    NOTHING = "nothing"  # the send had nothing to deliver; given back


# What a send returns: the message's ts to keep in the ledger, or None to keep none (a
# reminder's ts would let Slack's copy of the DM name the person).
Send = Callable[[], str | None]


@dataclass(frozen=True)
class Ledger:
    """The delivery ledger as `worker` (a replica, or whoever clicked) uses it."""

    db: Database
    clock: Clock
    worker: str
    lease: timedelta = deliveries.LEASE

    def deliver_once(
        self, key: DeliveryKey, send: Send, *, channel: str, give_back_refusals: bool = False
    ) -> Outcome:
        """Claim `key`, call `send`, and mark the delivery sent, failed for good, or give the
        claim back. `channel` (the team's) is how the logs name it: never a person.
        `give_back_refusals` gives back even a permanent refusal, for a delivery
        someone asked for and may ask for again once they have mended it (a share).

        Any other exception from `send` keeps the claim, since the message may have gone: the
        lease runs out and a later sweep decides, as after a crash."""
        with self.db.session() as session:
            if not deliveries.claim(
                session, key, worker=self.worker, now=self.clock.now(), lease=self.lease
            ):
                return Outcome.TAKEN
        try:
            ts = send()
        except NothingToSend:
            self._give_back(key)
            return Outcome.NOTHING
        except DeliveryError as error:
            if error.permanent and not give_back_refusals:
                log.error("team %s: %s failed for good: %s", channel, key.kind, error.code)
                with self.db.session() as session:
                    deliveries.finish(session, key, worker=self.worker, error=error.code)
                return Outcome.FAILED
            log.warning("team %s: %s given back: %s", channel, key.kind, error.code)
            self._give_back(key)
            return Outcome.FAILED if error.permanent else Outcome.RETRY
        with self.db.session() as session:
            deliveries.finish(session, key, worker=self.worker, slack_ts=ts)
        return Outcome.SENT

    def settled(self, key: DeliveryKey) -> bool:
        """Made, or refused for good: nothing more to try."""
        with self.db.session() as session:
            return deliveries.settled(session, key)

    def wait(self, key: DeliveryKey, reason: str) -> None:
        """Note that `key` is due but cannot be made yet, and why (for `team list`)."""
        with self.db.session() as session:
            deliveries.wait(session, key, worker=self.worker, now=self.clock.now(), reason=reason)

    def _give_back(self, key: DeliveryKey) -> None:
        with self.db.session() as session:
            deliveries.release(session, key, worker=self.worker)
