"""When a workspace removes the app (`app_uninstalled`) or revokes its bot token
(`tokens_revoked`), every team there is paused: the weekly job and the reminder sweep already
skip paused teams, so nothing more is posted in that workspace and no week is opened there.

Pausing, rather than deleting, keeps the team's settings and closed weeks (retention still
purges them in time); if the app is installed again, a supervisor resumes the prompts with
`/securebase resume`. Nothing is posted about it: the workspace's token no longer works. With
many workspaces (OAuth), the dead installation is deleted too, as Bolt's own token revocation
listeners would, so a new install starts clean.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.services import Services
from storage.teams import list_teams

log = logging.getLogger(__name__)


def pause_workspace(services: Services, workspace: str) -> int:
    """Pause every team in `workspace`; returns how many were still running."""
    with services.db.session() as session:
        running = [team for team in list_teams(session, workspace) if not team.paused]
        for team in running:
            team.paused = True
    return len(running)


def register(app: App, services: Services) -> None:
    def stop(workspace: str, why: str) -> None:
        if not workspace:
            return
        paused = pause_workspace(services, workspace)
        store = app.installation_store
        if store is not None:
            store.delete_all(enterprise_id=None, team_id=workspace)
        log.info("workspace %s: %s; %d team(s) paused", workspace, why, paused)

    @app.event("app_uninstalled")
    def uninstalled(body: dict[str, Any], context: BoltContext) -> None:
        stop(context.team_id or str(body.get("team_id") or ""), "the app was uninstalled")

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if not (event.get("tokens") or {}).get("bot"):
            return  # only user tokens, which the bot never uses
        stop(context.team_id or str(body.get("team_id") or ""), "its bot token was revoked")
