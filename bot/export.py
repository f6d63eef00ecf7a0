"""`securebase export`: a team's anonymous period figures as CSV, for supervision records.

Exactly what `/teampulse` would show: a period below the anonymity minimum is a row with its
dates and themes and every figure blank, and so is an item below it (a week's belief item that
too few answered). Each item has how many answered it, its mean, and how many answered in the
low (1–2), middle (3) and high (4–5) bands; never a count per level. An item whose answers all
fell in one band has its mean blank, as `/teampulse` shows none. Each export is recorded in the
team's view log, which the team can read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TextIO

from bot.content import DOMAIN_ORDER, Library
from bot.services import Services
from storage.models import Team
from storage.pulse import BANDS, Bands, BlockFigures, Reading, record_view, team_pulse
from storage.weeks import Week

FORMATS = ("csv",)
CLI_VIEWER = "CLI"  # the view log's viewer when the person exporting gave no Slack id


def _belief(key: str) -> str:
    return f"belief_{key.replace('-', '_')}"


ITEMS = ("support", "stress", *(_belief(key) for key in DOMAIN_ORDER))
FIGURES = ("answered", "mean", *BANDS)
COLUMNS = (
    "period_start",
    "period_end",
    "weeks",
    "themes",
    "answers",
    "members",
    "participation_percent",
    *(f"{item}_{figure}" for item in ITEMS for figure in FIGURES),
)


class ExportError(Exception):
    """The export cannot be written, said in one line."""


def _item(row: dict[str, str], item: str, bands: Bands) -> None:
    row[f"{item}_answered"] = str(bands.answered)
    row[f"{item}_mean"] = "" if bands.mean is None else f"{bands.mean:.2f}"
    for band in BANDS:
        row[f"{item}_{band}"] = str(getattr(bands, band))


def rows(library: Library, oldest_first: Iterable[Reading]) -> list[dict[str, str]]:
    table = []
    for reading in oldest_first:
        block = reading.block
        row = dict.fromkeys(COLUMNS, "")
        row["period_start"] = Week(block.first_week).monday.isoformat()
        row["period_end"] = (Week(block.last_week).monday + timedelta(days=6)).isoformat()
        row["weeks"] = str(block.weeks)
        row["themes"] = "; ".join(library.domain(key).title for key in block.domains)
        if isinstance(reading, BlockFigures):
            row["answers"] = str(reading.responses)
            row["members"] = "" if reading.members is None else str(reading.members)
            rate = reading.participation
            row["participation_percent"] = "" if rate is None else f"{rate * 100:.0f}"
            _item(row, "support", reading.availability)
            _item(row, "stress", reading.stress)
            for key, item in reading.domain_items.items():
                _item(row, _belief(key), item)
        table.append(row)
    return table


def write_csv(stream: TextIO, table: Sequence[dict[str, str]]) -> None:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)


def export_team(services: Services, team: Team, weeks: int, viewer: str, stream: TextIO) -> int:
    """Write the team's last `weeks` finished weeks to `stream`, oldest first; returns rows."""
    now = services.clock.now()
    with services.db.session() as session:
        team = session.merge(team)
        readings = team_pulse(session, team, weeks, services.settings.anonymity_min, now)
        shown = (
            f"{readings[-1].block.label()} to {readings[0].block.label()}" if readings else "none"
        )
        record_view(session, team, viewer, f"export (CSV): {shown}", now)
    table = rows(services.library, reversed(readings))
    write_csv(stream, table)
    return len(table)
