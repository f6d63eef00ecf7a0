"""Slack fills in a ``block_id`` / ``action_id`` the app left out; so does the sandbox."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sandbox.state import JSON, SandboxState


def _short_id(state: SandboxState) -> str:
    digest = hashlib.sha1(state.next_id("id").encode()).digest()
    return base64.b64encode(digest).decode()[:5]


def fill_block_ids(state: SandboxState, blocks: list[JSON]) -> list[JSON]:
    """Give every block a ``block_id`` and every interactive element an ``action_id`` (in place)."""
    for block in blocks:
        block.setdefault("block_id", _short_id(state))
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements.extend(block.get("elements") or [])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        for element in elements:
            if isinstance(element, dict) and element.get("type") != "image":
                element.setdefault("action_id", _short_id(state))
    return blocks
