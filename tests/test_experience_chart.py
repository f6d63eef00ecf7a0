"""`/teampulse chart` and sharing a period with the team, as Slack sees them: a real PNG in the
supervisor's DM whose alt text states the figures, a quiet week as a gap, one button to share
the newest shown period, and every look in the team's view log."""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path

import pytest
from experience import CHANNEL, SUPERVISOR, World, button, buttons, experience, member, shown
from PIL import Image

from bot.content import default_library
from bot.handlers.chart import chart_file
from bot.render.bands import band_phrases
from bot.render.home import SHARE_PERIOD
from bot.sandboxed import wait_until
from practice.clock import ManualClock
from practice.teams import team_ref
from storage.teams import set_supervisors

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


def chart_for(world: World, user: str) -> str:
    """`/teampulse chart` as `user`; the ephemeral reply."""
    return world.command(user, "/teampulse", "chart").text


def test_the_chart_is_a_png_whose_alt_text_states_the_figures(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        play_three_weeks(world)
        dms = len(world.sandbox.dms(SUPERVISOR))
        reply = chart_for(world, SUPERVISOR)
        assert reply == "I've sent you the chart for Duty and Assessment in a direct message."

        [file] = world.sandbox.uploaded_files()
        png = file.content
        assert png.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
        assert (width, height) == (800, 450)
        assert 5_000 < len(png) < 300_000
        image = Image.open(io.BytesIO(png))
        image.verify()
        colours = Image.open(io.BytesIO(png)).convert("L").getextrema()
        assert colours[0] < 100 < colours[1]  # something is drawn on the white

        # The alt text's figures are the means of what was answered; the quiet week has none.
        alt = file.alt_txt or ""
        periods = dict(re.findall(r"(w/c \d+ \w+ \d{4}): ([^.]+(?:\.\d[^.]*)*)\.", alt))
        assert periods == {
            "w/c 23 Nov 2026": "support 3.7, stress 3.2, 6 of 8 checked in",
            "w/c 30 Nov 2026": "not enough answers",
            "w/c 7 Dec 2026": "support 2.4, stress 4.0, 5 of 8 checked in",
        }
        assert alt.index("23 Nov") < alt.index("30 Nov") < alt.index("7 Dec")

        # It went to the supervisor's DM, with an offer to share the newest shown period.
        new = world.new_dms(SUPERVISOR, dms, 2)
        assert [m.files[0].id for m in new if m.files] == [file.id]
        offer = new[-1]
        assert "share *w/c 7 Dec 2026* with the team" in shown(offer.blocks)
        assert world.views_log() == [(SUPERVISOR, "chart: w/c 23 Nov 2026 to w/c 7 Dec 2026")]


def test_sharing_posts_only_what_met_the_minimum_once_and_is_logged(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        play_three_weeks(world)
        chart_for(world, SUPERVISOR)
        offer = wait_until(lambda: [m for m in world.sandbox.dms(SUPERVISOR) if m.blocks][-1:])[0]
        share = button(offer.blocks or [], SHARE_PERIOD)
        before = len(world.sandbox.timeline(CHANNEL))
        world.bot.driver.click_button(
            SUPERVISOR, SHARE_PERIOD, share["value"], channel_id=offer.channel, message_ts=offer.ts
        )
        posted = wait_until(lambda: world.sandbox.timeline(CHANNEL)[before:])
        [summary] = posted
        text = shown(summary.blocks)
        assert summary.text.startswith("How we've been, w/c 7 Dec 2026")
        library = default_library()
        support, stress = band_phrases(library.availability), band_phrases(library.stress)
        assert "5 of 8 of us checked in" in text and "%" not in text
        assert (
            f"always): 0 of 5 said {support['high']} (average 2.4 of 5); 2 said "
            f"{support['middle']}, 3 said {support['low']}"
        ) in text
        assert (
            f"very much): 4 of 5 said {stress['high']} (average 4.0 of 5); 1 said "
            f"{stress['middle']}, 0 said {stress['low']}"
        ) in text
        # Everyone answered 2 to the week's statement: its band, and no mean that would show it.
        low = band_phrases(library.agreement)["low"]
        assert "“" in text and f"strongly agree): all 5 said {low} (no average" in text
        assert "2.0" not in text
        assert f"Shared by <@{SUPERVISOR}>" in text
        assert not any(member(n) in summary.text + text for n in range(8))
        wait_until(lambda: "Shared w/c 7 Dec 2026" in world.everything_shown_to(SUPERVISOR))

        # A second click posts nothing more.
        world.bot.driver.click_button(
            SUPERVISOR, SHARE_PERIOD, share["value"], channel_id=offer.channel, message_ts=offer.ts
        )
        wait_until(lambda: "has already been shared" in world.everything_shown_to(SUPERVISOR))
        assert len(world.sandbox.timeline(CHANNEL)) == before + 1
        # One look for the share (the second click read nothing), besides the chart's.
        assert world.views_log() == [
            (SUPERVISOR, "chart: w/c 23 Nov 2026 to w/c 7 Dec 2026"),
            (SUPERVISOR, "share with the team: w/c 7 Dec 2026"),
        ]

        # Someone who is no longer a supervisor cannot share, even with the button in hand.
        services = world.bot.runtime.services
        with services.db.session() as session:
            set_supervisors(session, session.merge(world.team()), [member(7)])
        home = world.home(member(7))
        world.bot.driver.click_button(
            SUPERVISOR, SHARE_PERIOD, share["value"], channel_id=offer.channel, message_ts=offer.ts
        )
        wait_until(
            lambda: "Only the team's practice supervisors" in world.everything_shown_to(SUPERVISOR)
        )
        assert len(world.sandbox.timeline(CHANNEL)) == before + 1
        # The new supervisor can share from the Home tab; this period is already shared.
        home_share = button(home["blocks"], SHARE_PERIOD)
        world.bot.driver.click_button(
            member(7), home_share["action_id"], home_share["value"], view_id=home["id"]
        )
        wait_until(lambda: "has already been shared" in world.everything_shown_to(member(7)))


def test_members_get_no_chart_and_a_team_with_no_shown_week_gets_no_picture(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        for n in range(4):
            world.seed(member(n), 1, 5, 1)
        world.next_week()

        reply = chart_for(world, member(0))
        assert "only for a team's practice supervisors" in reply
        reply = chart_for(world, SUPERVISOR)
        assert "had enough answers to show yet" in reply
        assert world.sandbox.uploaded_files() == []
        assert world.views_log() == [(SUPERVISOR, "chart: w/c 23 Nov 2026")]
        # No share button anywhere for a period that was not shown.
        home = world.home(SUPERVISOR)
        assert not any(b["action_id"].startswith(SHARE_PERIOD) for b in buttons(home["blocks"]))


def test_the_home_tab_sends_the_chart_too(database_url: str, clock: ManualClock) -> None:
    with experience(database_url, clock) as world:
        play_three_weeks(world)
        home = world.home(SUPERVISOR)
        send = button(home["blocks"], "send_chart_")
        world.bot.driver.click_button(SUPERVISOR, send["action_id"], CHANNEL, view_id=home["id"])
        [file] = wait_until(lambda: world.sandbox.uploaded_files())
        assert file.content.startswith(PNG_SIGNATURE)
        assert "support 2.4, stress 4.0" in (file.alt_txt or "")
        assert [w for _, w in world.views_log()] == [
            "App Home: w/c 23 Nov 2026 to w/c 7 Dec 2026",
            "chart: w/c 23 Nov 2026 to w/c 7 Dec 2026",
        ]


def test_chart_file_writes_the_same_chart_for_the_demo(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    with experience(database_url, clock) as world:
        play_three_weeks(world)
        services = world.bot.runtime.services
        team = team_ref(world.team())
        path = chart_file(services.practice, services.library, team, SUPERVISOR, tmp_path)
        assert path is not None and path.parent == tmp_path
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        assert Image.open(path).size == (800, 450)
        assert world.views_log() == [(SUPERVISOR, "chart: w/c 23 Nov 2026 to w/c 7 Dec 2026")]
