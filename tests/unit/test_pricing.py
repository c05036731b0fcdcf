"""Prices and the reader's schedule: exact ceilings, and availability in the reader's own
timezone across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from chalicelib.services import pricing

WEEKDAYS_9_TO_6 = {"timezone": "Europe/Lisbon", "schedule": {
    day: [{"start": "09:00", "end": "18:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _fits(availability, start: str, minutes: int) -> bool:
    begin = _at(start)
    return pricing.within_availability(availability, begin, begin + timedelta(minutes=minutes))


# --- price ------------------------------------------------------------------------------

@pytest.mark.parametrize(("price", "duration", "minutes", "multiplier", "total", "rate"), [
    (45, 30, 30, "0.95", 43, "1.5"),    # 1.5/min x 30 x 0.95 = 42.75 -> 43
    (45, 30, 45, "0.92", 63, "1.5"),    # 1.5/min x 45 x 0.92 = 62.1  -> 63
    (45, 30, 45, 0.92, 63, "1.5"),      # a float multiplier is read as its decimal text
    (60, 30, 30, "0.95", 57, "2"),      # exact: 57, no rounding up
    (50, 30, 45, "0.92", 69, "1.6667"),  # 5/3 x 45 x 0.92 = 69 exactly
    (7, 3, 10, "0.9", 21, "2.3333"),    # 7/3 x 10 x 0.9 = 21 exactly; in floats 21.000000000000004 -> 22
    (40, 15, 15, "1.0", 40, "2.6667"),
])
def test_price_is_the_exact_ceiling(price, duration, minutes, multiplier, total, rate):
    result = pricing.price({"price": price, "duration": duration}, minutes, multiplier)
    assert result.total == total
    assert (result.breakdown()["rate"], result.breakdown()["minutes"]) == (rate, minutes)
    assert result.multiplier == Fraction(str(multiplier))


def test_the_breakdown_shows_short_decimals():
    assert pricing.price({"price": 45, "duration": 30}, 45, "0.92").breakdown() == {
        "rate": "1.5", "minutes": 45, "multiplier": "0.92", "total": 63}
    assert pricing.price({"price": 40, "duration": 15}, 60, "0.90").breakdown() == {
        "rate": "2.6667", "minutes": 60, "multiplier": "0.9", "total": 144}  # 8/3 x 60 x 0.9


def test_a_tiny_price_still_costs_one_credit():
    # 1 credit per hour for 10 minutes at 0.9 = 0.15 credits -> 1
    assert pricing.price({"price": 1, "duration": 60}, 10, "0.9").total == 1


# --- availability -----------------------------------------------------------------------

def test_lisbon_spring_forward_moves_the_window_an_hour_earlier_in_utc():
    # Last Sunday of March 2026 is the 29th: Lisbon goes from UTC+0 to UTC+1.
    assert _fits(WEEKDAYS_9_TO_6, "2026-03-27T09:00", 30)       # Friday, 09:00 WET
    assert not _fits(WEEKDAYS_9_TO_6, "2026-03-27T08:30", 30)   # Friday, 08:30 WET
    assert _fits(WEEKDAYS_9_TO_6, "2026-03-30T08:00", 30)       # Monday, 09:00 WEST
    assert not _fits(WEEKDAYS_9_TO_6, "2026-03-30T17:00", 30)   # Monday, 18:00-18:30 WEST
    assert _fits(WEEKDAYS_9_TO_6, "2026-03-30T16:30", 30)       # Monday, 17:30-18:00 WEST: ends at the end


def test_lisbon_fall_back_moves_the_window_an_hour_later_in_utc():
    # Last Sunday of October 2026 is the 25th: Lisbon goes from UTC+1 back to UTC+0.
    assert _fits(WEEKDAYS_9_TO_6, "2026-10-23T08:00", 60)       # Friday, 09:00-10:00 WEST
    assert not _fits(WEEKDAYS_9_TO_6, "2026-10-26T08:00", 60)   # Monday, 08:00 WET
    assert _fits(WEEKDAYS_9_TO_6, "2026-10-26T17:00", 60)       # Monday, 17:00-18:00 WET
    assert not _fits(WEEKDAYS_9_TO_6, "2026-10-23T17:00", 60)   # Friday, 18:00 WEST


def test_on_the_night_of_the_change_the_reader_s_wall_clock_decides():
    spring = {"timezone": "Europe/Lisbon", "schedule": {"sun": [{"start": "01:00", "end": "03:00"}]}}
    # 01:00-02:00 local does not exist on 29 March: the window is 02:00-03:00 WEST = 01:00-02:00 UTC.
    assert _fits(spring, "2026-03-29T01:00", 60)
    assert not _fits(spring, "2026-03-29T00:30", 30)  # 00:30-01:00 WET... then 02:00: starts before the window
    assert not _fits(spring, "2026-03-29T01:00", 65)  # ends 03:05 WEST
    autumn = {"timezone": "Europe/Lisbon", "schedule": {"sun": [{"start": "01:00", "end": "02:00"}]}}
    # 01:00-02:00 happens twice on 25 October: the window is 00:00-02:00 UTC, two real hours.
    assert _fits(autumn, "2026-10-25T00:00", 120)
    assert _fits(autumn, "2026-10-25T00:15", 90)
    assert not _fits(autumn, "2026-10-24T23:55", 30)  # starts 00:55 WEST
    assert not _fits(autumn, "2026-10-25T01:30", 35)  # ends 02:05 WET


def test_new_york_uses_its_own_dst_dates_and_its_own_weekday():
    week = {"timezone": "America/New_York", "schedule": {
        "mon": [{"start": "09:00", "end": "17:00"}], "fri": [{"start": "18:00", "end": "22:00"}]}}
    # DST starts on Sunday 8 March 2026 in New York (three weeks before Lisbon).
    assert not _fits(week, "2026-03-02T13:00", 30)  # Monday 08:00 EST
    assert _fits(week, "2026-03-02T14:00", 30)      # Monday 09:00 EST
    assert _fits(week, "2026-03-09T13:00", 30)      # Monday 09:00 EDT
    assert not _fits(week, "2026-03-09T20:45", 30)  # Monday 16:45-17:15 EDT
    # Saturday in UTC, still Friday evening in New York.
    assert _fits(week, "2026-03-07T01:00", 60)      # Friday 20:00 EST
    assert not _fits(week, "2026-03-07T03:00", 30)  # Friday 22:00 EST
    # DST ends on Sunday 1 November 2026.
    assert _fits(week, "2026-10-26T13:00", 30)      # Monday 09:00 EDT
    assert not _fits(week, "2026-11-02T13:00", 30)  # Monday 08:00 EST


def test_a_reading_must_fit_inside_one_window():
    split = {"timezone": "UTC", "schedule": {"mon": [{"start": "09:00", "end": "12:00"},
                                                     {"start": "14:00", "end": "18:00"}]}}
    monday = "2026-11-30"
    assert _fits(split, f"{monday}T09:00", 180)     # exactly the first window
    assert _fits(split, f"{monday}T14:00", 60)
    assert not _fits(split, f"{monday}T11:30", 60)  # runs into the lunch gap
    assert not _fits(split, f"{monday}T12:00", 120)  # the whole gap
    assert not _fits(split, f"{monday}T08:55", 10)
    assert not _fits(split, "2026-12-01T10:00", 30)  # Tuesday: no windows


def test_a_reading_past_local_midnight_fits_no_window():
    late = {"timezone": "Europe/Lisbon", "schedule": {"mon": [{"start": "20:00", "end": "24:00"}],
                                                      "tue": [{"start": "00:00", "end": "06:00"}]}}
    assert _fits(late, "2026-11-30T23:00", 60)       # Monday 23:00-24:00: ends at midnight, fits
    assert not _fits(late, "2026-11-30T23:30", 60)   # Monday 23:30 - Tuesday 00:30: two windows, no
    assert _fits(late, "2026-12-01T00:00", 60)       # Tuesday 00:00-01:00


@pytest.mark.parametrize("availability", [
    None, {}, {"schedule": WEEKDAYS_9_TO_6["schedule"]}, {**WEEKDAYS_9_TO_6, "timezone": "Mars/Olympus_Mons"},
    {**WEEKDAYS_9_TO_6, "timezone": "../etc/passwd"}, {"timezone": "Europe/Lisbon"},
])
def test_no_usable_schedule_means_not_available(availability):
    assert not _fits(availability, "2026-11-30T10:00", 30)


# --- slots ------------------------------------------------------------------------------

def test_slot_starts_are_the_five_minute_slots_a_reading_touches():
    start = _at("2026-11-30T10:00")
    assert pricing.slot_starts(start, start + timedelta(minutes=30)) == [
        start + timedelta(minutes=5 * i) for i in range(6)]
    assert pricing.slot_starts(start, start + timedelta(minutes=7)) == [start, start + timedelta(minutes=5)]
    assert pricing.slot_starts(start, start) == []


def test_adjacent_readings_share_no_slot_and_overlapping_ones_do():
    ten = _at("2026-11-30T10:00")
    first = set(pricing.slot_starts(ten, ten + timedelta(minutes=30)))
    adjacent = set(pricing.slot_starts(ten + timedelta(minutes=30), ten + timedelta(minutes=60)))
    overlapping = set(pricing.slot_starts(ten + timedelta(minutes=25), ten + timedelta(minutes=55)))
    assert not first & adjacent
    assert first & overlapping == {ten + timedelta(minutes=25)}


def test_slot_boundaries_and_timezones():
    assert pricing.on_slot_boundary(_at("2026-11-30T10:05"))
    assert not pricing.on_slot_boundary(_at("2026-11-30T10:02"))
    assert not pricing.on_slot_boundary(_at("2026-11-30T10:05:30"))
    assert not pricing.on_slot_boundary(_at("2026-11-30T10:05:00.000001"))
    lisbon_summer = datetime.fromisoformat("2026-07-01T10:00:00+01:00")
    assert pricing.utc(lisbon_summer) == _at("2026-07-01T09:00")
    with pytest.raises(ValueError):
        pricing.utc(datetime(2026, 7, 1, 10, 0))  # naive: no timezone


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_past_the_calendar_in_utc_is_a_value_error_not_an_overflow(text):
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        pricing.utc(datetime.fromisoformat(text))
