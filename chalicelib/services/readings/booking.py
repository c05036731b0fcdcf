"""Quote and request: what a reading would cost and whether the reader can take it then
(``prepare``, no writes), and the request itself: the reading, its slot locks, the hold
of its price and its event in one unit of work, idempotent per ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import telemetry
from chalicelib.domain import option_moderation
from chalicelib.domain.readings import (
    QUESTION_MAX,
    RESPOND_IMMEDIATE,
    RESPOND_MESSAGE,
    RESPOND_SCHEDULED_MAX,
    SCHEDULE_HORIZON,
    SCHEDULE_LEAD,
    time_span_id,
)
from chalicelib.errors import BusinessRuleViolation, Conflict, DomainError, NotFound
from chalicelib.ids import new_id
from chalicelib.models.base import iso, plain
from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, ReadingSlot
from chalicelib.models.users import User
from chalicelib.services import compliance, ledger, outbox, pricing
from chalicelib.services.readings import common
from chalicelib.services.readings.common import field_error
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

_HORIZON_MESSAGE = (f"Must be between {int(SCHEDULE_LEAD.total_seconds() // 60)} minutes and "
                    f"{SCHEDULE_HORIZON.days} days from now.")
_UNAVAILABLE = {"reader_offline": "The reader is not online for an immediate reading.",
                "outside_availability": "The reader is not available at that time.",
                "slot_taken": "That time is already booked with this reader."}


@dataclass(frozen=True)
class Booking:
    reader: ReaderProfile
    option: dict[str, Any]
    duration: int
    price: pricing.Price
    schedule: str  # immediate | scheduled
    start: datetime | None
    end: datetime | None
    available: bool
    reason: str | None  # why not available: reader_offline | outside_availability | slot_taken
    topic: dict[str, Any] | None = None


def scheduled_start(scheduled_at: datetime | None) -> datetime | None:
    """The requested start in UTC; a time no UTC calendar can hold (year 0 or 10000 once
    the offset is applied) is outside the booking horizon too: a 400 on ``scheduledAt``."""
    if scheduled_at is None:
        return None
    try:
        return pricing.utc(scheduled_at)
    except ValueError:
        raise field_error("scheduledAt", _HORIZON_MESSAGE) from None


def _catalog_items(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Active catalog entries by (kind, id), one BatchGetItem."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in CatalogItem.batch_get([(CATALOG_PARTITION, f"{kind}#{item_id}") for kind, item_id in keys]):
        if item.active:
            found[(item.kind, item.item_id)] = {"id": item.item_id, **plain(item.data.as_dict())}
    return found


def _choose_option(profile: ReaderProfile, option_type: str, option_id: str | None, duration: int) -> dict[str, Any]:
    """The option named by ``option_id``; without one, the reader's only active option of
    that type, or the only one of the requested duration. Several and none of them of that
    duration: 422 option_required (which option sets the rate is the client's choice)."""
    options = [plain(o) for o in (profile.reading_options or [])]
    candidates = [o for o in options if o.get("type") == option_type and o.get("isActive", True)
                  and option_moderation.bookable(o)]  # an option whose name moderation holds is not on offer
    if option_id is not None:
        candidates = [o for o in candidates if o.get("id") == option_id]
    if not candidates:
        raise BusinessRuleViolation("This reader does not offer that reading option.", code="option_unavailable",
                                    details={"optionType": option_type, "optionId": option_id})
    if len(candidates) > 1:
        of_duration = [o for o in candidates if int(o.get("duration") or 0) == duration]
        if len(of_duration) != 1:
            raise BusinessRuleViolation(
                "This reader offers more than one option of this reading type; choose one with optionId.",
                code="option_required",
                details={"optionType": option_type, "optionIds": [o.get("id") for o in candidates]})
        return of_duration[0]
    return candidates[0]


def approved_reader(reader_id: str) -> ReaderProfile:
    try:
        profile = ReaderProfile.get(reader_id)
    except ReaderProfile.DoesNotExist:
        raise NotFound("reader") from None
    if profile.status != "approved":
        raise NotFound("reader")
    return profile


def prepare(reader_id: str, option_type: str, option_id: str | None, duration: int, scheduled_at: datetime | None,
            *, topic_id: str | None = None, now: datetime | None = None) -> Booking:
    """Price and bookability of a reading (no writes). Two reads: the reader's profile and
    one BatchGetItem for the catalog entries (time span, topic)."""
    return prepare_for(approved_reader(reader_id), option_type, option_id, duration, scheduled_at,
                       topic_id=topic_id, now=now)


def prepare_for(profile: ReaderProfile, option_type: str, option_id: str | None, duration: int,
                scheduled_at: datetime | None, *, topic_id: str | None = None,
                now: datetime | None = None) -> Booking:
    """``prepare`` with the reader's profile already read (one BatchGetItem of the catalog,
    and the slots of a scheduled time)."""
    moment = common.now_or(now)
    start = scheduled_start(scheduled_at)
    option = _choose_option(profile, option_type, option_id, duration)
    keys = [("time_span", time_span_id(duration))] + ([("topic", topic_id)] if topic_id else [])
    found = _catalog_items(keys)
    span = found.get(("time_span", time_span_id(duration)))
    if span is None:
        raise field_error("duration", "Must be the duration of one of the catalog's time spans (GET /catalog).")
    topic = None
    if topic_id is not None:
        topic = found.get(("topic", topic_id))
        if topic is None:
            raise field_error("topicId", "Must be an active topic id from GET /catalog.")
    price = pricing.price(option, duration, span.get("multiplier", "1"))
    return timed(profile, option, duration, price, topic, start, moment)


def timed(profile: ReaderProfile, option: dict[str, Any], duration: int, price: pricing.Price,
          topic: dict[str, Any] | None, start: datetime | None, moment: datetime, *,
          read_slots: bool = True) -> Booking:
    """When the reading would happen and whether the reader can take it then: online for an
    immediate one; inside their weekly schedule and not booked for a scheduled one (one
    BatchGetItem of the slots unless ``read_slots`` is False: the booking transaction's slot
    conditions decide anyway, the read only answers a quote)."""
    availability = plain(profile.availability) if profile.availability else {}
    if option["type"] == "video_message":
        if start is not None:
            raise field_error("scheduledAt", "A video message is not scheduled; leave it out.")
        return Booking(profile, option, duration, price, "immediate", None, None, True, None, topic)
    if start is None:
        available = bool(profile.is_online) and availability.get("instantBooking", True) is not False
        return Booking(profile, option, duration, price, "immediate", None, None, available,
                       None if available else "reader_offline", topic)
    if start < moment + SCHEDULE_LEAD or start > moment + SCHEDULE_HORIZON:
        raise field_error("scheduledAt", _HORIZON_MESSAGE)
    if not pricing.on_slot_boundary(start):
        raise field_error("scheduledAt", "Must be on a 5-minute boundary (e.g. 14:05:00Z).")
    end = start + timedelta(minutes=duration)
    ok = pricing.within_availability(availability, start, end)
    reason = None if ok else "outside_availability"
    if ok and read_slots and _slots_taken(profile.reader_id, start, end):
        ok, reason = False, "slot_taken"
    return Booking(profile, option, duration, price, "scheduled", start, end, ok, reason, topic)


def choose_option(profile: ReaderProfile, option_type: str, option_id: str | None, duration: int) -> dict[str, Any]:
    """The reader's active option a booking of ``option_type`` uses (see ``_choose_option``)."""
    return _choose_option(profile, option_type, option_id, duration)


def _slots_taken(reader_id: str, start: datetime, end: datetime) -> bool:
    return any(True for _ in ReadingSlot.batch_get(common.slot_keys(reader_id, start, end)))


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def _reading_id_for(user_id: str, idempotency_key: str) -> str:
    return "rdg_" + hashlib.sha256(f"{user_id}:{idempotency_key}".encode()).hexdigest()[:26]


def has_request(user_id: str, idempotency_key: str) -> bool:
    """Whether this caller's request with this Idempotency-Key already created its reading
    (one read): its retry is a replay, let through past the rate limit."""
    return _IDEMPOTENCY_KEY.match(idempotency_key) is not None and \
        common.existing(_reading_id_for(user_id, idempotency_key)) is not None


def request(client: User, *, reader_id: str, option_type: str, option_id: str | None, duration: int,
            scheduled_at: datetime | None, topic_id: str, question: str | None, idempotency_key: str | None,
            now: datetime | None = None) -> tuple[Reading, bool]:
    """Create the reading and hold its price in one transaction. Returns (reading, created);
    a retried request with the same Idempotency-Key returns the first one (created False)."""
    moment = common.now_or(now)
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise field_error("Idempotency-Key", "Must be 1 to 200 printable ASCII characters.")
    start = scheduled_start(scheduled_at)
    payload = {"readerId": reader_id, "optionType": option_type, "optionId": option_id, "duration": duration,
               "scheduledAt": iso(start) if start else None, "topicId": topic_id, "question": question}
    reading_id = _reading_id_for(client.user_id, idempotency_key) if idempotency_key else f"rdg_{new_id()}"
    try:
        booking = _validated_booking(client, reader_id, option_type, option_id, duration, start, topic_id,
                                     question, moment)
    except DomainError:
        # A retry whose first attempt succeeded answers with that reading even when the
        # request would no longer validate (the reader went offline, the credits are held).
        first = common.existing(reading_id) if idempotency_key else None
        if first is None:
            raise
        return _replay(first, client.user_id, payload), False
    reading = _new_reading(reading_id, client, booking, topic_id, question, payload, moment)
    try:
        commit(client, booking, reading)
    except ConditionsFailed as failed:
        if "reading" in failed or ledger.already_applied(failed):  # the same Idempotency-Key, first
            first = common.existing(reading_id)
            if first is None:
                raise Conflict("This request is being processed; retry it in a moment.", code="in_progress",
                               details={"failed": sorted(failed.labels)}) from failed
            return _replay(first, client.user_id, payload), False
        raise_booking_failure(failed, client.user_id)
        raise
    return reading, True


def new_reading(reading_id: str, client: User, booking: Booking, *, topic_id: str, question: str | None,
                payload: dict[str, Any], moment: datetime) -> Reading:
    """The reading a booking creates (not written: ``commit`` writes it)."""
    return _new_reading(reading_id, client, booking, topic_id, question, payload, moment)


def commit(client: User, booking: Booking, reading: Reading, *,
           also: Callable[[Transaction], None] | None = None) -> None:
    """The booking's unit of work: the reading, its slot locks, the hold of its price, its
    ``reading.requested`` event, and whatever ``also`` adds (the suggestion path closes the
    status in it). Raises ``ConditionsFailed`` (labels ``reading``, ``reader``, ``slot``, the
    ledger's, and ``also``'s) for the caller to answer; see ``raise_booking_failure``."""
    reading_id, reader_id = reading.reading_id, booking.reader.reader_id
    slots = (common.slot_keys(reader_id, booking.start, booking.end) if booking.start and booking.end else [])
    expires = int((booking.end + timedelta(days=1)).timestamp()) if booking.end else 0

    def work(tx: Transaction) -> None:
        tx.save(reading, condition=Reading.reading_id.does_not_exist(), label="reading")
        # The profile was read eventually consistent, outside this transaction: a suspension or
        # deletion committed meanwhile must stop the booking (label ``reader``).
        tx.condition_check(ReaderProfile, reader_id, condition=ReaderProfile.status == "approved", label="reader")
        for key in slots:
            tx.save(ReadingSlot(slot_key=key, reading_id=reading_id, expires_at=expires),
                    condition=ReadingSlot.slot_key.does_not_exist(), label="slot")
        ledger.hold(tx, client.user_id, booking.price.total, entry_id=f"hold:{reading_id}", ref=reading_id,
                    memo=f"{booking.option.get('name') or booking.option['type']} with {booking.reader.display_name}",
                    now=reading.created_at)  # dated at the request, like the reading
        outbox.emit(tx, "reading.requested", readingId=reading_id, clientId=client.user_id, readerId=reader_id,
                    type=reading.reading_option["type"], schedule=booking.schedule,
                    scheduledStart=reading.scheduled_start, credits=booking.price.total)
        if also is not None:
            also(tx)

    atomically(work, busy="Your booking is busy right now; try again in a moment.")
    telemetry.reading_transition("request", "requested")
    reading.version = 1


def raise_booking_failure(failed: ConditionsFailed, client_id: str) -> None:
    """The 404/409/422 for a booking transaction's failed reader, slot or balance condition
    (returns when none failed: the caller answers its own labels)."""
    if "reader" in failed:  # suspended or removed since it was read: as if it had been before
        raise NotFound("reader") from failed
    if "slot" in failed:
        raise Conflict(_UNAVAILABLE["slot_taken"], code="slot_taken") from failed
    if ledger.short_of_credits(failed, client_id):
        raise ledger.insufficient(client_id) from failed


def _new_reading(reading_id: str, client: User, booking: Booking, topic_id: str, question: str | None,
                 payload: dict[str, Any], moment: datetime) -> Reading:
    assert booking.topic is not None
    at = iso(moment)
    if booking.option["type"] == "video_message":
        respond_by = moment + RESPOND_MESSAGE
    elif booking.start is None:
        respond_by = moment + RESPOND_IMMEDIATE
    else:
        respond_by = min(moment + RESPOND_SCHEDULED_MAX, booking.start)
    reader_id = booking.reader.reader_id
    return Reading(
        reading_id=reading_id, client_id=client.user_id, reader_id=reader_id, status="requested",
        topic_id=topic_id, topic=str(booking.topic["name"]), question=(question or "").strip() or None,
        reading_option={k: booking.option[k] for k in ("id", "type", "name", "duration", "price")
                        if k in booking.option},
        duration=booking.duration, pricing=booking.price.breakdown(), credits_cost=booking.price.total,
        schedule=booking.schedule, scheduled_start=iso(booking.start) if booking.start else None,
        scheduled_end=iso(booking.end) if booking.end else None, respond_by=iso(respond_by),
        slots=len(common.slot_keys(reader_id, booking.start, booking.end)) if booking.start and booking.end else 0,
        request_fingerprint=_fingerprint(payload), created_at=at, updated_at=at,
        client_tab=f"{client.user_id}#requested", reader_tab=f"{reader_id}#requested",
        timer="expire", timer_at=iso(respond_by),
    )


def check_client(client: User, reader_id: str, question: str | None) -> None:
    """What the client must meet to book with ``reader_id``: the 18+ declaration, the terms
    of service and privacy policy in force accepted (kept per container: no read while fresh), nothing owed, not
    themselves, a question within its limit."""
    if client.age_verified_at is None:
        raise BusinessRuleViolation("Confirm you are 18 or older before booking a reading "
                                    "(POST /me/age-verification).", code="age_verification_required")
    compliance.require_accepted(client)  # 422 terms_not_accepted, naming the documents to accept
    if int(client.credits_receivable or 0) < 0:
        raise BusinessRuleViolation("A refunded or disputed payment left credits owed; buy credits to settle it "
                                    "before booking.", code="payment_restricted",
                                    details={"owed": -int(client.credits_receivable)})
    if reader_id == client.user_id:
        raise BusinessRuleViolation("You cannot book a reading with yourself.", code="own_reading")
    if question is not None and len(question) > QUESTION_MAX:
        raise field_error("question", f"Must be at most {QUESTION_MAX} characters.")


def check_available(booking: Booking) -> None:
    """409 with the reason when the reader cannot take the reading then."""
    if not booking.available:
        raise Conflict(_UNAVAILABLE.get(booking.reason or "", "The reader cannot take this reading then."),
                       code=booking.reason or "unavailable")


def _validated_booking(client: User, reader_id: str, option_type: str, option_id: str | None, duration: int,
                       start: datetime | None, topic_id: str, question: str | None, moment: datetime) -> Booking:
    check_client(client, reader_id, question)
    booking = prepare(reader_id, option_type, option_id, duration, start, topic_id=topic_id, now=moment)
    assert booking.topic is not None
    if not booking.topic.get("isGeneral") and not (question and question.strip()):
        raise field_error("question", "A question is required unless the topic is the general reading.")
    check_available(booking)
    return booking


def _replay(first: Reading, client_id: str, payload: dict[str, Any]) -> Reading:
    if first.client_id != client_id or first.request_fingerprint != _fingerprint(payload):
        raise Conflict("This Idempotency-Key was used for a different request.", code="idempotency_key_reused")
    return first
