"""Two workspaces on one bot (OAuth installs): a person in one never sees the other's teams on
the App Home, never changes them through `/securebase` or a button, whatever channel id the
request names, and each workspace's reminders go to its own people with its own token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import crafted
import pytest
from test_scale_oauth import SIGNING_SECRET, A, B, Installed, Workspace, start

from bot.render import admin as render
from bot.render.home import SHARE_PERIOD, share_value
from bot.sandboxed import wait_until
from storage.teams import TeamSpec, add_team, get_team

pytestmark = pytest.mark.slow

NOTE = "A midweek note"
ELSEWHERE = "Southvale leaving care team"


@pytest.fixture
def both(database_url: str) -> Iterator[Installed]:
    """Both workspaces installed, each with its team, this week's prompts posted."""
    for installed in start(database_url):
        for workspace in (A, B):
            installed.install(workspace)
            installed.add_team(workspace)
        installed.runtime.delivery.run_due()
        yield installed


def home_of(slack: Installed, workspace: Workspace, user: str) -> str:
    published = len(slack.sandbox.calls("views.publish"))
    assert slack.driver(workspace).app_home_opened(user).status_code == 200
    wait_until(lambda: len(slack.sandbox.calls("views.publish")) > published, what="a Home")
    return json.dumps(slack.sandbox.home_view(user)["blocks"])


def paused(slack: Installed, workspace: Workspace) -> bool:
    with slack.runtime.services.db.session() as session:
        team = get_team(session, workspace.team_id, workspace.channel)
        assert team is not None
        return team.paused


def test_the_app_home_shows_only_ones_own_workspaces_teams(both: Installed) -> None:
    # Slack ids are unique only within a workspace: a team in B whose supervisor has the very
    # id of A's supervisor must not show on A's Home for them.
    with both.runtime.services.db.session() as session:
        spec = TeamSpec(B.team_id, "C0BTEAM02", ELSEWHERE, (A.supervisor,))
        add_team(session, spec, both.clock.now())
    for mine, theirs in ((A, B), (B, A)):
        for user in (mine.supervisor, mine.members[0]):
            home = home_of(both, mine, user)
            assert mine.team_name in home
            assert theirs.team_name not in home and theirs.channel not in home
            assert ELSEWHERE not in home and "C0BTEAM02" not in home


def test_securebase_and_buttons_from_another_workspace_change_nothing(both: Installed) -> None:
    admin = B.installer
    both.sandbox.update_user(admin, is_admin=True)  # an admin of B: may set up B's teams
    b = both.driver(B)
    for text in ("pause", ""):
        seen = len(both.sandbox.ephemerals(admin))
        assert b.slash_command(admin, B.channel, "/securebase", text).status_code == 200
        wait_until(lambda n=seen: len(both.sandbox.ephemerals(admin)) > n, what="an answer")
    said = " ".join(m.text + json.dumps(m.blocks) for m in both.sandbox.ephemerals(admin))
    assert A.team_name not in said and A.channel not in said
    assert paused(both, B) and not paused(both, A)  # B's own team, by B's admin

    # Buttons carrying A's channel, clicked in B (by B's admin, and by an id A knows).
    for user in (admin, A.supervisor):
        for action_id in (render.PAUSE, render.OPEN_SETTINGS, render.PREVIEW):
            answer = crafted.click(
                both.base_url + "/slack/events",
                SIGNING_SECRET,
                app_id=both.sandbox.app_id,
                workspace=B.team_id,
                user=user,
                action_id=action_id,
                value=A.channel,
                response_url=both.sandbox.new_response_url(user, B.channel, None, B.team_id),
            )
            assert answer.status_code == 200
        answer = crafted.click(
            both.base_url + "/slack/events",
            SIGNING_SECRET,
            app_id=both.sandbox.app_id,
            workspace=B.team_id,
            user=user,
            action_id=SHARE_PERIOD,
            value=share_value(A.channel, 0),
            response_url=both.sandbox.new_response_url(user, B.channel, None, B.team_id),
        )
        assert answer.status_code == 200
    both.runtime.listeners.wait_idle(5)
    assert not paused(both, A)
    assert len(both.sandbox.timeline(A.channel)) == 1  # only its own prompt
    calls = [c for c in both.sandbox.calls() if c.team_id == A.team_id]
    assert {c.method for c in calls if c.method.startswith(("views.", "chat."))} <= {
        "chat.postMessage"
    }
    assert A.team_name not in json.dumps([v for u in (admin,) for v in both.sandbox.open_views(u)])


def test_each_workspaces_reminders_go_to_its_own_people(both: Installed) -> None:
    both.clock.set(datetime(2026, 11, 25, 11, tzinfo=UTC))  # Wednesday, in working hours
    assert both.runtime.reminders.run_due() == len(A.members) + len(B.members)
    for workspace, other in ((A, B), (B, A)):
        for user in workspace.members:
            [note] = [m for m in both.sandbox.dms(user) if m.text.startswith(NOTE)]
            assert workspace.team_name in note.text and other.team_name not in note.text
    notes = [
        c
        for c in both.sandbox.calls("chat.postMessage")
        if c.ok and str(c.params.get("text", "")).startswith(NOTE)
    ]
    sent_to = {(c.team_id, both.sandbox.channel(c.params["channel"]).im_user) for c in notes}
    assert sent_to == {(w.team_id, u) for w in (A, B) for u in w.members}
