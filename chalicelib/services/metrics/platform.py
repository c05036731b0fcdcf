"""Platform metrics, kept incrementally from the domain events (a run costs what its new
events cost, never history), and the admin's report over them (``GET /admin/metrics``).

Buckets: ``platform#<shard>`` / ``day#<YYYY-MM-DD>`` (the UTC date of the event's
``occurredAt``), shard = sha256(event id) mod 4 so that a busy day's writes spread over four
items; ``store.apply`` adds an event's counters once, whatever the redeliveries. Counters:

  signups              users created (``user.signed_up``: first API call or Clerk's webhook)
  active               distinct users who did something that day (below)
  activeWeek           of those, the users not yet active earlier that ISO week (Monday-based)
  activeMonth          of those, the users not yet active earlier that month
  buyers, buyersWeek, buyersMonth   the same for users who paid (a purchase or a renewal)
  requested            readings requested
  completed            readings completed with the reader paid
  fees                 platform fees of those readings, in credits
  purchases            payments: credit packages and subscription invoices
  creditsPurchased     credits they granted
  money:<currency>     what they paid, in the currency's minor unit (cents)
  refunds, refundedCredits          readings refunded (cancelled after acceptance, the
                       reader's no-show, a dispute resolved with a refund) and their credits
  disputes             disputes filed
  reversedCredits      purchased credits taken back (a Stripe refund or chargeback)

Distinct users, exactly and cheaply: the first event of a user on a day puts a marker
``platform#active`` / ``day#<date>#<userId>`` (TTL 40 days) with ``attribute_not_exists``
in the same transaction as the event's counters, and adds ``active`` only then
(``store.Once``). Markers ``week#<monday>#<userId>`` and ``month#<YYYY-MM>#<userId>`` do the
same for ``activeWeek``/``activeMonth``, added to the bucket of the day the user was first
seen in that week or month, so the sum of ``activeWeek`` over a week's seven days is that
week's distinct active users (and likewise a month's). Buyers use ``platform#buyer``.
"""

from __future__ import annotations

import calendar
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from chalicelib.models.base import utcnow
from chalicelib.services import events
from chalicelib.services.metrics import store
from chalicelib.services.users import SIGNED_UP

SHARDS = 4
ACTIVE = "platform#active"
BUYER = "platform#buyer"
MARKER_DAYS = 40  # markers outlive their period by this long (then DynamoDB's TTL deletes them)
CONSUMER = "platform"

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
# The counter holding a period's distinct users, summed over the period's days.
DISTINCT = {"day": "", "week": "Week", "month": "Month"}

COMPLETING = ("reading.completed", "reading.delivered", "reading.no_show")
REFUNDING = ("reading.cancelled", "reading.no_show", "dispute.resolved")
PAYMENTS = ("credits.purchased", "subscription.credits_granted")
# Events whose actor (``by``, or the party named) did something: they count as activity.
ACTING = ("reading.accepted", "reading.declined", "reading.started", "review.created", "status.posted")


# --- periods -----------------------------------------------------------------------------


def period_of(period: Period, day: date) -> tuple[date, date]:
    """The first and last day (inclusive, UTC dates) of the period containing ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_of(period: Period, day: date) -> tuple[date, date]:
    """The period just before the one containing ``day``."""
    first, _ = period_of(period, day)
    return period_of(period, first - timedelta(days=1))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- consuming events --------------------------------------------------------------------


def shard_of(event_id: str) -> int:
    """Stable across processes (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(event_id.encode()).digest()[:4], "big") % SHARDS


@dataclass
class Effect:
    """What one event adds: counters, the user who acted (activity) and whether they paid."""

    counts: Counter[str] = field(default_factory=Counter)
    actor: str | None = None
    paid: bool = False


def effect_of(event_type: str, data: dict[str, Any]) -> Effect:
    found = Effect()
    by = data.get("by")
    if by in ("client", "reader"):
        found.actor = data.get(f"{by}Id")
    if event_type == SIGNED_UP:
        found.counts["signups"] += 1
        found.actor = data.get("userId")
    elif event_type == "reading.requested":
        found.counts["requested"] += 1
        found.actor = data.get("clientId")
    elif event_type == "dispute.filed":
        found.counts["disputes"] += 1
        found.actor = data.get("clientId")
    elif event_type in ("review.created", "status.posted"):
        found.actor = data.get("clientId")
    elif event_type in PAYMENTS:
        found.counts.update({"purchases": 1, "creditsPurchased": int(data.get("credits") or 0)})
        currency = str(data.get("currency") or "").lower()
        if currency.isalpha() and int(data.get("amount") or 0):
            found.counts[f"money:{currency}"] += int(data["amount"])
        found.actor, found.paid = data.get("userId"), True
    elif event_type == "credits.reversed":
        found.counts["reversedCredits"] += int(data.get("credits") or 0)
    if event_type in COMPLETING and "paid" in data:  # the reader was paid: a completed reading
        found.counts.update({"completed": 1, "fees": int(data.get("fee") or 0)})
    if event_type in REFUNDING and int(data.get("refunded") or 0) > 0:  # a rejected dispute refunds nothing
        found.counts.update({"refunds": 1, "refundedCredits": int(data["refunded"])})
    return found


def _first_of(kind: str, user_id: str, day: date, bucket: store.Change) -> list[store.Once]:
    """The markers of ``user_id``'s first ``kind`` (active/buyers) of the day, week and month."""
    pk = ACTIVE if kind == "active" else BUYER
    week, _ = period_of("week", day)
    _, month_end = period_of("month", day)
    keep = timedelta(days=MARKER_DAYS)
    marks = [(f"day#{day.isoformat()}#{user_id}", kind, day + keep),
             (f"week#{week.isoformat()}#{user_id}", kind + "Week", week + timedelta(days=6) + keep),
             (f"month#{day.strftime('%Y-%m')}#{user_id}", kind + "Month", month_end + keep)]
    return [store.Once(pk, sk, [store.Change(bucket.pk, bucket.sk, {counter: 1})], expires_at=_epoch(until))
            for sk, counter, until in marks]


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def record(message: dict[str, Any]) -> bool:
    """Add one event to its day's bucket, once; False when there was nothing to add or it
    was added before."""
    event_id = message["eventId"]
    found = effect_of(message["type"], message.get("data") or {})
    counts: dict[str, int | float] = {name: amount for name, amount in found.counts.items() if amount}
    if not counts and not found.actor:
        return False
    day = date.fromisoformat(str(message["occurredAt"])[:10])
    bucket = store.Change(f"platform#{shard_of(event_id)}", f"day#{day.isoformat()}", counts)
    once: list[store.Once] = []
    if found.actor:
        once += _first_of("active", found.actor, day, bucket)
        if found.paid:
            once += _first_of("buyers", found.actor, day, bucket)
    return store.apply(f"{CONSUMER}#{event_id}", [bucket], once=once)


CONSUMED = tuple(sorted({SIGNED_UP, "reading.requested", "dispute.filed", "credits.reversed",
                         *COMPLETING, *REFUNDING, *PAYMENTS, *ACTING}))
def consume(message: dict[str, Any]) -> None:
    record(message)


for _event in CONSUMED:
    events.consumer(_event)(consume)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFigures:
    day: date
    active_users: int
    sign_ups: int
    readings_requested: int
    readings_completed: int
    credits_purchased: int
    money_in: dict[str, int]
    platform_fees: int
    disputes: int


@dataclass(frozen=True)
class PeriodFigures:
    first: date
    last: date
    active_users: int
    sign_ups: int
    readings_requested: int
    readings_completed: int
    buyers: int
    purchases: int
    credits_purchased: int
    money_in: dict[str, int]
    platform_fees: int
    refunds: int
    refunded_credits: int
    reversed_credits: int
    disputes: int
    conversion_rate: float | None  # buyers / active users of the period
    dispute_rate: float | None  # disputes filed / readings completed in the period
    daily: list[DayFigures]


@dataclass(frozen=True)
class Report:
    period: Period
    day: date
    current: PeriodFigures
    previous: PeriodFigures


def report(period: Period, day: date | None = None, *, now: datetime | None = None) -> Report:
    """The period containing ``day`` (default: today, UTC) and the one before it: one Query
    per shard (4), over the days of both periods."""
    day = day or (now or utcnow()).date()
    current, previous = period_of(period, day), previous_of(period, day)
    by_day: dict[str, Counter[str]] = {}
    for shard in range(SHARDS):
        for bucket in store.between(f"platform#{shard}", f"day#{previous[0].isoformat()}",
                                    f"day#{current[1].isoformat()}"):
            counts = by_day.setdefault(bucket["sk"].removeprefix("day#"), Counter())
            counts.update({k: v for k, v in bucket.items() if isinstance(v, int | float) and k != "expiresAt"})
    return Report(period, day, _figures(period, *current, by_day), _figures(period, *previous, by_day))


def _money(counts: Counter[str]) -> dict[str, int]:
    return {name.removeprefix("money:"): int(amount) for name, amount in sorted(counts.items())
            if name.startswith("money:") and amount}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(period: Period, first: date, last: date, by_day: dict[str, Counter[str]]) -> PeriodFigures:
    days = _days(first, last)
    total: Counter[str] = Counter()
    daily = []
    for day in days:
        counts = by_day.get(day.isoformat(), Counter())
        total.update(counts)
        daily.append(DayFigures(day, int(counts["active"]), int(counts["signups"]), int(counts["requested"]),
                                int(counts["completed"]), int(counts["creditsPurchased"]), _money(counts),
                                int(counts["fees"]), int(counts["disputes"])))
    active, buyers = int(total["active" + DISTINCT[period]]), int(total["buyers" + DISTINCT[period]])
    return PeriodFigures(
        first=first, last=last, active_users=active, sign_ups=int(total["signups"]),
        readings_requested=int(total["requested"]), readings_completed=int(total["completed"]), buyers=buyers,
        purchases=int(total["purchases"]), credits_purchased=int(total["creditsPurchased"]), money_in=_money(total),
        platform_fees=int(total["fees"]), refunds=int(total["refunds"]),
        refunded_credits=int(total["refundedCredits"]), reversed_credits=int(total["reversedCredits"]),
        disputes=int(total["disputes"]), conversion_rate=_ratio(buyers, active),
        dispute_rate=_ratio(int(total["disputes"]), int(total["completed"])), daily=daily)
