"""What a skipped week holds back: the weekly job's own deliveries, named as its ledger names
them (see storage.skips for how they are held)."""

from __future__ import annotations

from storage.deliveries import DeliveryKind
from storage.models import Team
from storage.skips import Entry


def week_entries(team: Team) -> list[Entry]:
    """The channel prompt and each supervisor's reflections, as (kind, recipient)."""
    return [
        (DeliveryKind.PROMPT, team.channel_id),
        *((DeliveryKind.REFLECTIONS, s.user_id) for s in team.supervisors),
    ]
