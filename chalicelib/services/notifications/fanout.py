"""Fan-out: each relayed domain event to the people it concerns, by the channels they chose.

For an event of ``rules.RULES`` (a consumer of the notifications queue, registered below):
``rules`` builds its targets (reading one BatchGetItem per table for the names its
sentences use), then for each part of the event (its named recipients; each chunk of a role
audience): ``preferences.decide`` per type -> ``store.deliver`` (in-app rows) ->
``realtime.push`` -> ``email.enqueue``, for the channels each user's decision allows now.

**Once per (event, recipient, channel).** SQS delivers at least once, and a worker can die
between two channels, so each channel has its own guard:

* in-app: ``store.deliver`` writes a row per (event, user, type) only if it is absent.
* push and email: after the channel's call succeeds, a marker ``notify#<eventId>#<part>#push``
  (resp. ``#email``) is written (webhook-events table, TTL 15 days: longer than SQS keeps any
  message, dead-letter queue included). A redelivered part reads its markers (one
  BatchGetItem) and skips the channels already done, so a worker that died after in-app and
  before push pushes on the redelivery, once. The one window left, a death between a
  channel's call and its marker (or two copies processed at the same moment), repeats that
  channel once; downstream dedupes it: every Pusher event carries ``data.notificationId`` (the
  in-app row's id, the same on every redelivery) for clients to drop a repeat, and the email
  worker sends once per (eventId, userId, type) (its own claim marker, email.py).

**Big audiences.** An audience (every admin...) is read a page of ``CHUNK`` ids at a time.
One page is delivered inline. More are sent back to the notifications queue as
``notification.chunk`` messages (SendMessageBatch, ten per call), each delivering one page in
its own invocation; after ``MAX_PAGES`` pages an invocation hands the rest of the audience on
with a ``notification.audience`` message (the cursor), so no invocation does unbounded work.

**Poison messages.** Anything raised here fails the message alone (the domain_events job's
partial batch response); after the queue's maxReceiveCount it moves to the dead-letter
queue (``make dlq`` lists and redrives them). Every part is idempotent, so a retry of a
partly done event finishes it without repeating what was done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib import logs, telemetry
from chalicelib.config import get_settings
from chalicelib.domain.notifications import CHANNEL_EMAIL, CHANNEL_IN_APP, CHANNEL_PUSH, Delivery
from chalicelib.integrations import aws
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import events, realtime
from chalicelib.services.notifications import audiences, email, held, preferences, rules, store
from chalicelib.services.readings.parties import first_name

CHUNK = 500  # recipients per invocation
MAX_PAGES = 20  # audience pages one invocation reads (and chunk messages it sends) at most
CHUNK_EVENT = "notification.chunk"
AUDIENCE_EVENT = "notification.audience"
MARKER_TTL = timedelta(days=15)
SQS_BATCH = 10
SQS_BATCH_BYTES = 250_000  # SendMessageBatch's payload limit is 256 KiB


# --- events -------------------------------------------------------------------------------

def on_event(message: dict[str, Any], *, now: datetime | None = None) -> None:
    """The consumer of every event in ``rules.RULES``."""
    event = rules.Event.of(message)
    found = rules.RULES.get(event.type)
    if found is None:
        return
    moment = now or utcnow()
    targets = found.build(event, _names(event, found))
    direct = [note.to(user_id) for target in targets if target.audience is None
              for note in [target.note] for user_id in target.user_ids]
    deliver_part(event.event_id, event.occurred_at, "direct", direct, now=moment)
    for target in targets:
        if target.audience is not None:
            skip = sorted(d.user_id for d in direct if d.type == target.note.type)
            fan_audience(event.event_id, event.occurred_at, target.audience, target.note, skip=skip, now=moment)


def on_chunk(message: dict[str, Any], *, now: datetime | None = None) -> None:
    """One page of an audience: the same note for each of its recipients."""
    data = message["data"]
    note = rules.Note.load(data["note"])
    deliver_part(message["eventId"], message["occurredAt"], data["part"],
                 [note.to(user_id) for user_id in data["recipients"]], now=now or utcnow())


def on_audience(message: dict[str, Any], *, now: datetime | None = None) -> None:
    """The rest of an audience after an invocation read its ``MAX_PAGES``."""
    data = message["data"]
    fan_audience(message["eventId"], message["occurredAt"], data["audience"], rules.Note.load(data["note"]),
                 skip=list(data.get("skip") or []), cursor=data["cursor"], first=int(data["chunk"]),
                 now=now or utcnow())


def register() -> None:
    for event_type in rules.RULES:
        if on_event not in events.CONSUMERS.get(event_type, []):
            events.consumer(event_type)(on_event)
    for event_type, consumer in ((CHUNK_EVENT, on_chunk), (AUDIENCE_EVENT, on_audience)):
        if consumer not in events.CONSUMERS.get(event_type, []):
            events.consumer(event_type)(consumer)


# --- names --------------------------------------------------------------------------------

class _Names:
    """First names of clients (users table) and public names of readers (profiles), each
    read with one BatchGetItem for the ids a rule names."""

    def __init__(self, clients: Mapping[str, str | None], readers: Mapping[str, str | None]):
        self._clients = clients
        self._readers = readers

    def client(self, user_id: Any) -> str | None:
        return self._clients.get(str(user_id)) if user_id else None

    def reader(self, reader_id: Any) -> str | None:
        return self._readers.get(str(reader_id)) if reader_id else None


def _names(event: rules.Event, rule: rules.Rule) -> _Names:
    client_ids = sorted({str(event.data[k]) for k in rule.clients if event.data.get(k)})
    reader_ids = sorted({str(event.data[k]) for k in rule.readers if event.data.get(k)})
    clients = {u.user_id: (None if u.status == "deleted" else first_name(u.display_name))
               for u in User.batch_get(client_ids, attributes_to_get=["userId", "displayName", "status"])} \
        if client_ids else {}
    readers = {p.reader_id: (None if p.status == "deleted" else p.display_name)
               for p in ReaderProfile.batch_get(reader_ids, attributes_to_get=["readerId", "displayName", "status"])} \
        if reader_ids else {}
    return _Names(clients, readers)


# --- one part -----------------------------------------------------------------------------

def deliver_part(event_id: str, occurred_at: str, part: str, deliveries: list[Delivery], *, now: datetime) -> None:
    """In-app, push and email for one part of an event (at most ``CHUNK`` recipients)."""
    unique = list({d.key: d for d in deliveries}.values())
    if not unique:
        return
    when = store.normalize_time(occurred_at)
    unique = [_keyed(d, event_id, when) for d in unique]
    decisions = _decisions(unique, now)
    in_app = [d for d in unique if CHANNEL_IN_APP in decisions[d.key].channels]
    new = store.deliver(event_id, when, in_app, now=now) if in_app else []
    done = _markers(event_id, part)
    push = [d for d in unique if CHANNEL_PUSH in decisions[d.key].channels]
    if push and CHANNEL_PUSH not in done:
        realtime.push(push)
        _mark(event_id, part, CHANNEL_PUSH, now)
    mail = [d for d in unique if CHANNEL_EMAIL in decisions[d.key].channels]
    if mail and CHANNEL_EMAIL not in done:
        email.enqueue(mail, event_id=event_id, occurred_at=when)
        _mark(event_id, part, CHANNEL_EMAIL, now)
    # Quiet hours and digests: held push/email, stored with ids deterministic per event (a
    # redelivery overwrites the same items), sent by the held-notifications schedule.
    if new:
        telemetry.notification_latency(CHANNEL_IN_APP, when, now)
    if push and CHANNEL_PUSH not in done:
        telemetry.notification_latency(CHANNEL_PUSH, when, now)
    held_count = held.hold_many([(d, decisions[d.key]) for d in unique if decisions[d.key].held],
                                key=event_id, occurred_at=when)
    logger.info("notifications delivered", extra={
        "eventId": event_id, "part": part, "recipients": len(unique), "inAppNew": len(new),
        "push": 0 if CHANNEL_PUSH in done else len(push), "email": 0 if CHANNEL_EMAIL in done else len(mail),
        "held": held_count})


def _keyed(delivery: Delivery, event_id: str, when: str) -> Delivery:
    """With the in-app row's id, the same on every redelivery: clients drop a repeated push."""
    notification_id = store.notification_id(store.row_sk(when, event_id, str(delivery.type)))
    return replace(delivery, data={**delivery.data, "notificationId": notification_id})


def _decisions(deliveries: list[Delivery], now: datetime) -> dict[tuple[str, str], preferences.Decision]:
    """What each delivery sends now and holds: one ``decide`` per type (batched by users)."""
    by_type: dict[str, list[str]] = {}
    for delivery in deliveries:
        by_type.setdefault(str(delivery.type), []).append(delivery.user_id)
    found: dict[tuple[str, str], preferences.Decision] = {}
    for type_, user_ids in by_type.items():
        decisions = preferences.decide(user_ids, type_, now)
        for user_id in user_ids:
            found[(user_id, type_)] = decisions.get(user_id, preferences.NOTHING)
    return found


def _marker_key(event_id: str, part: str, step: str) -> str:
    return f"notify#{event_id}#{part}#{step}"


def _markers(event_id: str, part: str, steps: tuple[str, ...] = (CHANNEL_PUSH, CHANNEL_EMAIL)) -> set[str]:
    keys = [_marker_key(event_id, part, step) for step in steps]
    return {item.event_type for item in ProcessedWebhook.batch_get(keys, consistent_read=True)}


def _mark(event_id: str, part: str, step: str, now: datetime) -> None:
    ProcessedWebhook(event_key=_marker_key(event_id, part, step), source="notifications", event_type=step,
                     received_at=iso(now), expires_at=int((now + MARKER_TTL).timestamp())).save()


# --- audiences ----------------------------------------------------------------------------

def fan_audience(event_id: str, occurred_at: str, audience: str, note: rules.Note, *, skip: list[str],
                 now: datetime, cursor: dict[str, Any] | None = None, first: int = 0) -> None:
    """Deliver a small audience inline; split a big one into chunk messages."""
    split = f"{audience}.{first}"
    if _markers(event_id, split, ("split",)):
        return  # a previous delivery of this message sent its chunks already
    excluded = set(skip)
    pages: list[list[str]] = []
    for _ in range(MAX_PAGES):
        page = audiences.page(audience, limit=CHUNK, cursor=cursor)
        cursor = page.cursor
        ids = [user_id for user_id in page.user_ids if user_id not in excluded]
        if ids:
            pages.append(ids)
        if cursor is None:
            break
    if first == 0 and cursor is None and len(pages) <= 1:
        deliver_part(event_id, occurred_at, audience, [note.to(u) for u in (pages[0] if pages else [])], now=now)
        return
    base = {"eventId": event_id, "occurredAt": occurred_at}
    messages = [{**base, "type": CHUNK_EVENT, "data": {"part": f"{audience}.{first + n}", "note": note.dump(),
                                                      "recipients": ids}} for n, ids in enumerate(pages)]
    if cursor is not None:
        messages.append({**base, "type": AUDIENCE_EVENT, "data": {
            "audience": audience, "note": note.dump(), "skip": skip, "cursor": cursor, "chunk": first + len(pages)}})
    send_messages(messages)
    _mark(event_id, split, "split", now)
    logger.info("audience split", extra={"eventId": event_id, "audience": audience, "chunks": len(pages),
                                         "more": cursor is not None})


def send_messages(messages: list[dict[str, Any]]) -> None:
    """SendMessageBatch to the notifications queue: up to ten messages (and 250 KB) a call."""
    batch: list[dict[str, Any]] = []
    size = 0
    for message in messages:
        body = json.dumps(message, separators=(",", ":"))
        if batch and (len(batch) == SQS_BATCH or size + len(body) > SQS_BATCH_BYTES):
            _send_batch(batch)
            batch, size = [], 0
        attributes = {"eventType": {"DataType": "String", "StringValue": message["type"]},
                      "eventId": {"DataType": "String", "StringValue": message["eventId"]}}
        if logs.correlation_id():  # each chunk is handled in the story of its event (chalicelib/logs.py)
            attributes["correlationId"] = {"DataType": "String", "StringValue": str(logs.correlation_id())}
        batch.append({"Id": str(len(batch)), "MessageBody": body, "MessageAttributes": attributes})
        size += len(body)
    if batch:
        _send_batch(batch)


def _send_batch(entries: list[dict[str, Any]]) -> None:
    response = aws.client("sqs").send_message_batch(
        QueueUrl=aws.queue_url(get_settings().notifications_queue_name), Entries=entries)
    failed = response.get("Failed") or []
    if failed:  # the whole event is retried; chunks already sent are idempotent
        raise RuntimeError(f"{len(failed)} of {len(entries)} chunk messages were not sent: "
                           f"{failed[0].get('Code')}: {failed[0].get('Message')}")


register()
