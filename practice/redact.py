"""Strip obvious identifiers from free-text comments before they are stored.

Aimed at what a social work team might type without thinking: colleagues' Slack handles and
ids, e-mail addresses (also spelled out, "jo at council dot gov dot uk"), phone numbers in any
format, postcodes, street addresses, dates of birth, National Insurance numbers, case or record
numbers, and links (which can point at a case record). Each goes to a readable placeholder such
as "[phone]"; a leading word that carries no identity ("case", "DOB") is kept so the sentence
still reads. Names cannot be recognised reliably, so the check-in modal asks people not to use
them. Ordinary words and numbers ("at the meeting", "at 3pm", "week 12", "on 3 April") stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers

MAX_COMMENT = 1000

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?:\.(?=\s*\d))?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?\b"
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"  # 03/04/2015, 3.4.15
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 2015-04-03
    rf"|{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+\d{{4}})?"  # 3 April 2015, 3rd of April
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"  # April 3rd, 2015
    rf"|{_MONTH}\s+\d{{4}})"  # April 2015
)
_DOT = r"(?:\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+|\.)"
_AT = r"(?:\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+|\s*@\s*)"
# A spelled-out address must end in a common domain ending, so "at home. Dot came" stays.
_TLD = r"(?:uk|com|org|net|gov|nhs|ac|co|edu|io|info|ie|eu|scot|wales|cymru)"
_STREET = (
    r"(?:street|st|road|rd|avenue|ave|lane|ln|close|drive|way|crescent|cres|grove|gardens"
    r"|gdns|terrace|place|mews|square|sq|walk|rise|row|hill|parade|boulevard)"
)
# "Flat 3": capitalised, or in any case when a comma follows ("flat 3, ..."), so that
# "felt flat 3 days running" stays.
_FLAT_NUMBER = r"\s*\d{1,4}[A-Za-z]?\b"
_FLAT = (
    rf"\b(?:(?:Flat|Apartment|Apt\.?){_FLAT_NUMBER}"
    rf"|(?i:flat|apartment|apt\.?){_FLAT_NUMBER}(?=\s*,))"
)
_CASE_WORD = (
    r"\b(?:case|ref|reference|referral|record|file|crn|nhs)"
    r"(?:\s+(?:no\.?|number|num|ref|reference|id))?\s*[:#.]?\s*#?"
)
# A reference: optional letters, then digit groups joined by / - or a space; 3+ digits in all.
_CASE_REF = r"(?=[A-Z]{0,4}[/-]?(?:[/ -]?\d){3})[A-Z]{0,4}[/-]?\d+(?:[/ -]\d+)*[A-Z]?\b"

_IGNORE = re.IGNORECASE
# Patterns that scan a run of word characters start only at the run's beginning (the
# (?<![...]) guards), so a long run costs one scan rather than one per character.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<[@#!][^>]*>"), "[someone]"),  # Slack mentions: <@U123>, <#C123|name>
    (
        re.compile(
            r"<https?://[^>]*>"
            r"|\b(?:https?://|www\.)[^\s<>]*[^\s<>.,;:!?)'\"]"
            rf"|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.{_TLD}/[^\s<>]*[^\s<>.,;:!?)'\"]",
            _IGNORE,
        ),
        "[link]",
    ),
    (re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (
        re.compile(
            rf"(?<![\w.+-])[\w+-]+(?:{_DOT}[\w+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b",
            _IGNORE,
        ),
        "[email]",
    ),
    # Bare Slack ids (U0123ABCDE, u0123abcd): a digit is required, so "COMMUNICATION" stays.
    (re.compile(r"\b[UWCDGB](?=[A-Z]*\d)[A-Z0-9]{8,}\b", _IGNORE), "[id]"),
    (re.compile(r"(?<!\w)@[\w.-]{2,}"), "[someone]"),  # @name typed by hand
    (
        re.compile(
            rf"(?P<key>\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birthday(?:\s+is)?|born)"
            rf"\s*[:-]?\s*(?:on\s+)?){_DATE}",
            _IGNORE,
        ),
        r"\g<key>[date]",
    ),
    (re.compile(rf"(?P<key>{_CASE_WORD}){_CASE_REF}", _IGNORE), r"\g<key>[number]"),
    # Coded references: CP/2026/0413 and LAC-20413 (capitals, so "mid-2026" stays), AB123456.
    (re.compile(r"\b[A-Z]{1,4}(?:[/-]\d+){1,3}\b(?<=\d{3})"), "[number]"),
    (re.compile(r"\b[A-Z]{1,4}\d{4,}\b", _IGNORE), "[number]"),
    # National Insurance number: two letters, six digits, A-D (spaces optional).
    (re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", _IGNORE), "[id]"),
    # UK postcode: SW1A 1AA, M1 1AE, b33 8th.
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", _IGNORE), "[postcode]"),
    # Street address: "Flat 3, 22 High St", "14a Acacia Avenue". Street names must be
    # capitalised, so "3 sessions in the park" and "5 of us on the road" stay.
    (
        re.compile(
            rf"(?:{_FLAT},?\s*)?\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){{1,3}}"
            rf"(?i:{_STREET})\b"
            rf"|{_FLAT}"
        ),
        "[address]",
    ),
)
_LOCAL_PHONE = re.compile(r"(?<![\w.,:/-])\d{3}[ -]\d{4}(?![\w.,:/-]*\d)")  # 496 0000
_LONG_NUMBER = re.compile(r"(?<![\w])\d{6,}(?![\w])")  # record numbers typed bare
_PARTIAL_PLACEHOLDER = re.compile(r"\[[a-z]*$")


def _phones(text: str) -> str:
    """Replace phone numbers found by libphonenumber (UK by default, any +country).

    Its loosest matching also takes dates such as 03-04-2015 and years, so a match counts
    only if it is a valid number, is written with an international prefix, or is long
    enough (10+ digits) to be a full number.
    """
    kept: list[str] = []
    last = 0
    for match in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        raw = match.raw_string
        digits = sum(ch.isdigit() for ch in raw)
        international = raw.startswith(("+", "00"))
        if international or digits >= 10 or phonenumbers.is_valid_number(match.number):
            # "(00353 1 234 5678)": the matcher takes the opening bracket but not the closing.
            start = match.start + (raw.startswith("(") and ")" not in raw)
            kept.append(text[last:start])
            kept.append("[phone]")
            last = match.end
    kept.append(text[last:])
    return "".join(kept)


def _substitute(pattern: re.Pattern[str], replacement: str) -> Callable[[str], str]:
    return lambda text: pattern.sub(replacement, text)


_STEPS: tuple[Callable[[str], str], ...] = (
    *(_substitute(pattern, replacement) for pattern, replacement in _PATTERNS),
    _phones,
    _substitute(_LOCAL_PHONE, "[phone]"),
    _substitute(_LONG_NUMBER, "[number]"),
)


def _scrub(text: str) -> str:
    for step in _STEPS:
        text = step(text)
    if len(text) > MAX_COMMENT:
        # Cut at the cap, never leaving half a placeholder ("[som") behind.
        text = _PARTIAL_PLACEHOLDER.sub("", text[:MAX_COMMENT])
    return text.strip()


def redact(text: str) -> str:
    """Return the comment with identifiers replaced, trimmed and capped at MAX_COMMENT.

    Scrubbing repeats until nothing changes (at most a few rounds), so cutting at the cap
    or joining text around a placeholder can never leave a fresh identifier behind, and
    redacting stored text again changes nothing.
    """
    cleaned = text.strip()
    for _ in range(5):
        scrubbed = _scrub(cleaned)
        if scrubbed == cleaned:
            break
        cleaned = scrubbed
    return cleaned
