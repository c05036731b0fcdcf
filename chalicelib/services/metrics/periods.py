"""The reader performance periods as ranges of local dates in the reader's timezone.

A period ends today (the reader's local date now) or, for last week and last month, on the
last day before the current week or month; weeks start on Monday. ``last_3_months`` and
``last_6_months`` are rolling: from the day after the same date 3 (6) months ago (clamped
to the month's last day: 31 May - 3 months is 28 February, the range starts 1 March) to
today. ``total`` has no first day (every day since the first event).

Every period except ``total`` lies inside ``last_6_months`` (last month starts at most 2
months back, last week 13 days back), so one Query of the day buckets of that range answers
the whole table (services/metrics/reader.py).
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total")
WIDEST = "last_6_months"  # the range every bounded period lies in
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Range:
    period: str
    first: date | None  # None: since the beginning (total)
    last: date

    def days(self) -> list[date]:
        """Every date of the range (a bounded one), first to last."""
        if self.first is None:
            raise ValueError("the total period has no list of days")
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def holds(self, day: date) -> bool:
        return (self.first is None or self.first <= day) and day <= self.last


def zone(timezone: str | None) -> ZoneInfo:
    """The IANA zone, or UTC for a missing or unknown name (a profile without a timezone)."""
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def local_date(moment: datetime, timezone: str | None) -> date:
    """The date ``moment`` (aware) falls on in ``timezone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(timezone)).date()


def months_back(day: date, months: int) -> date:
    """The same day ``months`` months earlier, clamped to that month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def period_range(period: str, today: date) -> Range:
    """The range of ``period`` for a reader whose local date is ``today``."""
    monday = today - timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if period == "this_week":
        return Range(period, monday, today)
    if period == "last_week":
        return Range(period, monday - timedelta(days=7), monday - timedelta(days=1))
    if period == "this_month":
        return Range(period, first_of_month, today)
    if period == "last_month":
        last = first_of_month - timedelta(days=1)
        return Range(period, last.replace(day=1), last)
    if period == "last_3_months":
        return Range(period, months_back(today, 3) + timedelta(days=1), today)
    if period == "last_6_months":
        return Range(period, months_back(today, 6) + timedelta(days=1), today)
    if period == "total":
        return Range(period, None, today)
    raise ValueError(f"unknown period {period!r}")


def ranges(now: datetime, timezone: str | None) -> dict[str, Range]:
    """Every period's range at ``now`` for a reader in ``timezone``."""
    today = local_date(now, timezone)
    return {period: period_range(period, today) for period in PERIODS}
