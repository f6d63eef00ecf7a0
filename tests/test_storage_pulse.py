"""The team picture: closed weeks only, nothing below the anonymity minimum, fixed blocks."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sealed_weeks import enrol, open_week
from sqlalchemy import select

from practice.checkin import CheckinAnswers, CheckinResult, check_in
from practice.clock import ManualClock
from practice.figures import Bands, Block, BlockFigures, Reading, Suppressed, Surface
from practice.rotation import Rotation
from practice.weeks import Week
from storage.db import Database
from storage.models import Team, TeamWeek
from storage.pulse import block_comments, read_pulse_for, team_pulse, view_log_page
from storage.team_weeks import current_week
from storage.teams import TeamSpec, add_team

ORDER = ("availability", "sensitivity", "acceptance", "co-operation", "team-belonging")
ROTATION = Rotation(order=ORDER, prompts_per_domain={k: 5 for k in ORDER}, items_version=2)
WS = "T0001"
TZ = "Europe/London"
THIS_WEEK = 151  # the fixture clock's week, w/c 23 Nov 2026
MIN = 5

Row = tuple[int, int, int | None]


def make_team(db: Database, now: datetime, pool: int = 1, channel: str = "C0001") -> Team:
    with db.session() as s:
        spec = TeamSpec(WS, channel, "Blue team", ("USUPER01",), timezone=TZ, pool_weeks=pool)
        return add_team(s, spec, now)


def during(week: int) -> datetime:
    """Wednesday noon (local) of a week."""
    return Week(week).starts_at(TZ) + timedelta(days=2, hours=12)


def fill(
    db: Database,
    team: Team,
    week: int,
    rows: Sequence[Row],
    comments: Sequence[str] = (),
    members: int | None = None,
    first_user: int = 0,
) -> str:
    """Check `rows` in during `week` (one member each); returns the week's domain.

    The week is opened (if it is not yet) with a roster of `members` people, or of just those
    checking in; anyone checking in after that is put on the roster as well."""
    now = during(week)
    users = [f"UMEMBER{first_user + i:02d}" for i in range(max(members or 0, len(rows)))]
    period = open_week(db, team, now, ROTATION, users)
    for i, (a, s, d) in enumerate(rows):
        comment = comments[i] if i < len(comments) else None
        enrol(db, team, now, users[i])
        result = check_in(db, team, week, users[i], CheckinAnswers(a, s, d, comment), now)
        assert isinstance(result, CheckinResult), result
    return period.domain


def pulse(db: Database, team: Team, weeks: int, now: datetime, minimum: int = MIN) -> list[Reading]:
    with db.session() as s:
        return team_pulse(s, team, weeks, minimum, now)


def comments_of(db: Database, team: Team, block: Block, minimum: int = MIN) -> list[str]:
    with db.session() as s:
        return block_comments(s, team, block, minimum)


def bands(values: Sequence[int]) -> Bands:
    """The figures worked out by hand, the long way round."""
    low, middle, high = (sum(1 for v in values if v in band) for band in ((1, 2), (3,), (4, 5)))
    one_band = len(values) in (low, middle, high)
    return Bands(len(values), low, middle, high, None if one_band else sum(values) / len(values))


SIX: list[Row] = [(1, 3, 2), (2, 3, 2), (2, 3, 3), (4, 4, None), (5, 4, 5), (5, 1, 1)]


def test_open_week_is_never_shown(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    fill(db, team, THIS_WEEK, SIX * 2, members=12, first_user=0)
    for weeks in (1, 2, 4, 12):
        assert pulse(db, team, weeks, clock.now()) == []
    # Even on the last second of the week.
    assert pulse(db, team, 1, Week(THIS_WEEK).ends_at(TZ) - timedelta(seconds=1)) == []


def test_a_look_closes_every_week_that_has_ended(db: Database, clock: ManualClock) -> None:
    """No sweep needed: a look closes the team's weeks that have ended before it reads, whether
    it finds nothing closed yet or earlier weeks already closed beside them."""
    team = make_team(db, clock.now())
    first = fill(db, team, THIS_WEEK, SIX, members=8)
    [only] = pulse(db, team, 4, during(THIS_WEEK + 1))  # nothing had closed
    assert isinstance(only, BlockFigures) and only.block.domains == (first,)
    second = fill(db, team, THIS_WEEK + 1, SIX[:5], members=8)
    assert pulse(db, team, 4, during(THIS_WEEK + 1)) == [only]  # still open: not yet
    newest, *rest = pulse(db, team, 4, during(THIS_WEEK + 2))
    assert rest == [only]
    assert isinstance(newest, BlockFigures) and newest.block.domains == (second,)
    assert newest.responses == 5
    with db.session() as s:
        assert s.scalars(select(TeamWeek.closed).where(TeamWeek.team_id == team.id)).all() == [
            True,
            True,
        ]


def test_closed_week_below_minimum_is_suppressed(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    domain = fill(db, team, THIS_WEEK, SIX[:4], ["a", "b", "c", "d"], members=9)
    readings = pulse(db, team, 4, during(THIS_WEEK + 1))
    assert readings == [Suppressed(Block(THIS_WEEK, 1, (domain,), 2))]
    # Nothing about it but that it exists: no counts, no means, no participation.
    assert [f.name for f in dataclasses.fields(Suppressed)] == ["block"]
    assert comments_of(db, team, readings[0].block) == []
    # One fewer than the minimum is still suppressed; the minimum itself is shown.
    assert isinstance(pulse(db, team, 4, during(THIS_WEEK + 1), minimum=4)[0], BlockFigures)


def test_figures_match_hand_computation(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    domain = fill(db, team, THIS_WEEK, SIX, members=8)
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures)
    assert reading.block == Block(THIS_WEEK, 1, (domain,), 2)
    assert reading.responses == 6
    assert reading.members == 8
    assert reading.participation == pytest.approx(0.75)
    # Support (1, 2, 2, 4, 5, 5): three low, none middle, three high.
    assert reading.availability == Bands(6, 3, 0, 3, pytest.approx(19 / 6))
    # Stress (3, 3, 3, 4, 4, 1).
    assert reading.stress == Bands(6, 1, 3, 2, pytest.approx(3.0))
    # Five of the six answered the domain item: (2, 2, 3, 5, 1).
    assert reading.domain_items == {domain: Bands(5, 3, 1, 1, pytest.approx(2.6))}
    assert reading.availability == bands([r[0] for r in SIX])


def test_nothing_per_level_is_carried() -> None:
    """An item's figures are its answered count, its bands and its mean: there is nowhere to
    put a count per level."""
    assert [f.name for f in dataclasses.fields(Bands)] == [
        "answered",
        "low",
        "middle",
        "high",
        "mean",
    ]


@pytest.mark.parametrize(
    ("support", "expected"),
    [
        ([5, 5, 5, 5, 5], Bands(5, 0, 0, 5, None)),  # unanimous
        ([5, 5, 5, 5, 4], Bands(5, 0, 0, 5, None)),  # near-unanimous, still one band
        ([1, 2, 2, 1, 2, 1], Bands(6, 6, 0, 0, None)),
        ([3, 3, 3, 3, 3], Bands(5, 0, 5, 0, None)),
        ([5, 5, 5, 5, 3], Bands(5, 0, 1, 4, pytest.approx(4.6))),  # two bands: mean shown
        ([1, 3, 5, 4, 2, 3], Bands(6, 2, 2, 2, pytest.approx(3.0))),
    ],
)
@pytest.mark.slow
def test_one_band_has_no_mean(
    db: Database, clock: ManualClock, support: list[int], expected: Bands
) -> None:
    """When every answer falls in one band, the query itself withholds the mean: it would
    show exactly what people chose (a mean of 5.0 is five 5s; 4.8 is four 5s and a 4)."""
    team = make_team(db, clock.now())
    domain = fill(db, team, THIS_WEEK, [(a, 3, a) for a in support])
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures)
    assert reading.availability == expected
    assert reading.domain_items == {domain: expected}
    assert reading.stress == Bands(len(support), 0, len(support), 0, None)
    assert (expected.mean is None) == (expected.one_band is not None)


def test_domain_items_need_the_minimum_of_their_own(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    rows: list[Row] = [(3, 3, 4), (3, 3, 4), (3, 3, 2), (3, 3, 5), (3, 3, None), (3, 3, None)]
    fill(db, team, THIS_WEEK, rows)
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures)
    assert reading.responses == 6
    assert reading.domain_items == {}  # only four item answers


def test_participation_is_out_of_the_weeks_roster(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    fill(db, team, THIS_WEEK, SIX[:5], members=10)
    # Someone who joined after the prompt and was let in counts among the members too.
    fill(db, team, THIS_WEEK, SIX[5:], first_user=40)
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures)
    assert (reading.responses, reading.members) == (6, 11)
    assert reading.participation == pytest.approx(6 / 11)


def test_participation_unknown_without_member_count(db: Database, clock: ManualClock) -> None:
    """A week already open when rosters came in (migration 0007) may have no member count."""
    team = make_team(db, clock.now())
    fill(db, team, THIS_WEEK, SIX)
    with db.session() as session:
        period = session.scalars(select(TeamWeek)).one()
        period.roster_known, period.member_count = False, None
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures)
    assert reading.members is None and reading.participation is None


@pytest.mark.slow
def test_weeks_argument_and_order(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    for week in range(THIS_WEEK, THIS_WEEK + 4):
        fill(db, team, week, SIX[: 3 + (week - THIS_WEEK)])  # 3, 4, 5, 6 answers
    now = during(THIS_WEEK + 4)
    readings = pulse(db, team, 3, now)
    assert [r.block.first_week for r in readings] == [THIS_WEEK + 3, THIS_WEEK + 2, THIS_WEEK + 1]
    assert [type(r) for r in readings] == [BlockFigures, BlockFigures, Suppressed]
    everything = pulse(db, team, 52, now)
    assert [r.block.first_week for r in everything] == [THIS_WEEK + i for i in (3, 2, 1, 0)]
    responses = [r.responses for r in everything if isinstance(r, BlockFigures)]
    assert responses == [6, 5]


@pytest.mark.slow
def test_pooled_team_shows_whole_fixed_blocks_only(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now(), pool=2)
    first, second = 152, 153  # block 76; week 151 is the second half of block 75
    d1 = fill(db, team, first, [(1, 1, 1)] * 5 + [(2, 2, None)], ["w1 a", "w1 b"], members=8)
    d2 = fill(db, team, second, [(5, 5, 5), (4, 4, 4)], ["w2 a"], members=7, first_user=10)
    # The first week has closed, but its block has not: nothing is shown.
    assert pulse(db, team, 4, during(second)) == []
    assert pulse(db, team, 1, during(second)) == []
    # Once both weeks have closed, the block is shown as one.
    [reading] = pulse(db, team, 2, during(second + 1))
    assert isinstance(reading, BlockFigures)
    assert reading.block == Block(first, 2, (d1, d2), 2)
    assert reading.block.last_week == second
    assert reading.block.label() == "w/c 30 Nov 2026 (+1 wk)"
    assert reading.responses == 8
    assert reading.members == 15
    assert reading.participation == pytest.approx(8 / 15)
    assert reading.availability == bands([1] * 5 + [2, 5, 4])
    assert reading.availability == Bands(8, 6, 0, 2, pytest.approx(2.0))
    # The first week's item has five answers (all low: no mean); the second's only two.
    assert reading.domain_items == {d1: Bands(5, 5, 0, 0, None)}
    assert sorted(comments_of(db, team, reading.block)) == ["w1 a", "w1 b", "w2 a"]


@pytest.mark.slow
def test_pooled_blocks_never_overlap(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now(), pool=2)
    for week in range(152, 161):  # blocks 76..79 whole, and week 160 of block 80
        fill(db, team, week, SIX, first_user=week)
    now = during(161)  # block 80 = weeks 160-161 is still running
    seen: dict[int, Block] = {}
    # The last complete week (160) is in a block still running, so one week shows nothing.
    assert pulse(db, team, 1, now) == []
    for weeks in range(2, 12):
        readings = pulse(db, team, weeks, now)
        assert readings, weeks
        for reading in readings:
            block = reading.block
            assert block.weeks == 2 and block.first_week % 2 == 0
            assert block.last_week < 161 and block.first_week != 160
            seen.setdefault(block.first_week, block)
            assert seen[block.first_week] == block  # same boundaries whatever `weeks` asks
    assert sorted(seen) == [152, 154, 156, 158]
    spans = sorted((b.first_week, b.last_week) for b in seen.values())
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end < start


@pytest.mark.slow
def test_block_comments_threshold_and_shuffle(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    texts = [f"comment {i}" for i in range(8)]
    fill(db, team, THIS_WEEK, (SIX * 2)[:8], texts)
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    block = reading.block
    assert comments_of(db, team, block, minimum=9) == []
    got = comments_of(db, team, block, minimum=8)
    assert isinstance(got, list) and sorted(got) == texts
    orders = {tuple(comments_of(db, team, block)) for _ in range(30)}
    assert len(orders) > 1  # shuffled afresh each time (8! orders)


def test_block_comments_refuse_slices_of_a_pooled_block(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now(), pool=2)
    d1 = fill(db, team, 152, SIX, ["first week"] * 6)
    d2 = fill(db, team, 153, [(3, 3, 3)], ["the lone second week"], first_user=20)
    [reading] = pulse(db, team, 2, during(154))
    assert len(comments_of(db, team, reading.block)) == 7
    # A one-week "block" of a two-week team would let the lone comment be differenced out.
    assert comments_of(db, team, Block(152, 1, (d1,))) == []
    assert comments_of(db, team, Block(153, 1, (d2,))) == []
    assert comments_of(db, team, Block(153, 2, (d2,))) == []


def test_block_comments_ignore_the_open_week(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    fill(db, team, THIS_WEEK, SIX, ["closed week"] * 6)
    fill(db, team, THIS_WEEK + 1, SIX, ["open week"] * 6, first_user=50)
    block = Block(THIS_WEEK + 1, 1, ())
    assert comments_of(db, team, block) == []
    [reading] = pulse(db, team, 1, during(THIS_WEEK + 1))
    assert comments_of(db, team, reading.block) == ["closed week"] * 6


@pytest.mark.slow
def test_nothing_live_within_an_open_week(db: Database, clock: ManualClock) -> None:
    """Differencing: what a supervisor sees cannot change while the week is open."""
    team = make_team(db, clock.now())
    fill(db, team, THIS_WEEK, SIX, [f"c{i}" for i in range(6)], members=8)
    now = during(THIS_WEEK + 1)
    fill(db, team, THIS_WEEK + 1, SIX, [f"d{i}" for i in range(6)], members=8, first_user=30)
    before = pulse(db, team, 4, now)
    latest = before[0].block
    before_comments = sorted(comments_of(db, team, latest))
    assert isinstance(before[0], BlockFigures) and before[0].responses == 6

    # One more check-in, then a replacement of an earlier one, both in the open week.
    fill(db, team, THIS_WEEK + 1, [(1, 5, 1)], ["newcomer"], first_user=90)
    fill(db, team, THIS_WEEK + 1, [(5, 1, 5)], ["changed my mind"], first_user=30)
    for later in (now, now + timedelta(days=2)):
        assert pulse(db, team, 4, later) == before
        assert sorted(comments_of(db, team, latest)) == before_comments

    # Once that week closes, its figures appear, and only then.
    after = pulse(db, team, 4, during(THIS_WEEK + 2))
    assert len(after) == 2 and after[1] == before[0]
    assert isinstance(after[0], BlockFigures) and after[0].responses == 7


def test_other_teams_answers_never_mix_in(db: Database, clock: ManualClock) -> None:
    blue = make_team(db, clock.now(), channel="C0001")
    red = make_team(db, clock.now(), channel="C0002")
    fill(db, blue, THIS_WEEK, SIX)
    fill(db, red, THIS_WEEK, [(1, 1, 1)] * 3)
    [reading] = pulse(db, blue, 1, during(THIS_WEEK + 1))
    assert isinstance(reading, BlockFigures) and reading.responses == 6
    [red_reading] = pulse(db, red, 1, during(THIS_WEEK + 1))
    assert isinstance(red_reading, Suppressed)
    assert comments_of(db, red, red_reading.block, minimum=1) == []  # red had no comments


def look(
    db: Database, team: Team, now: datetime, surface: Surface = Surface.TEAMPULSE, **how: Any
) -> list[Reading]:
    with db.session() as s:
        return read_pulse_for(
            s,
            "USUPER01",
            s.merge(team),
            surface,
            anonymity_min=MIN,
            retention_weeks=how.pop("retention_weeks", 104),
            now=now,
            **{"weeks": 8, **how},
        ).readings


@pytest.mark.slow
def test_every_read_writes_one_look_in_the_same_transaction(
    db: Database, clock: ManualClock
) -> None:
    team = make_team(db, clock.now(), pool=2)
    for week in range(THIS_WEEK - 4, THIS_WEEK):
        fill(db, team, week, SIX[:3])
    now = during(THIS_WEEK)
    assert [r.block.first_week for r in look(db, team, now, weeks=4)] == [148, 146]
    assert look(db, team, now, Surface.CHART, weeks=8, newest=1)[0].block.first_week == 148
    assert [r.block.first_week for r in look(db, team, now, Surface.SHARE, block=146)] == [146]
    assert look(db, team, now - timedelta(weeks=40), Surface.HOME) == []  # nothing yet: logged
    assert look(db, team, now, Surface.EXPORT, reason="x" * 300, detail="CSV")
    with db.session() as s:
        found = view_log_page(s, team, 1, 10)
    looks = found.looks
    assert (found.page, found.pages, len(looks)) == (1, 1, 5)
    # Newest first (the one dated 40 weeks back is last): where, which weeks, why.
    logged = [(v.surface, v.first_week, v.last_week, v.what) for v in looks]
    assert logged == [
        ("export", 146, 149, "export CSV: w/c 19 Oct 2026 (+1 wk) to w/c 2 Nov 2026 (+1 wk)"),
        ("share", 146, 147, "share: w/c 19 Oct 2026 (+1 wk)"),
        ("chart", 148, 149, "chart: w/c 2 Nov 2026 (+1 wk)"),
        ("/teampulse", 146, 149, "/teampulse: w/c 19 Oct 2026 (+1 wk) to w/c 2 Nov 2026 (+1 wk)"),
        ("App Home", None, None, "App Home: nothing to show"),
    ]
    assert looks[0].reason == "x" * 200 and [v.reason for v in looks[1:]] == [None] * 4
    assert all(v.viewer_id == "USUPER01" and v.viewed_at.tzinfo for v in looks)

    # A read whose transaction fails leaves no look, and hands back no figures.
    with pytest.raises(RuntimeError), db.session() as s:
        read_pulse_for(
            s,
            "USUPER01",
            s.merge(team),
            Surface.TEAMPULSE,
            weeks=4,
            anonymity_min=MIN,
            retention_weeks=104,
            now=now,
        )
        raise RuntimeError("the reply could not be sent")
    with db.session() as s:
        assert len(view_log_page(s, team, 1, 10).looks) == 5


def test_the_view_log_pages_through_every_look(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    for n in range(7):
        look(db, team, clock.now() + timedelta(minutes=n), detail=f"look {n}")
    with db.session() as s:
        pages = [view_log_page(s, team, page, 3) for page in (1, 2, 3, 4, 0)]
    assert [[v.what.split(":")[0] for v in found.looks] for found in pages] == [
        ["/teampulse look 6", "/teampulse look 5", "/teampulse look 4"],
        ["/teampulse look 3", "/teampulse look 2", "/teampulse look 1"],
        ["/teampulse look 0"],
        ["/teampulse look 0"],  # past the end: the last page
        ["/teampulse look 6", "/teampulse look 5", "/teampulse look 4"],  # before: the first
    ]
    assert [(found.page, found.pages) for found in pages] == [
        (1, 3),
        (2, 3),
        (3, 3),
        (3, 3),
        (1, 3),
    ]


def test_current_week_helper(db: Database, clock: ManualClock) -> None:
    team = make_team(db, clock.now())
    assert current_week(team, clock.now()) == Week(THIS_WEEK)
    with db.session() as s:
        assert s.scalars(select(TeamWeek)).all() == []
