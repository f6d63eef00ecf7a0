"""The private check-in modal and what it says back."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.content import Domain, Library, Scale
from bot.render.common import citation_line

CALLBACK_ID = "checkin"
AVAILABILITY, STRESS, DOMAIN_ITEM, COMMENT = "availability", "stress", "domain_item", "comment"
COMMENT_MAX = 1000


def _radio(block_id: str, label: str, scale: Scale, optional: bool) -> InputBlock:
    options = [
        Option(value=str(value), label=label_text)
        for value, label_text in enumerate(scale.labels, start=1)
    ]
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        element=RadioButtonsElement(action_id=block_id, options=options),
    )


def checkin_modal(
    library: Library,
    domain: Domain,
    channel_id: str,
    team_name: str,
    anonymity_min: int,
    privacy_url: str | None,
) -> dict[str, Any]:
    privacy = (
        f"<{privacy_url}|How your privacy is protected>"
        if privacy_url
        else "How your privacy is protected: PRIVACY.md, shipped with Secure Base."
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*Private check-in for {team_name}.* Your answers are saved without your "
                    "name. Your supervisor sees only anonymous totals, once the week has ended, "
                    f"and only for weeks where at least {anonymity_min} people answered."
                )
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=privacy)]),
        _radio(AVAILABILITY, library.availability.question, library.availability, False),
        _radio(STRESS, library.stress.question, library.stress, False),
        _radio(
            DOMAIN_ITEM,
            f"{domain.checkin_statement}. {library.agreement.question}",
            library.agreement,
            True,
        ),
        InputBlock(
            block_id=COMMENT,
            label="Anything you'd like your supervisor to know? (optional)",
            optional=True,
            hint=PlainTextObject(
                text=(
                    f"Shown only for weeks with at least {anonymity_min} answers, mixed in "
                    "random order and never beside anyone's scores. Slack mentions, e-mails, "
                    "phone numbers, postcodes and links are removed before saving; please "
                    "don't name anyone."
                )
            ),
            element=PlainTextInputElement(
                action_id=COMMENT, multiline=True, max_length=COMMENT_MAX
            ),
        ),
        citation_line(library.citation),
    ]
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Weekly check-in",
        submit="Send privately",
        close="Cancel",
        private_metadata=json.dumps({"channel": channel_id}),
        blocks=blocks,
    )
    return view.to_dict()


def confirmation(team_name: str, replaced: bool) -> str:
    again = " It replaces the one you sent earlier this week." if replaced else ""
    return (
        f"Thank you, your check-in for {team_name} is saved.{again} It is stored without your "
        "name and only ever counted with your colleagues' answers."
    )
