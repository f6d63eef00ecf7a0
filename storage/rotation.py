"""Which domain and which prompt a team gets in a given week.

Deterministic per team (seeded by the team's channel), so every replica agrees without talking
to each other, and a domain's prompts are all used before any repeats.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pick:
    domain: str
    prompt_index: int


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def pick(
    team_key: str, week_index: int, order: Sequence[str], prompts_per_domain: Mapping[str, int]
) -> Pick:
    step = week_index + _seed(team_key) % len(order)
    domain = order[step % len(order)]
    turn = step // len(order)  # how many times this domain has come round before
    count = prompts_per_domain[domain]
    # One fixed shuffle per team and domain, walked round and round: any `count` consecutive
    # turns show every prompt once, so a team never sees a repeat before all were used, from
    # whichever week it started. (A fresh shuffle per cycle cannot promise that: a team that
    # joins mid-cycle would see the next cycle's first prompts again too soon.)
    permutation = list(range(count))
    random.Random(_seed(team_key, domain)).shuffle(permutation)
    return Pick(domain, permutation[turn % count])


@dataclass(frozen=True)
class Rotation:
    """The shape of the content library that rotation needs: domain order and prompt counts."""

    order: tuple[str, ...]
    prompts_per_domain: Mapping[str, int]

    def for_team(self, workspace_id: str, channel_id: str, week_index: int) -> Pick:
        return pick(f"{workspace_id}/{channel_id}", week_index, self.order, self.prompts_per_domain)
