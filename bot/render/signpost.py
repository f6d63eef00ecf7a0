"""Where to get support: after a heavy week, on every member's Home tab, and beside the comment
box (whose comments are read only later and can't be answered).

After a heavy week the note is shown in the check-in modal itself, which turns into a
thank-you view on submission. A view is not kept in message history or in workspace exports,
so nothing in Slack records that the person checked in, let alone that they reported high
stress. The same support is on the Home tab of everyone in a team, every week, so finding it
there says nothing about anyone.
"""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

HIGH_STRESS = 4  # "quite a lot" or "very much"
SUPPORT_MAX = 1000
# Where to turn, in the order the note names them; the team's own line (set with
# `/securebase` or `team add --support`) goes between the supervisor and Samaritans.
TRUSTED = ("A colleague you trust", "Your practice supervisor")
DEFAULT_SUPPORT = "Your organisation's employee assistance programme, if it has one"
SAMARITANS = "Samaritans, any time, day or night: 116 123 (free)"
EMERGENCY = "If you or someone else is in immediate danger, call 999."


def needs_signpost(stress: int) -> bool:
    return stress >= HIGH_STRESS


def _where_to_turn(team_supports: Iterable[str | None]) -> str:
    own = list(dict.fromkeys(text.strip() for text in team_supports if text and text.strip()))
    lines = [*TRUSTED, *(own or [DEFAULT_SUPPORT]), SAMARITANS]
    return "\n".join(f"• {line}" for line in lines) + f"\n{EMERGENCY}"


def support_text(team_support: str | None) -> str:
    """The note added to the thank-you view after a heavy week."""
    return (
        "*It sounds like this week has been heavy.* Thank you for saying so. This note is "
        "shown to anyone who answers that way.\n*If it would help to talk to someone:*\n"
        + _where_to_turn([team_support])
    )


def home_support(team_supports: Iterable[str | None]) -> SectionBlock:
    """The same support, always on a member's Home tab (every team's own line, once each)."""
    return SectionBlock(
        block_id="support",
        text=MarkdownTextObject(
            text=(
                "*If things feel heavy*\nYou don't need a bad week to reach out. You could "
                "talk to:\n" + _where_to_turn(team_supports)
            )[:3000]
        ),
    )


def comment_hint(anonymity_min: int) -> str:
    """What the comment box says about itself, where it is typed into."""
    return (
        "Read by your supervisor only after the week has closed, and only for weeks with at "
        f"least {anonymity_min} answers: unsigned, in random order and never beside anyone's "
        "scores. Comments can't be answered, so if you need help now, please don't wait: talk "
        "to your supervisor or someone you trust, or call Samaritans free on 116 123 (999 in "
        "an emergency). Slack mentions, e-mails, phone numbers, postcodes and links are "
        "removed before saving; please don't name anyone."
    )
