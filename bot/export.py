"""`securebase export`: a team's anonymous period figures as CSV, for reflective supervision
records (never for appraisal or performance management: bot.render.talking.FOR_LEARNING).

Exactly what `/teampulse` would show: whole reporting blocks only, and a period below the
anonymity minimum is a row with its dates and themes and every figure blank, and so is an item
below it (a week's belief item that too few answered, or support when most didn't need any).
`items_version` says which wording of the check-in questions a period was answered with:
figures of different versions are not one measure. Each item has how many answered it, its
mean, and how many answered in the low (1–2), middle (3) and high (4–5) bands; never a count per
level. An item whose answers all fell in one band has its mean blank, as `/teampulse` shows
none. Each export is recorded in the team's view log, which the team can read: for whom it was
made (a Slack id) and why.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TextIO

from bot.content import DOMAIN_ORDER, Library
from bot.services import Services
from practice.figures import BANDS, Bands, BlockFigures, Reading, Surface
from practice.weeks import Week
from storage.models import Team
from storage.pulse import REASON_MAX, read_pulse_for

FORMATS = ("csv",)


def _belief(key: str) -> str:
    return f"belief_{key.replace('-', '_')}"


ITEMS = ("support", "stress", *(_belief(key) for key in DOMAIN_ORDER))
FIGURES = ("answered", "mean", *BANDS)
COLUMNS = (
    "period_start",
    "period_end",
    "weeks",
    "themes",
    "items_version",
    "answers",
    "members",
    "participation_percent",
    *(f"{item}_{figure}" for item in ITEMS for figure in FIGURES),
)


class ExportError(Exception):
    """The export cannot be written, said in one line."""


def _item(row: dict[str, str], item: str, bands: Bands | None) -> None:
    if bands is None:
        return  # too few answered it: its cells stay empty
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
        row["items_version"] = str(block.items_version)
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


def check_reason(text: str) -> str:
    """An export's reason, as it goes in the view log; ExportError when there is none or it is
    too long to read at a glance."""
    reason = " ".join(text.split())
    if not reason:
        raise ExportError('say why in --reason "…" (the team sees it in its view log)')
    if len(reason) > REASON_MAX:
        raise ExportError(f"--reason is {len(reason)} characters: keep it to {REASON_MAX}")
    return reason


def export_team(
    services: Services, team: Team, weeks: int, viewer: str, reason: str, stream: TextIO
) -> int:
    """Write the team's last `weeks` finished weeks to `stream`, oldest first; returns rows.
    `viewer` is who the export is for and `reason` why: both go in the team's view log."""
    with services.db.session() as session:
        team = session.merge(team)
        readings = read_pulse_for(
            session,
            viewer,
            team,
            Surface.EXPORT,
            weeks=weeks,
            anonymity_min=services.settings.anonymity_min,
            retention_weeks=services.settings.retention_weeks,
            now=services.clock.now(),
            detail="CSV",
            reason=check_reason(reason),
        ).readings
    table = rows(services.library, reversed(readings))
    write_csv(stream, table)
    return len(table)
