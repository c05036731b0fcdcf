"""The transactional outbox: an event commits with the state change that caused it.

``emit(tx, "reading.accepted", reading_id=...)`` adds the event to the caller's
``Transaction`` (services/tx.py); if the transaction rolls back, the event never existed. The relay
(``relay``) moves committed events to the notifications queue; it runs from the outbox
table's DynamoDB stream in the cloud and from the local runner's stream poller locally,
and a scheduled sweep re-relays anything the stream path missed. A relayed event is
marked (and leaves the sparse ``pendingEvents`` index), so a redelivered stream record
does not send it twice.

An event occurs when it is emitted, unless the caller dates it with ``dated(moment)``: a
backfill that drives the services with its own ``now`` (the demo seed's backdated history,
tools/seed_history.py) so every consumer counts each event on its own day.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import logs
from chalicelib.ids import new_id
from chalicelib.models.base import iso, utcnow
from chalicelib.models.outbox import PENDING, OutboxEvent
from chalicelib.services.tx import Transaction

RETENTION = timedelta(days=14)
_EVENT_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_DATED: ContextVar[datetime | None] = ContextVar("outbox_dated", default=None)


@contextlib.contextmanager
def dated(moment: datetime) -> Iterator[None]:
    """Events emitted inside (this thread only) occur at ``moment``, not at the clock's time.
    They still expire ``RETENTION`` after the clock's time: the relay has its usual days."""
    token = _DATED.set(moment)
    try:
        yield
    finally:
        _DATED.reset(token)


def emit(tx: Transaction, event_type: str, **data: Any) -> str:
    """Add a domain event to ``tx``; returns its id."""
    if not _EVENT_TYPE.match(event_type):
        raise ValueError(f"event type {event_type!r} must look like 'noun.verb'")
    now = utcnow()
    event = OutboxEvent(
        event_id=new_id(),
        event_type=event_type,
        data=json.loads(json.dumps(data, default=str)),
        created_at=iso(_DATED.get() or now),
        pending=PENDING,
        expires_at=int((now + RETENTION).timestamp()),
        correlation_id=logs.correlation_id(),
    )
    tx.save(event, condition=OutboxEvent.event_id.does_not_exist(), label="outbox")
    return event.event_id


def message_for(event: OutboxEvent) -> dict[str, Any]:
    """The queue message of an event; ``correlationId`` when it was emitted inside a story
    (an API request, a consumed message, a scheduled run: chalicelib/logs.py)."""
    message = {
        "eventId": event.event_id,
        "type": event.event_type,
        "occurredAt": event.created_at,
        "data": event.data.as_dict() if hasattr(event.data, "as_dict") else dict(event.data),
    }
    if event.correlation_id:
        message["correlationId"] = event.correlation_id
    return message


def relay(event_ids: list[str], send: Callable[[dict[str, Any]], None]) -> list[str]:
    """Send each committed, not-yet-relayed event; return the ids that failed."""
    failed: list[str] = []
    for event_id in event_ids:
        try:
            relay_one(event_id, send)
        except Exception:  # noqa: BLE001 - reported per item, retried by the stream
            failed.append(event_id)
    return failed


def relay_one(event_id: str, send: Callable[[dict[str, Any]], None]) -> bool:
    try:
        event = OutboxEvent.get(event_id, consistent_read=True)
    except OutboxEvent.DoesNotExist:
        return False  # expired by TTL long ago: nothing to do
    if event.pending is None:
        return False  # already relayed
    with logs.correlated(event.correlation_id or event.event_id):
        send(message_for(event))
    # A concurrent relay may have marked it first; consumers dedupe on eventId.
    with contextlib.suppress(UpdateError):
        event.update(
            actions=[OutboxEvent.pending.remove(), OutboxEvent.relayed_at.set(iso(utcnow()))],
            condition=OutboxEvent.pending.exists(),
        )
    return True


def stale_pending(older_than_s: int = 120, limit: int = 500, now: datetime | None = None) -> list[str]:
    """Events committed more than ``older_than_s`` ago and still not relayed."""
    cutoff = iso((now or utcnow()) - timedelta(seconds=older_than_s))
    query = OutboxEvent.pending_events.query(PENDING, OutboxEvent.created_at < cutoff, limit=limit)
    return [event.event_id for event in query]


def inserted_event_ids(stream_records: list[dict[str, Any]]) -> list[str]:
    """The outbox ids in a DynamoDB stream batch (only INSERTs are new events)."""
    ids = []
    for record in stream_records:
        if record.get("eventName") != "INSERT":
            continue
        keys = record.get("dynamodb", {}).get("Keys", {})
        event_id = keys.get("eventId", {}).get("S")
        if event_id:
            ids.append(event_id)
    return ids

