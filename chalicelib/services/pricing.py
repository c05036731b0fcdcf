"""Prices and schedules of readings: pure functions, no storage.

Pricing (DESIGN.md): a reader's option sets its rate (price / duration, credits per
minute); the chosen time span's multiplier applies to the minutes booked;
``cost = ceil(rate x minutes x multiplier)``, computed exactly (fractions, no floats).

Availability: the reader's weekly schedule is in their own IANA timezone; a scheduled
reading must fit inside one of that local day's windows, with DST applied by zoneinfo for
the date in question. Bookings occupy whole 5-minute slots (``slot_starts``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.readers import WEEKDAYS

SLOT_MINUTES = 5


@dataclass(frozen=True)
class Price:
    rate: Fraction  # credits per minute
    minutes: int
    multiplier: Fraction
    total: int
    listed_total: int | None = None  # set when a reader offered ``total`` below the listed price

    def breakdown(self) -> dict[str, Any]:
        shown = {"rate": _decimal_text(self.rate), "minutes": self.minutes,
                 "multiplier": _decimal_text(self.multiplier), "total": self.total}
        if self.listed_total is not None and self.listed_total != self.total:
            shown["listedTotal"] = self.listed_total
        return shown

    def offered_at(self, total: int) -> Price:
        """This price at a reader's offered ``total`` (at most the listed one)."""
        if not 1 <= total <= self.total:
            raise ValueError(f"an offer of {total} is not within 1..{self.total}")
        return replace(self, total=total, listed_total=self.total)


def _decimal_text(value: Fraction) -> str:
    """A short exact-enough decimal for display (4 places, trailing zeros dropped)."""
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):.4f}".rstrip("0").rstrip(".")
    return text or "0"


def price(option: dict[str, Any], minutes: int, multiplier: str | float | int) -> Price:
    rate = Fraction(int(option["price"]), int(option["duration"]))
    factor = Fraction(Decimal(str(multiplier)))
    total = math.ceil(rate * minutes * factor)
    return Price(rate=rate, minutes=minutes, multiplier=factor, total=max(total, 1))


def listed_prices(option: dict[str, Any], spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the quote charges for ``option`` at each duration a client can choose (the active
    catalog time spans, shortest first): ``price`` itself per span, so a listed total is
    the quoted one. Camel-case keys, as the reader views show them."""
    listed = []
    for span in spans:
        minutes = int(span["duration"])
        multiplier = span.get("multiplier", "1")  # as prepare() reads it
        quoted = price(option, minutes, multiplier)
        listed.append({"timeSpanId": span["id"], "duration": minutes, "label": span.get("label"),
                       "multiplier": float(quoted.multiplier), "total": quoted.total})
    return listed


def headline(option: dict[str, Any], listed: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one listed price a card shows for ``option``: at its own duration when a client
    can choose it, else the shortest duration on offer; None when none is on offer."""
    own = [entry for entry in listed if entry["duration"] == int(option["duration"])]
    choices = own or listed
    return choices[0] if choices else None


def slot_starts(start: datetime, end: datetime) -> list[datetime]:
    """The 5-minute slots [start, end) touches (start is on a slot boundary)."""
    slots = []
    moment = start
    while moment < end:
        slots.append(moment)
        moment += timedelta(minutes=SLOT_MINUTES)
    return slots


def on_slot_boundary(moment: datetime) -> bool:
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % SLOT_MINUTES == 0


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def within_availability(availability: dict[str, Any] | None, start: datetime, end: datetime) -> bool:
    """True when [start, end) lies inside one window of the reader's local schedule."""
    if not availability or not availability.get("timezone"):
        return False
    try:
        zone = ZoneInfo(str(availability["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = WEEKDAYS[local_start.weekday()]
    # Wall-clock minutes of the local day (so a DST change inside the reading counts as the
    # reader's clock shows it); a reading past local midnight fits no window.
    begin = local_start.hour * 60 + local_start.minute
    finish = (local_end.date() - local_start.date()).days * 1440 + local_end.hour * 60 + local_end.minute
    for window in (availability.get("schedule") or {}).get(day) or []:
        if _minutes(window["start"]) <= begin and finish <= _minutes(window["end"]):
            return True
    return False


def utc(moment: datetime) -> datetime:
    """The moment in UTC. ValueError without a timezone, or when the offset takes it past
    the calendar (0001-01-01T00:00:00+14:00 is in year 0 in UTC)."""
    if moment.tzinfo is None:
        raise ValueError("times must carry a timezone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the years 1 to 9999 in UTC") from None
