"""practice.pulse and practice.share on their own: figures are read only by those who may, and
every read is a look in the view log (nothing is read, nor logged, for anyone else)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.content import default_library
from bot.services import rotation_for
from practice.clock import ManualClock
from practice.context import Practice
from practice.figures import BlockFigures, Surface
from practice.pulse import supervisor_pulse, team_pulse_for
from practice.share import Shared, share_period
from practice.teams import team_in
from storage.db import Database
from storage.models import PulseView
from storage.teams import TeamSpec, add_team

WORKSPACE, CHANNEL = "T0PULSE01", "C0PULSE01"
SUPERVISOR, MEMBER = "U0PSUP001", "U0PMEM001"


@pytest.fixture
def practice(db: Database, clock: ManualClock) -> Practice:
    with db.session() as session:
        add_team(session, TeamSpec(WORKSPACE, CHANNEL, "Duty team", (SUPERVISOR,)), clock.now())
    return Practice(db, clock, rotation_for(default_library()), 5, 104)


def looks(practice: Practice) -> list[tuple[str, str, str]]:
    with practice.db.session() as session:
        return [(v.viewer_id, v.surface, v.what) for v in session.scalars(select(PulseView))]


def test_every_read_is_a_look_even_with_nothing_to_show(practice: Practice) -> None:
    team = team_in(practice, WORKSPACE, CHANNEL)
    assert team is not None
    pulse = team_pulse_for(practice, SUPERVISOR, team, Surface.CHART, weeks=4, detail="test")
    assert pulse.readings == [] and pulse.comments == []
    assert looks(practice) == [(SUPERVISOR, "chart", "chart test: nothing to show")]


def test_teampulse_reads_nothing_for_someone_who_supervises_no_team(practice: Practice) -> None:
    assert supervisor_pulse(practice, WORKSPACE, MEMBER, CHANNEL, 8) == []
    assert looks(practice) == []
    [found] = supervisor_pulse(practice, WORKSPACE, SUPERVISOR, None, 8)
    assert found.team.channel_id == CHANNEL
    assert looks(practice) == [(SUPERVISOR, "/teampulse", "/teampulse 8 weeks: nothing to show")]


def test_only_a_supervisor_shares_and_nothing_below_the_minimum_is_posted(
    practice: Practice,
) -> None:
    posted: list[BlockFigures] = []

    def post(figures: BlockFigures) -> str:
        posted.append(figures)
        return "1.0"

    refused = share_period(practice, WORKSPACE, CHANNEL, MEMBER, 150, post)
    assert refused.outcome is Shared.NOT_SUPERVISOR and looks(practice) == []
    empty = share_period(practice, WORKSPACE, CHANNEL, SUPERVISOR, 150, post)
    assert empty.outcome is Shared.NOT_SHOWN and posted == []
    assert [(v, s) for v, s, _ in looks(practice)] == [(SUPERVISOR, "share")]
