"""The check-in modal's answer when someone reports high stress: a private thank-you view
that says where to get support (the team's own text, set by whoever installed the bot)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import BoltContext

from bot.handlers.payload import workspace_of
from bot.render.signpost import needs_signpost, support_view
from bot.services import Services
from storage.teams import get_team


def signpost_reply(
    services: Services, body: dict[str, Any], context: BoltContext, stress: int
) -> dict[str, Any]:
    """Arguments for the view_submission ack: empty (the modal closes), or the support view."""
    if not needs_signpost(stress):
        return {}
    try:
        channel = str(json.loads(body["view"].get("private_metadata") or "{}")["channel"])
    except (ValueError, KeyError, TypeError):
        channel = ""
    workspace = workspace_of(body, context)
    with services.db.session() as session:
        team = get_team(session, workspace, channel)
        name, support = (team.name, team.support_text) if team else ("your team", None)
    view = support_view(name, support, services.library.citation)
    return {"response_action": "update", "view": view}
