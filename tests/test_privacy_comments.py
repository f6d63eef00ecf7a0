"""Guarantee 5: comments are shown only for periods that meet the minimum, in a fresh random
order each time, never beside anyone's scores; identifiers are removed before they are stored;
and the check-in modal says all of this before anyone types.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from privacy_world import WORKSPACE, Shown, World, member, world
from sealed_weeks import unsealed

from bot.render.common import STORED_WITHOUT_NAME, supervisor_sees
from practice.clock import ManualClock
from storage.teams import get_team

PRIVACY_URL = "https://intranet.example.gov.uk/secure-base/privacy"


def _modal_texts(view: dict[str, Any]) -> list[str]:
    return Shown("", list(view["blocks"])).lines()


@pytest.mark.slow
def test_the_modal_says_how_answers_and_comments_are_handled_before_typing(
    database_url: str, clock: ManualClock
) -> None:
    env = {"SECUREBASE_PRIVACY_URL": PRIVACY_URL}
    with world(database_url, clock, anonymity_min=6, settings_env=env) as w:
        view = w.bot.open_checkin(member(0), w.channel)
    blocks = view["blocks"]
    texts = _modal_texts(view)
    intro = texts[0]
    assert STORED_WITHOUT_NAME in intro and supervisor_sees(6) in intro
    assert "without your name" in intro and "at least 6 people" in intro
    # One line links to the full account of privacy.
    privacy = [t for t in texts if "privacy" in t.lower()]
    assert privacy == [f"<{PRIVACY_URL}|How your privacy is protected>"]
    # The comment box explains itself where it is typed into.
    [comment] = [b for b in blocks if b.get("block_id") == "comment"]
    hint = comment["hint"]["text"]
    for words in (
        "at least 6 answers",
        "random order",
        "never beside anyone's scores",
        "removed before saving",
        "don't name anyone",
    ):
        assert words in hint, words
    # All of it comes before the first question is answered.
    first_input = next(i for i, b in enumerate(blocks) if b["type"] == "input")
    assert blocks.index(comment) >= first_input and texts.index(intro) == 0


@pytest.mark.slow
def test_without_a_privacy_url_the_modal_names_the_document(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        view = w.bot.open_checkin(member(0), w.channel)
    [line] = [t for t in _modal_texts(view) if "privacy" in t.lower()]
    assert "PRIVACY.md" in line and "\n" not in line


def _week(w: World, people: int, note: str) -> None:
    for n in range(people):
        w.check_in(member(n), 1 + n % 5, 5 - n % 5, 3, comment=f"{note} {n}")
    w.next_week()


def _comment_block(shown: Shown) -> list[str]:
    for block in shown.blocks:
        body = str((block.get("text") or {}).get("text", ""))
        if body.startswith("*What people added"):
            return body.split("\n")[1:]
    return []


@pytest.mark.slow
def test_comments_only_for_periods_that_meet_the_minimum(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        _week(w, 4, "quiet week")
        shown = w.pulse()
        assert "quiet week" not in shown.everything and _comment_block(shown) == []
        _week(w, 6, "busy week")
        shown = w.pulse(text="52")
        quoted = _comment_block(shown)
        assert sorted(quoted) == sorted(f"> busy week {n}" for n in range(6))
        assert "quiet week" not in shown.everything  # the earlier week is still too small
        # The comments stand in a block of their own: no score, count or mean beside them.
        for line in quoted:
            assert re.fullmatch(r"> busy week \d", line)


@pytest.mark.slow
def test_comments_come_in_a_fresh_random_order_each_time(
    database_url: str, clock: ManualClock
) -> None:
    with world(database_url, clock) as w:
        _week(w, 7, "note")
        orders = set()
        for _ in range(12):  # the same order 12 times running: a 1 in 5040^11 chance
            orders.add(tuple(_comment_block(w.pulse())))
            if len(orders) > 1:
                break
        assert len(orders) > 1


@pytest.mark.slow
def test_identifiers_are_removed_before_a_comment_is_stored(
    database_url: str, clock: ManualClock
) -> None:
    typed = (
        "<@U0EXPM0003> and sam.jones@council.gov.uk said ring 07700 900123 or 496 0000; "
        "the family at SW1A 1AA (NI AB 12 34 56 C, case 12345678) see "
        "https://records.example.gov.uk/case/12345678"
    )
    identifiers = [
        "U0EXPM0003",
        "sam.jones",
        "council.gov.uk",
        "900123",
        "496 0000",
        "SW1A",
        "AB 12 34 56",
        "12345678",
        "records.example",
    ]
    with world(database_url, clock) as w:
        for n in range(5):
            w.check_in(member(n), 3, 3, comment=typed if n == 0 else f"fine {n}")
        services = w.bot.runtime.services
        with services.db.session() as session:
            team = get_team(session, WORKSPACE, w.channel)
        assert team is not None
        # As stored (sealed until the week closes, opened here with the operator's key).
        stored = [v.comment for v in unsealed(services.db, team, clock.now()) if v.comment]
        w.next_week()
        shown = w.pulse().everything
    [mine] = [body for body in stored if "said ring" in body]
    for identifier in identifiers:
        assert identifier not in mine, identifier
        assert identifier not in shown, identifier
    assert mine == (
        "[someone] and [email] said ring [phone] or [phone]; the family at [postcode] "
        "(NI [id], case [number]) see [link]"
    )
