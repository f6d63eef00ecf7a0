"""Figures that cannot be subtracted: every surface a supervisor sees (`/teampulse`, the App
Home, the chart's alt text, a period shared with the channel, the CSV export) gives each item
as how many answered, the average, and how many answered low (1–2), middle (3) and high (4–5),
each band in the scale's own words ("4 of 6 said most of the time or always (average 3.8 of
5)"). Never a count per level, which would show every answer whenever a group answers alike;
and when one band holds every answer, "all N" in that band and no average at all.

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

from bot.content import Scale, default_library
from bot.export import export_team
from bot.render.bands import band_phrases, item_reading, whole_band
from bot.render.home import SHARE_PERIOD
from bot.render.text import mrkdwn_to_text
from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.figures import Bands, Block, BlockFigures
from practice.profile import DomainHistory, Profile, Showing, secure_base_profile
from storage.db import Database
from storage.models import Team
from storage.retention import forget_team

# (support, stress, belief item) per person; support None: "I didn't need any this week"
Answers = list[tuple[int | None, int, int | None]]

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

# Eight checked in, three of them needing no support: support rests on five real answers
# (1, 3, 5, 4, 2: low 2, middle 1, high 2, mean 3.0); stress on all eight.
SOME_DIDNT_NEED: Answers = [
    (None, 3, 4),
    (None, 2, 4),
    (None, 4, 3),
    (1, 3, 4),
    (3, 3, 4),
    (5, 4, 2),
    (4, 5, 5),
    (2, 2, 3),
]
# Six checked in, but only two answered support (1 and 5): too few for support's figures.
MOST_DIDNT_NEED: Answers = [
    (None, 3, 4),
    (None, 3, 4),
    (None, 4, 3),
    (None, 2, 4),
    (1, 3, 4),
    (5, 4, 2),
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
    [UNANIMOUS, NEAR_UNANIMOUS, MIXED, ITEM_BELOW_MINIMUM, MOST_DIDNT_NEED],
    ids=["unanimous", "near-unanimous", "mixed", "item-below-minimum", "most-didnt-need"],
)
@pytest.mark.slow
def test_no_surface_shows_a_count_per_level(
    database_url: str, clock: ManualClock, answers: Answers
) -> None:
    surfaces = surfaces_after(database_url, clock, answers)
    for surface, text in surfaces.raw.items():
        for pattern in PER_LEVEL:
            found = pattern.search(text)
            assert found is None, f"{surface} shows a count per level: {found.group(0)!r}"
    # Not vacuous: the detailed surfaces do show the bands, in the scale's words.
    library = default_library()
    phrases = [
        f"said {phrase}"
        for scale in (library.availability, library.stress)
        for phrase in band_phrases(scale).values()
    ]
    for surface in ("/teampulse", "shared message"):
        assert any(phrase in surfaces.words[surface] for phrase in phrases), surface
    assert "support_high" in surfaces.raw["export"].splitlines()[0]


@pytest.mark.slow
def test_a_unanimous_group_shows_its_band_and_no_mean(
    database_url: str, clock: ManualClock
) -> None:
    library = default_library()
    support, stress = band_phrases(library.availability), band_phrases(library.stress)
    agreement = band_phrases(library.agreement)
    surfaces = surfaces_after(database_url, clock, UNANIMOUS)
    pulse = surfaces.words["/teampulse"]
    no_average = "(no average, as every answer fell in one band)"
    assert f"Support when needed (1 {library.availability.labels[0].lower()} … 5 always): " in pulse
    assert f": all 5 said {support['high']} {no_average}" in pulse
    assert f"Stress (1 not at all … 5 very much): all 5 said {stress['low']} {no_average}" in pulse
    assert (
        f"(1 strongly disagree … 5 strongly agree): all 5 said {agreement['high']} {no_average}"
    ) in pulse
    assert "support all High (4–5) · stress all Low (1–2)" in pulse
    home = surfaces.words["App Home"]
    # Participation is answers over the roster: the eight members (the supervisor is not on it).
    assert "support all High (4–5)  stress all Low (1–2)  5 of 8 checked in" in home
    assert f": all 5 said {agreement['high']} {no_average}" in home
    alt = surfaces.words["chart alt text"]
    assert (
        "support all 5 High (4–5), not plotted, stress all 5 Low (1–2), not plotted, "
        "5 of 8 checked in."
    ) in alt
    assert "no point plotted, as its average would show what people chose" in alt
    shared = surfaces.words["shared message"]
    assert (
        f"Support when needed (1 {library.availability.labels[0].lower()} … 5 always): " in shared
    )
    assert f"all 5 said {support['high']} {no_average}" in shared
    assert f"Stress (1 not at all … 5 very much): all 5 said {stress['low']} {no_average}" in shared
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


@pytest.mark.slow
def test_a_near_unanimous_group_looks_exactly_like_a_unanimous_one(
    database_url: str, clock: ManualClock
) -> None:
    """Five 5s and four 5s with a 4 are both "all 5 high": the supervisor cannot tell which it
    was, on any surface (a mean of 5.0 or 4.8 would have told them)."""
    unanimous = surfaces_after(database_url, clock, UNANIMOUS)
    near = surfaces_after(database_url, clock, NEAR_UNANIMOUS)
    assert near.words == unanimous.words


@pytest.mark.slow
def test_a_mixed_group_shows_the_mean_and_every_band(database_url: str, clock: ManualClock) -> None:
    library = default_library()
    support, stress = band_phrases(library.availability), band_phrases(library.stress)
    agreement = band_phrases(library.agreement)
    surfaces = surfaces_after(database_url, clock, MIXED)
    pulse = surfaces.words["/teampulse"]
    support_reading = (
        f"3 of 6 said {support['high']} (average 3.2 of 5); 1 said {support['middle']}, "
        f"2 said {support['low']}"
    )
    stress_reading = (
        f"2 of 6 said {stress['high']} (average 3.3 of 5); 3 said {stress['middle']}, "
        f"1 said {stress['low']}"
    )
    belief_reading = (
        f"3 of 5 said {agreement['high']} (average 3.6 of 5); 1 said {agreement['middle']}, "
        f"1 said {agreement['low']}"
    )
    assert f"5 always): {support_reading}" in pulse
    assert f"Stress (1 not at all … 5 very much): {stress_reading}" in pulse
    assert f"(1 strongly disagree … 5 strongly agree): {belief_reading}" in pulse
    assert "6 of 8 checked in" in pulse and "answered (" not in pulse
    home = surfaces.words["App Home"]
    assert "support 3.2 ███░░  stress 3.3 ███░░  6 of 8 checked in" in home
    assert f": {belief_reading}." in home
    assert "support 3.2, stress 3.3, 6 of 8 checked in." in surfaces.words["chart alt text"]
    assert "not plotted" not in surfaces.words["chart alt text"]
    shared = surfaces.words["shared message"]
    assert f"5 always): {support_reading}" in shared
    assert f"strongly agree): {belief_reading}" in shared
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


@pytest.mark.slow
def test_an_item_below_the_minimum_is_on_no_surface(database_url: str, clock: ManualClock) -> None:
    """Six answered, but only four answered the week's statement: the statement's figures are
    nowhere, though the period's other figures are."""
    surfaces = surfaces_after(database_url, clock, ITEM_BELOW_MINIMUM)
    for surface in ("/teampulse", "shared message"):
        text = surfaces.words[surface]
        assert "6 of 8 " in text, surface
        assert "strongly agree" not in text and "of 4 said" not in text, surface
    profile = surfaces.words["App Home"].split("secure base profile")[1]
    assert "not enough answers" in profile and "of 4" not in profile
    row = export_row(surfaces)
    assert row["support_answered"] == "6"
    beliefs = {c: v for c, v in row.items() if c.startswith("belief_")}
    assert beliefs and set(beliefs.values()) == {""}


def test_an_item_reads_numbers_first_with_each_level_in_the_scales_words() -> None:
    scale = Scale("How often?", ("Never", "Rarely", "Sometimes", "Most of the time", "Always"))
    assert item_reading(scale, Bands(6, 1, 0, 5, 4.2)) == (
        "5 of 6 said most of the time or always (average 4.2 of 5); 0 said sometimes, "
        "1 said rarely or never"
    )
    assert item_reading(scale, Bands(5, 0, 0, 5, None)) == (
        "all 5 said most of the time or always (no average, as every answer fell in one band)"
    )
    # Never a failed request: an item with neither an average nor one band (the query never
    # gives one) reads without an average.
    assert item_reading(scale, Bands(4, 2, 0, 2, None)).startswith(
        "2 of 4 said most of the time or always (no average); 0 said sometimes"
    )
    assert whole_band(Bands(4, 2, 0, 2, None)) == "no average"


def showing(week: int, item: Bands | None, version: int = 1) -> Showing:
    return Showing(
        Block(first_week=week, weeks=1, domains=("acceptance",), items_version=version), item
    )


def test_a_domain_is_pointed_to_only_when_it_clearly_fell_since_its_last_rotation() -> None:
    """Half a point with the minimum both times; judged on what is shown, so a one-band item
    counts only as its band's range (all high: 4 to 5)."""

    def fell(now: Bands | None, before: Bands | None, minimum: int = 5) -> bool:
        history = DomainHistory("acceptance", (showing(160, now), showing(155, before)))
        profile = Profile((), (history,), minimum)
        return profile.fall(history) is not None

    assert fell(Bands(5, 1, 2, 2, 3.0), Bands(6, 0, 2, 4, 3.5))
    assert not fell(Bands(5, 1, 2, 2, 3.1), Bands(6, 0, 2, 4, 3.5))  # 0.4: too small to name
    assert not fell(Bands(5, 1, 2, 2, 3.0), Bands(6, 0, 2, 4, 3.5), minimum=6)  # too few now
    assert fell(Bands(5, 5, 0, 0, None), Bands(6, 0, 3, 3, 3.0))  # all low: at most 2
    assert not fell(Bands(5, 0, 0, 5, None), Bands(6, 0, 0, 6, None))  # both all high
    assert fell(Bands(5, 1, 2, 2, 3.4), Bands(6, 0, 0, 6, None))  # all high: at least 4
    assert not fell(Bands(5, 1, 2, 2, 3.0), None)  # too few answered last time
    assert not fell(Bands(5, 1, 2, 2, 3.5), Bands(6, 1, 2, 3, 3.0))  # it rose


def test_the_profile_never_sets_one_version_of_a_statement_beside_another() -> None:
    def week(index: int, mean: float, version: int) -> BlockFigures:
        block = Block(index, 1, ("acceptance",), items_version=version)
        figures = Bands(6, 1, 2, 3, mean)
        return BlockFigures(block, 6, 8, figures, figures, {"acceptance": figures})

    readings = [week(170, 2.0, 2), week(165, 4.5, 1), week(160, 4.5, 1)]
    profile = secure_base_profile(readings, ["acceptance"], 1, 5)
    [history] = profile.domains
    assert [s.block.first_week for s in history.showings] == [170]
    assert profile.fallen == () and not profile.comparable
    same = secure_base_profile([week(170, 2.0, 1), *readings[1:]], ["acceptance"], 1, 5)
    assert [f.domain for f in same.fallen] == ["acceptance"]


@pytest.mark.slow
def test_didnt_need_any_counts_as_checking_in_and_stays_out_of_support(
    database_url: str, clock: ManualClock
) -> None:
    support = band_phrases(default_library().availability)
    surfaces = surfaces_after(database_url, clock, SOME_DIDNT_NEED)
    pulse = surfaces.words["/teampulse"]
    assert "8 of 8 checked in" in pulse
    # Five real answers (1, 3, 5, 4, 2); the three who didn't need any are in no band.
    support_reading = (
        f"2 of 5 said {support['high']} (average 3.0 of 5); 1 said {support['middle']}, "
        f"2 said {support['low']}"
    )
    assert f"Support when needed (1 never … 5 always): {support_reading}" in pulse
    assert "Stress (1 not at all … 5 very much): 3 of 8 said" in pulse
    # A new team's first week is availability: its figure is named by the statement asked.
    statement = default_library().domain("availability").checkin_statement
    assert f"“{statement}” (1 strongly disagree … 5 strongly agree): " in pulse
    assert f"“{statement}” (1 strongly disagree" in surfaces.words["shared message"]
    assert "support 3.0, stress" in surfaces.words["chart alt text"]
    assert "support 3.0 ███░░" in surfaces.words["App Home"]
    assert f"5 always): {support_reading}" in surfaces.words["shared message"]
    row = export_row(surfaces)
    assert row["answers"] == "8"
    assert [row[f"support_{f}"] for f in ("answered", "mean", "low", "middle", "high")] == [
        "5",
        "3.00",
        "2",
        "1",
        "2",
    ]
    assert row["stress_answered"] == "8"


@pytest.mark.slow
def test_support_with_too_few_real_answers_is_on_no_surface(
    database_url: str, clock: ManualClock
) -> None:
    """Six checked in, so the week shows; but only two answered support, so its figures are
    nowhere: not its average, not its bands, not how many answered it."""
    surfaces = surfaces_after(database_url, clock, MOST_DIDNT_NEED)
    pulse = surfaces.words["/teampulse"]
    assert "6 of 8 checked in" in pulse
    assert "Support when needed (1 never … 5 always): too few answers to show" in pulse
    assert "Stress (1 not at all … 5 very much): 2 of 6 said" in pulse
    assert "support too few answers to show" in surfaces.words["App Home"]
    alt = surfaces.words["chart alt text"]
    assert "support not plotted, too few answers to show" in alt
    assert "(1 never … 5 always): too few answers to show" in surfaces.words["shared message"]
    for surface, words in surfaces.words.items():
        assert "of 2 said" not in words and "2 answered" not in words, surface
    row = export_row(surfaces)
    assert row["answers"] == "6"
    assert {v for c, v in row.items() if c.startswith("support_")} == {""}
    assert row["stress_answered"] == "6"
