"""Strip obvious identifiers from free-text comments before they are stored.

Aimed at what a social work team might type without thinking: colleagues' Slack handles,
e-mail addresses, UK phone numbers (with or without the area code), postcodes, National
Insurance numbers, case or record numbers, and links (which can point at a case record).
Names cannot be recognised reliably, so the check-in modal asks people not to use them.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<[@#!][^>]*>"), "[someone]"),  # Slack mentions: <@U123>, <#C123|name>
    (re.compile(r"<https?://[^>]*>|\bhttps?://\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"\b[UWCDGB][A-Z0-9]{8,}\b"), "[id]"),  # bare Slack ids
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<!\w)@[\w.-]{2,}"), "[someone]"),  # @name typed by hand
    # National Insurance number: two letters, six digits, A-D (spaces optional).
    (re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE), "[id]"),
    # UK postcode: SW1A 1AA, M1 1AE, b33 8th.
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE), "[postcode]"),
    (re.compile(r"(?<![\w])\+?\d[\d\s().-]{7,}\d(?![\w])"), "[phone]"),
    # A local number without its area code: 496 0000, 960-0001.
    (re.compile(r"(?<![\w.,:/-])\d{3}[ -]\d{4}(?![\w.,:/-]*\d)"), "[phone]"),
    (re.compile(r"(?<![\w])\d{6,}(?![\w])"), "[number]"),  # case and record numbers
)

MAX_COMMENT = 1000


def redact(text: str) -> str:
    cleaned = text.strip()
    for pattern, replacement in _PATTERNS:
        cleaned = pattern.sub(replacement, cleaned)
    return cleaned[:MAX_COMMENT]
