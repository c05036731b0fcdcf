"""What every statuses module shares: loading a status, who may see it, and the documents
(camelCase, the product's field names) each viewer gets.

Who sees what:
- the client who posted it, and admins: everything, every suggestion;
- a reader: an active status, with their own suggestions only (never a competitor's); a
  closed one only if they suggested on it (to see how it ended); else 404;
- another client: 404 (a status is not public);
- a deleted status (``deletedAt``): 404 to everyone, its client and admins included.

The author of a status, as readers see it: the first name and the avatar, both hidden when
the client's ``privacy.profileVisibility`` is ``private`` (a status is shown to every
reader, not to one booked party), and then no ``userId`` either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.config import get_settings
from chalicelib.domain.moderation import state_document
from chalicelib.errors import NotFound
from chalicelib.media_urls import public_url
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.services import versions
from chalicelib.services.readings.parties import first_name

AUTHOR_FIELDS = ["userId", "displayName", "imageUrl", "status", "preferences"]


def now_or(now: datetime | None) -> datetime:
    return now or utcnow()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ttl() -> timedelta:
    return timedelta(days=get_settings().status_ttl_days)


def expires_at(created_at: str) -> str:
    """When an active status posted at ``created_at`` closes by itself (the expiry job)."""
    return iso(parse(created_at) + ttl())


def cutoff(now: datetime) -> str:
    """Statuses created at or before this are past their time (closed by the next job run)."""
    return iso(now - ttl())


def load(status_id: str) -> Status:
    try:
        return Status.get(status_id, consistent_read=True)
    except Status.DoesNotExist:
        raise NotFound("status") from None


def viewer_may_see(status: Status, user_id: str, role: str) -> bool:
    if status.deleted_at is not None:  # soft-deleted: gone for everyone (admins included)
        return False
    if role == "admin" or status.user_id == user_id:
        return True
    if role != "reader" or status.moderation is not None:  # held or hidden: its client's only
        return False
    return status.is_active or any(s.get("readerId") == user_id for s in status.suggestion_list())


def owned(status_id: str, user_id: str) -> Status:
    """The caller's own status (another's, or a deleted one, is 404: its existence is not disclosed)."""
    status = load(status_id)
    if status.user_id != user_id or status.deleted_at is not None:
        raise NotFound("status")
    return status


def is_private(user: User | None) -> bool:
    privacy = (plain(user.preferences) or {}).get("privacy") or {} if user is not None else {}
    return bool(privacy.get("profileVisibility") == "private")


def author(user_id: str, user: User | None) -> dict[str, Any]:
    """The status's author as readers see it (see the module's rules)."""
    if user is None or user.status == "deleted" or is_private(user):
        return {"displayName": None, "avatarUrl": None}
    return {"userId": user_id, "displayName": first_name(user.display_name),
            "avatarUrl": public_url(user.image_url)}


def authors(user_ids: list[str]) -> dict[str, User]:
    """The authors of a page of statuses: one BatchGetItem (projected)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    return {user.user_id: user for user in User.batch_get(wanted, attributes_to_get=AUTHOR_FIELDS)}


def category_name(category_id: str, categories: dict[str, dict[str, Any]]) -> str | None:
    found = categories.get(category_id)
    return str(found["name"]) if found and found.get("name") else None


def suggestion_document(status_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    """A suggestion as its client, its reader and admins see it (the product's SuggestedReading)."""
    listed = stored.get("listedPrice")
    price = stored.get("suggestedPrice")
    return {
        "id": stored["id"], "statusId": status_id, "readerId": stored["readerId"],
        "readerName": stored.get("readerName") or "", "readerAvatarUrl": public_url(stored.get("readerImage")),
        "title": stored["title"], "description": stored["description"],
        "suggestedType": stored["suggestedType"], "optionId": stored.get("optionId"),
        "estimatedDuration": int(stored["estimatedDuration"]), "suggestedPrice": price,
        "listedPrice": listed, "isDiscount": price is not None and listed is not None and price < listed,
        "message": stored.get("message"), "scheduledAt": stored.get("scheduledAt"),
        "topicId": stored.get("topicId"), "topicName": stored.get("topicName"), "state": stored["state"],
        "isAccepted": stored["state"] == "accepted",
        "createdAt": stored["createdAt"], "updatedAt": stored.get("updatedAt") or stored["createdAt"],
        "moderation": state_document(stored.get("moderation")),  # its reader and admins only see it then
    }


def status_document(status: Status, viewer_id: str, viewer_role: str, *,
                    categories: dict[str, dict[str, Any]], author_user: User | None = None) -> dict[str, Any]:
    """The product's Status for this viewer: its suggestions filtered by who asks."""
    own_view = viewer_role == "admin" or viewer_id == status.user_id
    suggestions = [s for s in status.suggestion_list() if own_view or s.get("readerId") == viewer_id]
    if own_view:
        suggestions = [s for s in suggestions if s.get("state") != "withdrawn" or viewer_role == "admin"]
    if viewer_role != "admin":  # one held or hidden by moderation: its reader's only
        suggestions = [s for s in suggestions if not s.get("moderation") or s.get("readerId") == viewer_id]
    document: dict[str, Any] = {
        "id": status.status_id, "content": status.content, "mood": status.mood, "category": status.category,
        "categoryName": category_name(status.category, categories), "isActive": status.is_active,
        "state": status.state, "createdAt": status.created_at, "updatedAt": status.updated_at,
        "version": versions.of(status.version), "deletedAt": status.deleted_at,
        "closedAt": status.closed_at, "expiresAt": expires_at(status.created_at) if status.is_active else None,
        "acceptedSuggestedReadingId": status.accepted_suggestion_id if own_view or any(
            s.get("id") == status.accepted_suggestion_id for s in suggestions) else None,
        "suggestionCount": sum(1 for s in status.suggestion_list() if s.get("state") != "withdrawn"
                               and (viewer_role == "admin" or not s.get("moderation"))),
        "suggestedReadings": [suggestion_document(status.status_id, s) for s in suggestions],
    }
    if own_view:
        document["userId"] = status.user_id
        document["readingId"] = status.reading_id
        document["moderation"] = state_document(status.moderation)
    else:
        document["author"] = author(status.user_id, author_user)
        if "userId" in document["author"]:
            document["userId"] = status.user_id
        if any(s.get("state") == "accepted" for s in suggestions):
            document["readingId"] = status.reading_id  # the reading booked from this reader's suggestion
        document["suggestedByYou"] = any(s.get("readerId") == viewer_id and s.get("state") == "active"
                                         for s in suggestions)
    return document
