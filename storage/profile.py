"""The team's secure-base profile: how far people agreed with each domain's belief over the
last full rotation of the five domains.

It is built only from figures `storage.pulse.read_pulse_for` already shows: for each domain, its
belief item in the newest closed block of the window that contains that domain, held to the
same anonymity minimum. So it adds no new slice of the answers that could be set against
another to single anyone out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.pulse import Bands, Block, BlockFigures, Reading


@dataclass(frozen=True)
class DomainReading:
    domain: str
    block: Block | None  # the block the figure is from; None: not come round in the window
    item: Bands | None  # None: not enough answers (or not come round yet)


@dataclass(frozen=True)
class Profile:
    window: tuple[Block, ...]  # newest first
    domains: tuple[DomainReading, ...]  # in the model's order

    @property
    def weakest(self) -> str | None:
        """The domain with the lowest agreement, once at least two domains can be compared
        (the first in the model's order on a tie). Ranked only by what is shown: the mean, or
        for an item whose answers all fell in one band (its mean withheld) the middle of that
        band, so the ranking reveals nothing the figures do not."""
        shown = [
            (standing, d.domain)
            for d in self.domains
            if d.item is not None and (standing := _standing(d.item)) is not None
        ]
        if len(shown) < 2:
            return None
        lowest = min(mean for mean, _ in shown)
        return next(domain for mean, domain in shown if mean == lowest)


BAND_MIDDLES = {"low": 1.5, "middle": 3.0, "high": 4.5}


def _standing(item: Bands) -> float | None:
    """The mean, else the middle of the one band holding every answer (the only reason a mean
    is withheld); None, left out of the ranking, for an item that shows neither."""
    if item.mean is not None:
        return item.mean
    band = item.one_band
    return None if band is None else BAND_MIDDLES[band]


def rotation_blocks(pool_weeks: int, domains: int) -> int:
    """How many of the team's fixed blocks make up one full rotation (at least)."""
    return -(-domains // pool_weeks)


def secure_base_profile(
    readings: Sequence[Reading], order: Sequence[str], pool_weeks: int
) -> Profile:
    """`readings` newest first, as read_pulse_for gives them (enough to cover a rotation)."""
    window = tuple(readings[: rotation_blocks(pool_weeks, len(order))])
    domains: list[DomainReading] = []
    for key in order:
        newest = next((r for r in window if key in r.block.domains), None)
        if newest is None:
            domains.append(DomainReading(key, None, None))
            continue
        item = newest.domain_items.get(key) if isinstance(newest, BlockFigures) else None
        domains.append(DomainReading(key, newest.block, item))
    return Profile(tuple(r.block for r in window), tuple(domains))
