"""Strip obvious identifiers from free-text comments before they are stored."""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<[@#!][^>]*>"), "[someone]"),  # Slack mentions: <@U123>, <#C123|name>
    (re.compile(r"\b[UWCDGB][A-Z0-9]{8,}\b"), "[id]"),  # bare Slack ids
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<!\w)@[\w.-]{2,}"), "[someone]"),  # @name typed by hand
    (re.compile(r"(?<![\w])\+?\d[\d\s().-]{7,}\d(?![\w])"), "[phone]"),
)

MAX_COMMENT = 1000


def redact(text: str) -> str:
    cleaned = text.strip()
    for pattern, replacement in _PATTERNS:
        cleaned = pattern.sub(replacement, cleaned)
    return cleaned[:MAX_COMMENT]
