"""Many workspaces: the OAuth install flow over HTTP (Bolt's OAuthFlow, slack_sdk's SQLAlchemy
stores on the bot's own database, oauth.v2.access on the sandbox), per-workspace tokens for
scheduled posts (rotating ones refreshed), and no way for one workspace to reach another's data.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.sandboxed import SAVED_TITLE, saved_view_title, wait_until
from bot.settings import MANIFEST_SCOPES, SettingsError, load_settings
from practice.clock import ManualClock
from sandbox.driver import SlackDriver, sign_request
from sandbox.webapi import SlackSandbox
from storage.deliveries import last_error
from storage.models import Answer, PulseView, SealedAnswer, Team, TeamWeek
from storage.teams import TeamSpec, add_team

CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
SIGNING_SECRET = "oauth-signing-secret-0123456789"
# Tuesday 24 November 2026, 10:00 UTC: both teams' Monday 09:30 prompts are due.
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Workspace:
    team_id: str
    name: str
    installer: str
    supervisor: str
    members: tuple[str, ...]
    channel: str
    team_name: str


A = Workspace(
    team_id="T0AAAAAAA1",
    name="Northshire",
    installer="U0AINSTAL",
    supervisor="U0ASUPER1",
    members=("U0AMEM01", "U0AMEM02", "U0AMEM03"),
    channel="C0ATEAM01",
    team_name="Northshire duty team",
)
B = Workspace(
    team_id="T0BBBBBBB1",
    name="Southvale",
    installer="U0BINSTAL",
    supervisor="U0BSUPER1",
    members=("U0BMEM01", "U0BMEM02"),
    channel="C0BTEAM01",
    team_name="Southvale fostering team",
)


CHOICES = {
    "availability": {"availability": {"type": "radio_buttons", "selected_option": {"value": "1"}}},
    "stress": {"stress": {"type": "radio_buttons", "selected_option": {"value": "5"}}},
}


@dataclass
class Installed:
    sandbox: SlackSandbox
    runtime: Runtime
    base_url: str
    clock: ManualClock

    def driver(self, workspace: Workspace) -> SlackDriver:
        return SlackDriver(
            self.base_url + "/slack/events", SIGNING_SECRET, self.sandbox, team_id=workspace.team_id
        )

    def install(self, workspace: Workspace) -> httpx.Response:
        """What an admin's browser does: /slack/install → Slack's consent page → redirect back."""
        with httpx.Client(base_url=self.base_url) as browser:
            start = browser.get("/slack/install")
            assert start.status_code == 302, start.text
            consent = urlsplit(start.headers["location"])
            query = parse_qs(consent.query)
            assert consent.path.endswith("/oauth/v2/authorize")
            assert query["client_id"] == [CLIENT_ID]
            assert query["scope"] == [",".join(MANIFEST_SCOPES)]
            state = query["state"][0]
            cookie = start.headers["set-cookie"].split(";")[0]  # Secure: sent back over https
            code = self.sandbox.issue_oauth_code(workspace.team_id, workspace.installer)
            return browser.get(
                "/slack/oauth_redirect",
                params={"code": code, "state": state},
                headers={"Cookie": cookie},
            )

    def add_team(self, workspace: Workspace) -> int:
        services = self.runtime.services
        with services.db.session() as session:
            return add_team(
                session,
                TeamSpec(
                    workspace_id=workspace.team_id,
                    channel_id=workspace.channel,
                    name=workspace.team_name,
                    supervisors=(workspace.supervisor,),
                ),
                self.clock.now(),
            ).id

    def count(self, model: type[object]) -> int:
        with self.runtime.services.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


def seed(sandbox: SlackSandbox, workspace: Workspace) -> None:
    sandbox.add_workspace(workspace.team_id, workspace.name, installed=False)
    bot = sandbox.workspace(workspace.team_id).bot_user_id
    people = (workspace.installer, workspace.supervisor, *workspace.members)
    for user in people:
        sandbox.add_user(workspace.team_id, user, user.lower(), f"Person {user}")
    sandbox.add_channel(
        workspace.team_id,
        workspace.channel,
        workspace.team_name.lower().replace(" ", "-"),
        members=[bot, workspace.supervisor, *workspace.members],
    )


def start(database_url: str, *, token_rotation: bool = False) -> Iterator[Installed]:
    sandbox = SlackSandbox().start()
    sandbox.configure_oauth(
        CLIENT_ID,
        CLIENT_SECRET,
        token_rotation=token_rotation,
        expires_in=3600,  # inside the two hours before expiry in which tokens are refreshed
        scopes=MANIFEST_SCOPES,
    )
    for workspace in (A, B):
        seed(sandbox, workspace)
    settings = load_settings(
        {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": sandbox.api_url,
            "DATABASE_URL": database_url,
            "SECUREBASE_ANONYMITY_MIN": "3",
            "SECUREBASE_SECRET_KEY": os.urandom(32).hex(),
        }
    )
    clock = ManualClock(START)
    runtime = Runtime.create(settings, clock)
    try:
        yield Installed(sandbox, runtime, runtime.serve_http_in_thread(), clock)
    finally:
        runtime.stop()
        sandbox.stop()


@pytest.fixture
def slack(database_url: str) -> Iterator[Installed]:
    yield from start(database_url)


@pytest.fixture
def rotating(database_url: str) -> Iterator[Installed]:
    yield from start(database_url, token_rotation=True)


@pytest.mark.slow
def test_install_two_workspaces_through_the_oauth_flow(slack: Installed) -> None:
    for workspace in (A, B):
        answer = slack.install(workspace)
        assert answer.status_code == 200, answer.text
    store = slack.runtime.installations
    assert store is not None
    for workspace in (A, B):
        found = store.find(workspace.team_id)
        assert found.bot_user_id == slack.sandbox.workspace(workspace.team_id).bot_user_id
        assert found.bot_token == slack.sandbox.workspace(workspace.team_id).bot_token
    exchanges = slack.sandbox.calls("oauth.v2.access")
    assert [c.ok for c in exchanges] == [True, True]


@pytest.mark.slow
def test_a_forged_or_replayed_install_is_refused(slack: Installed) -> None:
    with httpx.Client(base_url=slack.base_url) as browser:
        code = slack.sandbox.issue_oauth_code(A.team_id, A.installer)
        forged = browser.get("/slack/oauth_redirect", params={"code": code, "state": "made-up"})
        assert forged.status_code == 400  # no state cookie from /slack/install
    assert slack.install(A).status_code == 200
    with httpx.Client(base_url=slack.base_url) as browser:
        start = browser.get("/slack/install")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        cookie = start.headers["set-cookie"].split(";")[0]
        params = {"code": "used-or-unknown", "state": state}
        bad_code = browser.get("/slack/oauth_redirect", params=params, headers={"Cookie": cookie})
        assert bad_code.status_code == 401
        replayed = browser.get("/slack/oauth_redirect", params=params, headers={"Cookie": cookie})
        assert replayed.status_code == 401  # the state was spent
    assert [c.ok for c in slack.sandbox.calls("oauth.v2.access")] == [True, False]


@pytest.mark.slow
def test_scheduled_posts_use_each_workspaces_own_token(slack: Installed) -> None:
    for workspace in (A, B):
        slack.install(workspace)
        slack.add_team(workspace)
    assert slack.runtime.delivery.run_due() == 4
    posts = slack.sandbox.calls("chat.postMessage")
    assert sorted((c.params["channel"][:1], c.team_id) for c in posts if c.ok) == sorted(
        [("C", A.team_id), ("D", A.team_id), ("C", B.team_id), ("D", B.team_id)]
    )
    for workspace in (A, B):
        assert len(slack.sandbox.timeline(workspace.channel)) == 1
        assert len(slack.sandbox.dms(workspace.supervisor)) == 1


@pytest.mark.slow
def test_a_team_in_a_workspace_without_an_install_posts_nothing_and_opens_no_week(
    slack: Installed,
) -> None:
    """Without an install the channel cannot be read, so B's week has no roster: it does not
    open (nobody there can check in), nothing is posted anywhere in B, and the failure is
    recorded once for `securebase team list`."""
    slack.install(A)
    slack.add_team(A)
    slack.add_team(B)  # B never installed the app
    assert slack.runtime.delivery.run_due() == 2
    slack.clock.advance(timedelta(hours=1))
    assert slack.runtime.delivery.run_due() == 0
    with slack.runtime.services.db.session() as session:
        team = session.scalars(select(Team).where(Team.workspace_id == B.team_id)).one()
        assert session.scalars(select(TeamWeek).where(TeamWeek.team_id == team.id)).all() == []
        assert last_error(session, team.id) == "not_installed"
    assert all(c.team_id == A.team_id for c in slack.sandbox.calls() if c.team_id)


@pytest.mark.slow
def test_rotating_tokens_are_refreshed_before_a_scheduled_post(rotating: Installed) -> None:
    rotating.install(A)
    rotating.add_team(A)
    installations = rotating.runtime.installations
    assert installations is not None
    first = installations.find(A.team_id).bot_token
    assert first is not None and first.startswith("xoxe.xoxb-")
    rotating.sandbox.revoke_token(first)  # only a refreshed token can post now

    assert rotating.runtime.delivery.run_due() == 2
    refreshed = installations.find(A.team_id).bot_token
    assert refreshed not in (None, first)
    grants = [c.params.get("grant_type") for c in rotating.sandbox.calls("oauth.v2.access")]
    assert grants[0] is None and "refresh_token" in grants[1:]
    assert len(rotating.sandbox.timeline(A.channel)) == 1


@pytest.mark.slow
def test_one_workspace_never_reaches_anothers_teams_or_pulse(slack: Installed) -> None:
    for workspace in (A, B):
        slack.install(workspace)
        slack.add_team(workspace)
    slack.runtime.delivery.run_due()
    a, b = slack.driver(A), slack.driver(B)
    # Three of A's people check in, so A's week could be shown to A's supervisor.
    for user in A.members:
        assert a.slash_command(user, A.channel, "/checkin").status_code == 200
        view = wait_until(lambda u=user: slack.sandbox.open_views(u), what="A's modal")[-1]
        sent = a.answer_modal(user, view["id"], {"availability": "4", "stress": "2"})
        assert saved_view_title(sent) == SAVED_TITLE
    assert slack.count(SealedAnswer) == 3  # stored inside each acknowledgement

    # Signed for B, by B's supervisor, and by A's supervisor's id claimed from B: nothing of A.
    for user in (B.supervisor, A.supervisor, B.members[0]):
        if user == A.supervisor:
            slack.sandbox.add_user(B.team_id, "U0BPOSER1", "poser", "Poser")
        asker = "U0BPOSER1" if user == A.supervisor else user
        for text in ("", "log", "52"):
            seen = len(slack.sandbox.ephemerals(asker))
            b.slash_command(asker, B.channel, "/teampulse", text)
            wait_until(lambda a=asker, n=seen: len(slack.sandbox.ephemerals(a)) > n)
        said = " ".join(m.text for m in slack.sandbox.ephemerals(asker))
        assert A.team_name not in said and A.channel not in said
    # B's supervisor's two looks at B were logged; nobody from B ever looked at A.
    with slack.runtime.services.db.session() as session:
        looks = session.execute(select(PulseView.viewer_id, Team.workspace_id).join(Team)).all()
    from_b = {B.supervisor, "U0BPOSER1", B.members[0]}
    assert [w for viewer, w in looks if viewer in from_b] == [B.team_id, B.team_id]

    # A /checkin signed for B from A's channel, and a check-in naming A's channel.
    answers = slack.count(SealedAnswer)
    b.slash_command(B.members[0], A.channel, "/checkin")
    opened = wait_until(lambda: slack.sandbox.open_views(B.members[0]), what="B's modal")[-1]
    assert json.loads(opened["private_metadata"])["channel"] == B.channel  # their own team
    assert A.team_name not in json.dumps(opened)
    b.slash_command(B.members[1], B.channel, "/checkin")
    view = wait_until(lambda: slack.sandbox.open_views(B.members[1]), what="B's modal")[-1]
    metadata = json.loads(view["private_metadata"])
    assert metadata["channel"] == B.channel
    submission = {
        "type": "view_submission",
        "user": {"id": B.members[1], "team_id": B.team_id},
        "team": {"id": B.team_id},
        "api_app_id": slack.sandbox.app_id,
        "view": {
            **view,
            "private_metadata": json.dumps({**metadata, "channel": A.channel}),
            "state": {"values": CHOICES},
        },
    }
    body = urlencode({"payload": json.dumps(submission)}).encode()
    stamp = str(int(time.time()))
    answer = httpx.post(
        slack.base_url + "/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign_request(SIGNING_SECRET, stamp, body),
        },
    )
    assert answer.status_code == 200
    assert answer.json()["response_action"] == "update"  # said inside the modal, never a DM
    assert "not in a team" in json.dumps(answer.json()["view"])
    assert slack.count(SealedAnswer) == answers  # nothing written to A's team (nor B's)
    assert slack.count(Answer) == 0
    assert slack.sandbox.dms(B.members[1]) == []


def test_oauth_settings() -> None:
    base = {"SLACK_SIGNING_SECRET": "s"}
    oauth = load_settings({**base, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"})
    assert oauth.oauth and oauth.bot_token == "" and oauth.scopes == MANIFEST_SCOPES
    scoped = load_settings(
        {**base, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_SCOPES": "a:b, c"}
    )
    assert scoped.scopes == ("a:b", "c")
    assert not load_settings({**base, "SLACK_BOT_TOKEN": "xoxb-1"}).oauth
    both = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}
    for env, variable in (
        ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "x"}, "SLACK_CLIENT_ID"),
        ({**both, "SLACK_SCOPES": "no good"}, "SLACK_SCOPES"),
        ({**both, "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN"),
        ({}, "SLACK_BOT_TOKEN"),
    ):
        with pytest.raises(SettingsError, match=variable):
            load_settings({**base, **env})
    assert replace(oauth, claim_lease_seconds=2).claim_lease_seconds == 2
