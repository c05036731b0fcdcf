"""Clerk -> users table: user.created, user.updated and user.deleted, converging.

Svix delivers at least once and in any order, so every delivery is judged against the
state we hold, never against the previous delivery:

* **created/updated** carry Clerk's ``updated_at`` (ms). One conditional UpdateItem
  applies the user's email, name and image only when that stamp is newer than the one
  stored (``clerkUpdatedAt``) and the user is not deleted; it creates the user if the
  webhook arrives before their first API call. Older or equal stamps change nothing.
* **deleted** carries no stamp and is terminal (Clerk never reuses a user id): the item
  becomes a tombstone (``status = "deleted"``, Clerk-sourced personal fields removed,
  ledger balances and role kept) and ``user.deleted`` is emitted in the same transaction
  for the capabilities that hold more of the user's data, with the account's erasure record
  (services/privacy: the purge after the retention period, audited). No later delivery revives it,
  and the token path never provisions the subject again (the item exists).
* Every ``svix-id`` is recorded in ``ProcessedWebhook`` (conditional put) *after* the
  change: a replay is answered from the record without touching the user. Recording
  after applying is deliberate: the change is itself idempotent, so a crash in between
  only costs a harmless re-application on Svix's retry, where recording first would
  lose the event.

The role is never taken from Clerk data; roles live in our table only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, PayloadTooLarge
from chalicelib.errors import field_errors as envelope_fields
from chalicelib.integrations import clerk_webhooks
from chalicelib.integrations.clerk_events import ClerkDeletedUser, ClerkEvent, ClerkUser, WebhookOutcome
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.users import User, email_search_actions, name_search_actions
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import outbox, users
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SOURCE = "clerk"
DELETED = "deleted"
# Replays are harmless once the marker expires (every change is ordered or terminal), so
# markers need not be permanent; 30 days outlasts Svix's retry schedule by far.
MARKER_RETENTION = timedelta(days=30)
USER_EVENTS = ("user.created", "user.updated")


def receive(raw_body: bytes, headers: Mapping[str, str], *, now: datetime | None = None) -> WebhookOutcome:
    """Verify, then apply one delivery; returns what it did."""
    now = now or utcnow()
    if len(raw_body) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {get_settings().max_body_bytes} bytes.")
    try:
        message_id = clerk_webhooks.verify(raw_body, headers, get_settings().clerk_webhook_secrets, now=now)
    except clerk_webhooks.InvalidSignature as exc:
        # The reason is logged, not returned: callers without the secret learn nothing.
        logger.warning("clerk webhook rejected", extra={"reason": str(exc)})
        raise BadRequest("The webhook signature is missing or invalid.", code="invalid_signature") from exc
    event = _parse(raw_body)
    key = f"{SOURCE}#{message_id}"
    if _processed(key):
        return "replay"
    outcome = apply(event, now=now)
    _record(key, event.type, now)
    logger.info("clerk webhook", extra={"svix_id": message_id, "type": event.type, "outcome": outcome})
    return outcome


def apply(event: ClerkEvent, *, now: datetime) -> WebhookOutcome:
    if event.type in USER_EVENTS:
        return "applied" if sync_user(_data(ClerkUser, event), now=now) else "stale"
    if event.type == "user.deleted":
        return "applied" if delete_user(_data(ClerkDeletedUser, event).id, now=now) else "stale"
    return "ignored"


def sync_user(clerk_user: ClerkUser, *, now: datetime) -> bool:
    """Apply Clerk's state if it is newer than ours; False when stale or deleted."""
    stamp = clerk_user.updated_at
    created = (iso(datetime.fromtimestamp(clerk_user.created_at / 1000, UTC))
               if clerk_user.created_at else iso(now))
    email = clerk_user.primary_email()
    name = clerk_user.display_name()
    image = clerk_user.https_image_url()
    actions: list[Any] = [
        User.clerk_updated_at.set(stamp),
        User.updated_at.set(iso(now)),
        User.email.set(email) if email else User.email.remove(),
        *email_search_actions(email),
        *_new_item_defaults(created),
    ]
    # Clerk without a name or an image does not erase the one the user set here.
    if name:
        actions += [User.display_name.set(name), *name_search_actions(name)]
    if image:
        actions.append(User.image_url.set(image))
    if _create(User(user_id=clerk_user.id, email=email, display_name=name, image_url=image, created_at=created,
                    updated_at=iso(now), clerk_updated_at=stamp)):
        return True
    newer = User.clerk_updated_at.does_not_exist() | (User.clerk_updated_at < stamp)
    try:
        User(user_id=clerk_user.id).update(actions=actions, condition=newer & _not_deleted())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _create(user: User) -> bool:
    """A user Clerk tells us of before their first API call: the item (as get_or_provision
    writes it) and ``user.signed_up`` in one transaction; False when the item exists."""
    def work(tx: Transaction) -> None:
        tx.save(user, condition=User.user_id.does_not_exist(), label="user")
        outbox.emit(tx, users.SIGNED_UP, userId=user.user_id, source=SOURCE, createdAt=user.created_at)

    try:
        atomically(work)
    except ConditionsFailed:
        return False
    return True


def delete_user(user_id: str, *, now: datetime) -> bool:
    """Tombstone the user (idempotent); False when already deleted. The account's erasure
    (services/privacy: its purge after the retention period, audited) is recorded in the same
    transaction, with the display name the tombstone removes (the purge looks for it in other
    users' text)."""
    from chalicelib.services.privacy import erasure  # lazy: the webhook's cold start loads it only here

    stamp = iso(now)
    try:
        known = User.get(user_id, consistent_read=True, attributes_to_get=["userId", "displayName"]).display_name
    except User.DoesNotExist:
        known = None
    actions: list[Any] = [
        User.status.set(DELETED),
        User.deleted_at.set(stamp),
        User.updated_at.set(stamp),
        User.email.remove(),
        User.display_name.remove(),
        User.image_url.remove(),
        *email_search_actions(None),
        *name_search_actions(None),
        *_new_item_defaults(stamp, with_status=False),
    ]

    def tombstone(tx: Transaction) -> None:
        tx.update(User(user_id=user_id), actions=actions, condition=_not_deleted(), label="user")
        erasure.record_in(tx, user_id, source=SOURCE, deleted_at=stamp, names=[known], actor_id=SOURCE)
        outbox.emit(tx, "user.deleted", user_id=user_id, source=SOURCE, deleted_at=stamp)

    try:
        atomically(tombstone)
    except ConditionsFailed as failed:
        if "user" in failed:
            return False
        raise
    return True


def _new_item_defaults(created_at: str, *, with_status: bool = True) -> list[Any]:
    """What get_or_provision writes for a new user, set only where absent (if_not_exists),
    so a webhook that arrives before the user's first call creates a complete client."""
    defaults = [
        User.role.set(User.role | "client"),
        User.created_at.set(User.created_at | created_at),
        User.credits_available.set(User.credits_available | 0),
        User.credits_held.set(User.credits_held | 0),
    ]
    if with_status:
        defaults.append(User.status.set(User.status | "active"))
    return defaults


def _not_deleted() -> Any:
    return User.status.does_not_exist() | (User.status != DELETED)


def _parse(raw_body: bytes) -> ClerkEvent:
    try:
        return ClerkEvent.model_validate(json.loads(raw_body))
    except (ValueError, UnicodeDecodeError, ValidationError, RecursionError) as exc:  # RecursionError: deep nesting
        raise BadRequest("The webhook payload is not a Clerk event.", code="invalid_payload") from exc


def _data(model: type[Any], event: ClerkEvent) -> Any:
    try:
        return model.model_validate(event.data)
    except ValidationError as exc:
        fields = [{"path": f"data.{field['path']}", "message": field["message"]}
                  for field in envelope_fields(exc.errors(include_url=False))]
        raise BadRequest(f"The {event.type} payload is incomplete.", code="invalid_payload",
                         details={"fields": fields}) from exc


def _processed(key: str) -> bool:
    try:
        ProcessedWebhook.get(key)
    except ProcessedWebhook.DoesNotExist:
        return False
    return True


def _record(key: str, event_type: str, now: datetime) -> None:
    marker = ProcessedWebhook(event_key=key, source=SOURCE, event_type=event_type, received_at=iso(now),
                              expires_at=int((now + MARKER_RETENTION).timestamp()))
    try:
        marker.save(condition=ProcessedWebhook.event_key.does_not_exist())
    except PutError as exc:
        # A concurrent delivery of the same message recorded it first; its change converged with ours.
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
