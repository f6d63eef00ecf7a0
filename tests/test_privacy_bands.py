"""Figures that cannot be subtracted: every surface a supervisor sees (`/teampulse`, the App
Home, the chart's alt text, a period shared with the channel, the CSV export) gives each item
as how many answered, the mean, and how many answered low (1–2), middle (3) and high (4–5).
Never a count per level, which would show every answer whenever a group answers alike; and
when one band holds every answer, "all N" in that band and no mean at all.

Played through Slack against the sandbox, as the supervisor sees it.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import pytest
from experience import CHANNEL, SUPERVISOR, World, button, experience, member, shown
from sqlalchemy import select

from bot.export import export_team
from bot.render.home import SHARE_PERIOD
from bot.render.text import mrkdwn_to_text
from bot.sandboxed import wait_until
from storage.clock import ManualClock
from storage.db import Database
from storage.models import Team
from storage.profile import DomainReading, Profile
from storage.pulse import Bands, Block
from storage.retention import forget_team

Answers = list[tuple[int, int, int | None]]  # (support, stress, belief item) per person

UNANIMOUS: Answers = [(5, 1, 4)] * 5
NEAR_UNANIMOUS: Answers = [(5, 1, 4), (5, 1, 5), (5, 2, 4), (5, 1, 4), (4, 1, 4)]
# Support (1, 3, 5, 4, 2, 4): low 2, middle 1, high 3, mean 19/6. Stress (3, 3, 4, 5, 2, 3):
# low 1, middle 3, high 2, mean 20/6. Item (4, 4, 2, 5, 3), one left blank: mean 3.6.
MIXED: Answers = [(1, 3, 4), (3, 3, 4), (5, 4, 2), (4, 5, 5), (2, 2, 3), (4, 3, None)]
# Six answered, but only four answered the week's own statement.
ITEM_BELOW_MINIMUM: Answers = [
    (1, 3, 4),
    (3, 3, 4),
    (5, 4, 2),
    (4, 5, 5),
    (2, 2, None),
    (4, 3, None),
]

# Ways a count per level could be written: "1: 0 · 2: 0 · 5: 5", "5×5", "level 5", "(0, 0,
# 0, 0, 5)", "fives", or a CSV column per level ("support_5", "stress_level_1").
PER_LEVEL = [
    re.compile(r"(?<![\d:])[1-5]\s*:\s*\d"),
    re.compile(r"\d\s*[×x]\s*[1-5]\b|\b[1-5]\s*[×x]\s*\d"),
    re.compile(r"\blevel\s*[1-5]\b", re.IGNORECASE),
    re.compile(r"\(\s*\d+(\s*,\s*\d+){4}\s*\)"),
    re.compile(r"\b(ones|twos|threes|fours|fives)\b", re.IGNORECASE),
    re.compile(r"\w_(level_?)?[1-5]\b"),
]


@dataclass(frozen=True)
class Surfaces:
    """What each surface showed the supervisor: `raw` as sent (JSON, CSV), `words` as read."""

    raw: dict[str, str]
    words: dict[str, str]


def play_one_week(world: World, answers: Answers) -> None:
    for n, (support, stress, item) in enumerate(answers):
        world.seed(member(n), support, stress, item)
    world.next_week()


def every_surface(world: World) -> Surfaces:
    """The supervisor looks everywhere the team's figures are shown, and shares the period."""
    pulse = world.command(SUPERVISOR, "/teampulse")
    home = world.home(SUPERVISOR)
    dms = len(world.sandbox.dms(SUPERVISOR))
    world.command(SUPERVISOR, "/teampulse", "chart")
    [chart] = wait_until(lambda: world.sandbox.uploaded_files(), what="the chart")
    offer = world.new_dms(SUPERVISOR, dms, 2)[-1]
    share = button(offer.blocks or [], SHARE_PERIOD)
    before = len(world.sandbox.timeline(CHANNEL))
    world.bot.driver.click_button(
        SUPERVISOR, SHARE_PERIOD, share["value"], channel_id=offer.channel, message_ts=offer.ts
    )
    [summary] = wait_until(lambda: world.sandbox.timeline(CHANNEL)[before:], what="the share")
    csv = io.StringIO()
    export_team(world.bot.runtime.services, world.team(), 4, SUPERVISOR, "band check", csv)

    def as_sent(text: str, blocks: object) -> str:
        return text + "\n" + json.dumps(blocks, ensure_ascii=False)

    alt = chart.alt_txt or ""
    return Surfaces(
        raw={
            "/teampulse": as_sent(pulse.text, pulse.blocks),
            "App Home": json.dumps(home["blocks"], ensure_ascii=False),
            "chart alt text": alt,
            "shared message": as_sent(summary.text, summary.blocks),
            "export": csv.getvalue(),
        },
        words={
            "/teampulse": pulse.text + "\n" + mrkdwn_to_text(shown(pulse.blocks)),
            "App Home": mrkdwn_to_text(shown(home["blocks"])),
            "chart alt text": alt,
            "shared message": summary.text + "\n" + mrkdwn_to_text(shown(summary.blocks)),
            "export": csv.getvalue(),
        },
    )


def surfaces_after(database_url: str, clock: ManualClock, answers: Answers) -> Surfaces:
    """The surfaces after one week of `answers`, from the same start each time: the team is
    erased afterwards so that another run can begin again."""
    with experience(database_url, ManualClock(clock.now())) as world:
        play_one_week(world, answers)
        surfaces = every_surface(world)
    db = Database(database_url)
    try:
        with db.session() as session:
            forget_team(session, session.scalars(select(Team.id)).one())
    finally:
        db.dispose()
    return surfaces


def export_row(surfaces: Surfaces) -> dict[str, str]:
    header, row = surfaces.raw["export"].splitlines()
    return dict(zip(header.split(","), row.split(","), strict=True))


@pytest.mark.parametrize(
    "answers",
    [UNANIMOUS, NEAR_UNANIMOUS, MIXED, ITEM_BELOW_MINIMUM],
    ids=["unanimous", "near-unanimous", "mixed", "item-below-minimum"],
)
def test_no_surface_shows_a_count_per_level(
    database_url: str, clock: ManualClock, answers: Answers
) -> None:
    surfaces = surfaces_after(database_url, clock, answers)
    for surface, text in surfaces.raw.items():
        for pattern in PER_LEVEL:
            found = pattern.search(text)
            assert found is None, f"{surface} shows a count per level: {found.group(0)!r}"
    # Not vacuous: the detailed surfaces do show the bands.
    for surface in ("/teampulse", "shared message"):
        assert "High (4–5)" in surfaces.words[surface], surface
    assert "support_high" in surfaces.raw["export"].splitlines()[0]


def test_a_unanimous_group_shows_its_band_and_no_mean(
    database_url: str, clock: ManualClock
) -> None:
    surfaces = surfaces_after(database_url, clock, UNANIMOUS)
    pulse = surfaces.words["/teampulse"]
    assert (
        "Support available when needed (1 not at all … 5 always): 5 answered, no mean, as "
        "everyone is in one band · High (4–5): all 5"
    ) in pulse
    assert (
        "Stress (1 not at all … 5 very much): 5 answered, no mean, as everyone is in one band "
        "· Low (1–2): all 5"
    ) in pulse
    assert "(1 strongly disagree … 5 strongly agree): 5 answered, no mean" in pulse
    assert "support all High (4–5) · stress all Low (1–2)" in pulse
    home = surfaces.words["App Home"]
    # Participation is answers over the roster: the eight members (the supervisor is not on it).
    assert "support all High (4–5)  stress all Low (1–2)  5 of 8 answered" in home
    assert "5 answered; High (4–5): all 5 (no mean, as everyone is in one band)" in home
    alt = surfaces.words["chart alt text"]
    assert (
        "support all 5 High (4–5), not plotted, stress all 5 Low (1–2), not plotted, "
        "5 of 8 answered."
    ) in alt
    assert "no point plotted, as its mean would show what people chose" in alt
    shared = surfaces.words["shared message"]
    assert "Could get support when needed (1 not at all … 5 always): High (4–5): all 5" in shared
    assert "Stress (1 not at all … 5 very much): Low (1–2): all 5" in shared
    row = export_row(surfaces)
    assert [row[f"support_{f}"] for f in ("answered", "mean", "low", "middle", "high")] == [
        "5",
        "",
        "0",
        "0",
        "5",
    ]
    assert (row["stress_mean"], row["stress_low"]) == ("", "5")
    # No mean of any kind, anywhere: no number with a decimal point on any surface.
    for surface, text in surfaces.words.items():
        assert not re.search(r"\d\.\d", text), (surface, re.findall(r"\d\.\d+", text))


def test_a_near_unanimous_group_looks_exactly_like_a_unanimous_one(
    database_url: str, clock: ManualClock
) -> None:
    """Five 5s and four 5s with a 4 are both "all 5 high": the supervisor cannot tell which it
    was, on any surface (a mean of 5.0 or 4.8 would have told them)."""
    unanimous = surfaces_after(database_url, clock, UNANIMOUS)
    near = surfaces_after(database_url, clock, NEAR_UNANIMOUS)
    assert near.words == unanimous.words


def test_a_mixed_group_shows_the_mean_and_every_band(database_url: str, clock: ManualClock) -> None:
    surfaces = surfaces_after(database_url, clock, MIXED)
    pulse = surfaces.words["/teampulse"]
    assert (
        "Support available when needed (1 not at all … 5 always): 6 answered, mean 3.2 of 5 · "
        "Low (1–2): 2 · Middle (3): 1 · High (4–5): 3"
    ) in pulse
    assert (
        "Stress (1 not at all … 5 very much): 6 answered, mean 3.3 of 5 · "
        "Low (1–2): 1 · Middle (3): 3 · High (4–5): 2"
    ) in pulse
    assert (
        "(1 strongly disagree … 5 strongly agree): 5 answered, mean 3.6 of 5 · "
        "Low (1–2): 1 · Middle (3): 1 · High (4–5): 3"
    ) in pulse
    home = surfaces.words["App Home"]
    assert "support ███░░ 3.2  stress ███░░ 3.3  6 of 8 answered" in home
    assert "████░ 3.6 agreeing (5 answered; Low (1–2): 1 · Middle (3): 1 · High (4–5): 3)" in home
    assert "support 3.2, stress 3.3, 6 of 8 answered." in surfaces.words["chart alt text"]
    assert "not plotted" not in surfaces.words["chart alt text"]
    shared = surfaces.words["shared message"]
    assert (
        "Could get support when needed (1 not at all … 5 always): ███░░ 3.2 out of 5 · "
        "Low (1–2): 2 · Middle (3): 1 · High (4–5): 3"
    ) in shared
    assert (
        "strongly agree), 5 answered: ████░ 3.6 out of 5 · Low (1–2): 1 · Middle (3): 1 · "
        "High (4–5): 3"
    ) in shared
    row = export_row(surfaces)
    assert [row[f"stress_{f}"] for f in ("answered", "mean", "low", "middle", "high")] == [
        "6",
        "3.33",
        "1",
        "3",
        "2",
    ]
    [belief] = [c for c, v in row.items() if c.startswith("belief_") and c.endswith("_mean") and v]
    assert row[belief] == "3.60"


def test_an_item_below_the_minimum_is_on_no_surface(database_url: str, clock: ManualClock) -> None:
    """Six answered, but only four answered the week's statement: the statement's figures are
    nowhere, though the period's other figures are."""
    surfaces = surfaces_after(database_url, clock, ITEM_BELOW_MINIMUM)
    for surface in ("/teampulse", "shared message"):
        text = surfaces.words[surface]
        assert "6 answered" in text or "6 of 8 of us" in text, surface
        assert "strongly agree" not in text and "4 answered" not in text, surface
    assert "not enough answers" in surfaces.words["App Home"].split("secure base profile")[1]
    assert "agreeing" not in surfaces.words["App Home"]
    row = export_row(surfaces)
    assert row["support_answered"] == "6"
    beliefs = {c: v for c, v in row.items() if c.startswith("belief_")}
    assert beliefs and set(beliefs.values()) == {""}


def test_an_item_showing_neither_mean_nor_one_band_is_left_out_of_the_ranking() -> None:
    """Never an assertion in a request: an item the figures could not rank is simply not
    ranked (the query never gives one; the Home tab must not fail if it ever did)."""
    block = Block(first_week=150, weeks=1, domains=("acceptance",))
    shown = DomainReading("acceptance", block, Bands(4, 1, 2, 1, 3.0))
    lowest = DomainReading("availability", block, Bands(5, 5, 0, 0, None))  # all low: 1.5
    odd = DomainReading("sensitivity", block, Bands(4, 2, 0, 2, None))
    assert Profile((block,), (shown, lowest, odd)).weakest == "availability"
    assert Profile((block,), (shown, odd)).weakest is None
