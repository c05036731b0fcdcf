"""Users: provisioning on first sight, the caller's own profile and preferences."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.auth import Principal
from chalicelib.errors import NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.users import User


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """The caller behind verified token claims: one GetItem when known, a conditional
    put the first time a subject is seen (it becomes a client)."""
    user = get_or_provision(claims["sub"], email=_claim_str(claims, "email"), name=_claim_str(claims, "name"))
    return Principal(user_id=user.user_id, role=user.role, status=user.status, email=user.email, record=user)


def _claim_str(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def get_or_provision(user_id: str, *, email: str | None = None, name: str | None = None) -> User:
    try:
        return User.get(user_id)
    except User.DoesNotExist:
        pass
    now = iso(utcnow())
    user = User(user_id=user_id, email=email, display_name=name, role="client", status="active",
                created_at=now, updated_at=now, last_login_at=now)
    try:
        user.save(condition=User.user_id.does_not_exist())
    except PutError:
        # A concurrent first request provisioned it; read the winner.
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
        actions.append(User.display_name.set(display_name))
    return update_fields(user_id, actions)


def get_preferences(user_id: str) -> tuple[dict[str, Any], str | None]:
    """The stored preferences document (``{}`` until first saved) and when it was saved."""
    return preferences_of(get(user_id))


def preferences_of(user: User) -> tuple[dict[str, Any], str | None]:
    """``get_preferences`` of a user record already read."""
    raw = user.preferences.as_dict() if user.preferences is not None else {}
    stored = raw.pop("_updatedAt", None)
    return raw, stored


def put_preferences(user_id: str, document: dict[str, Any]) -> str:
    """Replace the preferences with ``document`` (already validated, wire-shaped); returns
    when it was saved."""
    now = iso(utcnow())
    document = {**document, "_updatedAt": now}
    update_fields(user_id, [User.preferences.set(document), User.updated_at.set(now)])
    return now
