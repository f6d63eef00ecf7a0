"""The weekly channel prompt and the supervisor's reflective questions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content import Domain, Library
from bot.render.common import as_dicts, citation_line, escape

OPEN_CHECKIN = "open_checkin"
WHERE_TO_RESPOND = "Reply in this thread, or bring it to the team meeting: whichever suits you."


@dataclass(frozen=True)
class Message:
    text: str  # notification and screen-reader fallback
    blocks: list[dict[str, Any]]


def weekly_prompt(library: Library, domain: Domain, prompt_index: int, channel_id: str) -> Message:
    prompt = domain.prompts[prompt_index]
    blocks: list[Block] = [
        HeaderBlock(text=f"This week: {domain.title}"),
        SectionBlock(
            text=MarkdownTextObject(text=f"*“{domain.belief}.”*\n{escape(domain.summary)}")
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*A question for us*\n{escape(prompt.question)}\n_{WHERE_TO_RESPOND}_"
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=f"*Try this week*\n{escape(prompt.try_this)}")),
        ActionsBlock(
            block_id="checkin",
            elements=[
                ButtonElement(
                    text="Check in privately",
                    action_id=OPEN_CHECKIN,
                    value=channel_id,
                    style="primary",
                )
            ],
        ),
        citation_line(library.citation),
    ]
    text = f"This week's Secure Base prompt, {domain.title}: {prompt.question}"
    return Message(text, as_dicts(blocks))


def supervisor_reflections(library: Library, domain: Domain, channel_id: str) -> Message:
    questions = "\n".join(f"• {escape(q)}" for q in domain.reflections)
    blocks: list[Block] = [
        HeaderBlock(text=f"Your reflections this week: {domain.title}"),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"Your team in <#{channel_id}> has this week's prompt on *{domain.title}* "
                    f"(“{domain.belief}”). Some questions to ask yourself, when you have a "
                    "quiet moment:"
                )
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=questions)),
        citation_line(library.citation),
    ]
    return Message(f"Your reflective questions this week: {domain.title}", as_dicts(blocks))
