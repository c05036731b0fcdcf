"""A client's statuses: post, edit, close, list their own, read one.

Posting is one transaction: the status and the client's active-status counter
(``StatusCounter``, at most ``ACTIVE_MAX``), with its ``status.posted`` event. Every close
(by the client, by expiry, by an accepted suggestion, by a delete) goes through ``close_in``:
the state, the feed key removed (it leaves the readers' feed), the still-active suggestions
marked ``closed``, the counter moved down and a ``status.closed`` event naming the readers told.

Every change raises the status's ``version`` (its ETag; services/versions.py); an edit is
conditional on the version it read, so of two concurrent edits one is a 409. Deleting is in
``deleting``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.expressions.operand import Path

from chalicelib.domain.statuses import ACTIVE_MAX
from chalicelib.errors import BusinessRuleViolation, Conflict
from chalicelib.ids import new_id
from chalicelib.models.base import iso
from chalicelib.models.statuses import Status, StatusCounter, counter_key, feed_key
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import catalog, moderation, outbox, versions
from chalicelib.services.readings.common import field_error
from chalicelib.services.statuses.common import load, now_or, owned
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

_CATEGORY = "Must be an active status category id from GET /catalog (categories)."


def excerpt(text: str, limit: int = 140) -> str:
    """The start of a status for a notification: whole words, an ellipsis when cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(",.;:!?") + "…"


def _active_category(category: str) -> None:
    found = catalog.status_categories().get(category)
    if not found or not found.get("active"):
        raise field_error("category", _CATEGORY)


def create(client: User, *, content: str, mood: str | None, category: str, now: datetime | None = None) -> Status:
    """Post a status (400 for an unknown category; 422 too_many_active_statuses past
    ``ACTIVE_MAX``; the moderation hook may refuse the text)."""
    moment = now_or(now)
    _active_category(category)
    verdict = moderation.screen("status", {"content": content, "mood": mood}, author_id=client.user_id,
                                role=client.role)
    at = iso(moment)
    status = Status(status_id=f"sts_{new_id()}", user_id=client.user_id, content=content, mood=mood or None,
                    category=category, state="active", created_at=at, updated_at=at,
                    feed_category=feed_key(category, verdict.state), moderation=verdict.state,
                    suggestions=[], suggestion_count=0, version=versions.FIRST)

    def work(tx: Transaction) -> None:
        tx.save(status, condition=Status.status_id.does_not_exist(), label="status")
        verdict.record(tx, status.status_id, now=moment)
        tx.update(StatusCounter(status_id=counter_key(client.user_id)), actions=[StatusCounter.active.add(1)],
                  condition=StatusCounter.active.does_not_exist() | (StatusCounter.active < ACTIVE_MAX),
                  label="limit")
        # A held status reaches no reader yet (its text could carry a phone number): counted, not told.
        outbox.emit(tx, "status.posted", statusId=status.status_id, clientId=client.user_id, category=category,
                    categoryName=catalog.status_categories()[category].get("name"),
                    excerpt=None if status.moderation else excerpt(content), held=bool(status.moderation))

    try:
        atomically(work, retry_on=moderation.conflicted)
    except ConditionsFailed as failed:
        if "limit" in failed:
            raise BusinessRuleViolation(
                f"You already have {ACTIVE_MAX} active statuses; close one before posting another.",
                code="too_many_active_statuses", details={"limit": ACTIVE_MAX}) from failed
        raise
    return status


def _editable(status: Status) -> None:
    if not status.is_active:
        raise Conflict("This status is closed; post a new one instead.", code="status_closed",
                       details={"state": status.state})
    if status.suggestion_count:
        raise Conflict("A reader has already suggested a reading for this status, so it can no longer be "
                       "edited; close it and post a new one instead.", code="status_has_suggestions")


def update(client_id: str, status_id: str, changes: dict[str, Any], *, role: str = "client",
           expected_version: int | None = None, now: datetime | None = None) -> Status:
    """Edit content, mood or category of an active status that no reader has answered yet
    (409 status_closed / status_has_suggestions: a reader's offer answers what they read).

    The write is conditional on the version and the moderation state read: a concurrent edit
    makes this one a 409 ``version_mismatch``, a moderator's decision in between a 409
    ``moderation_changed`` (never re-applied: its moderation state was worked out from what it
    read). ``expected_version`` (If-Match): only that version may be edited."""
    status = owned(status_id, client_id)
    _editable(status)
    version = versions.of(status.version)
    if expected_version is not None and expected_version != version:
        raise versions.mismatch("status", version, expected_version)
    if "category" in changes:
        _active_category(changes["category"])
    texts: dict[str, str | None] = {k: changes.get(k) for k in ("content", "mood") if k in changes}
    verdict = moderation.screen("status", texts, author_id=client_id, role=role)
    if not changes:
        return status
    moment = now_or(now)
    actions: list[Any] = [Status.updated_at.set(iso(moment)), versions.bump(Status.version)]
    for field, attribute in (("content", Status.content), ("mood", Status.mood), ("category", Status.category)):
        if field in changes:
            value = changes[field]
            actions.append(attribute.remove() if value is None else attribute.set(str(value)))
    # New content is screened afresh and replaces what a moderator held or hid; the same content
    # sent again, or a new mood or category alone, keeps the status held or hidden (the text that
    # was judged is still there).
    new_content = "content" in changes and changes["content"] != status.content
    state = verdict.state if new_content or status.moderation is None else status.moderation
    if state != status.moderation:
        actions.append(Status.moderation.remove() if state is None else Status.moderation.set(state))
    if "category" in changes or state != status.moderation:
        actions.append(Status.feed_category.set(feed_key(changes.get("category", status.category), state)))

    # A moderator's decision does not raise the version: the state worked out above holds only
    # for the moderation state it was worked out from.
    as_read = Status.moderation.does_not_exist() if status.moderation is None else (
        Status.moderation == status.moderation)

    def work(tx: Transaction) -> None:
        tx.update(status, actions=actions, condition=(Status.state == "active") & (Status.suggestion_count == 0)
                  & versions.matches(Status.version, version) & as_read, label="status")
        verdict.record(tx, status_id, now=moment)

    try:
        atomically(work, retry_on=moderation.conflicted)
    except ConditionsFailed as failed:  # a suggestion, a close, a delete or another edit landed in between
        if "status" in failed:
            current = owned(status_id, client_id)  # deleted meanwhile: 404
            _editable(current)
            if versions.of(current.version) == version and current.moderation != status.moderation:
                raise Conflict("A moderator reviewed this status while you edited it: read it again before "
                               "changing it.", code="moderation_changed",
                               details={"currentVersion": version}) from failed
            raise versions.mismatch("status", versions.of(current.version), expected_version) from failed
        raise
    return load(status_id)


def close_in(tx: Transaction, status: Status, *, state: str, reason: str, moment: datetime,
             accepted: str | None = None, reading_id: str | None = None, version: int | None = None,
             also: tuple[Any, ...] = ()) -> list[str]:
    """Close an active status in ``tx`` (conditional on it being active, and on ``version`` when
    given: label ``status``), with the update actions ``also`` (a delete's ``deletedAt``).
    Returns the readers whose suggestion it closes (the one ``accepted`` excepted)."""
    at = iso(moment)
    actions: list[Any] = [Status.state.set(state), Status.closed_at.set(at), Status.updated_at.set(at),
                          Status.feed_category.remove(), versions.bump(Status.version), *also]
    # The suggestions read are all there is: one appended meanwhile fails the close (the
    # callers re-read and close again), so no reader's offer stays active on a closed status.
    condition = (Status.state == "active") & (Status.suggestion_count == int(status.suggestion_count or 0))
    if version is not None:
        condition &= versions.matches(Status.version, version)
    told: list[str] = []
    accepted_reader = None
    for index, suggestion in enumerate(status.suggestion_list()):
        if suggestion.get("state") != "active":
            continue
        item = Path(Status.suggestions)[index]
        mark = "accepted" if suggestion.get("id") == accepted else "closed"
        actions += [item["state"].set(mark), item["updatedAt"].set(at)]
        condition &= item["id"] == suggestion["id"]  # the list is append-only: the index is stable
        if mark == "closed":
            told.append(str(suggestion["readerId"]))
        else:
            accepted_reader = str(suggestion["readerId"])
    if accepted is not None and reading_id is not None:
        actions += [Status.accepted_suggestion_id.set(accepted), Status.reading_id.set(reading_id)]
    tx.update(status, actions=actions, condition=condition, label="status")
    tx.update(StatusCounter(status_id=counter_key(status.user_id)), actions=[StatusCounter.active.add(-1)],
              label="counter")
    outbox.emit(tx, "status.closed", statusId=status.status_id, clientId=status.user_id, reason=reason,
                readerIds=told, acceptedSuggestionId=accepted, acceptedReaderId=accepted_reader, readingId=reading_id)
    return told


def closed_in_memory(status: Status, *, state: str, moment: datetime, accepted: str | None = None,
                     reading_id: str | None = None) -> None:
    """What ``close_in``'s update made of the item, on the object the caller holds, once the
    transaction committed (to answer with the closed status without reading it again)."""
    at = iso(moment)
    suggestions = status.suggestion_list()
    for suggestion in suggestions:
        if suggestion.get("state") == "active":
            suggestion["state"] = "accepted" if suggestion.get("id") == accepted else "closed"
            suggestion["updatedAt"] = at
    status.suggestions = suggestions
    status.state, status.closed_at, status.updated_at, status.feed_category = state, at, at, None
    status.version = versions.of(status.version) + 1
    if accepted is not None and reading_id is not None:
        status.accepted_suggestion_id, status.reading_id = accepted, reading_id


def close(client_id: str, status_id: str, *, expected_version: int | None = None,
          now: datetime | None = None) -> Status:
    """The client closes their status (no reading). Closing a closed one changes nothing.
    ``expected_version`` (If-Match): only that version may be closed (else 409)."""
    moment = now_or(now)

    def work(tx: Transaction) -> Status:
        status = owned(status_id, client_id)
        version = versions.of(status.version)
        if expected_version is not None and expected_version != version:
            raise versions.mismatch("status", version, expected_version)
        if status.is_active:
            close_in(tx, status, state="closed", reason="closed_by_client", moment=moment, version=version)
        return status

    # Without If-Match, a suggestion or an edit landing in between: re-read, close again.
    try:
        atomically(work, retry_on=lambda failed: "status" in failed and expected_version is None)
    except ConditionsFailed as failed:
        if "status" not in failed:
            raise
        current = owned(status_id, client_id)  # deleted meanwhile: 404
        raise versions.mismatch("status", versions.of(current.version), expected_version) from failed
    return load(status_id)


def mine(client_id: str, *, limit: int, cursor: str | None) -> PageResult[Status]:
    """The client's statuses, newest first, active and closed (``isActive`` tells them apart:
    a client has at most ``ACTIVE_MAX`` active ones, so no filter is needed to find them).

    Deleted ones are filtered out. They stay in ``byClient`` (the export and the account's
    erasure find them there), so a page still comes full: PynamoDB's ``limit`` reads on until
    it has ``page_limit`` rows, which costs a second Query only when deleted statuses fall
    inside the page."""

    def run(page_limit: int, start: dict[str, Any] | None) -> Any:
        return Status.by_client.query(client_id, scan_index_forward=False, limit=page_limit, page_size=page_limit,
                                      last_evaluated_key=start, filter_condition=Status.deleted_at.does_not_exist())

    scope = f"GET /statuses/mine:{client_id}"
    return query_page(run, limit=limit, cursor=cursor, scope=scope)
