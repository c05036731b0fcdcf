"""The client accepts a suggestion: it becomes a reading request, through the booking's own
unit of work (``readings.booking.commit``: the reading, its slot locks, the hold of its
price, ``reading.requested``) with the status closed in the same transaction
(``posting.close_in``: state ``accepted``, ``acceptedSuggestedReadingId``, the other
suggestions closed, ``status.closed`` naming the readers to tell).

The booking's rules hold as for ``POST /readings``: the 18+ declaration, nothing owed, the
reader online for an immediate reading or free at a scheduled time (the slot locks decide),
enough credits. The price is the reader's offer, or their listed price now if that became
lower. The reading's id derives from the suggestion, so a second accept (a retry, or two at
once) can never book twice: the loser's transaction fails on the status (or the reading)
and gets 409 status_closed.

Reads: the status and the reader's profile (plus the caller's user item, which the request
loaded to authenticate), then one transaction; the answer is built from what was read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.readings import QUESTION_MAX
from chalicelib.errors import Conflict, NotFound
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.services import pricing
from chalicelib.services.readings import booking as bookings
from chalicelib.services.statuses.common import load, now_or, owned
from chalicelib.services.statuses.posting import close_in, closed_in_memory
from chalicelib.services.tx import ConditionsFailed, Transaction

_ATTEMPTS = 3  # a concurrent withdrawal of another suggestion changes the status: re-read and retry


def reading_id_for(suggestion_id: str) -> str:
    return "rdg_" + hashlib.sha256(f"suggestion:{suggestion_id}".encode()).hexdigest()[:26]


def _closed(status: Status) -> Conflict:
    details: dict[str, Any] = {"state": status.state}
    if status.accepted_suggestion_id:
        details.update(acceptedSuggestedReadingId=status.accepted_suggestion_id, readingId=status.reading_id)
        return Conflict("A suggestion for this status was already accepted; its reading is booked.",
                        code="status_closed", details=details)
    return Conflict("This status is closed: its suggestions can no longer be accepted.", code="status_closed",
                    details=details)


@dataclass(frozen=True)
class Accepted:
    status: Status  # closed, as the transaction left it
    reading: Reading
    reader: ReaderProfile  # as read to book (the answer's reader summary needs no new read)


def accept(client: User, status_id: str, suggestion_id: str, *, scheduled_at: datetime | None = None,
           now: datetime | None = None) -> Accepted:
    """Book the suggestion; returns the closed status, the requested reading and its reader."""
    moment = now_or(now)
    for attempt in range(_ATTEMPTS):
        status = owned(status_id, client.user_id)
        suggestion = next((s for s in status.suggestion_list() if s.get("id") == suggestion_id), None)
        if suggestion is None or suggestion.get("state") == "withdrawn" or suggestion.get("moderation"):
            raise NotFound("suggestion")  # withdrawn, or held or hidden by moderation: not the client's to see
        if not status.is_active:
            raise _closed(status)
        booking, reading = _prepare(client, status, suggestion, scheduled_at, moment)

        def also(tx: Transaction, status: Status = status, reading_id: str = reading.reading_id) -> None:
            close_in(tx, status, state="accepted", reason="accepted", moment=moment, accepted=suggestion_id,
                     reading_id=reading_id)

        try:
            bookings.commit(client, booking, reading, also=also)
        except ConditionsFailed as failed:
            if "reading" in failed or "status" in failed:
                current = load(status_id)
                if not current.is_active:
                    raise _closed(current) from failed
                if attempt < _ATTEMPTS - 1:
                    continue  # another suggestion was withdrawn meanwhile: the same accept, re-read
            bookings.raise_booking_failure(failed, client.user_id)
            raise
        closed_in_memory(status, state="accepted", moment=moment, accepted=suggestion_id,
                         reading_id=reading.reading_id)
        return Accepted(status, reading, booking.reader)
    raise AssertionError("unreachable")  # pragma: no cover


def _prepare(client: User, status: Status, suggestion: dict[str, Any], scheduled_at: datetime | None,
             moment: datetime) -> tuple[bookings.Booking, Reading]:
    reader_id = str(suggestion["readerId"])
    question = status.content[:QUESTION_MAX]
    bookings.check_client(client, reader_id, question)
    try:
        profile = bookings.approved_reader(reader_id)
    except NotFound:
        raise Conflict("This reader is no longer taking readings.", code="reader_unavailable") from None
    duration = int(suggestion["estimatedDuration"])
    option = bookings.choose_option(profile, str(suggestion["suggestedType"]), suggestion.get("optionId"), duration)
    listed = pricing.price(option, duration, suggestion.get("multiplier") or "1")
    offered = listed.offered_at(min(int(suggestion.get("suggestedPrice") or listed.total), listed.total))
    start = bookings.scheduled_start(scheduled_at) if scheduled_at is not None else (
        bookings.scheduled_start(datetime.fromisoformat(suggestion["scheduledAt"].replace("Z", "+00:00")))
        if suggestion.get("scheduledAt") else None)
    topic = {"id": suggestion.get("topicId"), "name": suggestion.get("topicName") or "General Reading",
             "isGeneral": bool(suggestion.get("topicIsGeneral"))}
    booking = bookings.timed(profile, option, duration, offered, topic, start, moment, read_slots=False)
    if booking.reason == "reader_offline":
        raise Conflict("The reader is not online right now, so this reading cannot start now; choose a time "
                       "(scheduledAt) when the reader is available.", code="reader_offline")
    bookings.check_available(booking)
    payload = {"statusId": status.status_id, "suggestionId": suggestion["id"],
               "scheduledAt": booking.start.isoformat() if booking.start else None}
    reading = bookings.new_reading(reading_id_for(str(suggestion["id"])), client, booking,
                                   topic_id=str(suggestion.get("topicId")), question=question, payload=payload,
                                   moment=moment)
    return booking, reading
