"""Where to get support, shown privately to someone who reports high stress.

It is shown in the check-in modal itself, which turns into a thank-you view on submission.
A view is not kept in message history or in workspace exports, so not even the person's own DM
history records that they reported high stress: the confirmation DM is the same for everyone.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.render.common import citation_line, escape

HIGH_STRESS = 4  # "rather much" or "very much"
SUPPORT_MAX = 1000
DEFAULT_SUPPORT = (
    "You don't have to carry it alone. You could talk to someone you trust, your GP, or your "
    "organisation's employee assistance programme. Samaritans are there day and night on "
    "116 123 (free, UK and Ireland)."
)


def needs_signpost(stress: int) -> bool:
    return stress >= HIGH_STRESS


def support_view(team_name: str, support_text: str | None, citation: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Thank you.* Your check-in for {escape(team_name)} is on its way, stored "
                    "without your name."
                )
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=(f"It sounds like this week has been heavy. {support_text or DEFAULT_SUPPORT}")
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Only you see this note. Nobody else is told what you answered."
                )
            ]
        ),
        citation_line(citation),
    ]
    return View(type="modal", title="Thank you", close="Close", blocks=blocks).to_dict()
