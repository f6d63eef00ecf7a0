"""Someone who reports high stress is shown, privately, where to get support: the team's own
text (set when the team was set up) or a kind general line. Nobody else is told, and nothing
that stays in Slack's history differs from anyone else's check-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from experience import CHANNEL, OUTSIDER, SUPERVISOR, World, experience, member, shown
from sqlalchemy import select

from bot.cli import main
from bot.render.signpost import DEFAULT_SUPPORT
from practice.clock import ManualClock
from storage.db import Database
from storage.models import Team

EAP = "Our employee assistance programme is free and confidential: 0800 000 0000, any time."


def set_support(world: World, text: str | None) -> None:
    with world.bot.runtime.services.db.session() as session:
        session.merge(world.team()).support_text = text


def thank_you_view(world: World, user: str) -> str | None:
    views = world.sandbox.open_views(user)
    return shown(views[-1]["blocks"]) if views else None


@pytest.mark.slow
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
            assert "has been heavy" not in world.everything_shown_to(person)
            messages = [*world.sandbox.dms(person), *world.sandbox.ephemerals(person)]
            assert not [m for m in messages if EAP in m.text + str(m.blocks)]
        assert member(0) not in world.everything_shown_to(SUPERVISOR)
        # The team's support line is on every member's Home tab anyway, heavy week or not.
        assert EAP in shown(world.home(member(1))["blocks"])


def test_the_note_names_who_to_talk_to_a_24_hour_line_and_999(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        set_support(world, EAP)
        world.check_in(member(0), 3, 5)
        seen = thank_you_view(world, member(0))
        assert seen is not None
        assert "Thank you for saying so." in seen
        assert "This note is shown to anyone who answers that way." in seen
        for who in ("A colleague you trust", "Your practice supervisor", EAP):
            assert f"• {who}" in seen
        assert "Samaritans, any time, day or night: 116 123 (free)" in seen
        assert "immediate danger, call 999" in seen
        assert DEFAULT_SUPPORT not in seen  # the team's own line, in place of the general one


@pytest.mark.slow
def test_every_member_s_home_tab_always_has_the_same_support(
    database_url: str, clock: ManualClock
) -> None:
    """Not only after a heavy week: anyone in a team finds where to turn on their Home tab,
    so opening it (or finding help there) says nothing about anyone's answers."""
    with experience(database_url, clock) as world:
        home = shown(world.home(member(3))["blocks"])
        assert "If things feel heavy" in home
        assert f"• {DEFAULT_SUPPORT}" in home and "116 123" in home and "999" in home
        set_support(world, EAP)
        home = shown(world.home(member(3))["blocks"])
        assert f"• {EAP}" in home and DEFAULT_SUPPORT not in home
        # Someone in no team has no member card, and no such block.
        assert "If things feel heavy" not in shown(world.home(OUTSIDER)["blocks"])


@pytest.mark.slow
def test_the_comment_box_says_when_it_is_read_and_where_to_go_now(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        view = world.bot.open_checkin(member(0), CHANNEL)
        [comment] = [b for b in view["blocks"] if b.get("block_id") == "comment"]
        hint = comment["hint"]["text"]
        assert "only after the week has closed" in hint
        assert "unsigned" in hint and "can't be answered" in hint
        assert "if you need help now" in hint and "116 123" in hint and "999" in hint


@pytest.mark.slow
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
