"""The Secure Base content library (Team as a Secure Base — Biggart et al., 2017)."""

from bot.content.library import (
    DOMAIN_ORDER,
    ContentError,
    Domain,
    Library,
    Scale,
    TeamPrompt,
    default_library,
    load_library,
)

__all__ = [
    "DOMAIN_ORDER",
    "ContentError",
    "Domain",
    "Library",
    "Scale",
    "TeamPrompt",
    "default_library",
    "load_library",
]
