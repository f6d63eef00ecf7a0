"""Someone who reports high stress is shown, privately, where to get support: the team's own
text (set when the team was set up) or a kind general line. Nobody else is told, and nothing
that stays in Slack's history differs from anyone else's check-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from experience import CHANNEL, SUPERVISOR, World, experience, member, shown
from sqlalchemy import select

from bot.cli import main
from bot.render.signpost import DEFAULT_SUPPORT
from storage.clock import ManualClock
from storage.db import Database
from storage.models import Team

EAP = "Our employee assistance programme is free and confidential: 0800 000 0000, any time."


def set_support(world: World, text: str | None) -> None:
    with world.bot.runtime.services.db.session() as session:
        session.merge(world.team()).support_text = text


def thank_you_view(world: World, user: str) -> str | None:
    views = world.sandbox.open_views(user)
    return shown(views[-1]["blocks"]) if views else None


@pytest.mark.parametrize("stress", [4, 5])
def test_high_stress_is_shown_the_teams_support_text_in_the_modal_only(
    database_url: str, clock: ManualClock, stress: int
) -> None:
    with experience(database_url, clock) as world:
        set_support(world, EAP)
        world.check_in(member(0), 3, stress)
        seen = thank_you_view(world, member(0))
        assert seen is not None and EAP in seen and "this week has been heavy" in seen
        assert "Only you see this" in seen

        # An ordinary week gets the same thank-you, without the note.
        world.check_in(member(1), 3, 3)
        calm = thank_you_view(world, member(1))
        assert calm is not None and "Thank you" in calm
        assert EAP not in calm and "heavy" not in calm

        # Nothing stays in Slack's history for either: no message about a check-in at all.
        assert world.sandbox.dms(member(0)) == [] and world.sandbox.dms(member(1)) == []
        for person in (SUPERVISOR, member(1)):
            assert EAP not in world.everything_shown_to(person)
        assert member(0) not in world.everything_shown_to(SUPERVISOR)


def test_without_a_team_text_a_kind_general_line(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        world.check_in(member(2), 2, 5)
        seen = thank_you_view(world, member(2))
        assert seen is not None and "Samaritans" in seen and DEFAULT_SUPPORT[:40] in seen
        assert CHANNEL not in seen


def test_the_installer_sets_the_text_with_team_add(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    base = ["team", "add", "--channel", "C0SIGN01", "--supervisor", "U0SUP1"]
    base += ["--workspace", "T0001", "--name", "Duty team"]
    assert main([*base, "--support", EAP]) == 0
    db = Database(database_url)
    try:
        with db.session() as session:
            assert session.scalars(select(Team.support_text)).one() == EAP
    finally:
        db.dispose()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*base[:3], "C0SIGN02", *base[4:], "--support", "x" * 1001])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("the support text needs 1 to 1000 characters")
