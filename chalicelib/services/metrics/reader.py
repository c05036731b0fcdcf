"""A reader's performance counters, kept from the readings' events, and the table the
profile page shows (``GET /reader/metrics``).

Buckets (services/metrics/store.py) under ``reader#<readerId>``: ``day#<local date>`` (the
reader's date of the event in their profile's ``availability.timezone``, deleted by TTL after
``DAY_TTL``), ``total`` (all time) and ``client#<clientId>`` (who their first and second
completed readings were, for repeat clients). Counters (the contract with the other insight
services; only this module writes them):

  requests, accepted, declined, expired, cancelled, cancelledByReader
  completed, completed:<attributeId>   one per tool, ability and style the reader had at completion
  earned                               credits paid to the reader (a dispute's refund takes its share back)
  fees                                 what the platform kept from those readings (a refund gives its share back)
  takenBack                            credits a refund after payout took back from the reader (already out of earned)
  reviews, ratingSum                   review.created
  views                                profile views (``count_views``, fed by the analytics events)
  responses, responseSeconds           request -> accept or decline
  noShows, disputes                    the reader did not show up; a client disputed
  scheduledStarts, lateStarts          a scheduled live reading started (``reading.started`` with a
                                       ``scheduledStart``), on the local day of its start; late: more
                                       than domain/quality.py's ``LATE_AFTER`` after its time
  clients, repeatClients, repeatReadings
      a client's first completed reading with the reader adds ``clients``, the second
      ``repeatClients``; every completed reading after the first adds ``repeatReadings``

Every event applies once (``store.apply`` keyed by consumer and event id) and marks the
reader for the insights job (``attention``/``attentionAt`` on ``total``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain import quality as rules
from chalicelib.errors import ValidationFailed
from chalicelib.integrations import aws
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.services import catalog, events
from chalicelib.services.metrics import store
from chalicelib.services.metrics.periods import PERIODS, WIDEST, Range, local_date, ranges
from chalicelib.services.readings.table import TRANSITIONS

SOURCE = "reader_metrics"
DAY_TTL = timedelta(days=400)


def day_expiry(day: date | str) -> int:
    """When a reader's day bucket may go (epoch seconds): DAY_TTL after the day."""
    when = date.fromisoformat(day) if isinstance(day, str) else day
    return int((datetime(when.year, when.month, when.day) + DAY_TTL).timestamp())
ATTENTION = "insights"
PROFILE_FIELDS = ["readerId", "availability", "attributes"]

_EVENT = {name: TRANSITIONS[name].steps[0].event for name in ("accept", "decline", "expire", "dispute")}
REQUESTED, REVIEWED = "reading.requested", "review.created"
CANCELLED = TRANSITIONS["cancel"].steps[0].event
RESOLVED = TRANSITIONS["resolve"].steps[0].event
# Every step that completes a reading and pays the reader (live completed, message delivered,
# the client's no-show); a no-show shares its event with the refunding step: ``paid`` tells.
COMPLETING = tuple(sorted({step.event for action in TRANSITIONS.values() for step in action.steps
                           if step.target == "completed" and step.money == "pay_reader"}))
NO_SHOW = TRANSITIONS["report_no_show"].steps[0].event
STARTED = TRANSITIONS["start"].steps[0].event


def pk(reader_id: str) -> str:
    return f"reader#{reader_id}"


def day_sk(day: date) -> str:
    return f"day#{day.isoformat()}"


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# --- the reader as the counters need them -----------------------------------------------------


def profile_facts(reader_id: str) -> tuple[str | None, list[str]] | None:
    """(timezone, attribute ids) from one projected GetItem; None without a profile."""
    try:
        profile = ReaderProfile.get(reader_id, attributes_to_get=PROFILE_FIELDS)
    except ReaderProfile.DoesNotExist:
        return None
    availability = plain(profile.availability) or {}
    attributes = plain(profile.attributes) or {}
    ids = [*(attributes.get("tools") or []), *(attributes.get("abilities") or []),
           *([attributes["style"]] if attributes.get("style") else [])]
    return availability.get("timezone"), sorted(set(ids))


def _client_rank(reader_id: str, client_id: str, reading_id: str) -> int:
    """1 when ``reading_id`` is the client's first completed reading with the reader, 2 the
    second, 3 any later one. ``if_not_exists`` makes it atomic and the same answer on every
    redelivery (one or two UpdateItems, outside the counters' transaction on purpose)."""
    client = aws.client("dynamodb")
    table = get_settings().table_name("metrics")
    key = {"pk": {"S": pk(reader_id)}, "sk": {"S": f"client#{client_id}"}}
    for rank, name in ((1, "firstReading"), (2, "secondReading")):
        stored = client.update_item(TableName=table, Key=key, UpdateExpression="SET #n = if_not_exists(#n, :r)",
                                    ExpressionAttributeNames={"#n": name},
                                    ExpressionAttributeValues={":r": {"S": reading_id}},
                                    ReturnValues="ALL_NEW")["Attributes"]
        if stored[name]["S"] == reading_id:
            return rank
    return 3


# --- applying an event -------------------------------------------------------------------------


def record(event_id: str, reader_id: str, counts: dict[str, int | float], occurred_at: datetime, *,
           timezone: str | None, now: datetime | None = None) -> bool:
    """Add ``counts`` to the reader's day bucket of ``occurred_at`` and ``total``, once per
    ``event_id``; marks the reader for the insights job. False when counted before."""
    return store.apply(f"{SOURCE}#{event_id}", _changes(event_id, reader_id, counts, occurred_at, timezone, now))


def _changes(event_id: str, reader_id: str, counts: dict[str, int | float], occurred_at: datetime,
             timezone: str | None, now: datetime | None) -> list[store.Change]:
    day = local_date(occurred_at, timezone)
    moment = now or utcnow()
    # The stamp carries the event id: the job's conditional clear never erases a mark set
    # by another event in the same millisecond.
    mark: dict[str, str | int] = {"attention": ATTENTION, "attentionAt": f"{iso(moment)}#{event_id}"}
    return [store.Change(pk(reader_id), day_sk(day), dict(counts), expires_at=day_expiry(day)),
            store.Change(pk(reader_id), "total", dict(counts), sets=mark)]


def count_views(event_id: str, reader_id: str, views: int, occurred_at: datetime, *,
                timezone: str | None = None) -> bool:
    """Profile views (the analytics events' consumer calls it; one call per batch event id).
    ``timezone`` None: read from the profile."""
    if timezone is None:
        facts = profile_facts(reader_id)
        timezone = facts[0] if facts else None
    return record(event_id, reader_id, {"views": views}, occurred_at, timezone=timezone)


def counts_for(event_type: str, data: dict[str, Any], occurred_at: datetime, attributes: Iterable[str],
               *, requested_at: Callable[[], datetime | None],
               rank: Callable[[], int], taken_back: Callable[[], tuple[int, int]]) -> dict[str, int | float]:
    """The counters one event adds (no I/O: the callables read what an event lacks, only
    when the event needs it)."""
    counts: dict[str, int | float] = {}
    if event_type == REQUESTED:
        counts["requests"] = 1
    elif event_type in (_EVENT["accept"], _EVENT["decline"]):
        counts["accepted" if event_type == _EVENT["accept"] else "declined"] = 1
        started = requested_at()
        if started is not None:
            counts["responses"] = 1
            counts["responseSeconds"] = max(0, round((occurred_at - started).total_seconds()))
    elif event_type == _EVENT["expire"]:
        counts["expired"] = 1
    elif event_type == CANCELLED:
        counts["cancelled"] = 1
        if data.get("by") == "reader":
            counts["cancelledByReader"] = 1
    elif event_type in COMPLETING and "paid" in data:
        counts.update({"completed": 1, "earned": int(data["paid"]), "fees": int(data.get("fee") or 0),
                       **{f"completed:{attribute}": 1 for attribute in attributes}})
        position = rank()
        counts.update({1: {"clients": 1}, 2: {"repeatClients": 1, "repeatReadings": 1}}.get(
            position, {"repeatReadings": 1}))
    elif event_type == NO_SHOW:  # refunded: the reader did not show up
        counts["noShows"] = 1
    elif event_type == REVIEWED:
        counts.update({"reviews": 1, "ratingSum": int(data["rating"])})
    elif event_type == _EVENT["dispute"]:
        counts["disputes"] = 1
    elif event_type == STARTED and data.get("scheduledStart"):  # an immediate reading has no time to keep
        late = data.get("lateSeconds")
        if late is None:
            late = (occurred_at - parse(data["scheduledStart"])).total_seconds()
        counts["scheduledStarts"] = 1
        if rules.late(float(late)):
            counts["lateStarts"] = 1
    elif event_type == RESOLVED and int(data.get("refunded") or 0) > 0:
        share, fee_share = taken_back()
        if share:
            counts.update({"earned": -share, "takenBack": share})
        if fee_share:
            counts["fees"] = -fee_share
    return counts


def shares_taken_back(cost: int, paid: int, fee: int, refund: int) -> tuple[int, int]:
    """(the reader's part, the platform fee's part) of a refund after payout
    (services/readings/disputes.py's rule: never more from the reader than they were paid)."""
    fee_share = fee * refund // cost if cost else 0
    if refund - fee_share > paid:
        return paid, refund - paid
    return refund - fee_share, fee_share


def _requested_at(reading_id: str) -> datetime | None:
    try:
        reading = Reading.get(reading_id, attributes_to_get=["readingId", "createdAt"])
    except Reading.DoesNotExist:
        return None
    return parse(reading.created_at)


def _taken_back(reading_id: str, refund: int) -> tuple[int, int]:
    try:
        reading = Reading.get(reading_id, attributes_to_get=["readingId", "creditsCost", "paidOut", "fee"])
    except Reading.DoesNotExist:
        return 0, 0
    return shares_taken_back(int(reading.credits_cost or 0), int(reading.paid_out or 0), int(reading.fee or 0),
                             refund)


def consume(message: dict[str, Any], *, now: datetime | None = None) -> bool:
    """Count one domain event for its reader; False when counted before or nothing to count."""
    counted = _counted(message, profile_facts, _requested_at)
    if counted is None:
        return False
    reader_id, counts, occurred_at, timezone = counted
    return record(message["eventId"], reader_id, counts, occurred_at, timezone=timezone, now=now)


def consume_many(messages: Iterable[dict[str, Any]], *, now: datetime | None = None) -> int:
    """``consume`` for many events, in their order (a backfill: the demo seed counts its
    backdated history at once, tools/seed_history.py): the same counters,
    each event still once, but each profile read once, the requests' times in one
    BatchGetItem per 100 and the events applied a few dozen per transaction
    (``store.apply_many``). Returns how many events were counted."""
    messages = list(messages)
    answered = {str(m["data"]["readingId"]) for m in messages
                if m.get("type") in (_EVENT["accept"], _EVENT["decline"]) and (m.get("data") or {}).get("readingId")}
    requested = {r.reading_id: parse(r.created_at)
                 for r in Reading.batch_get(sorted(answered), attributes_to_get=["readingId", "createdAt"])}
    profiles: dict[str, tuple[str | None, list[str]] | None] = {}
    full: set[tuple[str, str]] = set()  # (reader, client) pairs whose first and second readings are set

    def facts(reader_id: str) -> tuple[str | None, list[str]] | None:
        if reader_id not in profiles:
            profiles[reader_id] = profile_facts(reader_id)
        return profiles[reader_id]

    def rank(reader_id: str, client_id: str, reading_id: str) -> int:
        if (reader_id, client_id) in full:
            return 3  # each completion comes once in a batch: a later one is neither of the two
        position = _client_rank(reader_id, client_id, reading_id)
        if position > 1:
            full.add((reader_id, client_id))
        return position

    planned = []
    for message in messages:
        counted = _counted(message, facts, requested.get, rank)
        if counted is not None:
            reader_id, counts, occurred_at, timezone = counted
            planned.append((f"{SOURCE}#{message['eventId']}",
                            _changes(message["eventId"], reader_id, counts, occurred_at, timezone, now)))
    return store.apply_many(planned)


def _counted(message: dict[str, Any], facts_of: Callable[[str], tuple[str | None, list[str]] | None],
             requested_at: Callable[[str], datetime | None],
             rank_of: Callable[[str, str, str], int] = _client_rank,
             ) -> tuple[str, dict[str, int | float], datetime, str | None] | None:
    """(reader id, counters, when, the reader's timezone) of one event; None when it counts
    nothing (no reader, no profile, an event these counters ignore)."""
    data = message.get("data") or {}
    reader_id = data.get("readerId")
    if not reader_id:
        return None
    facts = facts_of(reader_id)
    if facts is None:
        return None  # no profile (deleted): nothing to show the counters on
    timezone, attributes = facts
    occurred_at = parse(message["occurredAt"])
    if message["type"] == STARTED and data.get("startedAt"):
        occurred_at = parse(data["startedAt"])  # a start counts on the day it happened
    reading_id = str(data.get("readingId") or "")
    counts = counts_for(
        message["type"], data, occurred_at, attributes,
        requested_at=lambda: requested_at(reading_id),
        rank=lambda: rank_of(reader_id, str(data.get("clientId") or "unknown"), reading_id),
        taken_back=lambda: _taken_back(reading_id, int(data.get("refunded") or 0)))
    return (reader_id, counts, occurred_at, timezone) if counts else None


def _on_event(message: dict[str, Any]) -> None:
    consume(message)


CONSUMED = tuple(sorted({REQUESTED, REVIEWED, CANCELLED, RESOLVED, NO_SHOW, STARTED, *_EVENT.values(),
                        *COMPLETING}))
for _event in CONSUMED:
    events.consumer(_event)(_on_event)


# --- the table of GET /reader/metrics ----------------------------------------------------------


def _ratio(part: float, whole: float, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _sum(buckets: Iterable[dict[str, Any]], name: str) -> int | float:
    return sum(bucket.get(name, 0) for bucket in buckets)


def row(period: Range, counters: dict[str, Any], attribute: str | None) -> dict[str, Any]:
    """One line of the table from the summed counters of ``period``."""
    def n(name: str) -> int | float:
        return counters.get(name, 0)

    completed, requests, accepted = n("completed"), n("requests"), n("accepted")
    total = period.first is None
    return {
        "period": period.period, "from": period.first.isoformat() if period.first else None,
        "to": period.last.isoformat(), "attribute": attribute,
        "readings": n(f"completed:{attribute}") if attribute else completed,
        "creditsEarned": n("earned"), "reviews": n("reviews"),
        "averageRating": _ratio(n("ratingSum"), n("reviews"), 2),
        "profileViews": n("views"), "bookingRequests": requests, "acceptedBookings": accepted,
        "completedReadings": completed,
        "bookingRate": _ratio(accepted, requests), "completionRate": _ratio(completed, accepted),
        "repeatClientCount": n("repeatClients"),
        # All time: the share of the reader's clients who came back; a period: the share of its
        # completed readings that were with a returning client (distinct clients per period
        # are not kept).
        "repeatClientRate": _ratio(n("repeatClients"), n("clients")) if total
        else _ratio(n("repeatReadings"), completed),
        "averageResponseTime": _ratio(n("responseSeconds") / 60, n("responses"), 1),
    }


def summed(days: list[dict[str, Any]], period: Range) -> dict[str, int | float]:
    """The counters of the day buckets inside ``period``."""
    inside = [bucket for bucket in days if period.holds(date.fromisoformat(bucket["sk"][4:]))]
    names = {name for bucket in inside for name, value in bucket.items() if isinstance(value, int | float)}
    return {name: _sum(inside, name) for name in names if name != "expiresAt"}


def check_attribute(attribute: str, current: list[str]) -> None:
    """An attribute the table can be filtered by: one of the reader's tools, abilities or
    style today (no read), or any attribute of the catalog, retired ones included (one
    GetItem): the counters keep the attributes a reader had at each completion, so an
    attribute they dropped still has its history. Anything else is a 400 naming the field."""
    if attribute in current or catalog.get_active("attribute", attribute, include_retired=True) is not None:
        return
    raise ValidationFailed("The request is not valid.", details={"fields": [{
        "path": "attribute", "type": "unknown_attribute",
        "message": f"There is no attribute {attribute!r}: use one of your tools, abilities or style (the "
                   "response's attributes) or an attribute id from GET /catalog."}]})


def metrics_table(reader_id: str, *, attribute: str | None = None, period: str = "this_month",
                  now: datetime | None = None) -> dict[str, Any]:
    """Every period's line and the chosen period's daily series (``total``: the last 6
    months'). Three reads: the profile (timezone), one Query of the day buckets of the last
    6 months (at most 184), the ``total`` bucket; a fourth (the catalog entry) for an
    ``attribute`` the reader does not have today (see ``check_attribute``)."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    facts = profile_facts(reader_id)
    timezone, attributes = facts if facts else (None, [])
    if attribute is not None:
        check_attribute(attribute, attributes)
    spans = ranges(now or utcnow(), timezone)
    widest = spans[WIDEST]
    assert widest.first is not None
    days = store.between(pk(reader_id), day_sk(widest.first), day_sk(widest.last))
    total = store.get(pk(reader_id), "total")
    rows = [row(spans[name], total if name == "total" else summed(days, spans[name]), attribute)
            for name in PERIODS]
    by_day = {bucket["sk"][4:]: bucket for bucket in days}
    chart = spans[period] if period != "total" else widest
    series = []
    for day in chart.days():
        bucket = by_day.get(day.isoformat(), {})
        series.append({
            "date": day.isoformat(),
            "readings": bucket.get(f"completed:{attribute}", 0) if attribute else bucket.get("completed", 0),
            "completedReadings": bucket.get("completed", 0), "creditsEarned": bucket.get("earned", 0),
            "bookingRequests": bucket.get("requests", 0), "acceptedBookings": bucket.get("accepted", 0),
            "profileViews": bucket.get("views", 0), "reviews": bucket.get("reviews", 0)})
    return {"readerId": reader_id, "timezone": timezone or "UTC", "attribute": attribute, "attributes": attributes,
            "period": period, "periods": rows, "series": series}
