"""The supervisor's anonymised team picture, as text that reads without colour or charts."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content import Library, Scale
from bot.render.bands import NO_MEAN, band_counts, scale_ends, whole_band
from bot.render.common import as_dicts, citation_line, escape
from storage.pulse import Bands, BlockFigures, Reading, Suppressed, participation_reading

NOT_ENOUGH = "not enough answers to show without identifying people"


def item_line(title: str, scale: Scale, bands: Bands) -> str:
    """One item in full: how many answered, the mean (none for a one-band item), the bands."""
    mean = NO_MEAN if bands.mean is None else f"mean {bands.mean:.1f} of 5"
    return (
        f"*{title}* ({scale_ends(scale)}): {bands.answered} answered, {mean} · {band_counts(bands)}"
    )


def short_figure(bands: Bands, out_of: str = "") -> str:
    """The mean to one decimal (then `out_of`), or "all High (4–5)" for a one-band item."""
    return whole_band(bands) if bands.mean is None else f"{bands.mean:.1f}{out_of}"


def _titles(library: Library, keys: tuple[str, ...]) -> str:
    return " + ".join(library.domain(key).title for key in keys)


def participation_text(figures: BlockFigures) -> str:
    rate = figures.participation
    if rate is None:
        return f"{figures.responses} answers"
    return (
        f"{figures.responses} of {figures.members} answered "
        f"({rate:.0%}, {participation_reading(rate)})"
    )


def _detail(library: Library, figures: BlockFigures) -> str:
    lines = [
        f"*Responses:* {participation_text(figures)}",
        item_line("Support available when needed", library.availability, figures.availability),
        item_line("Stress", library.stress, figures.stress),
    ]
    for key, item in figures.domain_items.items():
        lines.append(item_line(f"“{library.domain(key).belief}”", library.agreement, item))
    return "\n".join(lines)


def _trend_line(library: Library, reading: Reading) -> str:
    label = f"{reading.block.label()} · {_titles(library, reading.block.domains)}"
    if isinstance(reading, Suppressed):
        return f"{label} · _{NOT_ENOUGH}_"
    return (
        f"{label} · {participation_text(reading)} · support {short_figure(reading.availability)}"
        f" · stress {short_figure(reading.stress)}"
    )


def pulse_blocks(
    library: Library,
    team_name: str,
    readings: list[Reading],
    comments: list[str],
    anonymity_min: int,
    weeks: int,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for `/teampulse`. `readings` are newest first."""
    blocks: list[Block] = [
        HeaderBlock(text=f"Team pulse: {team_name}"[:150]),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "Anonymous totals from finished weeks only. A period with fewer than "
                        f"{anonymity_min} answers is never shown. Each time you look, your team "
                        "can see that you did (`/teampulse log`)."
                    )
                )
            ]
        ),
    ]
    if not readings:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "No finished weeks yet. The first picture appears once the first "
                        "week has closed."
                    )
                )
            )
        )
        return f"Team pulse for {team_name}: no finished weeks yet", as_dicts(blocks)
    latest = readings[0]
    heading = f"*Latest: {latest.block.label()}* · {_titles(library, latest.block.domains)}"
    if isinstance(latest, Suppressed):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"{heading}\n_{NOT_ENOUGH}_.")))
        summary = f"Team pulse for {team_name}: latest period has {NOT_ENOUGH}"
    else:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=f"{heading}\n{_detail(library, latest)}"))
        )
        summary = (
            f"Team pulse for {team_name}: {participation_text(latest)}, support "
            f"{short_figure(latest.availability, '/5')}, stress {short_figure(latest.stress, '/5')}"
        )
        if comments:
            quoted = "\n".join(f"> {escape(c)}" for c in comments)[:2900]
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"*What people added (random order)*\n{quoted}")
                )
            )
    blocks.append(DividerBlock())
    trend = "\n".join(_trend_line(library, reading) for reading in readings)
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=f"*Last {weeks} weeks, newest first*\n{trend}"[:3000])
        )
    )
    blocks.append(citation_line(library.citation))
    return summary, as_dicts(blocks)
