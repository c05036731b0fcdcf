"""Weekly availability on one UTC clock, for the explore filters ``now``, ``today`` and
``this_week``.

Each reader's schedule (weekday -> [{start, end}] in their local time, ``end`` up to
``24:00``) becomes intervals in minutes since Monday 00:00 UTC, at the UTC offset their
timezone has at the snapshot's build time. Daylight-saving approximation: a change of
offset after the build shifts the reader's slots by the change until the next build; the
snapshot is rebuilt hourly, so slots are off for at most an hour after a change. A reader
without a known timezone has no slots.

Per hour of the week the index keeps the readers whose slots cover the whole hour
(``full``) and those whose slots touch it at all (``touch``), as bitsets, plus the few
intervals that start or end inside the hour, so a query for a window reads at most one
bitset per hour and checks only the partial intervals at the window's two ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.services.explore import bits

DAY = 1440
WEEK = 7 * DAY
HOURS = WEEK // 60
DAY_INDEX = {name: index for index, names in enumerate(
    (("mon", "monday"), ("tue", "tuesday"), ("wed", "wednesday"), ("thu", "thursday"), ("fri", "friday"),
     ("sat", "saturday"), ("sun", "sunday"))) for name in names}

_offsets: dict[tuple[str, int], int | None] = {}


def utc_offset(timezone: Any, at: datetime) -> int | None:
    """Minutes to add to UTC for the local time of ``timezone`` at ``at``; None when unknown."""
    if not isinstance(timezone, str) or not timezone:
        return None
    key = (timezone, int(at.timestamp()) // 3600)
    if key not in _offsets:
        if len(_offsets) > 10_000:
            _offsets.clear()
        try:
            delta = at.astimezone(ZoneInfo(timezone)).utcoffset()
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            delta = None
        _offsets[key] = None if delta is None else int(delta.total_seconds() // 60)
    return _offsets[key]


def minute_of_week(moment: datetime) -> int:
    """Minutes since Monday 00:00 UTC."""
    utc = moment.astimezone(ZoneInfo("UTC"))
    return utc.weekday() * DAY + utc.hour * 60 + utc.minute


def _clock(text: Any) -> int | None:
    try:
        hours, minutes = str(text).split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        return None
    return value if 0 <= value <= DAY and 0 <= int(minutes) < 60 else None


def week_intervals(availability: Any, offset: int) -> list[tuple[int, int]]:
    """The schedule as merged [start, end) intervals within [0, WEEK), UTC minutes of the week."""
    schedule = availability.get("schedule") if isinstance(availability, dict) else None
    pieces: list[tuple[int, int]] = []
    for day, slots in (schedule or {}).items() if isinstance(schedule, dict) else ():
        weekday = DAY_INDEX.get(str(day).lower())
        if weekday is None or not isinstance(slots, list):
            continue
        for slot in slots:
            if not isinstance(slot, dict):
                continue
            start, end = _clock(slot.get("start")), _clock(slot.get("end"))
            if start is None or end is None or start >= end:
                continue
            begin = (weekday * DAY + start - offset) % WEEK
            finish = begin + end - start
            pieces += [(begin, finish)] if finish <= WEEK else [(begin, WEEK), (0, finish - WEEK)]
    merged: list[tuple[int, int]] = []
    for begin, finish in sorted(pieces):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


class WeekIndex:
    def __init__(self, readers: Iterable[tuple[int, int, list[tuple[int, int]]]], size: int) -> None:
        """``readers``: (reader index, UTC offset, intervals from ``week_intervals``)."""
        starts: list[list[int]] = [[] for _ in range(HOURS + 1)]
        ends: list[list[int]] = [[] for _ in range(HOURS + 1)]
        touched: list[list[int]] = [[] for _ in range(HOURS)]
        self.partial: list[list[tuple[int, int, int]]] = [[] for _ in range(HOURS)]
        groups: dict[int, list[int]] = {}
        scheduled: list[int] = []
        for reader, offset, intervals in readers:
            groups.setdefault(offset, []).append(reader)
            if intervals:
                scheduled.append(reader)
            for begin, finish in intervals:
                first_full, after_full = -(-begin // 60), finish // 60
                if first_full < after_full:
                    starts[first_full].append(reader)
                    ends[after_full].append(reader)
                for hour in range(begin // 60, (finish - 1) // 60 + 1):
                    if not first_full <= hour < after_full:
                        self.partial[hour].append((reader, begin, finish))
                        touched[hour].append(reader)
        # Merged intervals of one reader never share an hour boundary, so a sweep is exact.
        self.full: list[int] = []
        current = 0
        for hour in range(HOURS):
            current = (current & ~bits.from_indexes(ends[hour], size)) | bits.from_indexes(starts[hour], size)
            self.full.append(current)
        self.touch = [full | bits.from_indexes(extra, size) for full, extra in zip(self.full, touched, strict=True)]
        self.groups = {offset: bits.from_indexes(members, size) for offset, members in groups.items()}
        self.scheduled = bits.from_indexes(scheduled, size)
        self.size = size

    def overlapping(self, begin: int, finish: int) -> int:
        """Readers with a slot overlapping [begin, finish), minutes of the week (may wrap)."""
        length = finish - begin
        if length <= 0:
            return 0
        if length >= WEEK:
            return self.scheduled
        begin %= WEEK
        finish = begin + length
        if finish > WEEK:
            return self.overlapping(begin, WEEK) | self.overlapping(0, finish - WEEK)
        found = 0
        for hour in range(begin // 60, (finish - 1) // 60 + 1):
            if begin <= hour * 60 and hour * 60 + 60 <= finish:
                found |= self.touch[hour]
            else:
                found |= self.full[hour] | bits.from_indexes(
                    (reader for reader, start, end in self.partial[hour] if start < finish and end > begin), self.size)
        return found

    def today(self, now_minute: int) -> int:
        """Readers with a slot between now and the end of their local day."""
        found = 0
        for offset, members in self.groups.items():
            local = now_minute + offset
            midnight = (local // DAY + 1) * DAY - offset
            found |= self.overlapping(now_minute, midnight) & members
        return found
