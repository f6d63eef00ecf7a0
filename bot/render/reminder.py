"""The midweek check-in reminder, and what turning reminders off or on says back."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.content import Domain
from bot.render.common import as_dicts, escape
from bot.render.prompt import OPEN_CHECKIN, Message

REMINDERS_OFF, REMINDERS_ON = "reminders_off", "reminders_on"


def reminder(team_name: str, channel_id: str, domain: Domain) -> Message:
    text = (
        f"A midweek note from {team_name}: there's still time to check in privately this week. "
        "If you've already checked in, thank you."
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"A midweek note for *{escape(team_name)}*: there's still time to check in "
                    f"privately this week (this week's theme is *{domain.title}*, "
                    f"“{domain.belief}”). It takes about a minute. If you've already checked "
                    "in, thank you: there's nothing more to do."
                )
            )
        ),
        ActionsBlock(
            block_id="reminder",
            elements=[
                ButtonElement(
                    text="Check in privately",
                    action_id=OPEN_CHECKIN,
                    value=channel_id,
                    style="primary",
                ),
                ButtonElement(text="Stop these reminders", action_id=REMINDERS_OFF, value="off"),
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=(
                        "Everyone in the team gets this note once a week, whether they've "
                        "checked in or not, so it says nothing about who has."
                    )
                )
            ]
        ),
    ]
    return Message(text, as_dicts(blocks))


def reminders_changed(on: bool) -> Message:
    if on:
        text = "Reminders are back on: one midweek note a week, the same for everyone in the team."
        button = ButtonElement(text="Stop these reminders", action_id=REMINDERS_OFF, value="off")
    else:
        text = (
            "Done: no more reminders. You can still check in any time with `/checkin`, and turn "
            "reminders back on here or in my Home tab."
        )
        button = ButtonElement(text="Turn reminders on", action_id=REMINDERS_ON, value="on")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id="reminders", elements=[button]),
    ]
    return Message(text, as_dicts(blocks))
