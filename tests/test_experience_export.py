"""`securebase export`: the team's anonymous figures per period as CSV for supervision records,
exactly what `/teampulse` would show (a quiet week is blank), recorded in the view log with
who it was for and why; without both, nothing is exported."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from experience import CHANNEL, experience, member
from sqlalchemy import select

from bot import commands
from bot.cli import main, parser
from bot.export import COLUMNS
from bot.settings import load_settings
from practice.clock import ManualClock
from practice.weeks import week_containing
from storage.db import Database
from storage.models import PulseView


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SECUREBASE_ANONYMITY_MIN", raising=False)


FOR_RECORDS = ("--by", "U0EXPSUP01", "--reason", "supervision")


def export(database_url: str, now: datetime, *arguments: str) -> int:
    """The export command as the CLI runs it, at the world's time rather than today's."""
    args = parser().parse_args(["export", "--channel", CHANNEL, *arguments])
    db = Database(database_url)
    try:
        return commands.export(args, load_settings(need_slack=False), db, ManualClock(now))
    finally:
        db.dispose()


@pytest.mark.slow
def test_the_export_is_what_teampulse_shows_with_quiet_weeks_blank(
    environment: None,
    database_url: str,
    clock: ManualClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = week_containing(clock.now(), "Europe/London").index
    with experience(database_url, clock) as world:
        for n, (a, s) in enumerate([(5, 2), (4, 3), (4, 2), (3, 4), (2, 5), (4, 3)]):
            world.seed(member(n), a, s, 4)
        world.next_week()
        for n in range(4):
            world.seed(member(n), 1, 5, 1)
        world.next_week()
        themes = [
            world.bot.runtime.services.library.domain(world.domain_of(w))
            for w in (first, first + 1)
        ]
        now = clock.now()

    out = tmp_path / "records" / "duty.csv"
    out.parent.mkdir()
    assert (
        export(
            database_url, now, *FOR_RECORDS, "--format", "csv", "--weeks", "4", "--output", str(out)
        )
        == 0
    )
    assert "Wrote 2 periods of Duty and Assessment" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    shown, quiet = rows
    assert shown["period_start"] == "2026-11-23" and shown["period_end"] == "2026-11-29"
    assert shown["themes"] == themes[0].title
    assert shown["items_version"] == quiet["items_version"] == "2"  # the current wording
    assert (shown["answers"], shown["members"], shown["participation_percent"]) == ("6", "8", "75")
    assert (shown["support_mean"], shown["stress_mean"]) == ("3.67", "3.17")
    # Support (5, 4, 4, 3, 2, 4) and stress (2, 3, 2, 4, 5, 3) in bands: low 1-2, middle 3,
    # high 4-5.
    figures = ("answered", "low", "middle", "high")
    assert [shown[f"support_{f}"] for f in figures] == ["6", "1", "1", "4"]
    assert [shown[f"stress_{f}"] for f in figures] == ["6", "2", "2", "2"]
    # Everyone agreed 4 with the statement: all six in the high band, and no mean.
    belief = f"belief_{themes[0].key.replace('-', '_')}"
    assert [shown[f"{belief}_{f}"] for f in (*figures, "mean")] == ["6", "0", "0", "6", ""]
    assert quiet["period_start"] == "2026-11-30" and quiet["themes"] == themes[1].title
    labels = ("period_start", "period_end", "weeks", "themes", "items_version")
    figures = [c for c in COLUMNS if c not in labels]
    assert [quiet[c] for c in figures] == [""] * len(figures)

    # To standard output, and each export is in the team's log: for whom, and why.
    reason = ["--reason", "  Quarterly   review\n"]
    assert export(database_url, now, "--by", "U0EXPSUP02", *reason) == 0
    assert capsys.readouterr().out.startswith(",".join(COLUMNS))
    assert logged(database_url) == [
        ("U0EXPSUP01", "export", "export CSV: w/c 23 Nov 2026 to w/c 30 Nov 2026", "supervision"),
        (
            "U0EXPSUP02",
            "export",
            "export CSV: w/c 23 Nov 2026 to w/c 30 Nov 2026",
            "Quarterly review",
        ),
    ]


def logged(database_url: str) -> list[tuple[str, str | None, str, str | None]]:
    db = Database(database_url)
    try:
        with db.session() as session:
            views = session.scalars(select(PulseView).order_by(PulseView.id))
            return [(v.viewer_id, v.surface, v.what, v.reason) for v in views]
    finally:
        db.dispose()


def test_bad_input_is_one_line(
    environment: None, database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = Database(database_url)
    db.dispose()
    add = ["team", "add", "--channel", CHANNEL, "--supervisor", "U0S1", "--workspace", "T0001"]
    assert main([*add, "--name", "Duty team"]) == 0
    capsys.readouterr()
    missing = tmp_path / "no-such-folder" / "x.csv"
    assert main(["export", "--channel", CHANNEL, *FOR_RECORDS, "--output", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"securebase: cannot write {missing}: No such file or directory"
    )
    assert main(["export", "--channel", "C0NOTEAM", *FOR_RECORDS]) == 2
    assert capsys.readouterr().err.strip() == "securebase: no team is set up in channel C0NOTEAM"
    for bad in (["--weeks", "0"], ["--format", "xlsx"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "--channel", CHANNEL, *bad])
        assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ([], "an export needs --by U… (the Slack id of who it is for) and --reason"),
        (["--by", "U0EXPSUP01"], "an export needs --by U…"),
        (["--reason", "records"], "an export needs --by U…"),
        (["--by", "U0EXPSUP01", "--reason", "   "], 'say why in --reason "…"'),
        (["--by", "U0EXPSUP01", "--reason", "x" * 201], "--reason is 201 characters: keep it"),
    ],
)
@pytest.mark.slow
def test_an_export_says_for_whom_and_why_or_nothing_is_exported(
    environment: None,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    given: list[str],
    said: str,
) -> None:
    add = ["team", "add", "--channel", CHANNEL, "--supervisor", "U0S1", "--workspace", "T0001"]
    assert main([*add, "--name", "Duty team"]) == 0
    capsys.readouterr()
    out = tmp_path / "x.csv"
    assert main(["export", "--channel", CHANNEL, "--output", str(out), *given]) == 2
    output, error = capsys.readouterr()
    [line] = error.strip().splitlines()
    assert line.startswith(f"securebase: {said}") and output == ""
    assert not out.exists() and logged(database_url) == []
