"""A finished period's summary as the supervisor shares it with the team channel.

Only figures that already met the anonymity minimum; never comments (they were written for the
supervisor, not for the channel).
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content import Library, Scale
from bot.render.bands import item_reading, scale_ends, support_reading
from bot.render.common import as_dicts, citation_line
from bot.render.home import SHARE_PERIOD, domain_titles, share_value
from bot.render.prompt import Message
from bot.render.pulse import short_figure
from bot.render.talking import SHARE_QUESTION, talking_button
from practice.figures import Bands, BlockFigures


def _answered(figures: BlockFigures) -> str:
    if figures.members:
        return f"{figures.responses} of {figures.members} of us checked in"
    return f"{figures.responses} of us checked in"


def _item(title: str, scale: Scale, bands: Bands | None) -> str:
    """ "• Stress (1 not at all … 5 very much): 2 of 6 said quite a lot or very much (average
    3.0 of 5); …", or for a one-band item "all 5 said …" and no average."""
    return f"• {title} ({scale_ends(scale)}): {item_reading(scale, bands)}"


def team_summary(
    library: Library, figures: BlockFigures, anonymity_min: int, shared_by: str
) -> Message:
    label = figures.block.label()
    titles = domain_titles(library, figures.block.domains)
    lines = [
        f"• {_answered(figures)}",
        f"• Support when needed ({scale_ends(library.availability)}): "
        + support_reading(library.availability, figures),
        _item("Stress", library.stress, figures.stress),
    ]
    for key, item in figures.domain_items.items():
        title = library.item_title(key, figures.block.items_version)
        lines.append(_item(f"“{title}”", library.agreement, item))
    blocks: list[Block] = [
        HeaderBlock(text=f"How we've been: {label}"),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"The theme was *{titles}*. Here is what we said together, as anonymous "
                    "totals:\n" + "\n".join(lines)
                )
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "Thank you to everyone who checked in. Over to us, in the thread or at the "
                    f"team meeting: {SHARE_QUESTION}"
                )
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"Shared by <@{shared_by}>. Totals are only ever shown for periods where "
                        f"at least {anonymity_min} people answered, and never anyone's own "
                        "answers."
                    )
                )
            ]
        ),
        citation_line(library.citation),
    ]
    text = (
        f"How we've been, {label}: {_answered(figures)}; support "
        f"{short_figure(figures.availability, ' of 5')}, "
        f"stress {short_figure(figures.stress, ' of 5')}"
    )
    return Message(text, as_dicts(blocks))


def share_offer(channel_id: str, figures: BlockFigures) -> Message:
    """The message under the chart DM offering to share the newest shown period."""
    label = figures.block.label()
    text = f"Would you like to share {label} with the team? Only the totals above are posted."
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"Would you like to share *{label}* with the team in <#{channel_id}>? "
                    "Only the anonymous totals are posted, never comments."
                )
            )
        ),
        ActionsBlock(
            block_id="share",
            elements=[
                ButtonElement(
                    text=f"Share {label} with the team"[:75],
                    action_id=SHARE_PERIOD,
                    value=share_value(channel_id, figures.block.first_week),
                ),
                talking_button(),
            ],
        ),
    ]
    return Message(text, as_dicts(blocks))
