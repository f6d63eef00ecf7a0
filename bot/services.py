"""What every handler and job needs, built once and passed in (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content import DOMAIN_ORDER, Library, default_library
from bot.settings import Settings
from storage.clock import Clock, SystemClock
from storage.db import Database
from storage.rotation import Rotation


def rotation_for(library: Library) -> Rotation:
    return Rotation(
        order=DOMAIN_ORDER,
        prompts_per_domain={domain.key: len(domain.prompts) for domain in library.domains},
    )


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    library: Library
    rotation: Rotation

    @classmethod
    def create(cls, settings: Settings, db: Database, clock: Clock | None = None) -> Services:
        library = default_library()
        return cls(settings, db, clock or SystemClock(), library, rotation_for(library))
