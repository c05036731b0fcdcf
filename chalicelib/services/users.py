"""Users: provisioning on first sight, the caller's own profile and preferences."""

from __future__ import annotations

from typing import Any, NamedTuple

from pynamodb.exceptions import UpdateError

from chalicelib.auth import Principal
from chalicelib.domain.accounts import effective_status
from chalicelib.errors import Conflict, NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.users import User, name_search_actions
from chalicelib.services import outbox
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SIGNED_UP = "user.signed_up"  # a user's item was created (first API call or Clerk's webhook): platform metrics


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller behind verified token claims: one GetItem when known, a conditional
    put the first time a subject is seen (it becomes a client). The status is the effective
    one: a suspension past its end no longer counts."""
    user = get_or_provision(claims["sub"], email=_claim_str(claims, "email"), name=_claim_str(claims, "name"))
    return Principal(user_id=user.user_id, role=user.role, status=account_status(user), email=user.email,
                     record=user)


def account_status(user: User) -> str:
    """active, suspended or deleted, as every check sees it now (``domain.accounts.effective_status``)."""
    return effective_status(user.status, user.suspended_until, utcnow())


def _claim_str(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def get_or_provision(user_id: str, *, email: str | None = None, name: str | None = None) -> User:
    # Strongly consistent: a suspension or a role change an admin has just committed holds
    # from the user's very next request (an eventually consistent read may lag for a moment).
    try:
        return User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        pass
    now = iso(utcnow())
    user = User(user_id=user_id, email=email, display_name=name, role="client", status="active",
                created_at=now, updated_at=now, last_login_at=now)

    def work(tx: Transaction) -> None:
        tx.save(user, condition=User.user_id.does_not_exist(), label="user")
        outbox.emit(tx, SIGNED_UP, userId=user_id, source="token", createdAt=now)

    try:
        atomically(work)
    except ConditionsFailed:
        # A concurrent first request (or Clerk's webhook) provisioned it; read the winner.
        return User.get(user_id, consistent_read=True)
    return user


def get(user_id: str) -> User:
    try:
        return User.get(user_id)
    except User.DoesNotExist as exc:
        raise NotFound("user") from exc


def update_fields(user_id: str, actions: list[Any]) -> User:
    """One conditional UpdateItem; the returned user carries the new values."""
    user = User(user_id=user_id)
    try:
        user.update(actions=actions, condition=User.user_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise NotFound("user") from exc
        raise
    return user


def update_profile(user_id: str, *, display_name: str | None) -> User:
    actions: list[Any] = [User.updated_at.set(iso(utcnow()))]
    if display_name is not None:
        actions += [User.display_name.set(display_name), *name_search_actions(display_name)]
    return update_fields(user_id, actions)


class StoredPreferences(NamedTuple):
    """The stored preferences document (``{}`` until first saved), when it was saved, and
    its version (raised by one on every save; 0 until first saved)."""
    document: dict[str, Any]
    updated_at: str | None
    version: int


def get_preferences(user_id: str) -> StoredPreferences:
    return preferences_of(get(user_id))


def preferences_of(user: User) -> StoredPreferences:
    """``get_preferences`` of a user record already read."""
    raw = user.preferences.as_dict() if user.preferences is not None else {}
    stored = raw.pop("_updatedAt", None)
    return StoredPreferences(raw, stored, int(user.preferences_version or 0))


def put_preferences(user_id: str, document: dict[str, Any], *, expected_version: int | None = None,
                    reader: bool = False, also: list[Any] | None = None,
                    also_save: list[Any] | None = None) -> StoredPreferences:
    """Replace the preferences with ``document`` (already validated, wire-shaped) and raise
    their version, in one conditional UpdateItem: with ``expected_version``, only while the
    stored version is still that one (else ``Conflict`` version_conflict, nothing written).
    A ``reader``'s preferences decide their public card (privacy: profileVisibility,
    showOnlineStatus), so for a reader the write is a transaction with ``reader.card_changed``.
    ``also``: more update actions of the same item (the marketing consent that follows
    ``notifications.marketingEmails``: services.compliance.marketing_sync); ``also_save``: items
    to put in the same transaction, each new (its consent history entry)."""
    now = iso(utcnow())
    condition = User.user_id.exists()
    if expected_version is not None:
        condition &= (User.preferences_version == expected_version) if expected_version else \
            (User.preferences_version.does_not_exist() | (User.preferences_version == 0))
    user = User(user_id=user_id)
    actions: list[Any] = [User.preferences.set({**document, "_updatedAt": now}),
                          User.preferences_version.add(1), User.updated_at.set(now), *(also or [])]
    try:
        if reader or also_save:
            _save_with_card_event(user, actions, condition, card_event=reader, also_save=also_save or [])
        else:
            user.update(actions=actions, condition=condition)
    except (UpdateError, ConditionsFailed) as exc:
        if isinstance(exc, UpdateError) and exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = get(user_id)  # NotFound when the user is gone; else the version moved
        raise Conflict(f"Your preferences were changed elsewhere since you read them (version {expected_version}; "
                       f"they are now at version {int(current.preferences_version or 0)}). Reload them and "
                       "save again.", code="version_conflict",
                       details={"version": int(current.preferences_version or 0)}) from exc
    return StoredPreferences(document, now, int(user.preferences_version or 0))


def _save_with_card_event(user: User, actions: list[Any], condition: Any, *, card_event: bool = True,
                          also_save: list[Any] | None = None) -> None:
    def work(tx: Transaction) -> None:
        tx.update(user, actions=actions, condition=condition, label="user")
        for item in also_save or []:
            tx.save(item, condition=type(item)._hash_key_attribute().does_not_exist(), label="also")
        if card_event:
            outbox.emit(tx, "reader.card_changed", readerId=user.user_id, reason="preferences")

    atomically(work)
    user.refresh(consistent_read=True)  # the version the transaction wrote
