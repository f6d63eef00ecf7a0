"""Guarantees 1 and 2: nothing resting on fewer answers than the minimum is ever shown, and
small teams are reported in fixed blocks of weeks that never overlap.

Played through Slack: members check in over HTTP, weeks close on the scheduler's sweep, and the
supervisor reads `/teampulse` as the sandbox shows it to them.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

import pytest
from privacy_world import CHANNEL, TEAM_NAME, World, member, numbers_in, world
from sqlalchemy import select

from bot.cli import main, parser
from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.weeks import EPOCH_MONDAY, week_containing
from sandbox.modal_answers import build_state_values
from storage.db import Database
from storage.models import Team
from storage.retention import forget_team


@pytest.mark.slow
def test_a_week_below_the_minimum_looks_the_same_whatever_it_holds(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    """What the supervisor sees of a suppressed week must not depend on anything in it: the
    same week played twice, with different answers, comments and numbers of people (all below
    the minimum), must look exactly alike."""
    start = clock.now()
    runs: list[list[tuple[int, int, int | None, str | None]]] = [
        [(1, 1, 1, "alpha: we are fine"), (1, 2, 1, None), (2, 1, 1, None), (1, 1, 2, None)],
        [(5, 5, 5, "bravo: I am not coping"), (4, 5, None, "charlie")],
    ]
    seen: list[str] = []
    for answers in runs:
        with world(database_url, ManualClock(start)) as w:
            for i, (a, s, d, c) in enumerate(answers):
                w.check_in(member(i), a, s, d, c)
            w.next_week()
            shown = w.pulse()
            assert "not enough answers" in shown.text
            seen.append(shown.everything)
        with db.session() as session:  # start the second run from an empty database
            forget_team(session, session.scalars(select(Team.id)).one())
    assert seen[0] == seen[1]
    for _, _, _, comment in runs[0] + runs[1]:
        assert comment is None or comment not in seen[0]


@pytest.mark.slow
def test_no_figure_of_a_suppressed_week_appears(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        week = week_containing(clock.now(), "Europe/London")
        for i in range(4):
            w.check_in(member(i), 4, 2, 4, comment=f"note {i}")
        w.next_week()
        shown = w.pulse(text="6")
        # Every number on screen is a date, the minimum, the weeks asked for or the citation's
        # year: none is a count, a mean or a distribution of the four answers.
        allowed = {str(week.monday.day), str(week.monday.year), "5", "6", "2017"}
        assert numbers_in(shown) <= allowed, numbers_in(shown) - allowed
        assert "note" not in shown.everything


@pytest.mark.slow
def test_the_minimum_itself_is_shown_and_one_fewer_is_not(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        for i in range(4):
            w.check_in(member(i), 2, 2)
        w.next_week()
        for i in range(5):
            w.check_in(member(i), 3, 3)
        w.next_week()
        shown = w.pulse()
        lines = shown.lines()
        # The week's roster: the eight members (the supervisor is never counted).
        assert any(line.startswith("*Responses:* 5 of 8 checked in") for line in lines)
        trend = [line for line in lines if line.startswith("w/c ")]
        assert len(trend) == 2
        assert "5 of 8 checked in" in trend[0] and "not enough answers" in trend[1]
        assert not re.search(r"\b4 (of|answers)\b|2\.0", shown.everything)


@pytest.mark.slow
def test_a_domain_item_needs_the_minimum_of_its_own(database_url: str, clock: ManualClock) -> None:
    with world(database_url, clock) as w:
        # Six answers, but only four answered the week's own question: no line for it.
        for i in range(6):
            w.check_in(member(i), 3, 3, 4 if i < 4 else None)
        w.next_week()
        first = w.pulse()
        assert any(line.startswith("*Responses:* 6 of 8") for line in first.lines())
        assert "strongly agree" not in first.everything and "of 4 said" not in first.everything
        # Five of six answered it the next week: now it is shown.
        for i in range(6):
            w.check_in(member(i), 3, 3, 2 if i < 5 else None)
        w.next_week()
        second = w.pulse()
        assert "strongly agree): all 5 said" in second.everything


@pytest.mark.slow
def test_support_needs_the_minimum_of_its_own_real_answers(
    database_url: str, clock: ManualClock
) -> None:
    """ "I didn't need any this week" is checking in, not an answer to the support item."""
    with world(database_url, clock) as w:
        # Six check in through the form; four of them didn't need support.
        for i in range(6):
            w.check_in(member(i), None if i < 4 else 5, 3, 4)
        w.next_week()
        first = w.pulse()
        assert any(line.startswith("*Responses:* 6 of 8") for line in first.lines())
        assert "too few answers to show" in first.everything
        assert "of 2 said" not in first.everything and "5.0" not in first.everything
        # Five of six answered it the next week: now it is shown, on those five alone.
        for i in range(6):
            w.check_in(member(i), None if i == 0 else 2, 3, 4)
        w.next_week()
        second = w.pulse()
        assert "(1 never … 5 always): all 5 said rarely or never" in second.everything


def test_run_refuses_a_minimum_below_three_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env to read
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-used")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "not-used")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.setenv("SECUREBASE_ANONYMITY_MIN", "2")
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("securebase: SECUREBASE_ANONYMITY_MIN=2")
    assert "use 3 to" in line and "Traceback" not in err
    assert not (tmp_path / "never.db").exists()  # refused before anything started


# --- small teams: fixed blocks -------------------------------------------------------------


def _trend(w: World, weeks: int | None = None) -> list[str]:
    shown = w.pulse(text="" if weeks is None else str(weeks))
    return [line for line in shown.lines() if line.startswith("w/c ")]


def _first_week(line: str) -> int:
    day = re.match(r"w/c (\d+ \w+ \d{4})", line)
    assert day, line
    monday = datetime.strptime(day.group(1), "%d %b %Y").date()
    return (monday - EPOCH_MONDAY).days // 7


def _weeks_in(line: str) -> int:
    extra = re.match(r"w/c \d+ \w+ \d{4} \(\+(\d+) wk\)", line)
    return 1 + (int(extra.group(1)) if extra else 0)


def _check_in_all(w: World, people: int, value: int) -> None:
    for i in range(people):
        w.check_in(member(i), value, value)


@pytest.mark.slow
def test_a_pooled_block_appears_only_once_both_its_weeks_have_closed(
    database_url: str, clock: ManualClock
) -> None:
    # Four people, two-week blocks. The fixture clock is in week 151, the second half of
    # block 75 (weeks 150-151); block 76 is weeks 152-153.
    with world(database_url, clock, members=4, pool_weeks=2) as w:
        _check_in_all(w, 4, 2)  # week 151: block 75 holds only these four
        w.next_week()
        _check_in_all(w, 4, 4)  # week 152
        during_152 = w.pulse()
        assert "not enough answers" in during_152.text  # block 75: four answers
        w.next_week()
        _check_in_all(w, 3, 5)  # week 153
        during_153 = w.pulse()
        # Week 152 has closed, but its block has not: nothing of it, not even its existence.
        assert during_153.everything == during_152.everything
        w.next_week()
        after = w.pulse()
        # 4 + 3 answers from two weeks of a roster of four (the supervisor is not counted).
        assert any(line.startswith("*Responses:* 7 of 8") for line in after.lines())
        [latest, earlier] = [line for line in after.lines() if line.startswith("w/c ")]
        assert _first_week(latest) == 152 and _weeks_in(latest) == 2
        assert _first_week(earlier) == 150 and "not enough answers" in earlier


@pytest.mark.slow
def test_asking_for_any_number_of_weeks_never_cuts_blocks_differently(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock, members=4, pool_weeks=2) as w:
        w.next_week()  # start at week 152, the first week of a block
        for value in (1, 2, 3, 4, 5, 1, 2):  # weeks 152-158; 158 is half of block 79
            _check_in_all(w, 3, value)
            w.next_week()
        seen: dict[int, str] = {}
        for weeks in range(1, 11):
            for line in _trend(w, weeks):
                first = _first_week(line)
                assert first % 2 == 0 and _weeks_in(line) == 2, line
                assert first + 1 < 158, line  # never the block still running
                # The same block always reads the same, however many weeks were asked for.
                assert seen.setdefault(first, line) == line
        # Block 75 (weeks 150-151) has the week the team started in, with no answers.
        assert sorted(seen) == [150, 152, 154, 156]
        assert "not enough answers" in seen[150]


def _options(
    command: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], set[str]]:
    found = {path: {o for action in command._actions for o in action.option_strings}}
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _options(sub, (*path, name))
    return found


@pytest.mark.slow
def test_no_command_can_change_pool_weeks_once_set(
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Re-cutting blocks after answers exist would let two cuts be differenced, so pool_weeks
    is chosen once, at `team add`, and no command takes it anywhere else."""
    takes_pool = {
        path for path, opts in _options(parser()).items() if any("pool" in o for o in opts)
    }
    assert takes_pool == {("team", "add")}

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    add = ["team", "add", "--channel", CHANNEL, "--supervisor", "U0SUP0001"]
    add += ["--workspace", "T0POOL0001", "--name", "Pooled team"]
    assert main([*add, "--pool-weeks", "2"]) == 0
    capsys.readouterr()
    # Adding it again with another block size is refused in one line, and changes nothing.
    assert main([*add, "--pool-weeks", "4"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "already has a team" in line
    with db.session() as session:
        assert session.scalars(select(Team.pool_weeks)).all() == [2]


@pytest.mark.slow
def test_a_crafted_settings_submission_cannot_re_cut_blocks(
    db: Database, database_url: str, clock: ManualClock
) -> None:
    """The settings modal offers the block size only for a new team. A submission forged to
    carry one for an existing team (a client that adds the field) changes nothing."""
    with world(database_url, clock, members=4, pool_weeks=2) as w:
        _check_in_all(w, 4, 3)
        before = w.pulse().settled
        w.command(w.supervisor, "/securebase", "settings")
        [modal] = wait_until(lambda: w.bot.sandbox.open_views(w.supervisor), what="settings")
        assert "pool" not in {b.get("block_id") for b in modal["blocks"]}
        values = build_state_values(
            modal,
            {
                "name": TEAM_NAME,
                "day": "0",
                "time": "09:30",
                "zone": "Europe/London",
                "supervisors": [w.supervisor],
            },
        )
        values["pool"] = {"pool": {"type": "static_select", "selected_option": {"value": "4"}}}
        response = w.bot.driver.submit_view(w.supervisor, modal["id"], values)
        assert response.status_code == 200
        wait_until(lambda: "settings are saved" in w.everything_shown_to(w.supervisor))
        with db.session() as session:
            assert session.scalars(select(Team.pool_weeks)).all() == [2]
        assert w.pulse().settled == before


@pytest.mark.slow
def test_the_chart_draws_nothing_of_a_suppressed_week(
    database_url: str, clock: ManualClock
) -> None:
    """`/teampulse chart` sends a picture whose alt text states every figure drawn."""
    with world(database_url, clock) as w:
        for n in range(4):
            w.check_in(member(n), 1, 1)  # below the minimum: means of 1.0 must never show
        w.next_week()
        for n in range(6):
            w.check_in(member(n), 4 if n else 3, 2 if n else 3)
        w.next_week()
        w.command(w.supervisor, "/teampulse", "chart")
        w.replies(w.supervisor)
        [chart] = w.bot.sandbox.uploaded_files()
        alt = chart.alt_txt or ""
        assert "support 3.8, stress 2.2" in alt
        assert "1.0" not in alt and "4 answered" not in alt
