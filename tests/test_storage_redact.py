"""Redaction of free-text comments: obvious identifiers go before anything is stored."""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from practice.redact import MAX_COMMENT, redact

_CORPUS = tomllib.loads((Path(__file__).parent / "data" / "redaction_corpus.toml").read_text())[
    "case"
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(case["text"], case["expected"]) for case in _CORPUS],
    ids=[f"corpus-{n}" for n in range(len(_CORPUS))],
)
def test_corpus(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_corpus_covers_every_kind_and_clean_comments() -> None:
    stored = " ".join(case["expected"] for case in _CORPUS)
    for placeholder in (
        "[someone]",
        "[id]",
        "[email]",
        "[phone]",
        "[postcode]",
        "[address]",
        "[date]",
        "[number]",
        "[link]",
    ):
        assert placeholder in stored, placeholder
    unchanged = [case for case in _CORPUS if case["text"] == case["expected"]]
    assert len(_CORPUS) >= 40 and len(unchanged) >= 10


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<@U123ABC> was great", "[someone] was great"),
        ("thanks <@U0123ABCDE|sam>!", "thanks [someone]!"),
        ("see <#C0123ABCD|general>", "see [someone]"),
        ("<!here> help", "[someone] help"),
        ("<!subteam^S0123ABCD|@duty> again", "[someone] again"),
        ("U0123ABCDE said so", "[id] said so"),
        ("W0123ABCDE said so", "[id] said so"),
        ("u0123abcd said so", "[id] said so"),
        ("email sam.jones+work@council.gov.uk now", "email [email] now"),
        ("<mailto:sam@nhs.net|sam@nhs.net>", "<mailto:[email]|[email]>"),
        ("ask @sam.jones about it", "ask [someone] about it"),
        ("jo (at) council (dot) gov (dot) uk", "[email]"),
        ("jo dot smith at council dot gov dot uk", "[email]"),
        ("ring 07700 900123 tonight", "ring [phone] tonight"),
        ("ring 07700900123", "ring [phone]"),
        ("ring 07700-900-123", "ring [phone]"),
        ("or +44 20 7946 0958", "or [phone]"),
        ("or 0044 20 7946 0958", "or [phone]"),
        ("or (020) 7946-0958.", "or [phone]."),
        ("two: 07700 900123 and 07700 900456", "two: [phone] and [phone]"),
        ("from +91 98765 43210", "from [phone]"),
        ("www.example.org", "[link]"),
        ("(see www.example.org/a?b=1).", "(see [link])."),
        ("case number: CIN/1234", "case number: [number]"),
        ("Case ref CP/2026/0413", "Case ref [number]"),
        ("apt 4b, 9 Mill Lane", "[address]"),
        ("DOB: 3rd April 2015", "DOB: [date]"),
        ("born April 2015", "born [date]"),
    ],
)
def test_identifiers_are_replaced(raw: str, clean: str) -> None:
    assert redact(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "Supervision on Tuesday helped a lot",
        "I felt 3 out of 5, better than 2 last week",
        "Team meeting at 10:30 ran over",
        "caseload 24, up from 19",
        "C-section cover was short",  # not a Slack id: lowercase and too short
        "CHILDREN COME FIRST, DISAPPOINTED today",  # shouting is not a Slack id
        "we met at home. Dot came too",  # spelled e-mails need a real domain ending
        "back at 3pm, dot on time",
        "3 sessions in the park and 5 of us on the road",  # street names are capitalised
        "We had 2 Family Court hearings",
        "week 12, year 2026, on 3 April, on 03/04/2026, on 3.4.2026",  # not births
        "her birthday party was lovely",
        "case 3 and referral 12 are fine",  # too short to be a case number
        "1-2-1 at 2, 10 mins late",
        "the plan runs to mid-2026, then the 2026/27 budget",
    ],
)
def test_ordinary_words_and_small_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


def test_strips_and_caps() -> None:
    assert redact("   hello  \n") == "hello"
    capped = redact("x" * (MAX_COMMENT * 3))
    assert len(capped) == MAX_COMMENT == 1000
    # Capped after redaction, so a cut can never leave half an e-mail address behind.
    long = "a" * 990 + " sam@nhs.net"
    assert redact(long) == "a" * 990 + " [email]"
    # A placeholder that would run past the cap goes whole, never as "[som".
    assert redact("a" * 995 + " @sam.jones" + "b" * 20) == "a" * 995
    # A cut that leaves a fresh identifier behind is redacted again.
    stray = "a" * 985 + " n " + "1" * 12  # exactly the cap; "111...1x" is not a number
    assert redact(stray + "x") == "a" * 985 + " n [number]"


# Pieces that sit near the edges of the patterns, joined at random, find the text where one
# replacement could set up another.
_PIECES = st.sampled_from(
    [
        " ",
        ", ",
        ".",
        "/",
        "-",
        "(",
        ")",
        "[",
        "]",
        "@",
        "#",
        ":",
        "+44",
        "0",
        "07700",
        "900123",
        "12",
        "2015",
        "3rd",
        "April",
        "at",
        "dot",
        "[at]",
        "(dot)",
        "uk",
        "gov",
        "jo",
        "case",
        "ref",
        "DOB",
        "born",
        "Flat",
        "Flat 3,",
        "14",
        "High",
        "St",
        "Road",
        "www.",
        "https://",
        "u0123abcd",
        "U0123ABCDE",
        "<@",
        ">",
        "AB",
        "C",
        "SW1A",
        "1AA",
        "[number]",
        "[phone]",
    ]
)
_ARBITRARY = (
    st.text(max_size=300)
    | st.lists(_PIECES, max_size=60).map("".join)
    | st.lists(st.sampled_from(_CORPUS), max_size=30).map(
        lambda cases: " ".join(case["text"] for case in cases)
    )
)


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_ARBITRARY)
def test_redaction_is_idempotent_and_never_raises(text: str) -> None:
    once = redact(text)
    assert len(once) <= MAX_COMMENT
    assert redact(once) == once


@pytest.mark.parametrize(
    "comment",
    [
        (" ".join(case["text"] for case in _CORPUS) * 3)[:2000],
        # Runs that make a careless pattern backtrack once per character (seconds, not ms).
        "a." * 1000,
        "a-" * 1000,
        "1/" * 1000,
        "jo dot " * 285,
    ],
    ids=["realistic", "dots", "dashes", "slashes", "spelled-dots"],
)
@pytest.mark.slow
def test_a_full_length_comment_is_quick(comment: str) -> None:
    assert len(comment) >= 1995
    start = time.perf_counter()
    for _ in range(5):
        redact(comment)
    per_comment = (time.perf_counter() - start) / 5
    assert per_comment < 0.2, f"{per_comment:.3f}s for a 2,000-character comment"
