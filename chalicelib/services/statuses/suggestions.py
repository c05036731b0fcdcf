"""Readers suggest readings for a client's status, and may withdraw them.

A suggestion is priced like a booking (``readings.prepare``: the reader's option, a catalog
time span, the category's topic) and offered at or below that listed price; it is appended
to the status in one transaction with its ``status.suggested`` event, conditional on the
status being active, the reader having no active suggestion on it, and the status holding
fewer than ``SUGGESTIONS_MAX``. It carries the reader's name and picture as they were when
it was made (a suggestion lives at most as long as its status, ``STATUS_TTL_DAYS``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path

from chalicelib.domain.statuses import SUGGESTIONS_MAX
from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from chalicelib.ids import new_id
from chalicelib.models.base import iso
from chalicelib.models.privacy import SuggestionTrace
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.statuses import Status
from chalicelib.services import catalog, catalog_defaults, moderation, outbox, versions
from chalicelib.services.readings import booking as bookings
from chalicelib.services.statuses.common import load, now_or
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

GENERAL_TOPIC_ID = catalog_defaults.slug(catalog_defaults.GENERAL_TOPIC)


def closed(status: Status) -> Conflict:
    return Conflict("This status is closed: it no longer takes suggestions.", code="status_closed",
                    details={"state": status.state})


def topic_of(category: str) -> str:
    """The reading topic a suggestion for a status of ``category`` books under."""
    found = catalog.status_categories().get(category) or {}
    return str(found.get("topicId") or GENERAL_TOPIC_ID)


def suggest(reader_id: str, status_id: str, *, title: str, description: str, suggested_type: str,
            option_id: str | None, duration: int, suggested_price: int | None, message: str | None,
            scheduled_at: datetime | None, now: datetime | None = None) -> tuple[Status, dict[str, Any]]:
    """Returns the status as read before the suggestion (not read again: callers need its
    id and client) and the new suggestion (stored form)."""
    moment = now_or(now)
    status = load(status_id)
    if status.deleted_at is not None:
        raise NotFound("status")
    if status.user_id == reader_id:
        raise BusinessRuleViolation("You cannot suggest a reading for your own status.", code="own_status")
    if not status.is_active:
        raise closed(status)
    if reader_id in (status.suggester_ids or set()):
        raise Conflict("You have already suggested a reading for this status; withdraw it to suggest another.",
                       code="already_suggested")
    try:
        profile: ReaderProfile | None = ReaderProfile.get(reader_id)
    except ReaderProfile.DoesNotExist:
        profile = None
    if profile is None or profile.status != "approved":
        raise Forbidden("Only approved readers can suggest readings.", code="reader_not_approved")
    offer = bookings.prepare_for(profile, suggested_type, option_id, duration, scheduled_at,
                                 topic_id=topic_of(status.category), now=moment)
    if offer.start is not None:
        bookings.check_available(offer)  # a proposed time the reader cannot take is refused now
    listed = offer.price.total
    price = listed if suggested_price is None else suggested_price
    if price > listed:
        raise BusinessRuleViolation(
            f"The suggested price ({price} credits) is above your listed price for this reading ({listed} "
            f"credits); suggest at most {listed}.", code="price_above_listed",
            details={"listedPrice": listed, "suggestedPrice": price})
    verdict = moderation.screen("suggestion", {"title": title, "description": description, "message": message},
                                author_id=reader_id, role="reader")
    assert offer.topic is not None
    at = iso(moment)
    stored: dict[str, Any] = {
        "id": f"sug_{new_id()}", "readerId": reader_id, "readerName": offer.reader.display_name or "",
        "readerImage": offer.reader.profile_image, "title": title, "description": description,
        "suggestedType": suggested_type, "optionId": offer.option.get("id"), "estimatedDuration": duration,
        "suggestedPrice": price, "listedPrice": listed, "multiplier": offer.price.breakdown()["multiplier"],
        "message": message, "scheduledAt": iso(offer.start) if offer.start else None,
        "topicId": str(offer.topic["id"]), "topicName": str(offer.topic["name"]),
        "topicIsGeneral": bool(offer.topic.get("isGeneral")), "state": "active", "createdAt": at, "updatedAt": at,
        "moderation": verdict.state,  # held: its client sees it once a moderator approves it
    }
    stored = {k: v for k, v in stored.items() if v is not None}

    def work(tx: Transaction) -> None:
        tx.update(status, actions=[Status.suggestions.set(Status.suggestions.append([stored])),
                                   Status.suggester_ids.add({reader_id}), Status.suggestion_count.add(1),
                                   Status.updated_at.set(at), versions.bump(Status.version)],
                  condition=(Status.state == "active") & ~Status.suggester_ids.contains(reader_id)
                  & (Status.suggestion_count < SUGGESTIONS_MAX), label="status")
        tx.save(SuggestionTrace.of(reader_id, status_id))  # the purge finds the reader's suggestions by it
        verdict.record(tx, stored["id"], parent_id=status_id, now=moment)
        if verdict.state is None:  # a held suggestion is news to its client once it is approved
            outbox.emit(tx, "status.suggested", statusId=status_id, suggestionId=stored["id"],
                        clientId=status.user_id, readerId=reader_id, title=title, suggestedType=suggested_type,
                        credits=price)

    try:
        atomically(work, retry_on=moderation.conflicted)
    except ConditionsFailed as failed:
        current = load(status_id)
        if not current.is_active:
            raise closed(current) from failed
        if reader_id in (current.suggester_ids or set()):
            raise Conflict("You have already suggested a reading for this status.", code="already_suggested") \
                from failed
        raise BusinessRuleViolation(f"This status already has {SUGGESTIONS_MAX} suggestions.",
                                    code="too_many_suggestions", details={"limit": SUGGESTIONS_MAX}) from failed
    return status, stored


def withdraw(reader_id: str, status_id: str, suggestion_id: str, *, now: datetime | None = None) -> Status:
    """The reader takes back their active suggestion (the client no longer sees it)."""
    status = load(status_id)
    if status.deleted_at is not None:
        raise NotFound("status")
    found = next(((i, s) for i, s in enumerate(status.suggestion_list())
                  if s.get("id") == suggestion_id and s.get("readerId") == reader_id), None)
    if found is None:
        raise NotFound("suggestion")
    index, suggestion = found
    if not status.is_active:
        raise closed(status)
    if suggestion.get("state") != "active":
        raise Conflict("This suggestion is no longer active.", code="suggestion_not_active",
                       details={"state": suggestion.get("state")})
    item = Path(Status.suggestions)[index]
    try:
        at = iso(now_or(now))
        status.update(actions=[item["state"].set("withdrawn"), item["updatedAt"].set(at), Status.updated_at.set(at),
                               Status.suggester_ids.delete({reader_id}), versions.bump(Status.version)],
                      condition=(Status.state == "active") & (item["id"] == suggestion_id)
                      & (item["state"] == "active"))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("This status changed meanwhile (it closed or your suggestion was accepted).",
                           code="status_changed") from exc
        raise
    return load(status_id)
