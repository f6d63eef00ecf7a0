"""How an item's figures read on every surface: numbers first, each level in the scale's own
words. "4 of 6 said most of the time or always (average 3.8 of 5); 1 said sometimes, 1 said
rarely or never". The three levels are the bands: high (4–5), middle (3) and low (1–2). Never a
count per scale point: when a group answers alike, counts per point would show what every
person chose.

When one band holds every answer it reads "all N said …" and has no average (the query
withholds it): an average of 4.8 or 5.0 from a group all in the high band would show exactly
what was chosen.
"""

from __future__ import annotations

from bot.content import Scale
from practice.figures import Bands, BlockFigures, Reading

BAND_WORDS = {"low": "Low (1–2)", "middle": "Middle (3)", "high": "High (4–5)"}
NO_MEAN = "no average, as every answer fell in one band"
# An item with too few real answers of its own (e.g. most didn't need support that week).
TOO_FEW = "too few answers to show"
# The order a reading names the bands in: the top of the scale first.
READING_ORDER = ("high", "middle", "low")


def scale_ends(scale: Scale) -> str:
    """The scale's own end labels: "1 not at all … 5 very much"."""
    return f"1 {scale.labels[0].lower()} … 5 {scale.labels[-1].lower()}"


def band_phrases(scale: Scale) -> dict[str, str]:
    """Each band in the scale's words: high "most of the time or always", middle "sometimes",
    low "rarely or never" (the label next to the middle first, so it reads naturally)."""
    labels = [label.lower() for label in scale.labels]
    return {
        "high": f"{labels[3]} or {labels[4]}",
        "middle": labels[2],
        "low": f"{labels[1]} or {labels[0]}",
    }


def item_reading(scale: Scale, bands: Bands | None) -> str:
    """The item in words, numbers first: "4 of 6 said most of the time or always (average 3.8
    of 5); 1 said sometimes, 1 said rarely or never", or for a one-band item "all 5 said most
    of the time or always (no average, as every answer fell in one band)"; TOO_FEW for an item
    the query gave no figures."""
    if bands is None:
        return TOO_FEW
    words = band_phrases(scale)
    whole = bands.one_band
    if whole is not None:
        return f"all {bands.answered} said {words[whole]} ({NO_MEAN})"
    top, *rest = READING_ORDER
    # The query gives an average to every item not in one band; never fail a request if not.
    average = "no average" if bands.mean is None else f"average {bands.mean:.1f} of 5"
    head = f"{getattr(bands, top)} of {bands.answered} said {words[top]} ({average})"
    others = ", ".join(f"{getattr(bands, band)} said {words[band]}" for band in rest)
    return f"{head}; {others}"


def support_reading(scale: Scale, figures: BlockFigures) -> str:
    """The support item, and how many more checked in who didn't need any: "4 of 6 said …;
    2 more chose “I didn't need any this week”". That count is only ever said beside figures
    that met the minimum (it is the check-ins less those answers, both shown already)."""
    reading = item_reading(scale, figures.availability)
    shown = figures.availability
    if shown is None or scale.not_needed is None or figures.responses <= shown.answered:
        return reading
    return f"{reading}; {figures.responses - shown.answered} more chose “{scale.not_needed}”"


def whole_band(bands: Bands) -> str:
    """In place of an average, for an item with none: "all High (4–5)"."""
    whole = bands.one_band
    return "no average" if whole is None else f"all {BAND_WORDS[whole]}"


def reworded(newer: Reading, older: Reading) -> str | None:
    """What a trend says between two periods answered with different versions of the
    check-in questions (their figures are not one measure), or None for the same version."""
    if newer.block.items_version == older.block.items_version:
        return None
    return (
        f"New wording of the check-in questions from {newer.block.label()}: the periods "
        "before it are not the same measure."
    )
