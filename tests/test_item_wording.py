"""The five check-in items fit Slack's limits and keep the wording rules (issue 12).

The limits are Block Kit's, read from slack_sdk's own models; the wording rules are ours: every
scale labelled at both ends, belief statements positive and single-barrelled, stress defined
before it is asked, availability on a frequency scale with a "didn't need any" choice that is
not a point on the scale, and the belief item never repeating the availability question.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from slack_sdk.models.blocks import InputBlock, Option
from slack_sdk.models.views import View

from bot.content import DOMAIN_ORDER, default_library
from bot.content.library import SCALE_LABEL_MAX_CHARS
from bot.render import checkin as form
from bot.render.admin import TeamSettings, settings_modal

LIBRARY = default_library()
RADIO_OPTIONS_MAX = 10  # Block Kit: a radio_buttons element holds at most 10 options
NEGATIONS = re.compile(r"\bnot\b|n't\b|\bnever\b|\bno\b|\bnobody\b|\bnothing\b", re.IGNORECASE)
SECOND_BARREL = re.compile(r"\band\b|\bor\b|\bnor\b|&", re.IGNORECASE)


def modal(domain_key: str) -> dict[str, Any]:
    return form.checkin_modal(LIBRARY, LIBRARY.domain(domain_key), "C1", 152, "Duty", 5, None)


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def radio_texts(block: dict[str, Any]) -> list[tuple[str, str]]:
    return [(o["value"], o["text"]["text"]) for o in block["element"]["options"]]


@pytest.mark.parametrize("domain", DOMAIN_ORDER)
def test_every_item_fits_block_kit(domain: str) -> None:
    view = modal(domain)
    assert len(view["title"]["text"]) <= View.title_max_length
    blocks = inputs(view)
    assert set(blocks) == {form.AVAILABILITY, form.STRESS, form.DOMAIN_ITEM, form.COMMENT}
    for block in blocks.values():
        assert 0 < len(block["label"]["text"]) <= InputBlock.label_max_length
        if "hint" in block:
            assert len(block["hint"]["text"]) <= InputBlock.hint_max_length
    for item in (form.AVAILABILITY, form.STRESS, form.DOMAIN_ITEM):
        options = radio_texts(blocks[item])
        assert len(options) <= RADIO_OPTIONS_MAX
        for value, text in options:
            assert len(value) <= Option.value_max_length
            # Our own, tighter rule: a label fits a radio button on a phone.
            assert 0 < len(text) <= min(SCALE_LABEL_MAX_CHARS, Option.label_max_length), text


@pytest.mark.parametrize("domain", DOMAIN_ORDER)
def test_every_scale_is_labelled_at_both_ends_and_every_point(domain: str) -> None:
    blocks = inputs(modal(domain))
    for item in (form.AVAILABILITY, form.STRESS, form.DOMAIN_ITEM):
        points = [(v, t) for v, t in radio_texts(blocks[item]) if v != form.NOT_NEEDED]
        assert [v for v, _ in points] == ["1", "2", "3", "4", "5"]
        texts = [t for _, t in points]
        assert len(set(texts)) == 5
        for text in texts:
            assert not text.strip().isdigit(), f"{item}: a point labelled only by its number"
            assert text[0].isupper(), text
        assert "rather" not in " ".join(texts).lower()


def test_no_label_says_optional_itself() -> None:
    # Slack adds "(optional)" to an optional input's label: saying it too shows it twice.
    settings = TeamSettings("C1", "Duty", 0, 570, "Europe/London", ("U1",), None, 1, True)
    views = [modal(domain) for domain in DOMAIN_ORDER]
    views.append(settings_modal(settings, ["Europe/London"]))
    optional = 0
    for view in views:
        for block in inputs(view).values():
            assert "optional" not in block["label"]["text"].lower(), block["label"]["text"]
            optional += bool(block.get("optional"))
    assert optional >= len(DOMAIN_ORDER) + 1  # not vacuous: there are optional inputs


def test_stress_is_defined_before_it_is_asked() -> None:
    question = LIBRARY.stress.question
    for part in ("tense", "restless", "nervous or anxious", "unable to sleep", "troubled"):
        assert part in question
    assert question.index("troubled") < question.index("How much")
    assert question.rstrip().endswith("this week?")
    assert LIBRARY.stress.labels == (
        "Not at all",
        "A little",
        "Somewhat",
        "Quite a lot",
        "Very much",
    )
    block = inputs(modal("acceptance"))[form.STRESS]
    assert block["label"]["text"] == question
    note = block["hint"]["text"]
    assert "Adapted from" in note and "Elo, Leppänen & Jahkola (2003)" in note
    assert "never for one person" in note


def test_availability_is_a_frequency_with_a_didnt_need_any_choice() -> None:
    scale = LIBRARY.availability
    assert "when you needed it" in scale.question
    assert (scale.labels[0], scale.labels[-1]) == ("Never", "Always")
    options = radio_texts(inputs(modal("sensitivity"))[form.AVAILABILITY])
    assert options[-1] == (form.NOT_NEEDED, "I didn't need any this week")
    assert inputs(modal("sensitivity"))[form.AVAILABILITY].get("optional", False) is False


def test_agreement_labels_are_written_in_full() -> None:
    assert LIBRARY.agreement.labels == (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    )


@pytest.mark.parametrize("domain", DOMAIN_ORDER)
def test_belief_statements_are_positive_and_single_barrelled(domain: str) -> None:
    statement = LIBRARY.domain(domain).checkin_statement
    assert not NEGATIONS.search(statement), statement
    assert not SECOND_BARREL.search(statement), statement
    label = inputs(modal(domain))[form.DOMAIN_ITEM]["label"]["text"]
    assert statement in label and LIBRARY.agreement.question in label


def test_the_rule_checks_catch_what_they_are_for() -> None:
    """The patterns above are not vacuous: the old wordings fail them."""
    assert NEGATIONS.search("This week, I didn't always have to be strong")
    assert NEGATIONS.search("There was no one to ask")
    assert SECOND_BARREL.search("This week, I felt valued and that I belonged")
    assert not NEGATIONS.search("This week, I felt I belonged in this team")


def test_availability_weeks_do_not_ask_about_support_twice() -> None:
    statement = LIBRARY.domain("availability").checkin_statement.lower()
    for word in ("support", "need", "when"):
        assert word not in statement, f"the availability belief repeats {word!r}"


def test_team_belonging_also_gives_its_other_name() -> None:
    assert "team membership" in LIBRARY.domain("team-belonging").title


def test_a_belief_figure_is_labelled_with_the_statement_asked() -> None:
    """Agreement with "I felt I could say when I was finding things hard" is never shown under
    another sentence; weeks answered with older items keep the domain's belief as their name."""
    acceptance = LIBRARY.domain("acceptance")
    assert LIBRARY.item_title("acceptance", LIBRARY.version) == acceptance.checkin_statement
    assert LIBRARY.item_title("acceptance", LIBRARY.version - 1) == acceptance.belief
