"""What every handler and job needs, built once and passed in (no globals). Listeners find it
in Bolt's context (`bot.handlers.wiring`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from bot.content import DOMAIN_ORDER, Library, default_library
from bot.membership import ChannelMembers
from bot.settings import Settings
from practice.clock import Clock, SystemClock
from practice.context import Practice
from practice.rotation import Rotation
from storage.db import Database


def rotation_for(library: Library) -> Rotation:
    return Rotation(
        order=DOMAIN_ORDER,
        prompts_per_domain={domain.key: len(domain.prompts) for domain in library.domains},
        items_version=library.version,
    )


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    library: Library
    rotation: Rotation
    # Who is in each channel, asked of Slack and remembered a minute (one cache per process).
    members: ChannelMembers = field(default_factory=ChannelMembers, compare=False)

    @classmethod
    def create(cls, settings: Settings, db: Database, clock: Clock | None = None) -> Services:
        library = default_library()
        return cls(settings, db, clock or SystemClock(), library, rotation_for(library))

    @cached_property
    def practice(self) -> Practice:
        """The application layer's view of these services (use cases take it first)."""
        return Practice(
            db=self.db,
            clock=self.clock,
            rotation=self.rotation,
            anonymity_min=self.settings.anonymity_min,
            retention_weeks=self.settings.retention_weeks,
        )
