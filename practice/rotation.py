"""Which domain and which prompt a team gets in a given week.

The domains come round in the model's order from the team's `rotation_start` week, so a new
team begins at availability. Teams that were running before that rule keep their place: their
start was worked out from the old hash-based offset (`legacy_start`, migration 0008).
Deterministic per team, so every replica agrees without talking to each other, and a domain's
prompts are all used before any repeats.
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


def legacy_start(workspace_id: str, channel_id: str, domains: int) -> int:
    """The start that gives a team the place it had when rotation was offset by a hash of the
    team (before migration 0008): every week keeps its domain and its prompt."""
    return -(_seed(f"{workspace_id}/{channel_id}") % domains)


def pick(
    team_key: str,
    week_index: int,
    start: int,
    order: Sequence[str],
    prompts_per_domain: Mapping[str, int],
) -> Pick:
    step = week_index - start
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
    """The shape of the content library that rotation needs: domain order, prompt counts and
    the version of the check-in items that weeks opened now are answered with."""

    order: tuple[str, ...]
    prompts_per_domain: Mapping[str, int]
    items_version: int

    def for_team(self, workspace_id: str, channel_id: str, week_index: int, start: int) -> Pick:
        """The team's pick for `week_index`, counting from its `start` week."""
        return pick(
            f"{workspace_id}/{channel_id}", week_index, start, self.order, self.prompts_per_domain
        )
