"""Small shared pieces of Block Kit."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

# The privacy promise, in the words PRIVACY.md uses; the check-in form, the team introduction,
# the README and the app's manifest say the same (tests/test_privacy_document.py keeps them
# together).
STORED_WITHOUT_NAME = (
    "Your answers are stored without your name. While the week is open they are locked under a "
    "key that is kept outside the database; when the week ends they are unlocked, shuffled and "
    "stored with nothing that points to you."
)


COMMENTS_UNSIGNED = "Comments are shown word for word, unsigned."
LOOKS_ARE_SEEN = "Everyone in the team can see each time a supervisor looks (`/teampulse log`)."


def supervisor_sees(anonymity_min: int) -> str:
    return (
        "Your supervisor sees only team totals, after the week has ended, and only when at "
        f"least {anonymity_min} people answered."
    )


def promise(anonymity_min: int) -> tuple[str, str, str]:
    """PRIVACY.md's "In short", one line each: what is kept, what the supervisor sees, what
    the team sees."""
    return (
        STORED_WITHOUT_NAME,
        f"{supervisor_sees(anonymity_min)} {COMMENTS_UNSIGNED}",
        LOOKS_ARE_SEEN,
    )


def citation_line(citation: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=f"_{citation}_")])


def as_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
