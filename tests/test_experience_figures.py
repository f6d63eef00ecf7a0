"""Figures a supervisor reads rightly, and reads with a screen reader: numbers first, each level
in the scale's words; participation as "6 of 8 checked in" with how (not) to read a quiet week;
text bars only ever just after their number; the chart says which way is good for each line,
has a year on its date axis, large tick labels, and joins points across a quiet week with a
dashed line. Played through Slack against the sandbox, as the supervisor sees it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from experience import CHANNEL, SUPERVISOR, World, button, experience, member, shown

from bot.content import DOMAIN_ORDER, default_library
from bot.render.bands import band_phrases
from bot.render.chart import alt_text, chart_figure
from bot.render.home import SHARE_PERIOD, SupervisorCard, supervisor_blocks
from bot.render.pulse import PARTICIPATION_NOTE, pulse_blocks
from bot.render.text import mrkdwn_to_text
from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.figures import Bands, Block, BlockFigures, Suppressed
from practice.profile import secure_base_profile

BAR = re.compile(r"[█░▏▎▍▌▋▊▉▁▂▃▄▅▆▇]+")
# A bar may only follow its own number: "3.4 ███░░".
BAR_AFTER_NUMBER = re.compile(r"\d(\.\d)? $")
# Wordings the figures no longer use: a mean "agreeing", the HSE response-rate labels (made
# for one-off organisation-wide surveys, not weekly pulses), a rate as a percentage.
OLD_PHRASES = (
    r"of 5 agreeing|agreeing|\bmean [\d…{][^\n]{0,20}\bof 5\b"
    r"|very good|\bdesirable\b|\badequate\b"
)
OLD_WORDINGS = re.compile(rf"{OLD_PHRASES}|\bmean \d|\d+%", re.IGNORECASE)
# In the source, a percentage may be anything: only the phrases.
OLD_IN_SOURCE = re.compile(OLD_PHRASES, re.IGNORECASE)


USER_FACING = ("bot/render", "bot/content", "bot/demo")


def test_no_user_facing_source_keeps_an_old_figure_wording() -> None:
    """What the surfaces test reads from Slack, checked at the source too, so a wording on a
    path no test plays is caught as well."""
    root = Path(__file__).resolve().parent.parent
    files = [
        path
        for folder in USER_FACING
        for path in sorted((root / folder).rglob("*"))
        if path.suffix in {".py", ".toml"}
    ]
    assert len(files) > 10
    for path in files:
        old = OLD_IN_SOURCE.search(path.read_text(encoding="utf-8"))
        assert old is None, f"{path.relative_to(root)} still says {old.group(0)!r}"


def play_three_weeks(world: World) -> None:
    """Six answers, then three (below the minimum), then five; the third week then closes."""
    for n, (a, s) in enumerate([(5, 2), (4, 3), (4, 2), (3, 4), (2, 5), (4, 3)]):
        world.seed(member(n), a, s, 4)
    world.next_week()
    for n in range(3):
        world.seed(member(n), 1, 5, 1)
    world.next_week()
    for n, (a, s) in enumerate([(2, 4), (3, 4), (2, 5), (3, 3), (2, 4)]):
        world.seed(member(n), a, s, 2)
    world.next_week()


def surfaces(world: World) -> dict[str, str]:
    """Every text surface with figures, as read aloud (mrkdwn as plain words)."""
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
    return {
        "/teampulse": pulse.text + "\n" + mrkdwn_to_text(shown(pulse.blocks)),
        "App Home": mrkdwn_to_text(shown(home["blocks"])),
        "chart alt text": chart.alt_txt or "",
        "shared message": summary.text + "\n" + mrkdwn_to_text(shown(summary.blocks)),
    }


@pytest.mark.slow
def test_every_figure_reads_numbers_first_and_no_bar_stands_alone(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        play_three_weeks(world)
        seen = surfaces(world)
    bars = 0
    for surface, text in seen.items():
        for found in BAR.finditer(text):
            bars += 1
            before = text[: found.start()]
            assert BAR_AFTER_NUMBER.search(before), (
                f"{surface}: a bar with no number just before it: "
                f"{text[max(0, found.start() - 30) : found.end() + 10]!r}"
            )
        old = OLD_WORDINGS.search(text)
        assert old is None, f"{surface} still says {old.group(0)!r}"
    assert bars, "the Home tab's trend has its bars (beside their numbers)"

    # Participation: answers over the roster, with how to read a quiet week.
    assert "5 of 8 checked in" in seen["/teampulse"]
    assert PARTICIPATION_NOTE in seen["/teampulse"] and PARTICIPATION_NOTE in seen["App Home"]
    assert "5 of 8 of us checked in" in seen["shared message"]
    # Each item numbers first, its levels in the scale's words.
    stress = band_phrases(default_library().stress)
    assert (
        f"4 of 5 said {stress['high']} (average 4.0 of 5); 1 said {stress['middle']}, "
        f"0 said {stress['low']}"
    ) in seen["/teampulse"]
    # The alt text says which way is good, and how a quiet week is drawn.
    alt = seen["chart alt text"]
    assert "support when needed (higher is better)" in alt
    assert "stress (lower is better)" in alt
    assert "A dashed line joins the points either side of a period with no point." in alt


def reading(week: int, support: float | None, stress: float) -> BlockFigures:
    def item(mean: float | None) -> Bands:
        return Bands(6, 0, 0, 6, None) if mean is None else Bands(6, 1, 2, 3, mean)

    return BlockFigures(Block(week, 1, ("availability",)), 6, 8, item(support), item(stress))


@pytest.mark.slow
def test_the_chart_says_which_way_is_good_has_the_year_and_bridges_quiet_weeks() -> None:
    library = default_library()
    # Oldest first: 28 Dec 2026, a quiet week, then the new year with one support item that
    # all fell in one band (no point), then a week with both.
    first = 156  # w/c 28 Dec 2026
    newest_first = [
        reading(first + 3, 3.6, 2.8),
        reading(first + 2, None, 3.1),
        Suppressed(Block(first + 1, 1, ("sensitivity",))),
        reading(first, 3.2, 3.4),
    ]
    figure = chart_figure(library, "Duty", newest_first)
    [axes] = figure.axes

    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert any("Support" in words and "higher is better" in words for words in legend)
    assert any("Stress" in words and "lower is better" in words for words in legend)
    assert any(words.startswith("Dashed") for words in legend)

    ticks = [label.get_text() for label in axes.get_xticklabels()]
    dates = [tick.splitlines()[0] for tick in ticks]
    # The first date carries its year, and so does the first of a new year.
    assert dates == ["28 Dec 2026", "4 Jan 2027", "11 Jan", "18 Jan"]
    assert all(label.get_fontsize() >= 10 for label in axes.get_xticklabels())
    assert all(label.get_fontsize() >= 10 for label in axes.get_yticklabels())

    bridges = [line for line in axes.get_lines() if line.get_gid() == "bridge"]
    assert all(line.get_linestyle() == "--" for line in bridges)
    spans = sorted(
        (round(float(line.get_xdata()[0])), round(float(line.get_xdata()[-1]))) for line in bridges
    )
    # Support: 3.2 (x=0) to 3.6 (x=3), over the quiet week and the one-band week; stress: 3.4
    # (x=0) to 3.1 (x=2), over the quiet week.
    assert spans == [(0, 2), (0, 3)]
    for line in bridges:
        assert not any(math.isnan(float(y)) for y in line.get_ydata())
    # The main lines are solid, so a dashed stretch means only "joined across a gap".
    solid = [line for line in axes.get_lines() if line.get_gid() != "bridge" and line.get_label()]
    assert {line.get_linestyle() for line in solid if not line.get_label().startswith("_")} == {"-"}


def test_a_new_wording_of_the_questions_breaks_every_trend_and_says_so() -> None:
    """Figures from two versions of the check-in items are never one line: the chart breaks
    and marks the change, and the text trends say where it falls."""
    library = default_library()

    def version(figures: BlockFigures, items_version: int) -> BlockFigures:
        block = Block(figures.block.first_week, 1, figures.block.domains, items_version)
        return BlockFigures(block, 6, 8, figures.availability, figures.stress)

    newest_first = [
        version(reading(159, 3.6, 2.8), 2),
        version(reading(158, 3.0, 3.1), 2),
        version(reading(157, 4.2, 2.4), 1),
        Suppressed(Block(156, 1, ("sensitivity",))),
        version(reading(155, 4.0, 2.6), 1),
    ]
    figure = chart_figure(library, "Duty", newest_first)
    [axes] = figure.axes
    lines = [line for line in axes.get_lines() if line.get_gid() is None]
    support = [line for line in lines if line.get_color() == lines[0].get_color()]
    # One support line per version, never one joining 4.2 (version 1) to 3.0 (version 2).
    assert sorted(len(line.get_xdata()) for line in support) == [2, 3]
    [marker] = [line for line in axes.get_lines() if line.get_gid() == "reworded"]
    assert list(marker.get_xdata()) == [2.5, 2.5]
    assert any("new wording" in text.get_text() for text in axes.texts)
    # The quiet week inside version 1 is still bridged; nothing bridges the change.
    bridges = [line for line in axes.get_lines() if line.get_gid() == "bridge"]
    assert {(round(line.get_xdata()[0]), round(line.get_xdata()[-1])) for line in bridges} == {
        (0, 2)
    }
    alt = alt_text("Duty", list(reversed(newest_first)))
    assert "The check-in questions were reworded from w/c 11 Jan 2027: the lines break" in alt

    _, blocks = pulse_blocks(library, "Duty", newest_first, [], 5, 8)
    trend = mrkdwn_to_text(shown(blocks)).split("newest first")[1].splitlines()
    change = next(n for n, line in enumerate(trend) if "New wording" in line)
    assert trend[change - 1].startswith("w/c 11 Jan 2027") and trend[change + 1].startswith(
        "w/c 4 Jan 2027"
    )
    card = SupervisorCard(
        "Duty",
        CHANNEL,
        library.domain("availability"),
        newest_first,
        secure_base_profile(newest_first, DOMAIN_ORDER, 1, 5),
        frozenset(),
    )
    home = mrkdwn_to_text(shown([b.to_dict() for b in supervisor_blocks(library, card, 0)]))
    rows = home.split("newest first")[1].splitlines()
    change = next(n for n, line in enumerate(rows) if "New wording" in line)
    assert rows[change - 1].startswith("w/c 11 Jan 2027") and rows[change + 1].startswith(
        "w/c 4 Jan 2027"
    )


@pytest.mark.slow
def test_those_who_didnt_need_support_are_said_beside_the_support_figures_only(
    database_url: str, clock: ManualClock
) -> None:
    """They checked in (participation counts them) but gave the support item no answer: the
    item reads over real answers, then says how many more didn't need any. Where too few gave
    a real answer, the item shows nothing, and no count of them either."""
    library = default_library()
    support = band_phrases(library.availability)
    not_needed = library.availability.not_needed
    assert not_needed is not None
    with experience(database_url, clock) as world:
        for n, value in enumerate([4, 4, 5, 3, 2, None, None]):
            world.seed(member(n), value, 3, 4)
        world.next_week()
        seen = surfaces(world)
        for n, value in enumerate([4, None, None, None, 2, None]):
            world.seed(member(n), value, 3, 4)
        world.next_week()
        quiet = world.command(SUPERVISOR, "/teampulse")
    expected = (
        f"3 of 5 said {support['high']} (average 3.6 of 5); 1 said {support['middle']}, "
        f"1 said {support['low']}; 2 more chose “{not_needed}”"
    )
    assert "7 of 8 checked in" in seen["/teampulse"] and expected in seen["/teampulse"]
    assert "7 of 8 of us checked in" in seen["shared message"]
    assert expected in seen["shared message"]
    latest = mrkdwn_to_text(shown(quiet.blocks)).split("newest first")[0]
    assert "6 of 8 checked in" in latest
    assert "too few answers to show" in latest and "more chose" not in latest
