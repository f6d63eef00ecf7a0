"""The team's secure-base profile: each domain's belief figure beside its own earlier
rotations.

The five domains' statements differ, so their averages are not one scale: a domain is only ever
set beside itself, never ranked against the others. The profile may point to a domain whose
figure clearly fell since its last rotation (by at least `FALL` of a point, with at least the
minimum number of answers both times); anything smaller is too easily chance to name.

It is built only from figures `storage.pulse.read_pulse_for` already shows: each domain's
belief item in the closed blocks that contain that domain, held to the same anonymity
minimum. So it adds no new slice of the answers that could be set against another to single
anyone out. A fall is judged on what is shown, too: for an item whose answers all fell in one
band (its average withheld), only what that band says (all high: between 4 and 5).

A domain's figures are compared only when they were asked with the same version of the
check-in items: a reworded statement starts the domain's history afresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from practice.figures import Bands, Block, BlockFigures, Reading

FALL = 0.5  # points of the 1–5 scale
ROTATIONS = 3  # how many times round each domain the profile shows (this one and two earlier)
BAND_RANGES = {"low": (1.0, 2.0), "middle": (3.0, 3.0), "high": (4.0, 5.0)}


@dataclass(frozen=True)
class Showing:
    """A domain's belief item in one block: None when too few answered it."""

    block: Block
    item: Bands | None


@dataclass(frozen=True)
class DomainHistory:
    domain: str
    showings: tuple[Showing, ...]  # newest first, one version of the items; () not come round

    @property
    def latest(self) -> Showing | None:
        return self.showings[0] if self.showings else None

    @property
    def previous(self) -> Showing | None:
        return self.showings[1] if len(self.showings) > 1 else None


@dataclass(frozen=True)
class Fall:
    """A domain whose figure clearly fell: this rotation's item and its last rotation's."""

    domain: str
    now: Showing
    now_item: Bands
    before: Showing
    before_item: Bands


@dataclass(frozen=True)
class Profile:
    window: tuple[Block, ...]  # the blocks the profile reads, newest first
    domains: tuple[DomainHistory, ...]  # in the model's order
    minimum: int

    def fall(self, history: DomainHistory) -> Fall | None:
        """The domain's fall, if its newest figure is at least FALL below its last rotation's,
        both with at least the minimum number of answers."""
        latest, previous = history.latest, history.previous
        if latest is None or previous is None or latest.item is None or previous.item is None:
            return None
        now, before = _range(latest.item, self.minimum), _range(previous.item, self.minimum)
        if now is None or before is None or before[0] - now[1] < FALL:
            return None
        return Fall(history.domain, latest, latest.item, previous, previous.item)

    @property
    def fallen(self) -> tuple[Fall, ...]:
        """Domains whose figure clearly fell since their last rotation, in the model's order."""
        return tuple(fall for history in self.domains if (fall := self.fall(history)))

    @property
    def comparable(self) -> bool:
        """Whether any domain has figures both this time and in its last rotation."""
        return any(
            _range(h.latest.item, self.minimum) is not None
            and _range(h.previous.item, self.minimum) is not None
            for h in self.domains
            if h.latest is not None and h.previous is not None
        )


def _range(item: Bands | None, minimum: int) -> tuple[float, float] | None:
    """Where the item's average lies, as far as the shown figures say: the average itself, or
    the range of the one band holding every answer; None with too few answers to compare."""
    if item is None or item.answered < minimum:
        return None
    if item.mean is not None:
        return item.mean, item.mean
    band = item.one_band
    return None if band is None else BAND_RANGES[band]


def rotation_blocks(pool_weeks: int, domains: int) -> int:
    """How many of the team's fixed blocks make up one full rotation (at least)."""
    return -(-domains // pool_weeks)


def profile_weeks(pool_weeks: int, domains: int) -> int:
    """How many weeks back the profile reads: ROTATIONS full rotations."""
    return ROTATIONS * rotation_blocks(pool_weeks, domains) * pool_weeks


def secure_base_profile(
    readings: Sequence[Reading], order: Sequence[str], pool_weeks: int, minimum: int
) -> Profile:
    """`readings` newest first, as read_pulse_for gives them: enough to cover ROTATIONS
    rotations (more are left out)."""
    window = tuple(r.block for r in readings[: ROTATIONS * rotation_blocks(pool_weeks, len(order))])
    domains: list[DomainHistory] = []
    for key in order:
        showings: list[Showing] = []
        for reading in readings[: len(window)]:
            if key not in reading.block.domains:
                continue
            if showings and reading.block.items_version != showings[0].block.items_version:
                break  # an earlier wording: not the same statement, so not set beside it
            item = reading.domain_items.get(key) if isinstance(reading, BlockFigures) else None
            showings.append(Showing(reading.block, item))
        domains.append(DomainHistory(key, tuple(showings[:ROTATIONS])))
    return Profile(window, tuple(domains), minimum)
