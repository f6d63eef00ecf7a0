"""A workspace that removes the app (`app_uninstalled`) or revokes its bot token
(`tokens_revoked`) gets nothing more: its teams are paused, so the weekly job posts no prompt
and no reflections there and the sweep sends no reminder; other workspaces' teams go on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from experience import World, experience, member
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_scale_oauth import A, B, Installed, start

from bot.sandboxed import WORKSPACE, wait_until
from practice.clock import ManualClock
from scheduler import housekeeping
from storage.deliveries import last_error
from storage.models import Team, TeamWeek
from storage.teams import TeamSpec, add_team, list_teams

pytestmark = pytest.mark.slow

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


# --- a workspace lost without notice: every sweep carries on for the others -------------------
# The app_uninstalled event can be missed (the bot was down, the event was dropped), so a sweep
# may meet a workspace whose install is gone, whose token Slack has revoked, or whose account is
# inactive, while its teams are still running. Its teams come first (list_teams sorts by
# workspace), so whatever stops there would stop every team after it.

NOTE = "A midweek note"
LOST = ("not_installed", "token_revoked", "account_inactive")


def lose(slack: Installed, how: str) -> None:
    installations = slack.runtime.installations
    assert installations is not None
    if how == "not_installed":
        assert installations.store is not None
        installations.store.delete_all(enterprise_id=None, team_id=A.team_id)
    elif how == "token_revoked":
        slack.sandbox.revoke_token(str(installations.find(A.team_id).bot_token))
    else:
        slack.sandbox.faults.channel_error(A.channel, "account_inactive")


@pytest.fixture
def both(slack: Installed) -> Installed:
    """A and B installed, a team in each (A's first), this week's prompts out."""
    for workspace in (A, B):
        slack.install(workspace)
        slack.add_team(workspace)
    assert slack.runtime.delivery.run_due() == 4
    return slack


def notes_to(slack: Installed, user: str) -> int:
    return sum(1 for m in slack.sandbox.dms(user) if m.text.startswith(NOTE))


@pytest.mark.parametrize("how", LOST)
def test_the_reminder_sweep_goes_on_past_a_lost_workspace(both: Installed, how: str) -> None:
    lose(both, how)
    both.clock.set(datetime(2026, 11, 25, 11, tzinfo=UTC))  # Wednesday 11:00: reminders due
    assert both.runtime.reminders.run_due() == len(B.members)
    assert [notes_to(both, user) for user in B.members] == [1] * len(B.members)
    assert [notes_to(both, user) for user in A.members] == [0] * len(A.members)
    assert both.runtime.reminders.run_due() == 0  # and only once


@pytest.mark.parametrize("how", LOST)
def test_the_weekly_sweep_goes_on_past_a_lost_workspace(both: Installed, how: str) -> None:
    lose(both, how)
    both.clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))  # next week's prompts are due
    both.runtime.delivery.run_due()
    assert len(both.sandbox.timeline(B.channel)) == 2
    assert len(both.sandbox.dms(B.supervisor)) == 2
    assert len(both.sandbox.timeline(A.channel)) == 1  # last week's only
    with both.runtime.services.db.session() as session:
        [team] = list_teams(session, A.team_id)
        assert last_error(session, team.id) == how  # recorded for `securebase team list`


def periods_of(slack: Installed, workspace: str) -> int:
    with slack.runtime.services.db.session() as session:
        [team] = list_teams(session, workspace)
        return len(session.scalars(select(TeamWeek).where(TeamWeek.team_id == team.id)).all())


def test_housekeeping_goes_on_past_a_lost_workspace(
    both: Installed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A workspace that removed the app keeps no answers past retention either; should purging
    one of its teams fail, every team after it is still purged, and it is tried again."""
    assert both.driver(A).send_event({"type": "app_uninstalled"}).status_code == 200
    installations = both.runtime.installations
    assert installations is not None
    wait_until(lambda: installations.bot_user(A.team_id) is None, what="A's install removed")
    assert (periods_of(both, A.team_id), periods_of(both, B.team_id)) == (1, 1)

    purge_team = housekeeping.purge_team
    with both.runtime.services.db.session() as session:
        [failing] = [t.id for t in list_teams(session, A.team_id)]

    def purge_or_fail(session: Session, team: Team, weeks: int, now: datetime) -> int:
        if team.id == failing:
            raise RuntimeError("this team's purge fails")
        return purge_team(session, team, weeks, now)

    monkeypatch.setattr(housekeeping, "purge_team", purge_or_fail)
    weeks = both.runtime.services.settings.retention_weeks
    both.clock.advance(timedelta(weeks=weeks + 8))
    job = both.runtime.scheduler.housekeeping
    assert job is not None
    job()
    assert (periods_of(both, A.team_id), periods_of(both, B.team_id)) == (1, 0)
    assert any("housekeeping failed" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(housekeeping, "purge_team", purge_team)
    job()
    assert periods_of(both, A.team_id) == 0
