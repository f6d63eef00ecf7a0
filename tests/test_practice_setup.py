"""practice.setup on its own: who may manage a team, and what each change does — with Slack's
answers about people given by hand."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.content import default_library
from bot.services import rotation_for
from practice import setup
from practice.clock import ManualClock
from practice.context import Practice
from practice.teams import team_in
from storage.db import Database
from storage.models import Delivery
from storage.teams import TeamSpec, add_team

WORKSPACE, CHANNEL, NEW_CHANNEL = "T0SETUP01", "C0SETUP01", "C0SETUP02"
SUPERVISOR, ADMIN, MEMBER, APP = "U0SSUP001", "U0SADM001", "U0SMEM001", "U0SAPP001"


@dataclass
class People:
    admins: set[str] = field(default_factory=lambda: {ADMIN})
    apps: set[str] = field(default_factory=lambda: {APP})

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def is_person(self, user: str) -> bool:
        return user not in self.apps


@pytest.fixture
def practice(db: Database, clock: ManualClock) -> Practice:
    with db.session() as session:
        add_team(session, TeamSpec(WORKSPACE, CHANNEL, "Duty team", (SUPERVISOR,)), clock.now())
    return Practice(db, clock, rotation_for(default_library()), 5, 104)


FORM = setup.TeamSettings("Family support", 2, 10 * 60, "Europe/London", (MEMBER,), None, None)


def test_a_team_is_managed_by_its_supervisors_and_admins_only(practice: Practice) -> None:
    people = People()
    assert setup.access(practice, WORKSPACE, CHANNEL, SUPERVISOR, people).refused is None
    assert setup.access(practice, WORKSPACE, CHANNEL, ADMIN, people).refused is None
    refused = setup.access(practice, WORKSPACE, CHANNEL, MEMBER, people)
    assert refused.refused is setup.Refused.NOT_TEAMS and refused.team is not None


def test_only_an_admin_sets_a_new_team_up(practice: Practice) -> None:
    people = People()
    found = setup.access(practice, WORKSPACE, NEW_CHANNEL, SUPERVISOR, people)
    assert found == setup.Access(None, setup.Refused.NOT_ADMIN)
    assert setup.access(practice, WORKSPACE, NEW_CHANNEL, ADMIN, people) == setup.Access(None, None)
    assert (
        setup.save_settings(practice, WORKSPACE, NEW_CHANNEL, SUPERVISOR, FORM, people)
        is setup.Refused.NOT_ADMIN
    )
    saved = setup.save_settings(practice, WORKSPACE, NEW_CHANNEL, ADMIN, FORM, people)
    assert isinstance(saved, setup.SettingsSaved) and saved.created
    assert saved.team.supervisors == (MEMBER,) and saved.team.name == "Family support"


def test_apps_are_left_out_of_the_supervisors_and_none_left_is_refused(
    practice: Practice,
) -> None:
    people = People()
    only_apps = setup.TeamSettings("X", 0, 600, "Europe/London", (APP,), None, None)
    refused = setup.save_settings(practice, WORKSPACE, CHANNEL, SUPERVISOR, only_apps, people)
    assert refused is setup.NoSupervisor.NONE_LEFT
    both = setup.TeamSettings("X", 0, 600, "Europe/London", (APP, SUPERVISOR), None, None)
    saved = setup.save_settings(practice, WORKSPACE, CHANNEL, SUPERVISOR, both, people)
    assert isinstance(saved, setup.SettingsSaved) and not saved.created
    assert saved.left_out == 1 and saved.team.supervisors == (SUPERVISOR,)


def test_a_stale_settings_form_grants_nothing_to_someone_no_longer_a_supervisor(
    practice: Practice,
) -> None:
    people = People()
    handed_over = setup.TeamSettings("X", 0, 600, "Europe/London", (MEMBER,), None, None)
    setup.save_settings(practice, WORKSPACE, CHANNEL, SUPERVISOR, handed_over, people)
    again = setup.save_settings(practice, WORKSPACE, CHANNEL, SUPERVISOR, FORM, people)
    assert again is setup.Refused.NOT_TEAMS


def test_weeks_off_are_only_those_offered_and_hold_the_prompt(practice: Practice) -> None:
    people = People()
    team = team_in(practice, WORKSPACE, CHANNEL)
    assert team is not None
    choice = setup.weeks_off_choice(practice, team)
    offered = choice.offered
    assert len(offered) == setup.WEEKS_OFF_OFFERED and choice.chosen == set()
    saved = setup.save_weeks_off(
        practice, WORKSPACE, CHANNEL, SUPERVISOR, offered, [offered[2], 99999], people
    )
    assert isinstance(saved, setup.WeeksOffSaved) and saved.chosen == [offered[2]]
    with practice.db.session() as session:
        held = session.scalars(select(Delivery.week_index)).all()
    assert set(held) == {offered[2]}
    assert (
        setup.save_weeks_off(practice, WORKSPACE, CHANNEL, MEMBER, offered, [], people)
        is setup.Refused.NOT_TEAMS
    )
