"""What a supervisor may see of a team's answers, as values: each item in three bands, a
reporting block's figures (or only that it was below the anonymity minimum), and where a look
was shown. `storage.pulse` computes them in SQL and `practice.pulse` is the one way to read
them (always logged)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from practice.weeks import Week

BANDS = ("low", "middle", "high")  # 1–2, 3, 4–5


@dataclass(frozen=True)
class Bands:
    """One item's answers as a supervisor may see them."""

    answered: int
    low: int  # answered 1 or 2
    middle: int  # answered 3
    high: int  # answered 4 or 5
    mean: float | None  # None when one band holds every answer

    @property
    def one_band(self) -> str | None:
        """The band holding every answer ("low", "middle" or "high"), if there is one."""
        return next(
            (band for band in BANDS if getattr(self, band) == self.answered),
            None,
        )


@dataclass(frozen=True)
class Block:
    """A reporting period: `pool_weeks` consecutive weeks."""

    first_week: int
    weeks: int
    domains: tuple[str, ...]
    # The version of the check-in items its weeks were answered with: figures of different
    # versions are never read as one line or one profile (practice.profile). A pooled block
    # the wording changed in takes its newest week's version (the new line starts there).
    items_version: int = 1

    @property
    def last_week(self) -> int:
        return self.first_week + self.weeks - 1

    def label(self) -> str:
        first = Week(self.first_week).label()
        return first if self.weeks == 1 else f"{first} (+{self.weeks - 1} wk)"


@dataclass(frozen=True)
class BlockFigures:
    block: Block
    responses: int
    members: int | None
    # None: too few real answers to show (people who didn't need support are not answers).
    availability: Bands | None
    stress: Bands
    domain_items: dict[str, Bands] = field(default_factory=dict)

    @property
    def participation(self) -> float | None:
        if not self.members:
            return None
        return min(1.0, self.responses / self.members)


@dataclass(frozen=True)
class Suppressed:
    """A closed period below the anonymity minimum: nothing about it but that it exists."""

    block: Block


Reading = BlockFigures | Suppressed


class Surface(StrEnum):
    """Where a look at the figures was shown."""

    TEAMPULSE = "/teampulse"
    CHART = "chart"
    HOME = "App Home"
    SHARE = "share"
    EXPORT = "export"


@dataclass(frozen=True)
class Pulse:
    """What one look read: the blocks, newest first, and (when asked for) the newest block's
    comments."""

    readings: list[Reading]
    comments: list[str]
