"""The benchmarks' code paths, at toy sizes: each runs end to end (real servers, sandbox,
databases) and reports the figures it promises. No timing is asserted: speed is measured by
`make bench`, not by the tests."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from conftest import PG_ENV

from bench import ack_latency, checkins, fanout, report, summary
from bench.report import Section
from bench.run import QUICK


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def assert_measured(section: Section) -> None:
    """Every figure has a value and a baseline (a failed measurement would be NaN)."""
    for figure in section.figures:
        assert not math.isnan(figure.value), figure.key
        assert not math.isnan(figure.baseline), figure.key


@pytest.mark.slow
@pytest.mark.subprocess
def test_ack_latency_and_memory_report_every_figure(tmp_path: Path) -> None:
    ack, memory = ack_latency.run(QUICK.ack, tmp_path)
    small, big = QUICK.ack.clients
    per_size = ["p99", "p99_deadline", "p50", "max", "cpu", "rps"]
    assert ack.keys() == [
        *(f"ack.{name}.{small}" for name in per_size),
        *(f"ack.{name}.{big}" for name in per_size),
        "people.cpu.checkin",
        "people.cpu.teampulse",
        *(f"people.{name}.{n}" for n in QUICK.ack.people for name in ("modal", "unanswered")),
        "ack.teams.p99",
        "ack.teams.cpu",
        "ack.growth",
    ]
    assert memory.keys() == ["mem.idle", "mem.load"]
    assert_measured(ack)
    assert_measured(memory)
    assert not any("not answered 200" in note for note in ack.notes)
    # Every /checkin of the people loop was answered: the form opened, or a busy reply.
    unanswered = [f for f in ack.figures if f.key.startswith("people.unanswered")]
    assert [f.value for f in unanswered] == [0] * len(QUICK.ack.people)
    opened = [f for f in ack.figures if f.key.startswith("people.modal")]
    assert all(f.value > 0 for f in opened)


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.postgres
def test_checkins_are_all_stored_and_counted(tmp_path: Path) -> None:
    section = checkins.run(QUICK.checkins, tmp_path, pg_url())
    kinds = ["sqlite", *(["postgres"] if pg_url() else [])]
    assert section.keys() == [
        key
        for kind in kinds
        for key in (f"checkins.rate.{kind}", f"checkins.cpu.{kind}", f"checkins.p99.{kind}")
    ]
    assert_measured(section)
    stored = [note for note in section.notes if "new answer rows stored" in note]
    assert len(stored) == len(kinds)
    assert all("(one per submission)" in note for note in stored), stored


@pytest.mark.slow
@pytest.mark.postgres
def test_summary_matches_the_hand_written_query_with_index_backed_plans(tmp_path: Path) -> None:
    section = summary.run(QUICK.summary, tmp_path, pg_url())
    kinds = ["sqlite", *(["postgres"] if pg_url() else [])]
    answers = [teams * QUICK.summary.weeks * QUICK.summary.people for teams in QUICK.summary.teams]
    assert section.keys() == [
        key
        for kind in kinds
        for key in (*(f"summary.p95.{kind}.{n}" for n in answers), f"summary.growth.{kind}")
    ]
    assert_measured(section)
    loads = [note for note in section.notes if "bulk-loaded" in note]
    assert len(loads) == len(kinds) * len(answers)
    assert all("same figures as the hand-written query" in note for note in loads), loads
    # PostgreSQL rightly prefers sequential scans of toy tables; SQLite (no statistics) does not.
    sqlite_loads = [note for note in loads if note.startswith("SQLite")]
    assert all("every statement index-backed" in note for note in sqlite_loads), sqlite_loads
    assert len(section.details) == len(kinds)  # the plans of the larger size


@pytest.mark.slow
def test_fanout_delivers_every_post_exactly_once(tmp_path: Path) -> None:
    section = fanout.run(QUICK.fanout, tmp_path)
    small, big = QUICK.fanout.teams
    assert section.keys() == [
        f"fanout.makespan.{small}",
        f"fanout.lost.{small}",
        f"fanout.makespan.{big}",
        f"fanout.lost.{big}",
        "fanout.growth",
        "fanout.latency",
    ]
    lost = [f for f in section.figures if f.key.startswith("fanout.lost.")]
    assert [f.value for f in lost] == [0, 0]
    assert [f.met for f in lost] == [True, True]


def test_report_lists_every_figure_with_its_ratio_and_verdict() -> None:
    section = Section(9, "Example", "ratio ≤ 1.5")
    section.figures.append(
        report.Figure(
            "x.y", "an example", 3.0, 2.0, "ms", "base", "ratio ≤ 1.5", report.ratio_at_most(1.5)
        )
    )
    section.figures.append(
        report.Figure(
            "x.z", "another", 1.0, 2.0, "ms", "base", "ratio ≤ 1.5", report.ratio_at_most(1.5)
        )
    )
    text = report.markdown([section], [("CPU", "test")], "preface")
    assert "| 9 | an example | 3.0 ms | 2.0 ms (base) | 1.50 | ratio ≤ 1.5 | met |" in text
    assert "| 9 | another | 1.0 ms | 2.0 ms (base) | 0.50 | ratio ≤ 1.5 | met |" in text
    section.figures[0] = report.Figure(
        "x.y", "an example", 3.1, 2.0, "ms", "base", "ratio ≤ 1.5", report.ratio_at_most(1.5)
    )
    assert "| 1.55 | ratio ≤ 1.5 | MISSED |" in report.markdown([section], [], "")


def test_report_sets_each_figure_beside_what_the_results_it_replaces_said() -> None:
    section = Section(9, "Example", "ratio ≤ 1.5")
    figure = report.Figure("x.y", "an example", 3.0, 2.0, "ms", "base", "ratio ≤ 1.5")
    section.figures.append(figure)
    old = report.markdown([section], [("date", "2026-11-25 19:57 UTC")], "")
    section.figures[0] = report.Figure("x.y", "an example", 1.0, 2.0, "ms", "base")
    section.figures.append(report.Figure("x.n", "a new one", 1.0, 1.0, "ms", "base"))
    before = report.earlier(old)
    assert before is not None and before.date.startswith("2026-11-25")
    text = report.markdown([section], [], "", before)
    assert "| # | figure | value | baseline | ratio | goal |  | before (2026-11-25) |" in text
    assert "| 9 | an example | 1.0 ms | 2.0 ms (base) | 0.50 |  |  | 3.0 ms (×1.50) |" in text
    assert "| 9 | a new one | 1.0 ms | 1.0 ms (base) | 1.00 |  |  | new |" in text
    assert report.earlier("no table here") is None
