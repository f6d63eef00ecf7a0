"""Reading the parts of Slack's interaction payloads that every handler needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt import BoltContext


def workspace_of(body: Mapping[str, Any], context: BoltContext) -> str:
    """The Slack workspace a click or submission came from (Bolt's context, else the payload)."""
    return context.team_id or str(body["user"].get("team_id", ""))
