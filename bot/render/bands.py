"""How an item's figures read on every surface: how many answered, the mean, and how many
fell in each band, low (1–2), middle (3) and high (4–5). Never a count per level: when a
group answers alike, counts per level would show what every person chose.

When one band holds every answer it reads "all N" and has no mean (the query withholds it):
a mean of 4.8 or 5.0 from a group all in the high band would show exactly what was chosen.
"""

from __future__ import annotations

from bot.content import Scale
from storage.pulse import BANDS, Bands

BAND_WORDS = {"low": "Low (1–2)", "middle": "Middle (3)", "high": "High (4–5)"}
NO_MEAN = "no mean, as everyone is in one band"


def scale_ends(scale: Scale) -> str:
    """The scale's own end labels: "1 not at all … 5 very much"."""
    return f"1 {scale.labels[0].lower()} … 5 {scale.labels[-1].lower()}"


def band_counts(bands: Bands) -> str:
    """ "Low (1–2): 1 · Middle (3): 3 · High (4–5): 2", or "High (4–5): all 5"."""
    whole = bands.one_band
    if whole is not None:
        return f"{BAND_WORDS[whole]}: all {bands.answered}"
    return " · ".join(f"{BAND_WORDS[band]}: {getattr(bands, band)}" for band in BANDS)


def whole_band(bands: Bands) -> str:
    """In place of a mean, for an item with none: "all High (4–5)"."""
    whole = bands.one_band
    assert whole is not None, "only a one-band item has its mean withheld"
    return f"all {BAND_WORDS[whole]}"
