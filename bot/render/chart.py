"""The supervisor's trend chart: support and stress averages per finished period, as a PNG.

Drawn with matplotlib's Agg canvas (no display needed). A period below the anonymity minimum
is a gap in both lines (NaN), marked in words, never a number. A measure whose answers all
fell in one band (low 1–2, middle 3, high 4–5) has no average, so it is a gap in its own line
too, with the band written where the point would be ("all High (4–5)") and said in the alt
text: a plotted 4.8 or 5.0 would show exactly what everyone chose. The points either side of a
gap are joined by a thin dashed line, never left as lone dots. The lines differ in marker as
well as colour, the legend says which way is good for each, each point carries its value, the
date axis carries the year, and the alt text states every figure, so the chart reads without
colour and without sight.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from bot.content import Library
from bot.render.bands import BAND_WORDS, TOO_FEW
from practice.figures import Bands, BlockFigures, Reading
from practice.weeks import Week

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ALT_TEXT_MAX = 1000  # Slack's limit for a file's alt text
SIZE_INCHES, DPI = (8.0, 4.5), 100
NUDGE = 0.06
SUPPORT, STRESS = "Support when needed (higher is better)", "Stress (lower is better)"
BRIDGE = "Dashed: joined across a period with no point"
TICK_SIZE = 10
SUPPORT_COLOUR, STRESS_COLOUR = "#2c4a52", "#b5562f"
BAND_HEIGHTS = {"low": 1.5, "middle": 3.0, "high": 4.5}  # where a one-band label is written
ONE_BAND = (
    "A measure whose answers all fell in one band has no point plotted, as its average would "
    "show what people chose. "
)
BRIDGED = "A dashed line joins the points either side of a period with no point. "
# matplotlib's font cache and text layout are shared state: draw one chart at a time.
_DRAWING = threading.RLock()


@dataclass(frozen=True)
class ChartImage:
    png: bytes
    alt_text: str
    title: str


def _period(reading: Reading) -> str:
    return reading.block.label()


def _measure(name: str, bands: Bands | None) -> str:
    if bands is None:
        return f"{name} not plotted, {TOO_FEW}"
    band = bands.one_band
    if bands.mean is not None:
        return f"{name} {bands.mean:.1f}"
    if band is not None:
        return f"{name} all {bands.answered} {BAND_WORDS[band]}, not plotted"
    return f"{name} not plotted"


def _figures(reading: Reading) -> str:
    if not isinstance(reading, BlockFigures):
        return "not enough answers"
    answered = (
        f"{reading.responses} of {reading.members} checked in"
        if reading.members
        else f"{reading.responses} checked in"
    )
    return (
        f"{_measure('support', reading.availability)}, {_measure('stress', reading.stress)}, "
        f"{answered}"
    )


def _one_band(reading: Reading) -> bool:
    return isinstance(reading, BlockFigures) and any(
        bands is not None and bands.mean is None and bands.one_band is not None
        for bands in (reading.availability, reading.stress)
    )


def alt_text(team_name: str, oldest_first: Sequence[Reading]) -> str:
    intro = (
        f"Line chart of {team_name}'s anonymous team pulse, oldest period first: average "
        "support when needed (higher is better) and average stress (lower is better), each "
        "out of 5. "
    )
    if any(_one_band(r) for r in oldest_first):
        intro += ONE_BAND
    versions = _versions(oldest_first)
    if any(_bridges(line, versions) for line in _lines(oldest_first)):
        intro += BRIDGED
    for start in _segment_starts(versions)[1:]:
        intro += (
            f"The check-in questions were reworded from {_period(oldest_first[start])}: the "
            "lines break there. "
        )
    parts = [f"{_period(r)}: {_figures(r)}." for r in oldest_first]
    text = intro + " ".join(parts)
    if len(text) > ALT_TEXT_MAX:  # a very long team name: keep every figure, drop the intro
        text = " ".join(parts)
    return text[:ALT_TEXT_MAX]


def _ticks(library: Library, oldest_first: Sequence[Reading]) -> list[str]:
    """ "23 Nov 2026" (the year on the first tick and wherever it changes, else "30 Nov"), then
    the period's themes."""
    ticks, year = [], None
    for reading in oldest_first:
        monday = Week(reading.block.first_week).monday
        date = f"{monday.day} {monday:%b}" + ("" if monday.year == year else f" {monday.year}")
        year = monday.year
        ticks.append("\n".join([date, *(library.domain(k).title for k in reading.block.domains)]))
    return ticks


def _point(bands: Bands | None) -> float:
    return math.nan if bands is None or bands.mean is None else bands.mean


def _lines(oldest_first: Sequence[Reading]) -> tuple[list[float], list[float]]:
    """The support and the stress line: an average per period, NaN where there is none."""
    support = [
        _point(r.availability) if isinstance(r, BlockFigures) else math.nan for r in oldest_first
    ]
    stress = [_point(r.stress) if isinstance(r, BlockFigures) else math.nan for r in oldest_first]
    return support, stress


def _versions(oldest_first: Sequence[Reading]) -> list[int]:
    return [reading.block.items_version for reading in oldest_first]


def _segment_starts(versions: Sequence[int]) -> list[int]:
    """Where each run of periods answered with one version of the questions begins."""
    return [x for x, version in enumerate(versions) if x == 0 or versions[x - 1] != version]


def _bridges(values: Sequence[float], versions: Sequence[int]) -> list[tuple[int, int]]:
    """Each pair of points with only gaps (NaN) between them, answered with the same version
    of the questions: (before, after). A line never joins two versions."""
    shown = [x for x, value in enumerate(values) if not math.isnan(value)]
    return [(a, b) for a, b in pairwise(shown) if b > a + 1 and versions[a] == versions[b]]


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
            band = None if bands is None else bands.one_band
            if bands is not None and bands.mean is None and band is not None:
                # Named as well as coloured, so it reads without colour.
                words = f"{name}: all\n{BAND_WORDS[band]}"
                labels.append((x + shift, BAND_HEIGHTS[band], words, colour, align))
    return labels


def chart_figure(library: Library, team_name: str, newest_first: Sequence[Reading]) -> Figure:
    """The chart as a matplotlib figure (trend_chart draws it to a PNG)."""
    oldest_first = list(reversed(newest_first))
    support, stress = _lines(oldest_first)
    positions = list(range(len(oldest_first)))
    versions = _versions(oldest_first)
    starts = _segment_starts(versions)
    segments = [range(a, b) for a, b in pairwise([*starts, len(positions)])]
    with _DRAWING:
        # Imported here, not at start-up: matplotlib is ~45 MB of every replica's memory, and
        # only supervisors asking for a chart need it.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        # Nudged apart a little, so equal values still show both markers. Both lines are solid;
        # they differ in marker (circle, square) and colour, and the legend names each.
        bridged = False
        for values, shift, style, colour, label in (
            (support, -NUDGE, "o-", SUPPORT_COLOUR, SUPPORT),
            (stress, NUDGE, "s-", STRESS_COLOUR, STRESS),
        ):
            for n, segment in enumerate(segments):  # one version of the questions each
                axes.plot(
                    [x + shift for x in segment],
                    [values[x] for x in segment],
                    style,
                    color=colour,
                    linewidth=2,
                    markersize=7,
                    label=label if n == 0 else "_nolegend_",
                )
            for before, after in _bridges(values, versions):
                bridged = True
                axes.plot(
                    [before + shift, after + shift],
                    [values[before], values[after]],
                    "--",
                    color=colour,
                    linewidth=1.5,
                    gid="bridge",
                )
        for x, (reading, up, down) in enumerate(zip(oldest_first, support, stress, strict=True)):
            if not isinstance(reading, BlockFigures):
                axes.text(x, 1.1, "too few\nanswers", ha="center", va="bottom", fontsize=9)
                continue
            # The higher value's label goes above its point, the lower one's below (a lone
            # point's above). A one-band measure (NaN) has no point and no value.
            for value, shift, above in ((up, -NUDGE, not up < down), (down, NUDGE, not down <= up)):
                if math.isnan(value):
                    continue
                axes.annotate(
                    f"{value:.1f}",
                    (x + shift, value),
                    xytext=(0, 7 if above else -15),
                    textcoords="offset points",
                    ha="center",
                    fontsize=9,
                )
        for start in starts[1:]:
            axes.axvline(start - 0.5, linestyle=":", color="#555555", linewidth=1, gid="reworded")
            # Along the line, low down: clear of the legend above.
            axes.text(
                start - 0.53,
                1.0,
                "new wording of the questions",
                rotation=90,
                ha="right",
                va="bottom",
                fontsize=8,
            )
        for across, height, words, colour, align in _one_band_labels(oldest_first):
            axes.text(across, height, words, ha="center", va=align, fontsize=8, color=colour)
        axes.set_xticks(positions, _ticks(library, oldest_first), fontsize=TICK_SIZE)
        axes.tick_params(axis="y", labelsize=TICK_SIZE)
        axes.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
        axes.set_ylim(0.9, 5.3)
        axes.set_yticks([1, 2, 3, 4, 5])
        axes.set_ylabel("Average, 1 to 5", fontsize=TICK_SIZE)
        axes.set_xlabel("Week beginning", fontsize=TICK_SIZE)
        axes.set_title(_title(team_name, oldest_first), fontsize=12)
        axes.grid(axis="y", alpha=0.3)
        handles, labels = axes.get_legend_handles_labels()
        if bridged:
            handles.append(Line2D([], [], linestyle="--", color="#555555", linewidth=1.5))
            labels.append(BRIDGE)
        axes.legend(handles, labels, loc="upper left", frameon=False, fontsize=9, ncols=2)
        figure.tight_layout()
    return figure


def _title(team_name: str, oldest_first: Sequence[Reading]) -> str:
    return f"{team_name}: support and stress, last {len(oldest_first)} periods"


def trend_chart(library: Library, team_name: str, newest_first: Sequence[Reading]) -> ChartImage:
    oldest_first = list(reversed(newest_first))
    with _DRAWING:
        figure = chart_figure(library, team_name, newest_first)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return ChartImage(
        buffer.getvalue(), alt_text(team_name, oldest_first), _title(team_name, oldest_first)
    )
