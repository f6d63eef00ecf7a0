"""Team-local weeks: Monday 00:00 to Monday 00:00 in the team's own zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from practice.weeks import EPOCH_MONDAY, Week, week_containing, week_of_date

LONDON = "Europe/London"
AUCKLAND = "Pacific/Auckland"
LOS_ANGELES = "America/Los_Angeles"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))  # type: ignore[misc]


def test_epoch_is_a_monday_and_week_zero() -> None:
    assert EPOCH_MONDAY.weekday() == 0
    assert Week(0).monday == EPOCH_MONDAY
    assert week_of_date(EPOCH_MONDAY) == Week(0)
    assert week_of_date(EPOCH_MONDAY - timedelta(days=1)) == Week(-1)
    assert Week(151).monday == date(2026, 11, 23)
    assert Week(151).next() == Week(152)


def test_label_is_week_commencing() -> None:
    assert Week(151).label() == "w/c 23 Nov 2026"
    assert week_of_date(date(2026, 3, 29)).label() == "w/c 23 Mar 2026"


@pytest.mark.parametrize(
    ("tz", "sunday"),
    [
        (LONDON, date(2026, 3, 29)),  # clocks go forward at 01:00 that morning
        (LONDON, date(2026, 10, 25)),  # clocks go back at 02:00 that morning
        (LONDON, date(2026, 11, 29)),
        (AUCKLAND, date(2026, 4, 5)),  # NZ summer time ends
        (AUCKLAND, date(2026, 9, 27)),  # NZ summer time starts
        (AUCKLAND, date(2026, 11, 29)),
        (LOS_ANGELES, date(2026, 3, 8)),
        (LOS_ANGELES, date(2026, 11, 1)),
        (LOS_ANGELES, date(2026, 11, 29)),
    ],
)
def test_sunday_2330_belongs_to_week_ending_at_next_local_midnight(tz: str, sunday: date) -> None:
    assert sunday.weekday() == 6
    instant = datetime.combine(sunday, time(23, 30), tzinfo=ZoneInfo(tz))
    week = week_containing(instant, tz)
    ends = week.ends_at(tz)
    assert week.monday == sunday - timedelta(days=6)
    # Thirty real minutes later, at the local Monday midnight.
    assert ends.astimezone(UTC) - instant.astimezone(UTC) == timedelta(minutes=30)
    assert ends.astimezone(ZoneInfo(tz)).replace(tzinfo=None) == datetime.combine(
        sunday + timedelta(days=1), time(0)
    )
    # Half an hour on, it is the next week, which starts exactly when this one ends.
    later = instant + timedelta(hours=1)
    assert week_containing(later, tz) == week.next()
    assert week.next().starts_at(tz).astimezone(UTC) == ends.astimezone(UTC)


def test_london_spring_forward_week_is_an_hour_short() -> None:
    week = week_of_date(date(2026, 3, 23))
    assert week.starts_at(LONDON).astimezone(UTC) == utc(2026, 3, 23, 0, 0)  # GMT
    assert week.ends_at(LONDON).astimezone(UTC) == utc(2026, 3, 29, 23, 0)  # 00:00 BST
    # Sunday 29 March 23:30 BST is 22:30 UTC: still this week. 23:15 UTC is already Monday.
    assert week_containing(utc(2026, 3, 29, 22, 30), LONDON) == week
    assert week_containing(utc(2026, 3, 29, 23, 15), LONDON) == week.next()
    assert week_containing(utc(2026, 3, 29, 23, 15), "UTC") == week


def test_london_fall_back_week_is_an_hour_long() -> None:
    week = week_of_date(date(2026, 10, 19))
    assert week.starts_at(LONDON).astimezone(UTC) == utc(2026, 10, 18, 23, 0)  # 00:00 BST
    assert week.ends_at(LONDON).astimezone(UTC) == utc(2026, 10, 26, 0, 0)  # 00:00 GMT
    assert week_containing(utc(2026, 10, 18, 23, 30), LONDON) == week
    assert week_containing(utc(2026, 10, 18, 23, 30), "UTC") == Week(week.index - 1)
    assert week_containing(utc(2026, 10, 25, 23, 59, 59), LONDON) == week
    assert week_containing(utc(2026, 10, 26, 0, 0), LONDON) == week.next()


def test_far_zones_disagree_with_london_about_the_same_instant() -> None:
    nov23 = week_of_date(date(2026, 11, 23))
    # Monday 30 Nov 00:30 in Auckland (UTC+13) is Sunday 29 Nov 11:30 in London.
    instant = local(AUCKLAND, 2026, 11, 30, 0, 30)
    assert instant.astimezone(UTC) == utc(2026, 11, 29, 11, 30)
    assert week_containing(instant, AUCKLAND) == nov23.next()
    assert week_containing(instant, LONDON) == nov23
    assert nov23.ends_at(AUCKLAND).astimezone(UTC) == utc(2026, 11, 29, 11, 0)
    # Sunday 29 Nov 23:30 in Los Angeles (UTC-8) is already Monday in London.
    instant = local(LOS_ANGELES, 2026, 11, 29, 23, 30)
    assert instant.astimezone(UTC) == utc(2026, 11, 30, 7, 30)
    assert week_containing(instant, LOS_ANGELES) == nov23
    assert week_containing(instant, LONDON) == nov23.next()
    assert nov23.ends_at(LOS_ANGELES).astimezone(UTC) == utc(2026, 11, 30, 8, 0)


def test_auckland_autumn_week_is_an_hour_long() -> None:
    week = week_of_date(date(2026, 3, 30))
    assert week.starts_at(AUCKLAND).astimezone(UTC) == utc(2026, 3, 29, 11, 0)  # NZDT
    assert week.ends_at(AUCKLAND).astimezone(UTC) == utc(2026, 4, 5, 12, 0)  # NZST
    span = week.ends_at(AUCKLAND).astimezone(UTC) - week.starts_at(AUCKLAND).astimezone(UTC)
    assert span == timedelta(days=7, hours=1)


@pytest.mark.slow
@pytest.mark.parametrize("tz", [LONDON, AUCKLAND, LOS_ANGELES, "UTC"])
def test_every_hour_of_a_year_lies_in_its_week(tz: str) -> None:
    zone = ZoneInfo(tz)
    instant = utc(2026, 1, 1, 0, 17)
    seen: set[int] = set()
    while instant < utc(2027, 1, 3):
        week = week_containing(instant, tz)
        seen.add(week.index)
        start, end = week.starts_at(tz), week.ends_at(tz)
        assert start <= instant < end
        assert end.astimezone(zone).weekday() == 0
        assert end.astimezone(zone).time() == time(0)
        assert Week(week.index + 1).starts_at(tz) == end
        instant += timedelta(hours=1)
    assert len(seen) == max(seen) - min(seen) + 1  # no week skipped
