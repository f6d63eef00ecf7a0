"""What every use case needs, built once by the adapter (`bot.services`) and handed in."""

from __future__ import annotations

from dataclasses import dataclass

from practice.clock import Clock
from practice.rotation import Rotation
from storage.db import Database


@dataclass(frozen=True)
class Practice:
    """The database, the one clock, the week's rotation and the two privacy settings."""

    db: Database
    clock: Clock
    rotation: Rotation
    anonymity_min: int
    retention_weeks: int
