"""A workspace that removes the app, or revokes its bot token: every team there is paused.
The weekly job and the reminder sweep already skip paused teams, so nothing more is posted in
that workspace and no week is opened there. Pausing, rather than deleting, keeps the team's
settings and closed weeks (retention still purges them in time); if the app is installed
again, a supervisor resumes the prompts with `/securebase resume`."""

from __future__ import annotations

from practice.context import Practice
from storage.teams import list_teams


def pause_workspace(practice: Practice, workspace: str) -> int:
    """Pause every team in `workspace`; returns how many were still running."""
    with practice.db.session() as session:
        running = [team for team in list_teams(session, workspace) if not team.paused]
        for team in running:
            team.paused = True
    return len(running)
