"""A workspace that removes the app (`app_uninstalled`) or revokes its bot token
(`tokens_revoked`) gets nothing more: its teams are paused, so the weekly job posts no prompt
and no reflections there and the sweep sends no reminder; other workspaces' teams go on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from experience import World, experience, member
from test_scale_oauth import A, B, Installed, start

from bot.sandboxed import WORKSPACE, wait_until
from storage.clock import ManualClock
from storage.teams import TeamSpec, add_team, list_teams

ELSEWHERE = "T0ELSEWHR1"
REVOKED: dict[str, dict[str, Any]] = {
    "app_uninstalled": {"type": "app_uninstalled"},
    "tokens_revoked": {"type": "tokens_revoked", "tokens": {"bot": ["U0SBBOT001"]}},
}


def paused(world: World) -> dict[str, bool]:
    with world.bot.runtime.services.db.session() as session:
        return {t.workspace_id: t.paused for t in list_teams(session)}


def posts(world: World) -> int:
    return sum(1 for c in world.sandbox.calls("chat.postMessage") if c.ok)


@pytest.mark.parametrize("event", sorted(REVOKED))
def test_a_workspace_that_removes_the_app_gets_nothing_more(
    database_url: str, clock: ManualClock, event: str
) -> None:
    with experience(database_url, clock) as world:
        services = world.bot.runtime.services
        with services.db.session() as session:
            spec = TeamSpec(ELSEWHERE, "C0ELSEWHR1", "Elsewhere", ("U0ELSESUP1",))
            add_team(session, spec, clock.now())
        assert paused(world) == {WORKSPACE: False, ELSEWHERE: False}

        response = world.bot.driver.send_event(REVOKED[event])
        assert response.status_code == 200, response.text
        wait_until(lambda: paused(world)[WORKSPACE], what="the workspace's teams paused")
        assert paused(world) == {WORKSPACE: True, ELSEWHERE: False}

        before = posts(world)
        job = world.bot.runtime.scheduler.scheduler.get_job("reminders")
        clock.set(datetime(2026, 11, 25, 11, tzinfo=UTC))  # Wednesday 11:00: reminders due
        job.func()
        world.next_week()  # the next prompt and reflections would be due
        clock.set(datetime(2026, 12, 2, 11, tzinfo=UTC))
        job.func()
        assert posts(world) == before
        assert world.sandbox.dms(member(0)) == []


def test_revoking_only_user_tokens_changes_nothing(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U0EXPADM01"]}}
        assert world.bot.driver.send_event(revoked).status_code == 200
        world.bot.settle()
        assert paused(world) == {WORKSPACE: False}
        prompts = len(world.sandbox.timeline(world.team().channel_id))
        world.clock.advance(timedelta(days=7))
        assert world.deliver() >= 1
        assert len(world.sandbox.timeline(world.team().channel_id)) == prompts + 1


@pytest.fixture
def slack(database_url: str) -> Iterator[Installed]:
    yield from start(database_url)


def test_with_many_workspaces_only_the_one_that_left_stops(slack: Installed) -> None:
    for workspace in (A, B):
        slack.install(workspace)
        slack.add_team(workspace)
    slack.runtime.delivery.run_due()
    assert slack.driver(A).send_event({"type": "app_uninstalled"}).status_code == 200
    installations = slack.runtime.installations
    assert installations is not None
    wait_until(lambda: installations.bot_user(A.team_id) is None, what="A's install removed")
    assert installations.bot_user(B.team_id) is not None

    slack.clock.set(datetime(2026, 11, 25, 11, tzinfo=UTC))  # Wednesday: reminders due
    assert slack.runtime.reminders.run_due() == len(B.members)
    slack.clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))  # the next week's prompts
    slack.runtime.delivery.run_due()
    assert len(slack.sandbox.timeline(A.channel)) == 1  # last week's only
    assert len(slack.sandbox.timeline(B.channel)) == 2
    assert not [c for c in slack.sandbox.calls() if c.team_id == A.team_id and not c.ok]
