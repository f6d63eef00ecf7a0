"""Item versions, "I didn't need any this week" and where a new team's rotation starts.

- Each week records the version of the check-in items it was answered with; the pulse hands it
  back with every block, and the profile never mixes versions.
- "I didn't need any this week" counts as checking in, never in the support item's figures,
  which need their own count of real answers at the anonymity minimum.
- A new team's first week is availability; teams running before keep their place (migration
  0008 gives them the start their old offset implied).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from alembic import command
from sealed_weeks import enrol, open_week
from sqlalchemy import select, text, update

from bot.content import default_library
from bot.handlers.checkin import parse_submission
from bot.render import checkin as form
from bot.services import rotation_for
from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.clock import ManualClock
from practice.figures import Bands, BlockFigures, Reading, Suppressed
from practice.profile import secure_base_profile
from practice.rotation import Rotation, legacy_start
from practice.sealing import SealedValues, WeekSeal, new_week_secret
from practice.weeks import Week
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Answer, Team, TeamWeek
from storage.pulse import team_pulse
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
V1 = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=1)
V2 = dataclasses.replace(V1, items_version=2)
WS, TZ, MIN = "T0001", "Europe/London", 5
THIS_WEEK = 151  # the fixture clock's week

Row = tuple[int | None, int, int | None]  # support (None: didn't need any), stress, item


def make_team(db: Database, now: datetime, pool: int = 1) -> Team:
    with db.session() as s:
        spec = TeamSpec(WS, "C0001", "Blue team", ("USUPER01",), timezone=TZ, pool_weeks=pool)
        return add_team(s, spec, now)


def during(week: int) -> datetime:
    return Week(week).starts_at(TZ) + timedelta(days=2, hours=12)


def fill(db: Database, team: Team, week: int, rows: Sequence[Row], rotation: Rotation) -> str:
    now = during(week)
    users = [f"UMEMBER{i:02d}" for i in range(len(rows))]
    period = open_week(db, team, now, rotation, users)
    for user, (a, s, d) in zip(users, rows, strict=True):
        enrol(db, team, now, user)
        result = check_in(db, team, week, user, CheckinAnswers(a, s, d), now)
        assert isinstance(result, CheckinResult), result
    return period.domain


def pulse(db: Database, team: Team, weeks: int, now: datetime) -> list[Reading]:
    with db.session() as s:
        fresh = s.get(Team, team.id)
        assert fresh is not None
        return team_pulse(s, fresh, weeks, MIN, now)


# -- "I didn't need any this week" ------------------------------------------------------------


def test_the_form_sends_didnt_need_any_as_no_support_answer() -> None:
    values = {
        form.AVAILABILITY: {form.AVAILABILITY: {"selected_option": {"value": form.NOT_NEEDED}}},
        form.STRESS: {form.STRESS: {"selected_option": {"value": "2"}}},
    }
    answers, errors = parse_submission(values)
    assert errors == {}
    assert answers == CheckinAnswers(None, 2, None, None)
    # Only the support item has that choice: on stress it is an answer we don't know.
    values[form.STRESS] = {form.STRESS: {"selected_option": {"value": form.NOT_NEEDED}}}
    answers, errors = parse_submission(values)
    assert answers is None and set(errors) == {form.STRESS}


def test_a_sealed_check_in_keeps_didnt_need_any() -> None:
    seal = WeekSeal(new_week_secret(), 9)
    key = seal.respondent_key(WS, "UMEMBER01")
    for values in (SealedValues(None, 4, 2, ""), SealedValues(3, 4, None, "hi")):
        sealed = seal.seal(key, values)
        assert len(sealed) == len(seal.seal(key, SealedValues(5, 5, 5, "")))  # same size
        assert seal.open(key, sealed) == values


def test_didnt_need_any_counts_as_checking_in_but_not_in_the_support_figures(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    rows: list[Row] = [(None, 3, 4), (None, 2, 4), (1, 3, 4), (3, 3, 4), (5, 4, 2), (4, 5, 5)]
    rows.append((2, 2, 3))
    fill(db, team, THIS_WEEK - 1, rows, V2)
    [reading] = pulse(db, team, 1, clock.now())
    assert isinstance(reading, BlockFigures)
    assert reading.responses == 7
    # Five real answers (1, 3, 5, 4, 2): the two who didn't need any are in no band.
    assert reading.availability == Bands(5, 2, 1, 2, pytest.approx(3.0))
    assert reading.stress.answered == 7
    with db.session() as s:
        stored = sorted(s.scalars(select(Answer.availability)), key=lambda v: (v is not None, v))
    assert stored == [None, None, 1, 2, 3, 4, 5]


def test_support_with_too_few_real_answers_has_no_figures_but_the_week_does(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    # Six checked in, but only four answered the support item: below the minimum of five.
    rows: list[Row] = [(None, 3, 4), (None, 2, 4), (1, 3, 4), (5, 3, 4), (5, 4, 2), (4, 5, 5)]
    fill(db, team, THIS_WEEK - 1, rows, V2)
    [reading] = pulse(db, team, 1, clock.now())
    assert isinstance(reading, BlockFigures)
    assert reading.responses == 6
    assert reading.availability is None
    assert reading.stress == Bands(6, 1, 3, 2, pytest.approx(20 / 6))
    # Still a week below the minimum of check-ins shows nothing at all.
    fill(db, team, THIS_WEEK, [(None, 3, 4)] * 4, V2)
    newest = pulse(db, team, 2, during(THIS_WEEK + 1))[0]
    assert isinstance(newest, Suppressed)


# -- item versions ---------------------------------------------------------------------------


def test_each_week_records_its_items_version_and_the_pulse_returns_it(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    rows: list[Row] = [(3, 3, 3), (4, 2, 4), (2, 4, 2), (5, 1, 5), (1, 5, 1)]
    fill(db, team, THIS_WEEK - 3, rows, V1)
    fill(db, team, THIS_WEEK - 2, rows, V1)
    fill(db, team, THIS_WEEK - 1, rows, V2)
    with db.session() as s:
        versions = s.execute(select(TeamWeek.week_index, TeamWeek.items_version)).all()
    assert sorted(versions) == [(148, 1), (149, 1), (150, 2)]
    readings = pulse(db, team, 3, clock.now())
    assert [r.block.items_version for r in readings] == [2, 1, 1]


def test_a_pooled_block_the_wording_changed_in_takes_the_new_version(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now(), pool=2)
    rows: list[Row] = [(3, 3, 3), (4, 2, 4), (2, 4, 2)]
    fill(db, team, 146, rows, V1)
    fill(db, team, 147, rows, V1)
    fill(db, team, 148, rows, V1)
    fill(db, team, 149, rows, V2)
    readings = pulse(db, team, 4, clock.now())
    assert [r.block.items_version for r in readings] == [2, 1]


def test_the_profile_never_mixes_versions(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    rows: list[Row] = [(3, 3, 3), (4, 2, 4), (2, 4, 2), (5, 1, 5), (1, 5, 1)]
    # Seven weeks: the five domains with the old items, then two with the new.
    domains = [fill(db, team, w, rows, V1 if w < 149 else V2) for w in range(144, 151)]
    assert domains[:2] == domains[5:]  # the new weeks' domains came round before too
    readings = pulse(db, team, 7, clock.now())
    profile = secure_base_profile(readings, ORDER, 1, MIN)
    for history in profile.domains:
        versions = {s.block.items_version for s in history.showings}
        assert len(versions) <= 1, history
        if history.domain in domains[5:]:
            # Asked again in the new wording: never set beside its old figure.
            assert [s.block.first_week for s in history.showings] == [
                149 + domains[5:].index(history.domain)
            ]


def test_the_library_version_is_what_weeks_are_opened_with(
    db: Database, clock: ManualClock
) -> None:
    rotation = rotation_for(default_library())
    assert rotation.items_version == default_library().version == 2
    team = make_team(db, clock.now())
    period = open_week(db, team, clock.now(), rotation, ["UMEMBER01"])
    assert period.items_version == 2


# -- where the rotation starts ----------------------------------------------------------------


def test_a_new_team_starts_at_availability_and_keeps_its_start(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now())
    assert team.rotation_start is None
    first = open_week(db, team, during(THIS_WEEK), V2, ["UMEMBER01"])
    assert first.domain == "availability"
    with db.session() as s:
        assert s.scalars(select(Team.rotation_start)).one() == THIS_WEEK
    fresh = reload(db, team)
    nxt = open_week(db, fresh, during(THIS_WEEK + 1), V2, ["UMEMBER01"])
    assert nxt.domain == "sensitivity"
    with db.session() as s:
        assert s.scalars(select(Team.rotation_start)).one() == THIS_WEEK


def test_a_running_team_keeps_its_place(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    start = legacy_start(WS, "C0001", len(ORDER))
    with db.session() as s:
        s.execute(update(Team).values(rotation_start=start))
    fresh = reload(db, team)
    period = open_week(db, fresh, during(THIS_WEEK), V2, ["UMEMBER01"])
    expected = V2.for_team(WS, "C0001", THIS_WEEK, start)
    assert (period.domain, period.prompt_index) == (expected.domain, expected.prompt_index)
    with db.session() as s:
        assert s.scalars(select(Team.rotation_start)).one() == start


def reload(db: Database, team: Team) -> Team:
    with db.session() as s:
        fresh = s.get(Team, team.id)
        assert fresh is not None
        return fresh


# -- migration 0008 ---------------------------------------------------------------------------


def test_migration_0008_keeps_history_and_running_teams_places(database_url: str) -> None:
    db = Database(database_url)
    try:
        config = alembic_config(db.url)
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0007")
        with db.engine.begin() as conn:
            for team_id, channel in ((1, "CRUNNING"), (2, "CNEW")):
                conn.execute(
                    text(
                        "INSERT INTO teams (id, workspace_id, channel_id, name, post_day, "
                        "post_minute, timezone, pool_weeks, paused, created_at) VALUES "
                        f"({team_id}, 'T1', '{channel}', 'Blue', 0, 570, 'Europe/London', 1, "
                        "false, '2026-11-24 10:00:00')"
                    )
                )
            conn.execute(
                text(
                    "INSERT INTO team_weeks (id, team_id, week_index, domain, prompt_index, "
                    "member_count, closed, roster_known) VALUES "
                    "(5, 1, 150, 'acceptance', 2, 8, true, true)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO answers (id, period_id, availability, stress, domain_item) "
                    "VALUES ('a1', 5, 4, 2, 5)"
                )
            )
        upgrade(db)
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, items_version FROM team_weeks")).all() == [(5, 1)]
            starts = conn.execute(text("SELECT id, rotation_start FROM teams ORDER BY id")).all()
            assert starts == [(1, legacy_start("T1", "CRUNNING", 5)), (2, None)]
            assert conn.execute(text("SELECT availability FROM answers")).all() == [(4,)]
            conn.execute(
                text(
                    "INSERT INTO answers (id, period_id, availability, stress, domain_item) "
                    "VALUES ('a2', 5, NULL, 3, NULL)"
                )
            )
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
        with db.engine.connect() as conn:
            # The old schema cannot hold "didn't need any": that answer goes, the rest stays.
            assert conn.execute(text("SELECT id FROM answers")).all() == [("a1",)]
            assert conn.execute(text("SELECT id FROM team_weeks")).all() == [(5,)]
            assert conn.execute(text("SELECT count(*) FROM teams")).all() == [(2,)]
    finally:
        db.dispose()
