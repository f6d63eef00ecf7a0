"""The supervisor's trend chart: support and stress means per finished period, as a PNG.

Drawn with matplotlib's Agg canvas (no display needed). A period below the anonymity minimum
is a gap in both lines (NaN), marked in words, never a number. A measure whose answers all
fell in one band (low 1–2, middle 3, high 4–5) has no mean, so it is a gap in its own line
too, with the band written where the point would be ("all High (4–5)") and said in the alt
text: a plotted 4.8 or 5.0 would show exactly what everyone chose. The lines differ in style
and marker as well as colour, each point carries its value, and the alt text states every
figure, so the chart reads without colour and without sight.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from bot.content import Library
from bot.render.bands import BAND_WORDS
from storage.pulse import Bands, BlockFigures, Reading
from storage.weeks import Week

ALT_TEXT_MAX = 1000  # Slack's limit for a file's alt text
SIZE_INCHES, DPI = (8.0, 4.5), 100
NUDGE = 0.06
SUPPORT, STRESS = "Support when needed", "Stress"
SUPPORT_COLOUR, STRESS_COLOUR = "#2c4a52", "#b5562f"
BAND_HEIGHTS = {"low": 1.5, "middle": 3.0, "high": 4.5}  # where a one-band label is written
ONE_BAND = (
    "A measure whose answers all fell in one band has no point plotted, as its mean would "
    "show what people chose. "
)
# matplotlib's font cache and text layout are shared state: draw one chart at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ChartImage:
    png: bytes
    alt_text: str
    title: str


def _period(reading: Reading) -> str:
    return reading.block.label()


def _measure(name: str, bands: Bands) -> str:
    band = bands.one_band
    if bands.mean is None and band is not None:
        return f"{name} all {bands.answered} {BAND_WORDS[band]}, not plotted"
    return f"{name} {bands.mean:.1f}"


def _figures(reading: Reading) -> str:
    if not isinstance(reading, BlockFigures):
        return "not enough answers"
    answered = (
        f"{reading.responses} of {reading.members} answered"
        if reading.members
        else f"{reading.responses} answered"
    )
    return (
        f"{_measure('support', reading.availability)}, {_measure('stress', reading.stress)}, "
        f"{answered}"
    )


def _one_band(reading: Reading) -> bool:
    return isinstance(reading, BlockFigures) and None in (
        reading.availability.mean,
        reading.stress.mean,
    )


def alt_text(team_name: str, oldest_first: Sequence[Reading]) -> str:
    intro = (
        f"Line chart of {team_name}'s anonymous team pulse, oldest period first: mean support "
        "when needed and mean stress, each out of 5. "
    )
    if any(_one_band(r) for r in oldest_first):
        intro += ONE_BAND
    parts = [f"{_period(r)}: {_figures(r)}." for r in oldest_first]
    text = intro + " ".join(parts)
    if len(text) > ALT_TEXT_MAX:  # a very long team name: keep every figure, drop the intro
        text = " ".join(parts)
    return text[:ALT_TEXT_MAX]


def _tick(reading: Reading) -> str:
    monday = Week(reading.block.first_week).monday
    return f"{monday.day} {monday:%b}"


def _point(bands: Bands) -> float:
    return math.nan if bands.mean is None else bands.mean


def _one_band_labels(oldest_first: Sequence[Reading]) -> list[tuple[float, float, str, str, str]]:
    """(x, y, words, colour, vertical alignment) for each measure drawn as its band."""
    labels = []
    for x, reading in enumerate(oldest_first):
        if not isinstance(reading, BlockFigures):
            continue
        for name, bands, shift, colour, align in (
            ("support", reading.availability, -NUDGE, SUPPORT_COLOUR, "bottom"),
            ("stress", reading.stress, NUDGE, STRESS_COLOUR, "top"),
        ):
            band = bands.one_band
            if bands.mean is None and band is not None:
                # Named as well as coloured, so it reads without colour.
                words = f"{name}: all\n{BAND_WORDS[band]}"
                labels.append((x + shift, BAND_HEIGHTS[band], words, colour, align))
    return labels


def trend_chart(library: Library, team_name: str, newest_first: Sequence[Reading]) -> ChartImage:
    oldest_first = list(reversed(newest_first))
    support = [
        _point(r.availability) if isinstance(r, BlockFigures) else math.nan for r in oldest_first
    ]
    stress = [_point(r.stress) if isinstance(r, BlockFigures) else math.nan for r in oldest_first]
    positions = list(range(len(oldest_first)))
    title = f"{team_name}: support and stress, last {len(oldest_first)} periods"
    with _DRAWING:
        # Imported here, not at start-up: matplotlib is ~45 MB of every replica's memory, and
        # only supervisors asking for a chart need it.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        # Nudged apart a little, so equal values still show both markers.
        axes.plot(
            [x - NUDGE for x in positions],
            support,
            "o-",
            color=SUPPORT_COLOUR,
            linewidth=2,
            label=SUPPORT,
        )
        axes.plot(
            [x + NUDGE for x in positions],
            stress,
            "s--",
            color=STRESS_COLOUR,
            linewidth=2,
            label=STRESS,
        )
        for x, (reading, up, down) in enumerate(zip(oldest_first, support, stress, strict=True)):
            if not isinstance(reading, BlockFigures):
                axes.text(x, 1.1, "too few\nanswers", ha="center", va="bottom", fontsize=8)
                continue
            # The higher value's label goes above its point, the lower one's below (a lone
            # point's above). A one-band measure (NaN) has no point and no value.
            for value, shift, above in ((up, -NUDGE, not up < down), (down, NUDGE, not down <= up)):
                if math.isnan(value):
                    continue
                axes.annotate(
                    f"{value:.1f}",
                    (x + shift, value),
                    xytext=(0, 7 if above else -13),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                )
        for across, height, words, colour, align in _one_band_labels(oldest_first):
            axes.text(across, height, words, ha="center", va=align, fontsize=7, color=colour)
        axes.set_xticks(
            positions,
            [
                "\n".join([_tick(r), *(library.domain(k).title for k in r.block.domains)])
                for r in oldest_first
            ],
            fontsize=8,
        )
        axes.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
        axes.set_ylim(0.9, 5.3)
        axes.set_yticks([1, 2, 3, 4, 5])
        axes.set_ylabel("Mean, 1 to 5")
        axes.set_title(title, fontsize=11)
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper left", frameon=False, fontsize=9, ncols=2)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return ChartImage(buffer.getvalue(), alt_text(team_name, oldest_first), title)
