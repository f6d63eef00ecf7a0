"""The "talking about it" card: a few lines for a supervisor on sharing results with the team.

Opened from a button under `/teampulse`, on the supervisor's Home tab, under the chart's share
offer and after a share. It holds no figures, so anyone who presses the button may read it.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.common import as_dicts, citation_line

TALKING = "talking_card"
BUTTON_TEXT = "Talking about it with the team"
SHARE_QUESTION = "what's one thing worth keeping, and one thing we could change?"
# The export's description says the same (bot/cli.py).
FOR_LEARNING = (
    "The figures are for the team's own learning and for reflective supervision. They are "
    "never used for appraisal, capability procedures, performance management or comparing teams."
)
STEPS = (
    (
        "Share them within a week.",
        "Bring the period's totals to the team while the weeks are still fresh: the share "
        "button posts them in the channel, or take them to the next team meeting.",
    ),
    (
        "Say what you see, never guess who said it.",
        "“Fewer of us felt support was there when we needed it” opens a conversation. Wondering "
        "whose answer a figure was closes it, and makes honest answers harder next time.",
    ),
    (
        "Ask what it means to them.",
        "The team knows the weeks behind the numbers: what was going on, what helped, what got "
        "in the way. Their reading matters more than yours.",
    ),
    (
        "Agree one small change.",
        "One thing to try, small enough for a busy week, with someone who'll keep it going. "
        "Look again together in a few weeks.",
    ),
    ("Keep it for learning.", FOR_LEARNING),
)


def talking_button(suffix: str = "") -> ButtonElement:
    """The button that opens the card; `suffix` keeps action ids unique within a view."""
    return ButtonElement(text=BUTTON_TEXT, action_id=f"{TALKING}{suffix}", value="card")


def talking_actions(block_id: str = "talking") -> ActionsBlock:
    return ActionsBlock(block_id=block_id, elements=[talking_button()])


def with_card_button(line: str) -> list[dict[str, Any]]:
    """A one-line reply with the card's button under it (after the share button)."""
    return as_dicts([SectionBlock(text=MarkdownTextObject(text=line)), talking_actions()])


def talking_card(citation: str) -> dict[str, Any]:
    """The card, as a modal."""
    steps = "\n".join(
        f"{number}. *{title}* {detail}" for number, (title, detail) in enumerate(STEPS, start=1)
    )
    blocks = [
        HeaderBlock(text="Talking with your team about the results"),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    "The figures are a way into a conversation, not a verdict on anyone. A few "
                    f"things that help:\n{steps}"
                )
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"A question to open with: “{SHARE_QUESTION.capitalize()}”"
                ),
            ]
        ),
        citation_line(citation),
    ]
    return View(type="modal", title="Talking about it", close="Close", blocks=blocks).to_dict()
