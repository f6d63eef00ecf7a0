"""each_team: one team's trouble is that team's alone; a lost workspace is left alone for the
rest of the sweep; a database that cannot be reached stops the sweep."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from practice.delivery import DeliveryError, Refusal
from practice.sweep import each_team
from storage.models import Team


def team(workspace: str, channel: str) -> Team:
    return Team(workspace_id=workspace, channel_id=channel)


TEAMS = [team("T1", "C1a"), team("T1", "C1b"), team("T2", "C2a"), team("T2", "C2b")]


def test_a_failing_team_is_skipped_and_the_rest_are_done(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    def work(t: Team) -> int:
        if t.channel_id == "C1a":
            raise KeyError("a bug in one team's work")
        if t.channel_id == "C2a":
            raise DeliveryError("ratelimited", Refusal.TRANSIENT)
        done.append(t.channel_id)
        return 2

    assert each_team(TEAMS, work, "the test sweep") == 4
    assert done == ["C1b", "C2b"]
    said = [r.getMessage() for r in caplog.records]
    assert any("C1a" in line and "failed" in line for line in said)
    assert any("C2a" in line and "ratelimited" in line for line in said)


def test_an_uninstalled_workspace_is_left_alone_for_the_rest_of_the_sweep() -> None:
    tried: list[str] = []

    def work(t: Team) -> int:
        tried.append(t.channel_id)
        if t.workspace_id == "T1":
            raise DeliveryError("not_installed", Refusal.UNINSTALLED)
        return 1

    assert each_team(TEAMS, work, "the test sweep") == 2
    assert tried == ["C1a", "C2a", "C2b"]


def test_other_refusals_leave_the_workspaces_other_teams_to_try() -> None:
    tried: list[str] = []

    def work(t: Team) -> int:
        tried.append(t.channel_id)
        raise DeliveryError("channel_not_found", Refusal.NOT_IN_CHANNEL)

    assert each_team(TEAMS, work, "the test sweep") == 0
    assert tried == [t.channel_id for t in TEAMS]


def test_a_database_that_cannot_be_reached_stops_the_sweep() -> None:
    tried: list[str] = []

    def work(t: Team) -> int:
        tried.append(t.channel_id)
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    with pytest.raises(OperationalError):
        each_team(TEAMS, work, "the test sweep")
    assert tried == ["C1a"]
