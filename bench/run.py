"""Every benchmark, a table on stdout, bench/results.md (`make bench` = `python -m bench`).

`--quick` runs each at toy sizes (seconds, numbers meaningless): a check of the code paths.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import ack_latency, checkins, databases, fanout, machine, report, summary
from bench.report import Section

RESULTS = Path(__file__).with_name("results.md")


@dataclass(frozen=True)
class Sizes:
    ack: ack_latency.AckSizes
    checkins: checkins.CheckinSizes
    summary: summary.SummarySizes
    fanout: fanout.FanoutSizes


FULL = Sizes(
    ack=ack_latency.AckSizes(
        teams=1000,
        load_teams=10,
        members=10,
        history_weeks=8,
        clients=(5, 50),
        duration=20.0,
        warmup=2.0,
        settle=5.0,
        people=(50, 200),
    ),
    checkins=checkins.CheckinSizes(
        teams=20, members=250, clients=50, duration=10.0, warmup_submissions=100
    ),
    summary=summary.SummarySizes(teams=(50, 500), weeks=100, people=20, repeats=300),
    fanout=fanout.FanoutSizes(teams=(100, 1000), floor_seconds=30.0, latency=0.05),
)

QUICK = Sizes(
    ack=ack_latency.AckSizes(
        teams=3,
        load_teams=2,
        members=5,
        history_weeks=1,
        clients=(1, 2),
        duration=0.5,
        warmup=0.2,
        settle=0.0,
        people=(2, 3),
    ),
    checkins=checkins.CheckinSizes(
        teams=2, members=6, clients=2, duration=0.5, warmup_submissions=2
    ),
    summary=summary.SummarySizes(teams=(2, 3), weeks=10, people=6, repeats=3),
    fanout=fanout.FanoutSizes(teams=(2, 3), floor_seconds=1.0, latency=0.01),
)

PREFACE = """\
Written by `make bench` (`python -m bench`): offline, against the local Slack sandbox, on the
machine below. Every figure sits beside a baseline from the same run (a bare Bolt app on the
same server adapter, one hand-written SQL query, the least time Slack-like limits allow, or
the same measurement at a tenth of the size), and the ratio between them is what the goals
are about; absolute numbers move with the machine (and with anything else running on it: the
load average before and after is under Machine). How each benchmark is built, and why, is in
the docstrings of `bench/*.py`; "Why the goal is missed" notes come from profiling."""


def run_all(sizes: Sizes, workdir: Path, pg_url: str | None, only: set[int]) -> list[Section]:
    steps: list[tuple[int, Callable[[], list[Section]]]] = [
        (1, lambda: list(ack_latency.run(sizes.ack, workdir))),
        (2, lambda: [checkins.run(sizes.checkins, workdir, pg_url)]),
        (3, lambda: [summary.run(sizes.summary, workdir, pg_url)]),
        (4, lambda: [fanout.run(sizes.fanout, workdir)]),
    ]
    sections: list[Section] = []
    for number, step in steps:
        if only and number not in only:
            continue
        started = time.perf_counter()
        print(f"benchmark {number}…", file=sys.stderr, flush=True)
        made = step()
        made[0].notes.append(f"This benchmark took {time.perf_counter() - started:.0f} s.")
        sections += made
    return sorted(sections, key=lambda s: s.number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy sizes: checks the code paths")
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        default=[],
        choices=(1, 2, 3, 4),
        help="run only this benchmark (1 also gives 5); repeatable",
    )
    parser.add_argument("--pg-url", default=None, help=f"PostgreSQL to use ({databases.PG_URL})")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the markdown (default bench/results.md; none with --quick or --only)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the bot's own log lines go to its log files
    started = datetime.now(UTC)
    load_before = machine.load_average()
    pg_url = databases.postgres_url(args.pg_url)
    with tempfile.TemporaryDirectory(prefix="securebase-bench-") as tmp:
        sections = run_all(QUICK if args.quick else FULL, Path(tmp), pg_url, set(args.only))
    about = machine.describe(pg_url, started)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    about += [
        ("load average (1/5/15 min)", f"before {load_before}; after {machine.load_average()}"),
        ("run took", f"{elapsed:.0f} s" + (" (--quick: toy sizes)" if args.quick else "")),
    ]
    print(report.text_table(sections))
    # A partial or toy run never overwrites the full results.
    out = args.out or (None if args.quick or args.only else RESULTS)
    if out is not None:
        before = report.earlier(out.read_text()) if out.exists() else None
        report.write(out, report.markdown(sections, about, PREFACE, before))
        print(f"\nwritten to {out}")
    return 0
