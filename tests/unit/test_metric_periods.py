"""The reader performance periods against a hand-computed table: weeks from Monday, month
ends, leap years, DST changes and the reader's own timezone deciding what "today" is."""

from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.services.metrics.periods import local_date, months_back, ranges

ORDER = ("this_week", "last_week", "this_month", "last_month", "last_3_months", "last_6_months", "total")

# (instant, timezone, {period: (first, last)}), each computed by hand.
TABLE = [
    # Europe/Paris springs forward at 01:00Z on Sunday 29 March 2026: 22:30Z is 00:30 CEST on
    # Monday 30 March, a new week, while in UTC it is still Sunday.
    ("2026-03-29T22:30:00Z", "Europe/Paris", {
        "this_week": ("2026-03-30", "2026-03-30"), "last_week": ("2026-03-23", "2026-03-29"),
        "this_month": ("2026-03-01", "2026-03-30"), "last_month": ("2026-02-01", "2026-02-28"),
        "last_3_months": ("2025-12-31", "2026-03-30"), "last_6_months": ("2025-10-01", "2026-03-30"),
        "total": (None, "2026-03-30")}),
    ("2026-03-29T22:30:00Z", "UTC", {
        "this_week": ("2026-03-23", "2026-03-29"), "last_week": ("2026-03-16", "2026-03-22"),
        "this_month": ("2026-03-01", "2026-03-29"), "last_month": ("2026-02-01", "2026-02-28"),
        "last_3_months": ("2025-12-30", "2026-03-29"), "last_6_months": ("2025-09-30", "2026-03-29"),
        "total": (None, "2026-03-29")}),
    # New York falls back at 06:00Z on Sunday 1 November 2026; 04:30Z is 00:30 EDT on the 1st,
    # 03:30Z still Saturday 31 October (EDT, UTC-4): the month flips between the two.
    ("2026-11-01T04:30:00Z", "America/New_York", {
        "this_week": ("2026-10-26", "2026-11-01"), "last_week": ("2026-10-19", "2026-10-25"),
        "this_month": ("2026-11-01", "2026-11-01"), "last_month": ("2026-10-01", "2026-10-31"),
        "last_3_months": ("2026-08-02", "2026-11-01"), "last_6_months": ("2026-05-02", "2026-11-01"),
        "total": (None, "2026-11-01")}),
    ("2026-11-01T03:30:00Z", "America/New_York", {
        "this_week": ("2026-10-26", "2026-10-31"), "last_week": ("2026-10-19", "2026-10-25"),
        "this_month": ("2026-10-01", "2026-10-31"), "last_month": ("2026-09-01", "2026-09-30"),
        "last_3_months": ("2026-08-01", "2026-10-31"), "last_6_months": ("2026-05-01", "2026-10-31"),
        "total": (None, "2026-10-31")}),
    # Auckland (NZST, UTC+12 after April): 13:00Z on 30 May is Sunday 31 May; 31 May less 3
    # months clamps to 28 February, less 6 to 30 November.
    ("2026-05-30T13:00:00Z", "Pacific/Auckland", {
        "this_week": ("2026-05-25", "2026-05-31"), "last_week": ("2026-05-18", "2026-05-24"),
        "this_month": ("2026-05-01", "2026-05-31"), "last_month": ("2026-04-01", "2026-04-30"),
        "last_3_months": ("2026-03-01", "2026-05-31"), "last_6_months": ("2025-12-01", "2026-05-31"),
        "total": (None, "2026-05-31")}),
    # Kolkata (UTC+5:30): 20:00Z on 31 August 2028 is Friday 1 September; a leap year.
    ("2028-08-31T20:00:00Z", "Asia/Kolkata", {
        "this_week": ("2028-08-28", "2028-09-01"), "last_week": ("2028-08-21", "2028-08-27"),
        "this_month": ("2028-09-01", "2028-09-01"), "last_month": ("2028-08-01", "2028-08-31"),
        "last_3_months": ("2028-06-02", "2028-09-01"), "last_6_months": ("2028-03-02", "2028-09-01"),
        "total": (None, "2028-09-01")}),
    # A week across the new year; an unknown timezone counts as UTC.
    ("2027-01-01T12:00:00Z", "Not/AZone", {
        "this_week": ("2026-12-28", "2027-01-01"), "last_week": ("2026-12-21", "2026-12-27"),
        "this_month": ("2027-01-01", "2027-01-01"), "last_month": ("2026-12-01", "2026-12-31"),
        "last_3_months": ("2026-10-02", "2027-01-01"), "last_6_months": ("2026-07-02", "2027-01-01"),
        "total": (None, "2027-01-01")}),
]


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize(("instant", "timezone", "expected"), TABLE, ids=[f"{t[0]}-{t[1]}" for t in TABLE])
def test_every_period_matches_the_hand_computed_table(instant, timezone, expected):
    found = ranges(_at(instant), timezone)

    assert tuple(found) == ORDER
    assert {name: (r.first.isoformat() if r.first else None, r.last.isoformat()) for name, r in found.items()} \
        == expected


def test_every_bounded_period_lies_inside_the_last_six_months_so_one_query_answers_the_table():
    for instant, timezone, _ in TABLE:
        found = ranges(_at(instant), timezone)
        widest = found["last_6_months"]
        for name in ORDER[:-1]:
            assert widest.first <= found[name].first and found[name].last <= widest.last, (instant, name)
        assert len(widest.days()) <= 190


@pytest.mark.parametrize(("instant", "timezone", "day"), [
    ("2026-10-24T21:59:00Z", "Europe/Paris", "2026-10-24"),  # 23:59 CEST
    ("2026-10-24T22:30:00Z", "Europe/Paris", "2026-10-25"),  # 00:30 CEST, the night clocks fall back
    ("2026-10-25T22:59:00Z", "Europe/Paris", "2026-10-25"),  # 23:59 CET (UTC+1 now)
    ("2026-10-25T23:00:00Z", "Europe/Paris", "2026-10-26"),
    ("2026-03-08T07:30:00Z", "America/Los_Angeles", "2026-03-07"),  # 23:30 PST before spring forward
    ("2026-03-08T08:30:00Z", "America/Los_Angeles", "2026-03-08"),
])
def test_an_event_falls_on_the_readers_local_date(instant, timezone, day):
    assert local_date(_at(instant), timezone).isoformat() == day


def test_months_back_clamps_to_the_end_of_a_shorter_month():
    assert months_back(_at("2026-05-31T00:00:00Z").date(), 3).isoformat() == "2026-02-28"
    assert months_back(_at("2028-05-31T00:00:00Z").date(), 3).isoformat() == "2028-02-29"
    assert months_back(_at("2026-03-31T00:00:00Z").date(), 1).isoformat() == "2026-02-28"
    assert months_back(_at("2026-01-15T00:00:00Z").date(), 6).isoformat() == "2025-07-15"
