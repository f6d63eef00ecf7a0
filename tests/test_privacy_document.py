"""PRIVACY.md reads true to someone holding the code: every test it names exists, every party
of the threat model has a row, and it makes no absolute promise."""

from __future__ import annotations

import re
from pathlib import Path

from bot.render.common import STORED_WITHOUT_NAME, promise, supervisor_sees

ROOT = Path(__file__).resolve().parents[1]
PRIVACY = (ROOT / "PRIVACY.md").read_text()

PARTIES = (
    "A practice supervisor",
    "A team member",
    "Another team or workspace",
    "A Slack workspace admin with exports",
    "Whoever holds only the database",
    "Whoever holds only the bot's settings and key",
    "Whoever holds both",
)
ABSOLUTE = (
    "nobody can",
    "no one can",
    "can never",
    "completely anonymous",
    "fully anonymous",
    "100%",
    "guarantee",
    "impossible",
    "untraceable",
    "can't be traced",
)


def test_every_test_privacy_md_names_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", PRIVACY))
    assert len(named) >= 8
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert missing == []


def test_the_threat_model_has_a_row_per_party_naming_its_tests() -> None:
    rows = [line for line in PRIVACY.splitlines() if line.startswith("| **")]
    for party in PARTIES:
        [row] = [r for r in rows if r.startswith(f"| **{party}")]
        assert re.search(r"`tests/\w+\.py`", row), party
        assert row.count("|") == 5, party  # party, open week, after close, tests


def test_no_absolute_words() -> None:
    lowered = PRIVACY.lower()
    assert [word for word in ABSOLUTE if word in lowered] == []


def test_the_form_the_readme_and_the_manifest_use_privacy_md_words() -> None:
    readme = " ".join((ROOT / "README.md").read_text().split())
    # The manifest's long_description is a folded scalar: its lines join with single spaces.
    long_description = " ".join((ROOT / "manifest.yml").read_text().split())
    privacy = " ".join(PRIVACY.split())
    for text in (privacy, readme, long_description):
        assert STORED_WITHOUT_NAME in text
    assert supervisor_sees(5) in privacy and supervisor_sees(5) in readme


def test_the_team_introduction_s_who_sees_what_is_privacy_md_in_short() -> None:
    """Each line of the introduction's "who sees what" is a sentence of PRIVACY.md's "In
    short", word for word (its bold marks aside)."""
    in_short = PRIVACY.split("## In short", 1)[1].split("\n## ", 1)[0]
    plain = " ".join(in_short.replace("**", "").split())
    for line in promise(5):
        assert line in plain
