"""What a skipped week holds back: the weekly job's own deliveries, named as its ledger names
them (see storage.skips for how they are held)."""

from __future__ import annotations

from scheduler.weekly import PROMPT, REFLECTIONS
from storage.models import Team
from storage.skips import Entry


def week_entries(team: Team) -> list[Entry]:
    """The channel prompt and each supervisor's reflections, as (kind, recipient)."""
    return [(PROMPT, team.channel_id), *((REFLECTIONS, s.user_id) for s in team.supervisors)]
