"""A reader's quality rules as values: the window, the minimum samples, the thresholds of the
warnings and of the statuses, and the sentences a reader reads (services/metrics/quality.py
applies them; GET /reader/quality and GET /admin/readers/at-risk show them).

Rates are judged over the last ``WINDOW_DAYS`` local days (today included), long enough for
a reader with a few readings a week to reach a sample, short enough that an improvement
shows within a month. A rate with fewer than ``MIN_SAMPLE`` events under it is not judged
(null, no warning): with 10 a single mishap moves a rate by at most 10 points, so one
dispute or no-show opens a warning (over 5 %) but cannot alone make a reader at risk (over
10 %), and one cancellation (10 %) opens nothing; with 5, one dispute would be 20 %, at risk.

A warning opens when a judged value is strictly above its threshold (``WARN``) and resolves
when it is back at or under it, or no longer judged (too few events left in the window).

Punctuality (``LATE_START``) is judged on scheduled live readings only (a phone call or live
video booked for a time): an immediate reading has no time to be late for, a video message
no start. The reader starts the session themselves (POST /readings/{id}/start, from 10
minutes before the time: ``domain.readings.EARLY_START``), so its lateness is theirs. A start
is late when it comes more than ``LATE_AFTER`` (5 minutes) after the scheduled time: with
the session open 10 minutes ahead a reader who is on time has a quarter of an hour to be
ready, and 5 minutes past absorbs a slow connection or a clock a minute off; at 15 minutes
(``NO_SHOW_AFTER``) the client may already give up and report a no-show, so a start between
the two kept the client waiting a good part of the time they may wait. The rate is late
starts over scheduled starts; a scheduled reading never started is a no-show or a
cancellation, judged there. Its thresholds (10 %, at risk over 25 %) are looser than the
no-show rate's: the reading still took place, only later than promised, so one late start in
10 opens nothing and two do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chalicelib.domain.readings import EARLY_START

WINDOW_DAYS = 30
MIN_SAMPLE = 10

EXCELLENT, GOOD, NEEDS_IMPROVEMENT, AT_RISK = "excellent", "good", "needs_improvement", "at_risk"
STATUSES = (EXCELLENT, GOOD, NEEDS_IMPROVEMENT, AT_RISK)
LISTED = (AT_RISK, NEEDS_IMPROVEMENT)  # the statuses admins list (GET /admin/readers/at-risk)

RESPONSE_TIME, CANCELLATION, DISPUTE, NO_SHOW = "response_time", "cancellation_rate", "dispute_rate", "no_show_rate"
LATE_START = "late_start_rate"
KINDS = (RESPONSE_TIME, CANCELLATION, DISPUTE, NO_SHOW, LATE_START)

# Above these a warning opens (response time in average minutes, the others as shares 0..1).
WARN: dict[str, float] = {RESPONSE_TIME: 120, CANCELLATION: 0.10, DISPUTE: 0.05, NO_SHOW: 0.05, LATE_START: 0.10}
# Above these the reader is at risk whatever else.
AT_RISK_ABOVE: dict[str, float] = {RESPONSE_TIME: 360, CANCELLATION: 0.20, DISPUTE: 0.10, NO_SHOW: 0.10,
                                   LATE_START: 0.25}

LATE_AFTER = timedelta(minutes=5)  # a scheduled live reading started later than this after its time is late

COMPLETE_PROFILE = 1.0
INCOMPLETE_PROFILE_BELOW = 0.5  # needs_improvement under half of the profile's parts
INACTIVE_AFTER_DAYS = 30  # no completed reading and not seen for longer: needs_improvement
EXCELLENT_ACTIVE_WITHIN_DAYS = 14
EXCELLENT_MIN_COMPLETED = MIN_SAMPLE  # completed readings in the window for excellent

PROFILE_PARTS = ("picture", "tagline", "bio", "readingOptions", "availability", "attributes")


@dataclass(frozen=True)
class Judged:
    """One rate: its value (None: not judged, fewer than MIN_SAMPLE events) and sample."""

    value: float | None
    sample: int


def rate(part: float, whole: float) -> Judged:
    return Judged(round(part / whole, 4) if whole >= MIN_SAMPLE else None, int(whole))


def average_minutes(seconds: float, responses: float) -> Judged:
    return Judged(round(seconds / 60 / responses, 1) if responses >= MIN_SAMPLE else None, int(responses))


def late(late_seconds: float) -> bool:
    """Whether a scheduled live reading started ``late_seconds`` after its time started late."""
    return late_seconds > LATE_AFTER.total_seconds()


def over(kind: str, judged: Judged, limits: dict[str, float]) -> bool:
    return judged.value is not None and judged.value > limits[kind]


def status(rates: dict[str, Judged], completeness: float, days_inactive: int | None, completed: int) -> str:
    """The status from the window's rates, the profile's completeness and the days since the
    reader was last active (None: never: not judged)."""
    if any(over(kind, judged, AT_RISK_ABOVE) for kind, judged in rates.items()):
        return AT_RISK
    if sum(over(kind, judged, WARN) for kind, judged in rates.items()) >= 2:
        return AT_RISK
    if any(over(kind, judged, WARN) for kind, judged in rates.items()):
        return NEEDS_IMPROVEMENT
    if completeness < INCOMPLETE_PROFILE_BELOW or (days_inactive is not None and days_inactive > INACTIVE_AFTER_DAYS):
        return NEEDS_IMPROVEMENT
    if (completeness >= COMPLETE_PROFILE and completed >= EXCELLENT_MIN_COMPLETED
            and days_inactive is not None and days_inactive <= EXCELLENT_ACTIVE_WITHIN_DAYS):
        return EXCELLENT
    return GOOD


def _percent(value: float) -> str:
    return f"{round(value * 100, 1):g}%"


def shown(kind: str, value: float) -> str:
    return f"{value:g} minutes" if kind == RESPONSE_TIME else _percent(value)


def advice(kind: str, value: float, threshold: float) -> str:
    """The sentence a warned reader reads: what is wrong and what to do."""
    window = f"the last {WINDOW_DAYS} days"
    if kind == RESPONSE_TIME:
        return (f"Over {window} you took {shown(kind, value)} on average to answer a reading request, more than "
                f"the {shown(kind, threshold)} we ask for. Turn on notifications and answer requests sooner, "
                "or go offline when you cannot take readings.")
    if kind == CANCELLATION:
        return (f"You cancelled {shown(kind, value)} of the readings you accepted over {window}, more than "
                f"{shown(kind, threshold)}. Keep your availability up to date and accept only readings you can "
                "give.")
    if kind == DISPUTE:
        return (f"Clients disputed {shown(kind, value)} of your completed readings over {window}, more than "
                f"{shown(kind, threshold)}. Read the disputes' reasons and make sure each reading matches what "
                "its option promises.")
    if kind == LATE_START:
        late_after, early = int(LATE_AFTER.total_seconds() // 60), int(EARLY_START.total_seconds() // 60)
        return (f"Over {window} you started {shown(kind, value)} of your scheduled readings more than {late_after} "
                f"minutes after their booked time; keep it to {shown(kind, threshold)} or less. You can start a "
                f"session up to {early} minutes early: be ready a few minutes ahead so your client never waits.")
    return (f"You missed {shown(kind, value)} of the readings you accepted over {window}, more than "
            f"{shown(kind, threshold)}. Join your calls on time, and cancel ahead if you cannot make one.")


TITLE = {RESPONSE_TIME: "Slow answers to requests", CANCELLATION: "Too many cancellations",
         DISPUTE: "Too many disputes", NO_SHOW: "Missed readings", LATE_START: "Late starts"}
