"""Schedules (``schedule``): each runs when EventBridge would run it, with an EventBridge
scheduled event (its ``time`` the scheduled time).

- ``rate(<n> minute(s)|hour(s)|day(s))``: every period, the first run one period after the start.
- ``cron(minutes hours day-of-month month day-of-week year)``: EventBridge's six fields, in UTC:
  ``*``, ``?`` (day-of-month or day-of-week, one of them), lists (``1,15``), ranges (``MON-FRI``),
  steps (``*/15``, ``5/10``, ``8-18/2``), month names (``JAN``) and day names (``SUN``-``SAT``;
  as numbers ``1``-``7``, 1 being Sunday). The first run is the first time it names after the
  start. EventBridge's ``L``, ``W`` and ``#`` are refused (no schedule of the app uses them),
  so is a day-of-month with a day-of-week (EventBridge requires ``?`` in one of them).

A run that comes late (a busy machine) fires once, and the next run is the next one after it.
The clock is injected (``clock``, seconds since the epoch) so a test can drive a worker's
``tick`` without waiting."""

from __future__ import annotations

import calendar
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tools import local_env
from tools.local.worker import Worker, log, one_line


class Rate:
    _UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

    def __init__(self, value: int, unit: str):
        if value < 1 or unit not in self._UNITS:
            raise ValueError(f"bad rate: {value} {unit}")
        self.seconds: float = value * self._UNITS[unit]

    def first_after(self, now: float) -> float | None:
        return now + self.seconds


_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}  # "Jan": 1 ...
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
YEARS = (1970, 2199)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _Field("minutes", 0, 59, {}),
    _Field("hours", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, {name.upper(): number for name, number in _MONTHS.items()}),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", *YEARS, {}),
)


def _value(text: str, field: _Field) -> int:
    number = field.names.get(text.upper()) if not text.isdigit() else int(text)
    if number is None or not field.low <= number <= field.high:
        raise ValueError(f"{text!r} is not a {field.name} value ({field.low}-{field.high})")
    return number


def _values(text: str, field: _Field) -> frozenset[int] | None:
    """The values a field names; None for ``*`` and ``?`` (any)."""
    if text in ("*", "?"):
        return None
    unsupported = re.search(r"(^|[,/-])(\d*L|\d+W|LW)($|[,/-])", text.upper()) and field.name.startswith("day")
    if "#" in text or unsupported:
        raise ValueError(f"{field.name} {text!r}: EventBridge's L, W and # are not supported by the local runner")
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) < 1):
            raise ValueError(f"{field.name} {part!r}: a step is a positive number")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = field.low, field.high
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _value(start, field), _value(end, field)
            if first > last:
                raise ValueError(f"{field.name} {part!r}: a range goes upwards")
        else:
            first = _value(base, field)
            last = field.high if step_text else first  # "5/10": from 5 every 10
        found.update(range(first, last + 1, step))
    return frozenset(found)


class Cron:
    """An EventBridge cron expression's six fields, matched in UTC."""

    def __init__(self, fields: str):
        parts = fields.split()
        if len(parts) != 6:
            raise ValueError(f"cron({fields}) needs 6 fields: minutes hours day-of-month month day-of-week year")
        if (parts[2] == "?") == (parts[4] == "?"):
            raise ValueError(f"cron({fields}): one of day-of-month and day-of-week must be ?, not both")
        self.minutes, self.hours, self.days, self.months, self.weekdays, self.years = (
            _values(part, field) for part, field in zip(parts, _FIELDS, strict=True)
        )

    @staticmethod
    def _has(values: frozenset[int] | None, value: int) -> bool:
        return values is None or value in values

    def matches(self, moment: datetime) -> bool:
        return self._day(moment) and self._has(self.hours, moment.hour) and self._has(self.minutes, moment.minute)

    def _day(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7 + 1  # Python's Monday 0 -> EventBridge's MON 2, Sunday -> 1
        return (
            self._has(self.years, moment.year)
            and self._has(self.months, moment.month)
            and self._has(self.days, moment.day)
            and self._has(self.weekdays, weekday)
        )

    def first_after(self, now: float) -> float | None:
        """The first time after ``now`` (seconds since the epoch) the expression names, or None
        when it names none before its last year."""
        moment = datetime.fromtimestamp(now, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        last_year = max(self.years) if self.years else YEARS[1]
        while moment.year <= last_year:
            if not self._has(self.years, moment.year):
                moment = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
            elif not self._has(self.months, moment.month):
                moment = (moment.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
            elif not self._day(moment):
                moment = moment.replace(hour=0, minute=0) + timedelta(days=1)
            elif not self._has(self.hours, moment.hour):
                moment = moment.replace(minute=0) + timedelta(hours=1)
            elif not self._has(self.minutes, moment.minute):
                moment += timedelta(minutes=1)
            else:
                return moment.timestamp()
        return None


Schedule = Rate | Cron


def parse_schedule(expression: str) -> Schedule:
    match = re.fullmatch(r"\s*rate\(\s*(\d+)\s+([a-z]+)\s*\)\s*", expression)
    if match:
        return Rate(int(match.group(1)), match.group(2))
    match = re.fullmatch(r"\s*cron\(([^()]*)\)\s*", expression)
    if match:
        return Cron(match.group(1))
    raise ValueError(f"unsupported schedule expression {expression!r} (rate(...) or cron(...))")


class ScheduleWorker(Worker):
    kind = "schedule"

    def __init__(self, name: str, expression: str, *, clock: Callable[[], float] = time.time, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.expression = expression
        self.schedule = parse_schedule(expression)
        self.clock = clock
        self.next_run: float | None = None

    def begin(self) -> float | None:
        """Start counting from now (the clock): the first run's time."""
        self.next_run = self.schedule.first_after(self.clock())
        return self.next_run

    def run(self) -> None:
        self.begin()
        if self.next_run is None:
            log(f"[schedule] {self.job} never runs after now ({self.expression})")
            return
        while self.next_run is not None and not self.stop_event.wait(max(0.0, min(self.next_run - self.clock(), 1.0))):
            self.tick()

    def tick(self) -> bool:
        """Fire the job if its time has come by the clock; True when it fired. The next run is
        the schedule's first time after the later of this run's time and now."""
        now = self.clock()
        if self.next_run is None or now < self.next_run:
            return False
        fired = self.next_run
        try:
            self.fire(fired)
            log(f"[schedule] {self.job} ran ({self.expression})")
        except Exception as exc:  # noqa: BLE001 - a failing job must not stop the runner
            log(f"[schedule] {self.job} failed: {one_line(exc)}")
        self.next_run = self.schedule.first_after(max(fired, self.clock()))
        return True

    def fire(self, at: float | None = None) -> Any:
        """One run of the job now (as the schedule fires it at ``at``); returns what it returned."""
        return self.invoke(self._event(self.clock() if at is None else at), self.context())

    def _event(self, fired: float) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": local_env.ACCOUNT_ID,
            "time": datetime.fromtimestamp(fired, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{local_env.ACCOUNT_ID}:rule/{self.job}"],
            "detail": {},
        }
