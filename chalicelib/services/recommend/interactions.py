"""What each client did with each reader, recorded for recommendations.

Writers (every count is an ``ADD`` on the client's item for that reader, see
models/favorites.py):

* the domain-events consumers below: ``reading.requested`` (a booking, and the topic asked:
  the reading's topic is read once, projected), the events that complete a reading and pay
  the reader (a completion), ``review.created`` (the rating the client gave). Each event
  applies once: the ADDs and a ``ProcessedWebhook`` marker for the event id commit in one
  transaction, so a redelivered event changes nothing;
* services/favorites.py, in the favorite's own transaction;
* ``record_view``: a signed-in caller's ``GET /readers/{readerId}``, one UpdateItem that never
  fails the request (a view is a hint, not a record anyone is owed).

``history`` reads a client's whole partition back (one Query, a few pages at most).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.favorites import SUMMARY_SK, TOPIC_PREFIX, Interaction
from chalicelib.models.readings import Reading
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import events
from chalicelib.services.readings.table import TRANSITIONS
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SOURCE = "interactions"
# Markers live as long as an event can be redelivered (SQS keeps a message 4 days).
MARKER_TTL = timedelta(days=14)
BOOKED_EVENT = "reading.requested"
RATED_EVENT = "review.created"
# Every step that completes a reading and pays the reader (a no-show shares its event with a
# refunding step: the event's ``paid`` tells them apart, as in services/reader_stats.py).
COMPLETING_EVENTS = tuple(sorted({step.event for action in TRANSITIONS.values() for step in action.steps
                                  if step.target == "completed" and step.money == "pay_reader"}))
# A client's partition: one item per reader touched, per topic asked, and the summary. Views
# alone could make it long; a recommendation reads at most this many items.
MAX_HISTORY_ITEMS = 2000


@dataclass(frozen=True)
class ReaderHistory:
    """What one client did with one reader."""

    views: int = 0
    favorites: int = 0
    bookings: int = 0
    completions: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    last_rating: int | None = None
    is_favorite: bool = False

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


@dataclass(frozen=True)
class History:
    """A client's interactions: per reader, per topic (id -> (name, times asked))."""

    readers: dict[str, ReaderHistory] = field(default_factory=dict)
    topics: dict[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.readers and not self.topics


def _int(value: Any) -> int:
    return int(value or 0)


def history(client_id: str) -> History:
    """The client's interactions: one Query of their partition (consistent, a few pages)."""
    readers: dict[str, ReaderHistory] = {}
    topics: dict[str, tuple[str, int]] = {}
    for item in Interaction.query(client_id, consistent_read=True, limit=MAX_HISTORY_ITEMS):
        if item.sk == SUMMARY_SK:
            continue
        if item.sk.startswith(TOPIC_PREFIX):
            topic_id = item.sk[len(TOPIC_PREFIX):]
            topics[topic_id] = (item.name or topic_id, _int(item.asked))
            continue
        readers[item.sk] = ReaderHistory(
            views=_int(item.views), favorites=_int(item.favorites), bookings=_int(item.bookings),
            completions=_int(item.completions), rating_count=_int(item.rating_count),
            rating_sum=_int(item.rating_sum),
            last_rating=int(item.last_rating) if item.last_rating is not None else None,
            is_favorite=bool(item.is_favorite))
    return History(readers=readers, topics=topics)


def record_view(client_id: str, reader_id: str, *, now: datetime | None = None) -> None:
    """Count a view of ``reader_id``'s card by ``client_id``: one UpdateItem. Never raises: a
    lost view must not fail the card it was counted for."""
    if not client_id or not reader_id or client_id == reader_id or reader_id.startswith("#"):
        return
    try:
        Interaction(client_id=client_id, sk=reader_id).update(
            actions=[Interaction.views.add(1), Interaction.updated_at.set(iso(now or utcnow()))])
    except Exception:  # noqa: BLE001 - a hint only; the card is served regardless
        logger.warning("reader view not recorded", extra={"readerId": reader_id}, exc_info=True)


def apply(event_id: str, client_id: str, reader_id: str, actions: list[Any], *,
          topic: tuple[str, str] | None = None, event_type: str = "", now: datetime | None = None) -> bool:
    """Apply ``actions`` to the (client, reader) item, and count ``topic`` (id, name), once per
    ``event_id``; False when this event was applied before."""
    moment = now or utcnow()
    at = iso(moment)
    marker = ProcessedWebhook(event_key=f"{SOURCE}#{event_id}", source=SOURCE, event_type=event_type,
                              received_at=at, expires_at=int((moment + MARKER_TTL).timestamp()))

    def work(tx: Transaction) -> None:
        tx.save(marker, condition=ProcessedWebhook.event_key.does_not_exist(), label="marker")
        tx.update(Interaction(client_id=client_id, sk=reader_id), actions=[*actions, Interaction.updated_at.set(at)])
        if topic is not None:
            topic_id, name = topic
            tx.update(Interaction(client_id=client_id, sk=f"{TOPIC_PREFIX}{topic_id}"),
                      actions=[Interaction.asked.add(1), Interaction.name.set(name),
                               Interaction.updated_at.set(at)])

    try:
        atomically(work)
    except ConditionsFailed as failed:
        if "marker" in failed:
            return False
        raise
    return True


def _topic_of(reading_id: str) -> tuple[str, str] | None:
    with contextlib.suppress(Reading.DoesNotExist):
        reading = Reading.get(reading_id, attributes_to_get=["readingId", "topicId", "topic"])
        if reading.topic_id:
            return reading.topic_id, reading.topic or reading.topic_id
    return None


def _parties(message: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    data = message.get("data") or {}
    client_id, reader_id = data.get("clientId"), data.get("readerId")
    if not (isinstance(client_id, str) and client_id and isinstance(reader_id, str) and reader_id):
        return None
    return client_id, reader_id, data


@events.consumer(BOOKED_EVENT)
def on_booked(message: dict[str, Any]) -> None:
    parties = _parties(message)
    if parties is None:
        return
    client_id, reader_id, data = parties
    topic = _topic_of(str(data.get("readingId") or ""))
    apply(message["eventId"], client_id, reader_id, [Interaction.bookings.add(1)], topic=topic,
          event_type=BOOKED_EVENT)


def on_completed(message: dict[str, Any]) -> None:
    parties = _parties(message)
    if parties is None or "paid" not in parties[2]:  # a refunding step shares the event: not a completion
        return
    client_id, reader_id, _ = parties
    apply(message["eventId"], client_id, reader_id, [Interaction.completions.add(1)],
          event_type=str(message.get("type") or "reading.completed"))


for _event in COMPLETING_EVENTS:
    events.consumer(_event)(on_completed)


@events.consumer(RATED_EVENT)
def on_rated(message: dict[str, Any]) -> None:
    parties = _parties(message)
    if parties is None:
        return
    client_id, reader_id, data = parties
    rating = data.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int | float) or rating not in (1, 2, 3, 4, 5):
        logger.warning("review event without a rating 1..5", extra={"eventId": message.get("eventId")})
        return
    rating = int(rating)
    apply(message["eventId"], client_id, reader_id,
          [Interaction.rating_count.add(1), Interaction.rating_sum.add(rating), Interaction.last_rating.set(rating)],
          event_type=RATED_EVENT)
