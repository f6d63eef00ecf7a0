"""The App Home tab, as each person sees it in Slack: supervisors get the trend and the team's
secure base profile, members get their own teams and their own check-in status, anyone else a
friendly explanation. Nothing is shown to the wrong person."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from experience import (
    ADMIN,
    CHANNEL,
    OUTSIDER,
    SUPERVISOR,
    TEAM_NAME,
    World,
    buttons,
    experience,
    member,
    shown,
)

from bot.content import default_library
from bot.render.bands import band_phrases
from bot.render.checkin import AVAILABILITY, COMMENT, DOMAIN_ITEM, STRESS
from bot.render.home import NOT_ENOUGH
from bot.render.prompt import OPEN_CHECKIN
from bot.sandboxed import BOT_USER, SAVED_TITLE, WORKSPACE, saved_view_title, wait_until
from practice.clock import ManualClock
from practice.weeks import week_containing
from storage.teams import TeamSpec, add_team

pytestmark = pytest.mark.slow

OTHER_CHANNEL, OTHER_TEAM = "C0EXPOTHER", "Children in Care"


def add_other_team(world: World, members: list[str]) -> None:
    """A second team in the workspace, with its own channel and supervisor (the admin)."""
    bot = world.bot
    bot.sandbox.add_channel(WORKSPACE, OTHER_CHANNEL, "cic", [BOT_USER, *members])
    services = bot.runtime.services
    with services.db.session() as session:
        spec = TeamSpec(WORKSPACE, OTHER_CHANNEL, OTHER_TEAM, (ADMIN,))
        add_team(session, spec, services.clock.now())


def without_ids(view: dict[str, Any]) -> str:
    blocks = json.loads(json.dumps(view["blocks"]))
    for block in blocks:
        block.pop("block_id", None)
    return json.dumps(blocks)


def test_a_member_sees_their_own_teams_and_only_they_see_whether_they_checked_in(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        add_other_team(world, [member(7)])  # member 0 is not in this one
        world.deliver()  # the other team's prompt goes out too: its week opens
        library = default_library()
        week = week_containing(clock.now(), "Europe/London").index
        domain = library.domain(world.domain_of(week))

        home = world.home(member(0))
        text = shown(home["blocks"])
        assert TEAM_NAME in text and OTHER_TEAM not in text
        assert f"this week is *{domain.title}*" in text
        assert any(prompt.question in text for prompt in domain.prompts)
        assert "Not checked in this week yet" in text
        assert "your supervisor never sees your answers" in text
        assert next((b["action_id"], b["value"]) for b in buttons(home["blocks"])) == (
            OPEN_CHECKIN,
            CHANNEL,
        )
        supervisor_before = without_ids(world.home(SUPERVISOR))

        # Checking in from the tab's own button refreshes the tab, without opening it again.
        publishes = len(world.sandbox.calls("views.publish"))
        world.bot.driver.click_button(member(0), OPEN_CHECKIN, CHANNEL, view_id=home["id"])
        modal = wait_until(lambda: world.sandbox.open_views(member(0)))[-1]
        answers = {AVAILABILITY: "4", STRESS: "2", DOMAIN_ITEM: "4", COMMENT: None}
        sent = world.bot.driver.answer_modal(member(0), modal["id"], answers)
        assert saved_view_title(sent) == SAVED_TITLE
        wait_until(lambda: len(world.sandbox.calls("views.publish")) > publishes)
        refreshed = wait_until(
            lambda: "You've checked in" in shown(world.sandbox.home_view(member(0))["blocks"])
        )
        assert refreshed
        # A check-in through `/checkin` publishes nothing (the tab is built afresh whenever it
        # is opened), and the tab shows it the next time it is.
        publishes = len(world.sandbox.calls("views.publish"))
        world.check_in(member(2), 4, 2, 4)
        world.bot.settle()
        assert len(world.sandbox.calls("views.publish")) == publishes
        assert "You've checked in" in shown(world.home(member(2))["blocks"])
        assert "Not checked in this week yet" in shown(world.home(member(1))["blocks"])
        # The supervisor's tab is exactly what it was: nothing about who has checked in.
        assert without_ids(world.home(SUPERVISOR)) == supervisor_before
        assert member(0) not in world.everything_shown_to(SUPERVISOR)

        # Member 7 is in both teams: one card each, each button opening its own team's modal.
        both = world.home(member(7))
        assert TEAM_NAME in shown(both["blocks"]) and OTHER_TEAM in shown(both["blocks"])
        check_ins = [
            b
            for b in buttons(both["blocks"])
            if re.match(r"open_checkin$|home_checkin_", b["action_id"])
        ]
        assert sorted(b["value"] for b in check_ins) == sorted([CHANNEL, OTHER_CHANNEL])
        [other] = [b for b in check_ins if b["value"] == OTHER_CHANNEL]
        world.bot.driver.click_button(
            member(7), other["action_id"], OTHER_CHANNEL, view_id=both["id"]
        )
        modal = wait_until(lambda: world.sandbox.open_views(member(7)))[-1]
        assert json.loads(modal["private_metadata"]) == {
            "channel": OTHER_CHANNEL,
            "week": week,
            "home": True,
        }


def test_someone_in_no_team_gets_a_friendly_explanation(
    database_url: str, clock: ManualClock
) -> None:
    with experience(database_url, clock) as world:
        home = world.home(OUTSIDER)
        text = shown(home["blocks"])
        assert "You're not in a team channel that uses it yet" in text
        assert TEAM_NAME not in text
        assert buttons(home["blocks"]) == []


def test_the_supervisor_sees_the_trend_and_the_secure_base_profile(
    database_url: str, clock: ManualClock
) -> None:
    library = default_library()
    with experience(database_url, clock) as world:
        first = week_containing(clock.now(), "Europe/London").index
        # Week 1: six answers. Week 2: four (below the minimum of five). Weeks 3 to 5: five.
        support, stress = [5, 4, 4, 3, 2, 4], [2, 3, 2, 4, 5, 3]
        for n in range(6):
            world.seed(member(n), support[n], stress[n], 4)
        world.next_week()
        for n in range(4):
            world.seed(member(n), 1, 5, 1)
        world.next_week()
        for items in ([2, 2, 2, 3, 3], [5, 5, 4, 4, 4], [3, 3, 3, 3, 3]):
            for n, item in enumerate(items):
                world.seed(member(n), 3, 3, item)
            world.next_week()
        domains = [library.domain(world.domain_of(first + k)) for k in range(5)]

        home = world.home(SUPERVISOR)
        text = shown(home["blocks"])
        [trend] = [t for t in texts_of(home) if t.startswith("*Last 5 periods")]
        lines = trend.split("```")[1].splitlines()
        assert [line.split("  ")[0] for line in lines] == [
            "w/c 21 Dec 2026",
            "w/c 14 Dec 2026",
            "w/c 7 Dec 2026",
            "w/c 30 Nov 2026",
            "w/c 23 Nov 2026",
        ]
        oldest = lines[-1]
        assert domains[0].title in oldest
        assert "support 3.7 ████░" in oldest and "stress 3.2 ███░░" in oldest
        assert oldest.endswith("6 of 8 checked in")
        quiet = lines[-2]
        assert quiet.endswith("not enough answers")
        assert re.findall(r"\d", quiet.removeprefix("w/c 30 Nov 2026")) == []
        # Everyone answered 3 for support and stress: the band, never a mean that shows it.
        assert "support all Middle (3)  stress all Middle (3)  5 of 8 checked in" in lines[0]

        # The profile: each domain's belief over the rotation, the quiet week's in words.
        profile = next(t for t in texts_of(home) if "secure base profile" in t)
        agree = band_phrases(library.agreement)
        # An item whose answers all fell in one band has its band and no average.
        no_average = "(no average, as every answer fell in one band)"
        expected = {
            domains[0].title: f"w/c 23 Nov 2026: all 6 said {agree['high']} {no_average}.",
            domains[1].title: "w/c 30 Nov 2026: not enough answers.",
            domains[2].title: f"w/c 7 Dec 2026: 0 of 5 said {agree['high']} (average 2.4 of 5); "
            f"2 said {agree['middle']}, 3 said {agree['low']}.",
            domains[3].title: f"w/c 14 Dec 2026: all 5 said {agree['high']} {no_average}.",
            domains[4].title: f"w/c 21 Dec 2026: all 5 said {agree['middle']} {no_average}.",
        }
        for title, figure in expected.items():
            assert re.search(
                rf"\*{re.escape(title)}\*, “[^”]+”: {re.escape(figure)}$", profile, re.M
            )
        # Each labelled with the statement people agreed with (this version's), not the belief.
        for domain in domains:
            assert f"*{domain.title}*, “{domain.checkin_statement}”: w/c" in profile
        # No domain is ranked against another: their statements differ.
        assert not re.search(r"least agree|lowest|weakest", text)
        assert "Once a domain has come round twice" in text
        assert f"This week: {library.domain(world.domain_of(first + 5)).title}" in text

        # Looking is logged for the team to see, each time the tab shows the figures.
        world.home(SUPERVISOR)
        world.home(member(0))
        assert (
            world.views_log()
            == [
                (SUPERVISOR, "App Home: w/c 23 Nov 2026 to w/c 21 Dec 2026"),
            ]
            * 2
        )
        # Members see no figures at all.
        member_view = shown(world.home(member(0))["blocks"])
        assert "3.7" not in member_view and "secure base profile" not in member_view

        # A second rotation: the first domain falls from "all agreed" (at least 4) to 2.8;
        # the others move by less, or were not shown last time.
        for items in (
            [3, 3, 3, 3, 2],
            [4, 4, 4, 4, 4],
            [2, 3, 2, 3, 3],
            [4, 4, 5, 4, 4],
            [3, 3, 3, 3, 3],
        ):
            for n, item in enumerate(items):
                world.seed(member(n), 3, 3, item)
            world.next_week()
        home = world.home(SUPERVISOR)
        text = shown(home["blocks"])
        profile = next(t for t in texts_of(home) if "secure base profile" in t)
        fell = domains[0]
        assert re.search(
            rf"\*{re.escape(fell.title)}\*, “[^”]+”: w/c 28 Dec 2026: 0 of 5 said .*"
            r"Earlier: w/c 23 Nov 2026 all High \(4–5\)\.$",
            profile,
            re.M,
        )
        assert f"Earlier: w/c 30 Nov 2026 {NOT_ENOUGH}." in profile
        assert "Earlier: w/c 7 Dec 2026 2.4 of 5." in profile
        assert (
            f"*{fell.title}* is lower than in its last rotation: 2.8 of 5 (w/c 28 Dec 2026), "
            "all High (4–5) before (w/c 23 Nov 2026). That may be chance"
        ) in text
        assert fell.reflections[0] in text.replace("&amp;", "&")
        # Only the domain that clearly fell is named.
        for other in domains[1:]:
            assert f"*{other.title}* is lower" not in text
        assert "Nothing has clearly changed" not in text


def texts_of(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b.get("type") == "section"]
