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

from bot.content import Library
from bot.render.common import as_dicts, citation_line
from bot.render.home import SHARE_PERIOD, domain_titles, share_value, text_bar
from bot.render.prompt import Message
from storage.pulse import BlockFigures


def _answered(figures: BlockFigures) -> str:
    if figures.members and figures.participation is not None:
        return (
            f"{figures.responses} of {figures.members} of us checked in "
            f"({figures.participation:.0%})"
        )
    return f"{figures.responses} of us checked in"


def team_summary(
    library: Library, figures: BlockFigures, anonymity_min: int, shared_by: str
) -> Message:
    label = figures.block.label()
    titles = domain_titles(library, figures.block.domains)
    lines = [
        f"• {_answered(figures)}",
        f"• Could get support when needed: {text_bar(figures.availability.mean)} out of 5 "
        "(5 is always)",
        f"• Stress: {text_bar(figures.stress.mean)} out of 5 (5 is very much)",
    ]
    for key, item in figures.domain_items.items():
        domain = library.domain(key)
        lines.append(f"• “{domain.belief}”: {text_bar(item.mean)} out of 5 agreeing")
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
                text="Thank you to everyone who checked in. What's one thing worth keeping?"
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        f"Shared by <@{shared_by}>. Totals are only ever shown for periods where "
                        f"at least {anonymity_min} people answered; nobody's own answers can be "
                        "seen."
                    )
                )
            ]
        ),
        citation_line(library.citation),
    ]
    text = (
        f"How we've been, {label}: {_answered(figures)}; support "
        f"{figures.availability.mean:.1f} of 5, stress {figures.stress.mean:.1f} of 5"
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
                )
            ],
        ),
    ]
    return Message(text, as_dicts(blocks))
