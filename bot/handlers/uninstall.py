"""When a workspace removes the app (`app_uninstalled`) or revokes its bot token
(`tokens_revoked`), every team there is paused (practice.workspaces). Nothing is posted about
it: the workspace's token no longer works. With many workspaces (OAuth), the dead installation
is deleted too, as Bolt's own token revocation listeners would, so a new install starts clean.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.handlers.wiring import installation_store_of, practice_of
from practice.workspaces import pause_workspace

log = logging.getLogger(__name__)


def stop(context: BoltContext, workspace: str, why: str) -> None:
    if not workspace:
        return
    paused = pause_workspace(practice_of(context), workspace)
    store = installation_store_of(context)
    if store is not None:
        store.delete_all(enterprise_id=None, team_id=workspace)
    log.info("workspace %s: %s; %d team(s) paused", workspace, why, paused)


def uninstalled(body: dict[str, Any], context: BoltContext) -> None:
    stop(context, context.team_id or str(body.get("team_id") or ""), "the app was uninstalled")


def revoked(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    if not (event.get("tokens") or {}).get("bot"):
        return  # only user tokens, which the bot never uses
    stop(context, context.team_id or str(body.get("team_id") or ""), "its bot token was revoked")


def register(app: App) -> None:
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)
