"""Figures, the printed table and bench/results.md."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import ratio


@dataclass(frozen=True)
class Figure:
    """One measurement beside its baseline. `goal(figure)` says whether it is good enough
    (mostly a bound on the ratio); figures without a goal are there for growth and context."""

    key: str  # stable identifier, e.g. "ack.p99.50"
    label: str
    value: float
    baseline: float
    unit: str
    baseline_label: str
    goal_text: str = ""
    goal: Callable[[Figure], bool] | None = field(default=None, compare=False)

    @property
    def ratio(self) -> float:
        return ratio(self.value, self.baseline)

    @property
    def met(self) -> bool | None:
        if self.goal is None or math.isnan(self.ratio):
            return None
        return self.goal(self)


@dataclass
class Section:
    number: int
    title: str
    goal: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown blocks (plans, setups)

    def keys(self) -> list[str]:
        return [f.key for f in self.figures]


def growth(key: str, label: str, big: float, small: float, unit: str, small_label: str) -> Figure:
    """How a cost grew from the small size to the big one: the ratio is the growth factor."""
    return Figure(key, label, big, small, unit, small_label)


def ratio_at_most(bound: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.ratio <= bound


def ratio_at_least(bound: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.ratio >= bound


def value_below(bound: float) -> Callable[[Figure], bool]:
    return lambda figure: figure.value < bound


def number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"


def verdict(figure: Figure) -> str:
    met = figure.met
    return "" if met is None else ("met" if met else "MISSED")


def rows(sections: list[Section]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for section in sections:
        for f in section.figures:
            out.append(
                (
                    str(section.number),
                    f.label,
                    number(f.value, f.unit),
                    f"{number(f.baseline, f.unit)} ({f.baseline_label})",
                    "n/a" if math.isnan(f.ratio) else f"{f.ratio:.2f}",
                    f.goal_text,
                    verdict(f),
                )
            )
    return out


HEADER = ("#", "figure", "value", "baseline", "ratio", "goal", "")


def text_table(sections: list[Section]) -> str:
    table = [HEADER, *rows(sections)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


@dataclass(frozen=True)
class Earlier:
    """The results a run replaces: when they were measured, and each figure's value and ratio
    by its label (the before of each before/after)."""

    date: str
    figures: dict[str, tuple[str, str]]


def earlier(text: str) -> Earlier | None:
    """What an earlier results.md said (None when it holds no figures)."""
    date, figures = "", {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == "date":
            date = cells[1]
        elif len(cells) >= len(HEADER) and cells[0].isdigit():
            figures[cells[1]] = (cells[2], cells[4])
    return Earlier(date, figures) if figures else None


def _before(before: Earlier, label: str) -> str:
    found = before.figures.get(label)
    if found is None:
        return "new"
    value, ratio = found
    return value if ratio == "n/a" else f"{value} (×{ratio})"


def markdown(
    sections: list[Section],
    machine: list[tuple[str, str]],
    preface: str,
    before: Earlier | None = None,
) -> str:
    out = ["# Secure Base benchmarks", "", preface, "", "## Machine", ""]
    out += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine), ""]
    header = HEADER if before is None else (*HEADER, f"before ({before.date[:10]})")
    out += ["## Results", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for r in rows(sections):
        cells = r if before is None else (*r, _before(before, r[1]))
        out.append("| " + " | ".join(cells) + " |")
    for section in sections:
        out += ["", f"## {section.number}. {section.title}", "", f"Goal: {section.goal}", ""]
        out += [f"- {note}" for note in section.notes]
        for block in section.details:
            out += ["", block]
    return "\n".join(out) + "\n"


def write(path: Path, text: str) -> None:
    path.write_text(text)
