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
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_DAYS = 30
MIN_SAMPLE = 10

EXCELLENT, GOOD, NEEDS_IMPROVEMENT, AT_RISK = "excellent", "good", "needs_improvement", "at_risk"
STATUSES = (EXCELLENT, GOOD, NEEDS_IMPROVEMENT, AT_RISK)
LISTED = (AT_RISK, NEEDS_IMPROVEMENT)  # the statuses admins list (GET /admin/readers/at-risk)

RESPONSE_TIME, CANCELLATION, DISPUTE, NO_SHOW = "response_time", "cancellation_rate", "dispute_rate", "no_show_rate"
KINDS = (RESPONSE_TIME, CANCELLATION, DISPUTE, NO_SHOW)

# Above these a warning opens (response time in average minutes, the others as shares 0..1).
WARN: dict[str, float] = {RESPONSE_TIME: 120, CANCELLATION: 0.10, DISPUTE: 0.05, NO_SHOW: 0.05}
# Above these the reader is at risk whatever else.
AT_RISK_ABOVE: dict[str, float] = {RESPONSE_TIME: 360, CANCELLATION: 0.20, DISPUTE: 0.10, NO_SHOW: 0.10}

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
    return (f"You missed {shown(kind, value)} of the readings you accepted over {window}, more than "
            f"{shown(kind, threshold)}. Join your calls on time, and cancel ahead if you cannot make one.")


TITLE = {RESPONSE_TIME: "Slow answers to requests", CANCELLATION: "Too many cancellations",
         DISPUTE: "Too many disputes", NO_SHOW: "Missed readings"}
