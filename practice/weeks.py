"""Team-local weeks. A week runs Monday 00:00 to Monday 00:00 in the team's own time zone.

Weeks are numbered from a fixed Monday so that rotation and anonymity blocks are plain integer
arithmetic that SQL can do too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EPOCH_MONDAY = date(2024, 1, 1)


@dataclass(frozen=True)
class Week:
    index: int

    @property
    def monday(self) -> date:
        return EPOCH_MONDAY + timedelta(weeks=self.index)

    def starts_at(self, tz: str) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=ZoneInfo(tz))

    def ends_at(self, tz: str) -> datetime:
        return datetime.combine(self.monday + timedelta(weeks=1), time(0), tzinfo=ZoneInfo(tz))

    def label(self) -> str:
        """Readable label such as 'w/c 24 Nov 2026' (week commencing, as UK teams say)."""
        return f"w/c {self.monday.day} {self.monday:%b %Y}"

    def next(self) -> Week:
        return Week(self.index + 1)


def week_containing(instant: datetime, tz: str) -> Week:
    local = instant.astimezone(ZoneInfo(tz)).date()
    return Week((local - EPOCH_MONDAY).days // 7)


def week_of_date(day: date) -> Week:
    return Week((day - EPOCH_MONDAY).days // 7)
