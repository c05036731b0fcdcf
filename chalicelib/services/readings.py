"""Readings: quote, request, the lifecycle, delivery, reviews and disputes.

Every transition is in ``TRANSITIONS`` (who may do it, from which states, to which) and is
one transaction: the reading's update, conditional on the state it was read in and on its
version (two concurrent transitions: one wins, the other gets 409), the ledger movement it
implies (hold, capture, release, refund, payout: deterministic entry ids per reading, so
none can apply twice), the slot locks it takes or frees, and its outbox event.

Money per transition (shared/DESIGN.md):
  request             hold the price (client available -> held)
  accept              capture it (held -> platform revenue)
  decline, expire,
  cancel (requested)  release it (held -> available)
  cancel (accepted)   refund from revenue (allowed: >= 24 h before a scheduled start, or a
                      video message past its delivery deadline; the reader may always
                      cancel an accepted reading, refunding the client in full)
  no-show (reader)    refund in full (reported by the client 15 min after the start)
  complete, deliver,
  no-show (client)    pay the reader (revenue -> reader earnings minus the platform fee)
  resolve dispute     full or partial refund, taken back from the reader's earnings and
                      the platform fee in proportion; or rejected (stays completed)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    Forbidden,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from chalicelib.ids import new_id
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.catalog import CATALOG_PARTITION, CatalogItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, ReadingSlot, Review
from chalicelib.models.users import User
from chalicelib.pagination import PageQuery, PageResult, paginate
from chalicelib.services import ledger, outbox, pricing
from chalicelib.services.tx import Transaction

# Policy, in one place (documented in the route descriptions and the README).
RESPOND_IMMEDIATE = timedelta(minutes=10)  # an immediate request expires if not answered
RESPOND_MESSAGE = timedelta(hours=24)  # a video-message request expires if not answered
RESPOND_SCHEDULED_MAX = timedelta(hours=24)  # ... and a scheduled one, or at its start if sooner
MESSAGE_DELIVERY = timedelta(hours=72)  # a video message is due this long after acceptance
SCHEDULE_LEAD = timedelta(minutes=30)  # scheduled readings start at least this far ahead
SCHEDULE_HORIZON = timedelta(days=90)
FREE_CANCEL_BEFORE = timedelta(hours=24)  # a client may cancel an accepted scheduled reading until then
EARLY_START = timedelta(minutes=10)  # a scheduled reading may start this much early
NO_SHOW_AFTER = timedelta(minutes=15)  # either side may report a no-show this long after the start
REMIND_BEFORE = timedelta(hours=1)
REVIEW_WINDOW = timedelta(days=14)
DISPUTE_WINDOW = timedelta(days=14)
QUESTION_MAX = 1000
LIVE_TYPES = ("phone_call", "live_video")

TABS: dict[str, tuple[str, ...]] = {
    "requested": ("requested",),
    "accepted": ("accepted", "in_progress"),
    "archived": ("declined", "cancelled", "expired", "completed", "disputed", "refunded"),
}
_TAB_OF = {status: tab for tab, statuses in TABS.items() for status in statuses}
RELEASED = ("declined", "cancelled", "expired", "refunded")  # states that free the reader's slots


@dataclass(frozen=True)
class Rule:
    actors: frozenset[str]
    sources: frozenset[str]
    target: str


def _rule(actors: set[str], sources: set[str], target: str) -> Rule:
    return Rule(frozenset(actors), frozenset(sources), target)


TRANSITIONS: dict[str, Rule] = {
    "accept": _rule({"reader"}, {"requested"}, "accepted"),
    "decline": _rule({"reader"}, {"requested"}, "declined"),
    "cancel": _rule({"client", "reader"}, {"requested", "accepted"}, "cancelled"),
    "start": _rule({"reader"}, {"accepted"}, "in_progress"),
    "complete": _rule({"reader", "client"}, {"in_progress"}, "completed"),
    "deliver": _rule({"reader"}, {"accepted"}, "completed"),  # a video message
    "expire": _rule({"system"}, {"requested"}, "expired"),
    "report_no_show": _rule({"client", "reader"}, {"accepted", "in_progress"}, "completed|refunded"),
    "dispute": _rule({"client"}, {"completed"}, "disputed"),
    "resolve": _rule({"admin"}, {"disputed"}, "refunded|completed"),
}


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def tab_of(status: str) -> str:
    return _TAB_OF[status]


# --- loading and access -----------------------------------------------------------------

def get(reading_id: str) -> Reading:
    try:
        return Reading.get(reading_id, consistent_read=True)
    except Reading.DoesNotExist:
        raise NotFound("reading") from None


def party_role(reading: Reading, user_id: str) -> str | None:
    if user_id == reading.client_id:
        return "client"
    if user_id == reading.reader_id:
        return "reader"
    return None


def visible(reading_id: str, user_id: str, role: str) -> Reading:
    """The reading if the caller is one of its parties or an admin; 404 otherwise (another
    client's reading is not even acknowledged)."""
    reading = get(reading_id)
    if party_role(reading, user_id) is None and role != "admin":
        raise NotFound("reading")
    return reading


def allowed_actions(reading: Reading, user_id: str, role: str, now: datetime | None = None) -> list[str]:
    """What the caller could do next (for the frontend's buttons); the rules still apply."""
    actor = party_role(reading, user_id) or ("admin" if role == "admin" else None)
    if actor is None:
        return []
    actions = [name for name, rule in TRANSITIONS.items()
               if actor in rule.actors and reading.status in rule.sources]
    option_type = reading.reading_option["type"]
    if option_type == "video_message":
        actions = [a for a in actions if a not in ("start", "complete", "report_no_show")]
    else:
        actions = [a for a in actions if a != "deliver"]
    if actor == "client" and reading.status == "completed":
        moment = _now(now)
        completed = _parse(reading.completed_at)
        if reading.review is None and completed and moment - completed <= REVIEW_WINDOW:
            actions.append("review")
        if not (completed and moment - completed <= DISPUTE_WINDOW) and "dispute" in actions:
            actions.remove("dispute")
    if actor == "reader" and reading.status in ("accepted", "in_progress") and option_type in LIVE_TYPES:
        actions.append("join")
    return actions


# --- quote and request ------------------------------------------------------------------

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
    reason: str | None
    topic: dict[str, Any] | None = None


def _field_error(path: str, message: str) -> ValidationFailed:
    return ValidationFailed("the request is not valid", details={"fields": [
        {"path": path, "message": message, "type": "value_error"}]})


def _catalog_items(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Active catalog entries by (kind, id), one BatchGetItem."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in CatalogItem.batch_get([(CATALOG_PARTITION, f"{kind}#{item_id}") for kind, item_id in keys]):
        if item.active:
            found[(item.kind, item.item_id)] = {"id": item.item_id, **plain(item.data.as_dict())}
    return found


def _choose_option(profile: ReaderProfile, option_type: str, option_id: str | None) -> dict[str, Any]:
    options = [plain(o) for o in (profile.reading_options or [])]
    candidates = [o for o in options if o.get("type") == option_type and o.get("isActive", True)]
    if option_id is not None:
        candidates = [o for o in candidates if o.get("id") == option_id]
    if not candidates:
        raise BusinessRuleViolation("this reader does not offer that reading option", code="option_unavailable",
                                    details={"optionType": option_type, "optionId": option_id})
    return candidates[0]


def _reader(reader_id: str) -> ReaderProfile:
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
    moment = _now(now)
    profile = _reader(reader_id)
    option = _choose_option(profile, option_type, option_id)
    keys = [("time_span", f"{duration}-min")] + ([("topic", topic_id)] if topic_id else [])
    found = _catalog_items(keys)
    span = found.get(("time_span", f"{duration}-min"))
    if span is None:
        raise _field_error("duration", "must be the duration of one of the catalog's time spans (GET /catalog)")
    topic = None
    if topic_id is not None:
        topic = found.get(("topic", topic_id))
        if topic is None:
            raise _field_error("topicId", "must be an active topic id from GET /catalog")
    price = pricing.price(option, duration, span.get("multiplier", "1"))
    availability = plain(profile.availability) if profile.availability else {}
    if option_type == "video_message":
        if scheduled_at is not None:
            raise _field_error("scheduledAt", "a video message is not scheduled; leave it out")
        return Booking(profile, option, duration, price, "immediate", None, None, True, None, topic)
    if scheduled_at is None:
        available = bool(profile.is_online) and availability.get("instantBooking", True) is not False
        return Booking(profile, option, duration, price, "immediate", None, None, available,
                       None if available else "reader_offline", topic)
    start = pricing.utc(scheduled_at)
    if not pricing.on_slot_boundary(start):
        raise _field_error("scheduledAt", "must be on a 5-minute boundary (e.g. 14:05:00Z)")
    if start < moment + SCHEDULE_LEAD or start > moment + SCHEDULE_HORIZON:
        raise _field_error("scheduledAt", "must be between 30 minutes and 90 days from now")
    end = start + timedelta(minutes=duration)
    ok = pricing.within_availability(availability, start, end)
    reason = None if ok else "outside_availability"
    if ok and _slots_taken(reader_id, start, end):
        ok, reason = False, "slot_taken"
    return Booking(profile, option, duration, price, "scheduled", start, end, ok, reason, topic)


def _slot_keys(reader_id: str, start: datetime, end: datetime) -> list[str]:
    return [f"{reader_id}#{iso(slot)}" for slot in pricing.slot_starts(start, end)]


def _slots_taken(reader_id: str, start: datetime, end: datetime) -> bool:
    keys = _slot_keys(reader_id, start, end)
    return any(True for _ in ReadingSlot.batch_get(keys))


def _fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def request(client: User, *, reader_id: str, option_type: str, option_id: str | None, duration: int,
            scheduled_at: datetime | None, topic_id: str, question: str | None, idempotency_key: str | None,
            now: datetime | None = None) -> tuple[Reading, bool]:
    """Create the reading and hold its price in one transaction. Returns (reading, created);
    a retried request with the same Idempotency-Key returns the first one (created False)."""
    moment = _now(now)
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise _field_error("Idempotency-Key", "1-200 printable ASCII characters")
    payload = {"readerId": reader_id, "optionType": option_type, "optionId": option_id, "duration": duration,
               "scheduledAt": iso(scheduled_at) if scheduled_at else None, "topicId": topic_id,
               "question": question}
    reading_id = ("rdg_" + hashlib.sha256(f"{client.user_id}:{idempotency_key}".encode()).hexdigest()[:26]
                  if idempotency_key else f"rdg_{new_id()}")
    try:
        booking = _validated_booking(client, reader_id, option_type, option_id, duration, scheduled_at, topic_id,
                                     question, moment)
    except DomainError:
        # A retry whose first attempt succeeded answers with that reading even when the
        # request would no longer validate (the reader went offline, the credits are held).
        existing = _existing(reading_id) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, client.user_id, payload), False
    assert booking.topic is not None
    at = iso(moment)
    option_type = booking.option["type"]
    if option_type == "video_message":
        respond_by = moment + RESPOND_MESSAGE
    elif booking.start is None:
        respond_by = moment + RESPOND_IMMEDIATE
    else:
        respond_by = min(moment + RESPOND_SCHEDULED_MAX, booking.start)
    reading = Reading(
        reading_id=reading_id, client_id=client.user_id, reader_id=reader_id, status="requested",
        topic_id=topic_id, topic=str(booking.topic["name"]), question=(question or "").strip() or None,
        reading_option={k: booking.option[k] for k in ("id", "type", "name", "duration", "price")
                        if k in booking.option},
        duration=duration, pricing=booking.price.breakdown(), credits_cost=booking.price.total,
        schedule=booking.schedule, scheduled_start=iso(booking.start) if booking.start else None,
        scheduled_end=iso(booking.end) if booking.end else None, respond_by=iso(respond_by),
        slots=len(_slot_keys(reader_id, booking.start, booking.end)) if booking.start and booking.end else 0,
        request_fingerprint=_fingerprint(payload), created_at=at, updated_at=at,
        client_tab=f"{client.user_id}#requested", reader_tab=f"{reader_id}#requested",
        timer="expire", timer_at=iso(respond_by),
    )

    def extra(tx: Transaction) -> None:
        tx.save(reading, condition=Reading.reading_id.does_not_exist(), label="reading")
        if booking.start and booking.end:
            expires = int((booking.end + timedelta(days=1)).timestamp())
            for key in _slot_keys(reader_id, booking.start, booking.end):
                tx.save(ReadingSlot(slot_key=key, reading_id=reading_id, expires_at=expires),
                        condition=ReadingSlot.slot_key.does_not_exist(), label="slot")
        outbox.emit(tx, "reading.requested", readingId=reading_id, clientId=client.user_id, readerId=reader_id,
                    type=option_type, schedule=booking.schedule, scheduledStart=reading.scheduled_start,
                    credits=booking.price.total)

    try:
        applied = ledger.hold(client.user_id, booking.price.total, entry_id=f"hold:{reading_id}", ref=reading_id,
                              memo=f"{booking.option.get('name') or option_type} with {booking.reader.display_name}",
                              extra=extra)
    except ledger.LedgerRejected as exc:
        if "slot" in exc.labels:
            raise Conflict("that time is already booked with this reader", code="slot_taken") from exc
        if "reading" in exc.labels:
            existing = _existing(reading_id)
            if existing is not None:
                return _replay(existing, client.user_id, payload), False
        raise
    if not applied:  # the same Idempotency-Key raced us and won
        existing = _existing(reading_id)
        if existing is None:
            raise Conflict("this request is being processed; retry", code="in_progress")
        return _replay(existing, client.user_id, payload), False
    reading.version = 1
    return reading, True


def _validated_booking(client: User, reader_id: str, option_type: str, option_id: str | None, duration: int,
                       scheduled_at: datetime | None, topic_id: str, question: str | None,
                       moment: datetime) -> Booking:
    if client.age_verified_at is None:
        raise BusinessRuleViolation("confirm you are 18 or older before booking a reading "
                                    "(POST /me/age-verification)", code="age_verification_required")
    if int(client.credits_receivable or 0) < 0:
        raise BusinessRuleViolation("a refunded or disputed payment left credits owed; buy credits to settle it "
                                    "before booking", code="payment_restricted",
                                    details={"owed": -int(client.credits_receivable)})
    if reader_id == client.user_id:
        raise BusinessRuleViolation("you cannot book a reading with yourself", code="own_reading")
    booking = prepare(reader_id, option_type, option_id, duration, scheduled_at, topic_id=topic_id, now=moment)
    assert booking.topic is not None
    if not booking.topic.get("isGeneral") and not (question and question.strip()):
        raise _field_error("question", "a question is required unless the topic is the general reading")
    if not booking.available:
        raise Conflict({"reader_offline": "the reader is not online for an immediate reading",
                        "outside_availability": "the reader is not available at that time",
                        "slot_taken": "that time is already booked with this reader"}[booking.reason or ""],
                       code=booking.reason or "unavailable")
    return booking


def _existing(reading_id: str) -> Reading | None:
    try:
        return Reading.get(reading_id, consistent_read=True)
    except Reading.DoesNotExist:
        return None


def _replay(existing: Reading, client_id: str, payload: dict[str, Any]) -> Reading:
    if existing.client_id != client_id or existing.request_fingerprint != _fingerprint(payload):
        raise Conflict("this Idempotency-Key was used for a different request", code="idempotency_key_reused")
    return existing


# --- transitions ------------------------------------------------------------------------

def _check(reading: Reading, action: str, actor: str) -> Rule:
    rule = TRANSITIONS[action]
    if actor not in rule.actors:
        raise Forbidden(f"the {actor} of a reading cannot {action.replace('_', ' ')} it", code="forbidden_transition")
    if reading.status not in rule.sources:
        raise Conflict(f"a {reading.status} reading cannot be {action.replace('_', ' ')}ed"
                       if action != "report_no_show" else f"no-show cannot be reported on a {reading.status} reading",
                       code="invalid_transition", details={"status": reading.status, "action": action})
    return rule


def _actor(reading: Reading, user_id: str, role: str) -> str:
    actor = party_role(reading, user_id)
    if actor is None:
        if role == "admin":
            return "admin"
        raise NotFound("reading")
    return actor


def _state_actions(reading: Reading, target: str, at: str) -> list[Any]:
    tab = tab_of(target)
    actions: list[Any] = [Reading.status.set(target), Reading.updated_at.set(at),
                          Reading.client_tab.set(f"{reading.client_id}#{tab}"),
                          Reading.reader_tab.set(f"{reading.reader_id}#{tab}")]
    return actions


def _clear_timer() -> list[Any]:
    return [Reading.timer.remove(), Reading.timer_at.remove()]


def _free_slots(tx: Transaction, reading: Reading) -> None:
    start, end = _parse(reading.scheduled_start), _parse(reading.scheduled_end)
    if start and end:
        for key in _slot_keys(reading.reader_id, start, end):
            tx.delete(ReadingSlot(slot_key=key), condition=ReadingSlot.reading_id == reading.reading_id,
                      label="slot-free")


def _commit(reading: Reading, status_before: str, actions: list[Any], event: tuple[str, dict[str, Any]],
            money: Callable[[Callable[[Transaction], None]], bool] | None = None,
            more: Callable[[Transaction], None] | None = None) -> Reading:
    """The reading's update (+ money, + more writes, + the event) in one transaction."""

    def writes(tx: Transaction) -> None:
        tx.update(reading, actions=actions, condition=Reading.status == status_before, label="reading")
        if more is not None:
            more(tx)
        outbox.emit(tx, event[0], **event[1])

    try:
        if money is not None:
            applied = money(writes)
            if not applied:
                raise Conflict("the reading changed meanwhile; reload it", code="reading_changed")
        else:
            tx = Transaction()
            writes(tx)
            try:
                with tx:
                    pass
            except TransactWriteError as exc:
                if not (tx.failed(exc) or Transaction.conflicted(exc)):
                    raise  # not a lost race: a bug, answered as a 500
                raise Conflict("the reading changed meanwhile; reload it", code="reading_changed") from exc
    except ledger.LedgerRejected as exc:
        raise Conflict("the reading changed meanwhile; reload it", code="reading_changed",
                       details={"failed": sorted(exc.labels)}) from exc
    except InsufficientCredits as exc:
        # The client's balance condition failed together with the reading's: another
        # transition won meanwhile (an accept captured the hold a release wanted back).
        if get(reading.reading_id).status != status_before:
            raise Conflict("the reading changed meanwhile; reload it", code="reading_changed") from exc
        raise
    return get(reading.reading_id)


def _event(reading: Reading, **extra: Any) -> dict[str, Any]:
    return {"readingId": reading.reading_id, "clientId": reading.client_id, "readerId": reading.reader_id,
            "type": reading.reading_option["type"], **extra}


def accept(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    _check(reading, "accept", _actor(reading, user_id, role))
    moment = _now(now)
    at = iso(moment)
    actions = [*_state_actions(reading, "accepted", at), Reading.accepted_at.set(at)]
    if reading.reading_option["type"] == "video_message":
        due = moment + MESSAGE_DELIVERY
        actions += [Reading.delivery_due_at.set(iso(due)), Reading.timer.set("deliver_due"),
                    Reading.timer_at.set(iso(due))]
    elif reading.scheduled_start:
        begins = _parse(reading.scheduled_start)
        assert begins is not None
        remind = max(begins - REMIND_BEFORE, moment)
        actions += [Reading.timer.set("remind"), Reading.timer_at.set(iso(remind))]
    else:
        actions += _clear_timer()
    return _commit(reading, "requested", actions, ("reading.accepted", _event(reading)),
                   money=lambda writes: ledger.capture(reading.client_id, int(reading.credits_cost),
                                                       entry_id=f"capture:{reading_id}", ref=reading_id,
                                                       memo="Reading accepted", extra=writes))


def decline(reading_id: str, user_id: str, role: str, *, reason: str, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    _check(reading, "decline", _actor(reading, user_id, role))
    return _close_requested(reading, "declined", by="reader", reason=reason, event="reading.declined", now=now)


def _close_requested(reading: Reading, target: str, *, by: str, reason: str | None, event: str,
                     now: datetime | None) -> Reading:
    at = iso(_now(now))
    actions = [*_state_actions(reading, target, at), Reading.closed_at.set(at), Reading.closed_by.set(by),
               *_clear_timer()]
    if reason:
        actions.append(Reading.close_reason.set(reason))
    return _commit(reading, "requested", actions, (event, _event(reading, reason=reason, by=by)),
                   money=lambda writes: ledger.release(reading.client_id, int(reading.credits_cost),
                                                       entry_id=f"release:{reading.reading_id}",
                                                       ref=reading.reading_id, memo=f"Reading {target}",
                                                       extra=writes),
                   more=lambda tx: _free_slots(tx, reading))


def cancel(reading_id: str, user_id: str, role: str, *, reason: str | None, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    _check(reading, "cancel", actor)
    moment = _now(now)
    if reading.status == "requested":
        if actor == "reader":  # a reader turning down a request declines it
            return _close_requested(reading, "declined", by="reader", reason=reason, event="reading.declined",
                                    now=moment)
        return _close_requested(reading, "cancelled", by="client", reason=reason, event="reading.cancelled",
                                now=moment)
    # accepted: the credits were captured; cancelling refunds them from revenue
    if actor == "client":
        start = _parse(reading.scheduled_start)
        due = _parse(reading.delivery_due_at)
        late_message = reading.reading_option["type"] == "video_message" and due is not None and moment > due
        early_enough = start is not None and start - moment >= FREE_CANCEL_BEFORE
        if not (late_message or early_enough):
            raise BusinessRuleViolation(
                "an accepted reading can be cancelled up to 24 hours before its start (or once a video message "
                "is past its delivery deadline); report a no-show or open a dispute instead",
                code="cancellation_window_closed")
    at = iso(moment)
    actions = [*_state_actions(reading, "cancelled", at), Reading.closed_at.set(at), Reading.closed_by.set(actor),
               Reading.refunded.set(int(reading.credits_cost)), *_clear_timer()]
    if reason:
        actions.append(Reading.close_reason.set(reason))
    return _commit(reading, "accepted", actions, ("reading.cancelled", _event(reading, by=actor, reason=reason,
                                                                              refunded=int(reading.credits_cost))),
                   money=lambda writes: ledger.refund(reading.client_id, int(reading.credits_cost),
                                                      entry_id=f"refund:{reading_id}", ref=reading_id,
                                                      memo="Accepted reading cancelled", extra=writes),
                   more=lambda tx: _free_slots(tx, reading))


def start(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    _check(reading, "start", _actor(reading, user_id, role))
    if reading.reading_option["type"] == "video_message":
        raise BusinessRuleViolation("a video message is delivered, not started", code="not_live")
    moment = _now(now)
    scheduled = _parse(reading.scheduled_start)
    if scheduled is not None and moment < scheduled - EARLY_START:
        raise BusinessRuleViolation("a scheduled reading can start at most 10 minutes early", code="too_early")
    at = iso(moment)
    return _commit(reading, "accepted", [*_state_actions(reading, "in_progress", at), Reading.started_at.set(at),
                                         *_clear_timer()], ("reading.started", _event(reading)))


def _payout_writes(reading: Reading, target: str, at: str, extra_actions: list[Any]) -> tuple[list[Any], int, int]:
    cost = int(reading.credits_cost)
    fee = ledger.platform_fee(cost)
    actions = [*_state_actions(reading, target, at), Reading.completed_at.set(at), Reading.paid_out.set(cost - fee),
               Reading.fee.set(fee), *_clear_timer(), *extra_actions]
    return actions, cost, fee


def complete(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    _check(reading, "complete", actor)
    at = iso(_now(now))
    actions, cost, fee = _payout_writes(reading, "completed", at, [])
    return _commit(reading, "in_progress", actions, ("reading.completed", _event(reading, by=actor, paid=cost - fee)),
                   money=lambda writes: ledger.pay_reader(reading.reader_id, cost, fee=fee,
                                                          entry_id=f"payout:{reading_id}", ref=reading_id,
                                                          memo="Reading completed", extra=writes))


def report_no_show(reading_id: str, user_id: str, role: str, *, now: datetime | None = None) -> Reading:
    """The other party did not show up: reported by the client, the client is refunded in
    full; reported by the reader, the reader is paid. Only from 15 minutes after the start."""
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    _check(reading, "report_no_show", actor)
    if reading.reading_option["type"] == "video_message":
        raise BusinessRuleViolation("a video message has no appointment to miss", code="not_live")
    moment = _now(now)
    begins = _parse(reading.scheduled_start) or _parse(reading.accepted_at)
    if begins is None or moment < begins + NO_SHOW_AFTER:
        raise BusinessRuleViolation("a no-show can be reported 15 minutes after the start", code="too_early")
    at = iso(moment)
    cost = int(reading.credits_cost)
    status_before = reading.status
    if actor == "client":  # the reader did not show up
        actions = [*_state_actions(reading, "refunded", at), Reading.closed_at.set(at), Reading.closed_by.set("client"),
                   Reading.no_show.set("reader"), Reading.refunded.set(cost), *_clear_timer()]
        return _commit(reading, status_before, actions, ("reading.no_show", _event(reading, absent="reader")),
                       money=lambda writes: ledger.refund(reading.client_id, cost, entry_id=f"refund:{reading_id}",
                                                          ref=reading_id, memo="Reader did not show up",
                                                          extra=writes))
    actions, cost, fee = _payout_writes(reading, "completed", at, [Reading.no_show.set("client")])
    return _commit(reading, status_before, actions, ("reading.no_show", _event(reading, absent="client")),
                   money=lambda writes: ledger.pay_reader(reading.reader_id, cost, fee=fee,
                                                          entry_id=f"payout:{reading_id}", ref=reading_id,
                                                          memo="Client did not show up", extra=writes))


def expire(reading_id: str, *, now: datetime | None = None) -> Reading | None:
    """The job's transition: a request not answered in time is auto-declined and released.
    Returns None when the reading moved on meanwhile (accepted first: that one won)."""
    reading = _existing(reading_id)
    if reading is None or reading.status != "requested":
        return None
    moment = _now(now)
    respond_by = _parse(reading.respond_by)
    if respond_by is not None and moment < respond_by:
        return None
    try:
        return _close_requested(reading, "expired", by="system", reason="not answered in time",
                                event="reading.expired", now=moment)
    except Conflict:
        return None


# --- delivery ---------------------------------------------------------------------------

def deliver(reading_id: str, user_id: str, role: str, *, upload_key: str | None,
            sessions: Any = None, now: datetime | None = None) -> Reading:
    """A video message: the reader's uploaded file completes the reading (and pays the
    reader). A call or live video: join details from the live-session adapter (the reading
    stays accepted/in progress; calling again returns the same session)."""
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    if actor != "reader":
        raise Forbidden("only the reading's reader attaches its delivery", code="forbidden_transition")
    moment = _now(now)
    at = iso(moment)
    option_type = reading.reading_option["type"]
    if option_type == "video_message":
        _check(reading, "deliver", actor)
        if not upload_key:
            raise _field_error("uploadKey", "a video message needs the key of the uploaded video (POST /media/uploads)")
        if not upload_key.startswith(f"media/{reading.reader_id}/video_message/"):
            raise _field_error("uploadKey", "must be a video_message you uploaded")
        from chalicelib.integrations import s3
        from chalicelib.services import media

        if s3.read_head(media._bucket(), upload_key, first_bytes=0) is None:
            raise _field_error("uploadKey", "no such upload (upload the file first)")
        delivery = {"type": "video_message", "videoKey": upload_key, "deliveredAt": at}
        actions, cost, fee = _payout_writes(reading, "completed", at, [Reading.delivery.set(delivery)])
        return _commit(reading, "accepted", actions,
                       ("reading.delivered", _event(reading, paid=cost - fee, late=bool(
                           reading.delivery_due_at and at > reading.delivery_due_at))),
                       money=lambda writes: ledger.pay_reader(reading.reader_id, cost, fee=fee,
                                                              entry_id=f"payout:{reading_id}", ref=reading_id,
                                                              memo="Video message delivered", extra=writes))
    if upload_key:
        raise _field_error("uploadKey", "only a video message is delivered as a file")
    if reading.status not in ("accepted", "in_progress"):
        raise Conflict(f"a {reading.status} reading has no live session", code="invalid_transition",
                       details={"status": reading.status, "action": "deliver"})
    if reading.delivery is not None:
        return reading
    from chalicelib.integrations import live_sessions

    session = (sessions or live_sessions.adapter()).create(reading.reading_id, [reading.client_id, reading.reader_id],
                                                          media_type=option_type)
    delivery = {"type": option_type, "createdAt": at, **session}
    return _commit(reading, reading.status, [Reading.delivery.set(delivery), Reading.updated_at.set(at)],
                   ("reading.session_ready", _event(reading)))


def delivery_for(reading: Reading, user_id: str) -> dict[str, Any] | None:
    """What the caller sees of the delivery: the video (a time-limited URL), or the session
    with the caller's own join token only. Nothing for the client until it is attached."""
    if reading.delivery is None:
        return None
    delivery = plain(reading.delivery)
    if delivery.get("type") == "video_message":
        from chalicelib.services import media

        return {"type": "video_message", "deliveredAt": delivery.get("deliveredAt"),
                "videoUrl": media.url_for(delivery.get("videoKey"))}
    attendees = delivery.get("attendees") or {}
    own = attendees.get(user_id)
    return {"type": delivery.get("type"), "provider": delivery.get("provider"), "meetingId": delivery.get("meetingId"),
            "mediaRegion": delivery.get("mediaRegion"), "joinUrl": delivery.get("joinUrl"),
            "attendee": own, "createdAt": delivery.get("createdAt")}


# --- lists ------------------------------------------------------------------------------

def list_for(user_id: str, role: str, as_: str, tab: str, page: PageQuery) -> PageResult[Reading]:
    if as_ == "reader" and role != "reader":
        raise Forbidden("only readers have readings as a reader", code="not_a_reader")
    key = f"{user_id}#{tab}"
    index = Reading.by_reader_tab if as_ == "reader" else Reading.by_client_tab
    return paginate(lambda limit, start: index.query(key, scan_index_forward=False, limit=limit,
                                                     last_evaluated_key=start),
                    page, scope=f"GET /readings:{as_}:{tab}:{user_id}")


# --- reviews ----------------------------------------------------------------------------

def review(reading_id: str, user_id: str, role: str, *, rating: int, comment: str,
           now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    if actor != "client":
        raise Forbidden("only the reading's client reviews it", code="forbidden_transition")
    if reading.status not in ("completed", "disputed", "refunded") or reading.completed_at is None:
        raise Conflict("only a completed reading can be reviewed", code="invalid_transition",
                       details={"status": reading.status, "action": "review"})
    if reading.review is not None:
        raise Conflict("this reading already has your review", code="already_reviewed")
    moment = _now(now)
    if moment - _parse(reading.completed_at) > REVIEW_WINDOW:  # type: ignore[operator]
        raise BusinessRuleViolation("reviews are open for 14 days after the reading", code="review_window_closed")
    at = iso(moment)
    client = User.get(user_id)
    document = {"id": reading_id, "rating": rating, "comment": comment, "createdAt": at}
    for _ in range(ledger.MAX_ATTEMPTS):
        profile = ReaderProfile.get(reading.reader_id, consistent_read=True)
        count = int(profile.rating_count or 0)
        average = float(profile.rating_average or 0)
        new_average = round((average * count + rating) / (count + 1), 4)
        tx = Transaction()
        tx.update(reading, actions=[Reading.review.set(document), Reading.updated_at.set(at)],
                  condition=Reading.review.does_not_exist(), label="reading")
        tx.update(profile, actions=[ReaderProfile.rating_count.set(count + 1),
                                    ReaderProfile.rating_average.set(new_average)],
                  condition=ReaderProfile.rating_count == count if profile.rating_count is not None
                  else ReaderProfile.rating_count.does_not_exist(), label="profile")
        tx.save(Review(reader_id=reading.reader_id, sk=f"{at}#{reading_id}", reading_id=reading_id,
                       client_id=user_id, client_name=_first_name(client.display_name), rating=rating,
                       comment=comment, topic=reading.topic, reading_type=reading.reading_option["type"],
                       created_at=at), condition=Review.sk.does_not_exist(), label="review")
        outbox.emit(tx, "review.created", readingId=reading_id, readerId=reading.reader_id, clientId=user_id,
                    rating=rating)
        try:
            with tx:
                pass
            return get(reading_id)
        except TransactWriteError as exc:
            failed = tx.failed(exc)
            if "reading" in failed:
                raise Conflict("this reading already has your review", code="already_reviewed") from exc
            if "profile" not in failed and not Transaction.conflicted(exc):
                raise
            reading = get(reading_id)
    raise Conflict("the reader's rating changed too often; retry", code="busy")


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def reviews_of(reader_id: str, page: PageQuery) -> PageResult[Review]:
    _reader(reader_id)
    return paginate(lambda limit, start: Review.query(reader_id, scan_index_forward=False, limit=limit,
                                                      last_evaluated_key=start),
                    page, scope=f"GET /readers/{reader_id}/reviews")


# --- disputes ---------------------------------------------------------------------------

def open_dispute(reading_id: str, user_id: str, role: str, *, reason: str, now: datetime | None = None) -> Reading:
    reading = get(reading_id)
    actor = _actor(reading, user_id, role)
    _check(reading, "dispute", actor)
    moment = _now(now)
    if moment - _parse(reading.completed_at) > DISPUTE_WINDOW:  # type: ignore[operator]
        raise BusinessRuleViolation("disputes are open for 14 days after the reading", code="dispute_window_closed")
    at = iso(moment)
    dispute = {"reason": reason, "openedAt": at, "status": "open"}
    actions = [*_state_actions(reading, "disputed", at), Reading.dispute.set(dispute),
               Reading.dispute_flag.set("open"), Reading.disputed_at.set(at)]
    return _commit(reading, "completed", actions, ("dispute.filed", _event(reading, reason=reason)))


def list_disputes(page: PageQuery) -> PageResult[Reading]:
    return paginate(lambda limit, start: Reading.open_disputes.query("open", scan_index_forward=True, limit=limit,
                                                                     last_evaluated_key=start),
                    page, scope="GET /admin/disputes")


def resolve_dispute(reading_id: str, admin_id: str, *, outcome: str, amount: int | None, note: str,
                    now: datetime | None = None) -> Reading:
    """full_refund, partial_refund (1 <= amount <= price) or reject. A refund is taken back
    from the reader's earnings and the platform fee in proportion."""
    reading = get(reading_id)
    if reading.reader_id == admin_id or reading.client_id == admin_id:
        raise Forbidden("you may not resolve a dispute you are part of", code="own_dispute")
    _check(reading, "resolve", "admin")
    at = iso(_now(now))
    cost = int(reading.credits_cost)
    dispute = {**plain(reading.dispute or {}), "status": "resolved", "outcome": outcome, "resolvedAt": at,
               "resolvedBy": admin_id, "note": note}
    base = [Reading.dispute_flag.remove()]
    if outcome == "reject":
        dispute["refunded"] = 0
        actions = [*_state_actions(reading, "completed", at), *base, Reading.dispute.set(dispute)]
        return _commit(reading, "disputed", actions, ("dispute.resolved", _event(reading, outcome=outcome,
                                                                                 refunded=0)),
                       more=lambda tx: _audit(tx, admin_id, reading, dispute))
    refund_amount = cost if outcome == "full_refund" else int(amount or 0)
    if not 1 <= refund_amount <= cost:
        raise _field_error("amount", f"a partial refund is 1 to {cost} credits (the reading's price)")
    paid, fee = int(reading.paid_out or 0), int(reading.fee or 0)
    fee_share = fee * refund_amount // cost if cost else 0
    reader_share = refund_amount - fee_share
    if reader_share > paid:  # never take back more than the reader was paid
        reader_share, fee_share = paid, refund_amount - paid
    dispute["refunded"] = refund_amount
    actions = [*_state_actions(reading, "refunded", at), *base, Reading.dispute.set(dispute),
               Reading.refunded.set(refund_amount), Reading.closed_at.set(at), Reading.closed_by.set("admin")]
    return _commit(reading, "disputed", actions,
                   ("dispute.resolved", _event(reading, outcome=outcome, refunded=refund_amount)),
                   money=lambda writes: ledger.refund(reading.client_id, refund_amount, entry_id=f"refund:{reading_id}",
                                                      ref=reading_id, reader_id=reading.reader_id,
                                                      reader_share=reader_share, fee_share=fee_share,
                                                      memo=f"Dispute resolved: {outcome.replace('_', ' ')}",
                                                      extra=writes),
                   more=lambda tx: _audit(tx, admin_id, reading, dispute))


def _audit(tx: Transaction, admin_id: str, reading: Reading, dispute: dict[str, Any]) -> None:
    from chalicelib.services import audit

    audit.record(tx, actor_id=admin_id, action="dispute.resolve", entity_type="reading",
                 entity_id=reading.reading_id, before={"status": "disputed"},
                 after={"status": "refunded" if dispute.get("refunded") else "completed",
                        "outcome": dispute.get("outcome"), "refunded": dispute.get("refunded")})


# --- timers (the scheduled job) ---------------------------------------------------------

def due(kind: str, now: datetime, limit: int = 200) -> list[str]:
    return [r.reading_id for r in Reading.timers.query(kind, Reading.timer_at <= iso(now), limit=limit)]


def run_timers(now: datetime | None = None) -> dict[str, int]:
    """Expire unanswered requests (releasing their holds), send reminders before scheduled
    readings, flag video messages past their delivery deadline. Idempotent."""
    moment = _now(now)
    counts = {"expired": 0, "reminded": 0, "overdue": 0}
    for reading_id in due("expire", moment):
        if expire(reading_id, now=moment) is not None:
            counts["expired"] += 1
    for kind, event, key in (("remind", "reading.reminder", "reminded"),
                             ("deliver_due", "reading.delivery_overdue", "overdue")):
        for reading_id in due(kind, moment):
            reading = _existing(reading_id)
            if reading is None or reading.timer != kind:
                continue
            tx = Transaction()
            tx.update(reading, actions=_clear_timer(), condition=Reading.timer == kind, label="reading")
            outbox.emit(tx, event, **_event(reading, scheduledStart=reading.scheduled_start,
                                            deliveryDueAt=reading.delivery_due_at))
            try:
                with tx:
                    pass
                counts[key] += 1
            except TransactWriteError:
                continue  # it moved on meanwhile
    return counts
