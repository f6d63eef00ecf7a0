"""Where to get support, shown privately to someone who reports high stress.

It is shown in the check-in modal itself, which turns into a thank-you view on submission.
A view is not kept in message history or in workspace exports, so nothing in Slack records that
the person checked in, let alone that they reported high stress.
"""

from __future__ import annotations

HIGH_STRESS = 4  # "quite a lot" or "very much"
SUPPORT_MAX = 1000
DEFAULT_SUPPORT = (
    "You don't have to carry it alone. You could talk to someone you trust, your GP, or your "
    "organisation's employee assistance programme. Samaritans are there day and night on "
    "116 123 (free, UK and Ireland)."
)


def needs_signpost(stress: int) -> bool:
    return stress >= HIGH_STRESS


def support_text(team_support: str | None) -> str:
    """The note added to the thank-you view after a heavy week."""
    return f"It sounds like this week has been heavy. {team_support or DEFAULT_SUPPORT}"
