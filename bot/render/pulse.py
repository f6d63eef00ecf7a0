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

from bot.content import Library
from bot.render.common import as_dicts, citation_line, escape
from storage.pulse import BlockFigures, Distribution, Reading, Suppressed, participation_reading

NOT_ENOUGH = "not enough answers to show without identifying people"


def _bar(distribution: Distribution) -> str:
    return " · ".join(f"{level}: {n}" for level, n in enumerate(distribution.counts, start=1))


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
        f"*Support available when needed:* mean {figures.availability.mean:.1f} of 5 "
        f"(1 not at all … 5 always; {_bar(figures.availability)})",
        f"*Stress:* mean {figures.stress.mean:.1f} of 5 "
        f"(1 not at all … 5 very much; {_bar(figures.stress)})",
    ]
    for key, item in figures.domain_items.items():
        domain = library.domain(key)
        lines.append(
            f"*“{domain.belief}”:* mean {item.mean:.1f} of 5 agreeing "
            f"({item.total} answered; {_bar(item)})"
        )
    return "\n".join(lines)


def _trend_line(library: Library, reading: Reading) -> str:
    label = f"{reading.block.label()} · {_titles(library, reading.block.domains)}"
    if isinstance(reading, Suppressed):
        return f"{label} · _{NOT_ENOUGH}_"
    return (
        f"{label} · {participation_text(reading)} · support {reading.availability.mean:.1f}"
        f" · stress {reading.stress.mean:.1f}"
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
            f"{latest.availability.mean:.1f}/5, stress {latest.stress.mean:.1f}/5"
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
