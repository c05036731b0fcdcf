"""Client analytics events: stored cheaply, and profile views counted for readers.

Storage (the ``analytics`` table, models/metrics.py): one item per event, pk
``<UTC date of the event>#<shard 0..7>`` (the shard from the event id, so a busy day's
writes spread over eight partitions), sk ``<occurredAt>#<eventId>``, TTL ``expiresAt`` 90
days after the event. A batch is written with BatchWriteItem (25 items a call); the key is
the event's own, so a batch sent again overwrites the same items instead of adding copies.
A day is read back with eight Queries (one per shard), never a Scan.

What is kept (the compliance choice): the event's type, its declared fields, when it
happened and was received, and who sent it: the user id when signed in (and their role),
otherwise the anonymous session id the app generates at random. No IP address, user agent,
referrer or device fingerprint is stored, nor anything the schema does not declare (extra
fields are a 400), and every item expires after 90 days. Search text is kept as typed (at
most 200 characters): it says what readers are sought, and goes with the rest at 90 days.

Profile views: each ``view_reader`` of an approved reader by someone else adds 1 to the
reader's ``views`` counter in the metrics buckets (``reader#<id>``: the day bucket of the
event's date in the reader's timezone, and ``total``), through ``metrics.store.apply`` with
an event key per (caller, event id), so a batch sent again counts once. The reader's
timezone comes from their profile: one BatchGetItem (projected) for the batch's readers not
in this container's cache (kept 10 minutes; a reader who changes timezone has the views of
those minutes dated in the old one). A view is one TransactWriteItems (marker + 2 buckets).

Recommendations already learn of profile views: ``GET /readers/{readerId}`` by a signed-in
client records the view in the client's interactions (services/recommend/interactions.py),
and favorites and bookings are recorded by their own services. Feeding ``view_reader`` there
too would count every view twice, so analytics events do not.

Abuse limits: a batch holds at most 50 events and the body is size-capped (MAX_BODY_BYTES);
events older than 7 days or more than 5 minutes ahead are refused. Per-caller rate limits
(and not counting views from a session that sends too many) are issue 16.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.config import get_settings
from chalicelib.errors import DependencyUnavailable, ValidationFailed
from chalicelib.integrations import aws
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.services.metrics import reader, store

SHARDS = 8
RETENTION = timedelta(days=90)
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=5)
BATCH_WRITE_MAX = 25  # BatchWriteItem's limit
WRITE_ATTEMPTS = 4
VIEW_EVENT = "view_reader"
VIEWS = "views"  # the reader counter (shared/BRIEF: reader counter names)
APPROVED = "approved"
CACHE_SECONDS = 600.0
CACHE_MAX = 10_000


@dataclass(frozen=True)
class ClientEvent:
    """One validated event: its type, id, time, and its own fields (camelCase, plain values)."""

    type: str
    event_id: str
    occurred_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    accepted: int
    profile_views: int


def _invalid(path: str, message: str, kind: str) -> ValidationFailed:
    return ValidationFailed("The request is not valid.",
                            details={"fields": [{"path": path, "message": message, "type": kind}]})


def check(events: Sequence[ClientEvent], *, now: datetime) -> None:
    """The rules the schema cannot see: event ids unique in the batch, times plausible."""
    seen: set[str] = set()
    for index, event in enumerate(events):
        if event.event_id in seen:
            raise _invalid(f"events.{index}.eventId", "This event id appears earlier in the batch.", "duplicate")
        seen.add(event.event_id)
        if event.occurred_at < now - MAX_AGE:
            raise _invalid(f"events.{index}.occurredAt", "Events older than 7 days are not accepted.", "too_old")
        if event.occurred_at > now + MAX_AHEAD:
            raise _invalid(f"events.{index}.occurredAt", "This time is in the future.", "in_future")


def shard_of(event_id: str) -> int:
    return int(hashlib.sha256(event_id.encode()).hexdigest()[:8], 16) % SHARDS


def partition(day: str, shard: int) -> str:
    return f"{day}#{shard}"


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [_attribute(item) for item in value]}
    return {"S": str(value)}


def item_of(event: ClientEvent, *, user_id: str | None, role: str | None, session_id: str | None,
            received_at: datetime) -> dict[str, Any]:
    occurred = event.occurred_at.astimezone(UTC)
    item: dict[str, Any] = {
        "pk": {"S": partition(occurred.strftime("%Y-%m-%d"), shard_of(event.event_id))},
        "sk": {"S": f"{iso(occurred)}#{event.event_id}"},
        "eventId": {"S": event.event_id}, "type": {"S": event.type},
        "occurredAt": {"S": iso(occurred)}, "receivedAt": {"S": iso(received_at)},
        "expiresAt": {"N": str(int((occurred + RETENTION).timestamp()))},
    }
    if user_id:
        item["userId"] = {"S": user_id}
        if role:
            item["role"] = {"S": role}
    elif session_id:
        item["sessionId"] = {"S": session_id}
    props = {name: _attribute(value) for name, value in event.fields.items() if value is not None and value != []}
    if props:
        item["props"] = {"M": props}
    return item


def _write(items: list[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed (throttling)."""
    client = aws.client("dynamodb")
    table = get_settings().table_name("analytics")
    for start in range(0, len(items), BATCH_WRITE_MAX):
        pending: list[dict[str, Any]] = [{"PutRequest": {"Item": item}}
                                         for item in items[start:start + BATCH_WRITE_MAX]]
        for attempt in range(WRITE_ATTEMPTS):
            left = client.batch_write_item(RequestItems={table: pending}).get("UnprocessedItems") or {}
            pending = left.get(table) or []
            if not pending:
                break
            time.sleep(0.05 * 2 ** attempt)
        if pending:
            raise DependencyUnavailable("Events could not be stored right now; send them again in a moment.")


# --- profile views ---------------------------------------------------------------------------

_readers: dict[str, tuple[float, str | None]] = {}  # reader id -> (loaded at, timezone or None: not approved)


def forget_cached() -> None:
    _readers.clear()


def _zones(reader_ids: set[str], clock: float) -> dict[str, str | None]:
    """{reader id: timezone name ("UTC" when the profile has none), or None when the reader is
    not shown (unknown, not approved)}: cached, else one BatchGetItem per 100."""
    found: dict[str, str | None] = {}
    missing = []
    for reader_id in reader_ids:
        kept = _readers.get(reader_id)
        if kept is not None and clock - kept[0] < CACHE_SECONDS:
            found[reader_id] = kept[1]
        else:
            missing.append(reader_id)
    loaded = dict.fromkeys(missing)
    if missing:
        for profile in ReaderProfile.batch_get(missing, attributes_to_get=["readerId", "status", "availability"]):
            if profile.status != APPROVED:
                continue
            availability = plain(profile.availability) if profile.availability is not None else {}
            zone = availability.get("timezone") if isinstance(availability, dict) else None
            loaded[profile.reader_id] = zone if isinstance(zone, str) and zone else "UTC"
    if len(_readers) + len(loaded) > CACHE_MAX:
        _readers.clear()
    for reader_id, zone in loaded.items():
        _readers[reader_id] = (clock, zone)
    return {**found, **loaded}


def local_day(moment: datetime, timezone: str) -> str:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def _count_views(views: list[ClientEvent], caller: str, clock: float) -> int:
    zones = _zones({str(event.fields["readerId"]) for event in views}, clock)
    counted = 0
    for event in views:
        reader_id = str(event.fields["readerId"])
        zone = zones.get(reader_id)
        if zone is None:
            continue
        pk = f"reader#{reader_id}"
        day = local_day(event.occurred_at, zone)
        changes = [store.Change(pk, f"day#{day}", counts={VIEWS: 1}, expires_at=reader.day_expiry(day)),
                   store.Change(pk, "total", counts={VIEWS: 1})]
        if store.apply(f"analytics#{caller}#{event.event_id}", changes):
            counted += 1
    return counted


def record(events: Sequence[ClientEvent], *, user_id: str | None, role: str | None = None,
           session_id: str | None = None, now: datetime | None = None, clock: float | None = None) -> Recorded:
    """Store a batch (all of it, or nothing when an event breaks a rule: a 400 naming it) and
    count its profile views. Safe to send again after a failure: nothing is stored or counted twice."""
    moment = now or utcnow()
    if not user_id and not session_id:
        raise _invalid("sessionId", "Send the session id when not signed in.", "missing")
    check(events, now=moment)
    caller = f"user:{user_id}" if user_id else f"session:{session_id}"
    _write([item_of(event, user_id=user_id, role=role, session_id=session_id, received_at=moment)
            for event in events])
    views = [event for event in events if event.type == VIEW_EVENT and event.fields.get("readerId") != user_id]
    counted = _count_views(views, caller, time.monotonic() if clock is None else clock) if views else 0
    return Recorded(accepted=len(events), profile_views=counted)
