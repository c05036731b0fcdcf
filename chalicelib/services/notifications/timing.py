"""When a held notification may go: quiet hours and digest times, in the user's timezone.

Pure functions over aware datetimes (UTC in, UTC out). Wall-clock times are resolved with
zoneinfo, so "07:00" is 07:00 local on both sides of a DST change; a wall time that does
not exist that day (inside the spring-forward gap) resolves to the moment the clocks jump
past it, and one that happens twice (the fall-back hour) to its first occurrence still ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DIGEST_LOCAL_TIME = time(8, 0)  # daily and weekly digests go at 08:00 in the user's timezone
WEEKLY_DIGEST_WEEKDAY = 0  # ... weekly ones on Mondays
DIGEST_FREQUENCIES = ("hourly", "daily", "weekly")


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    @classmethod
    def parse(cls, start: str, end: str, timezone: str) -> QuietHours:
        return cls(parse_hhmm(start), parse_hhmm(end), timezone)


def parse_hhmm(value: str) -> time:
    """``HH:mm`` (24-hour) to a time; ValueError otherwise."""
    if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        raise ValueError("Must be a time as HH:mm, for example 22:00.")
    hours, minutes = int(value[:2]), int(value[3:])
    if hours > 23 or minutes > 59:
        raise ValueError("Must be a time as HH:mm, for example 22:00.")
    return time(hours, minutes)


def is_quiet(quiet: QuietHours | None, now: datetime) -> bool:
    """Whether ``now`` falls in the quiet hours (start inclusive, end exclusive); a window
    whose end is before its start runs across midnight."""
    if quiet is None or quiet.start == quiet.end:
        return False
    local = now.astimezone(ZoneInfo(quiet.timezone)).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def next_wall_time(at: time, now: datetime, timezone: str, *, days: tuple[int, ...] = (0, 1, 2)) -> datetime:
    """The first instant after ``now`` (UTC) whose local wall time in ``timezone`` is ``at``."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    for offset in days:
        for moment in _instants(datetime.combine(today + timedelta(days=offset), at), zone):
            if moment > now:
                return moment
    raise AssertionError("a wall time recurs within three days")


def _instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants a naive local wall time names: one, two (repeated hour) or, in a
    gap, the instant the clocks jump past it."""
    found = []
    for fold in (0, 1):
        moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if moment.astimezone(zone).replace(tzinfo=None) == wall and moment not in found:
            found.append(moment)
    if found:
        return sorted(found)
    # In the gap: fold=1 gives the instant before the jump; walk to the first minute at or past it.
    moment = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while moment.astimezone(zone).replace(tzinfo=None) < wall:
        moment += timedelta(minutes=1)
    return [moment]


def quiet_ends(quiet: QuietHours, now: datetime) -> datetime:
    """When the quiet hours ``now`` is in end (UTC)."""
    return next_wall_time(quiet.end, now, quiet.timezone)


def digest_release(frequency: str, now: datetime, timezone: str) -> datetime:
    """When the digest period ``now`` falls in is sent: the next full hour (hourly), the next
    08:00 local (daily), the next Monday 08:00 local (weekly)."""
    if frequency == "hourly":
        return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if frequency == "daily":
        return next_wall_time(DIGEST_LOCAL_TIME, now, timezone)
    if frequency == "weekly":
        local_day = now.astimezone(ZoneInfo(timezone)).date()
        ahead = (WEEKLY_DIGEST_WEEKDAY - local_day.weekday()) % 7
        candidates = (ahead, ahead + 7)
        return next_wall_time(DIGEST_LOCAL_TIME, now, timezone, days=candidates)
    raise ValueError(f"not a digest frequency: {frequency!r}")


def release_time(now: datetime, *, digest: str | None, quiet: QuietHours | None, timezone: str) -> datetime | None:
    """When push/email decided at ``now`` may go: None for at once; else the digest time or
    the end of the quiet hours, and a digest that falls in quiet hours waits for their end."""
    release = digest_release(digest, now, timezone) if digest else now
    if is_quiet(quiet, release):
        assert quiet is not None
        return quiet_ends(quiet, release)
    return None if digest is None else release
