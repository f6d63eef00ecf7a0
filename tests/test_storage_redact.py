"""Redaction of free-text comments: obvious identifiers go before anything is stored."""

from __future__ import annotations

import pytest

from storage.redact import MAX_COMMENT, redact


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
        ("email sam.jones+work@council.gov.uk now", "email [email] now"),
        ("<mailto:sam@nhs.net|sam@nhs.net>", "<mailto:[email]|[email]>"),
        ("ask @sam.jones about it", "ask [someone] about it"),
        ("ring 07700 900123 tonight", "ring [phone] tonight"),
        ("ring 07700900123", "ring [phone]"),
        ("or +44 20 7946 0958", "or [phone]"),
        ("or (020) 7946-0958.", "or ([phone]."),  # the digits go; a bracket may stay
        ("two: 07700 900123 and 07700 900456", "two: [phone] and [phone]"),
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


def test_redaction_is_idempotent() -> None:
    once = redact("<@U0123ABCDE> 07700 900123 sam@nhs.net @sam")
    assert redact(once) == once
    assert "U0123ABCDE" not in once and "900123" not in once and "nhs.net" not in once
