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
from bot.render.bands import (
    TOO_FEW,
    item_reading,
    reworded,
    scale_ends,
    support_reading,
    whole_band,
)
from bot.render.common import as_dicts, citation_line, escape
from bot.render.talking import talking_actions
from practice.figures import Bands, BlockFigures, Reading, Suppressed

NOT_ENOUGH = "not enough answers to show without identifying people"
# Said wherever a supervisor reads participation: how to read a quiet week, and how not to.
PARTICIPATION_NOTE = (
    "Fewer answers can mean a busy week or low trust. It is never a reason to ask who didn't "
    "check in."
)


def item_line(title: str, scale: Scale, bands: Bands | None) -> str:
    """One item in full: "*Stress* (1 not at all … 5 very much): 2 of 6 said …"."""
    return f"*{title}* ({scale_ends(scale)}): {item_reading(scale, bands)}"


def short_figure(bands: Bands | None, out_of: str = "") -> str:
    """The average to one decimal (then `out_of`), or "all High (4–5)" for a one-band item."""
    if bands is None:
        return TOO_FEW
    return whole_band(bands) if bands.mean is None else f"{bands.mean:.1f}{out_of}"


def _titles(library: Library, keys: tuple[str, ...]) -> str:
    return " + ".join(library.domain(key).title for key in keys)


def participation_text(figures: BlockFigures) -> str:
    """ "6 of 9 checked in": answers over the week's roster (or just the answers, for a week
    from before rosters were kept)."""
    if not figures.members:
        return f"{figures.responses} checked in"
    return f"{figures.responses} of {figures.members} checked in"


def _detail(library: Library, figures: BlockFigures) -> str:
    lines = [
        f"*Responses:* {participation_text(figures)}. _{PARTICIPATION_NOTE}_",
        f"*Support when needed* ({scale_ends(library.availability)}): "
        + support_reading(library.availability, figures),
        item_line("Stress", library.stress, figures.stress),
    ]
    for key, item in figures.domain_items.items():
        title = library.item_title(key, figures.block.items_version)
        lines.append(item_line(f"“{title}”", library.agreement, item))
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
        blocks.append(talking_actions())
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
            f"{short_figure(latest.availability, ' of 5')}, "
            f"stress {short_figure(latest.stress, ' of 5')}"
        )
        if comments:
            quoted = "\n".join(f"> {escape(c)}" for c in comments)[:2900]
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"*What people added (random order)*\n{quoted}")
                )
            )
    blocks.append(DividerBlock())
    lines = []
    for newer, older in zip(readings, [*readings[1:], None], strict=True):
        lines.append(_trend_line(library, newer))
        change = None if older is None else reworded(newer, older)
        if change:
            lines.append(f"_{change}_")
    trend = "\n".join(lines)
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=f"*Last {weeks} weeks, newest first*\n{trend}"[:3000])
        )
    )
    blocks.append(talking_actions())
    blocks.append(citation_line(library.citation))
    return summary, as_dicts(blocks)
