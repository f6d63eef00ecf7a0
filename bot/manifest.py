"""The Slack app manifest, `bot/manifest.yml` (linked from the repository's root, where people
look for it): the one list of what the app asks Slack for.

An app created from the manifest gets its bot scopes; an OAuth install asks for the scopes
read from the very same file, so the two cannot drift apart (a scope missing from one of them
fails only later, in front of a person, as `missing_scope`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

FILE = "manifest.yml"


@cache
def manifest() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def bot_scopes() -> tuple[str, ...]:
    """The bot scopes the manifest grants, in its order."""
    return tuple(manifest()["oauth_config"]["scopes"]["bot"])
