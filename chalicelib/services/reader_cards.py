"""The public reader card: ``card_document`` (no I/O; the explore snapshot builds every card
with it), who may see a card (``visible_to``), and ``public_card``, one reader's card read
from DynamoDB (``GET /readers/{readerId}``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.readers import VISIBLE_TO, may_see
from chalicelib.errors import NotFound
from chalicelib.models.base import plain
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.services.readers import APPROVED, card_stats, listed_options, masked_fields, profile_document

_READER_ID_MAX = 128

# The user-item attributes a card needs (a projection for GetItem and BatchGetItem).
CARD_USER_FIELDS = ("userId", "role", "status", "preferences")


def public_card(reader_id: str, *, viewer_role: str | None = None) -> dict[str, Any]:
    """Two GetItems: the profile, then the reader's user item (status and the privacy
    preferences, projected); the listed prices come from the cached time spans
    (``listed_options``). A 404 for anything ``card_document`` will not show and for a card
    ``viewer_role`` (None: anonymous) may not see."""
    missing = NotFound("reader", code="reader_not_found")
    if not reader_id or len(reader_id) > _READER_ID_MAX:
        raise missing
    try:
        profile = ReaderProfile.get(reader_id)
    except ReaderProfile.DoesNotExist as exc:
        raise missing from exc
    if profile.status != APPROVED:
        raise missing
    try:
        user = User.get(reader_id, attributes_to_get=list(CARD_USER_FIELDS))
    except User.DoesNotExist as exc:
        raise missing from exc
    card = card_document(profile, user)
    if card is None or not visible_to(card, viewer_role):
        raise missing
    return card


def visible_to(card: dict[str, Any], viewer_role: str | None) -> bool:
    """Whether a caller of ``viewer_role`` (None: anonymous) may see ``card``: a
    readers_only card only to signed-in readers and admins."""
    return may_see(card.get("visibility"), viewer_role)


def card_document(profile: ReaderProfile, user: User | None) -> dict[str, Any] | None:
    """The public card of ``profile``, or None where no card may be shown: the profile is
    not approved, the user is missing, not an active reader (suspended, deleted), set
    their profile private, or moderation holds or hides its display name (its other held or
    hidden text fields are left out: null; a field whose edit is held or was rejected shows its
    last approved text, as stored). No I/O: the explore snapshot builds every card with it from
    Query pages. ``user`` needs ``CARD_USER_FIELDS`` only."""
    if profile.status != APPROVED or user is None or user.status != "active" or user.role != "reader":
        return None
    privacy = (plain(user.preferences) or {}).get("privacy") or {}
    visibility = privacy.get("profileVisibility") or "public"
    if visibility not in VISIBLE_TO:
        return None  # private (or a value we do not know: shown to nobody rather than to all)
    show_online = privacy.get("showOnlineStatus", True) is not False
    masked = masked_fields(profile)  # held or hidden by moderation, no approved text to show: not public
    if "displayName" in masked:
        return None  # a card without its reader's name is no card
    document = {**profile_document(profile), **dict.fromkeys(masked)}
    stats = card_stats(profile)
    return {
        **{k: v for k, v in document.items() if k not in ("status", "updatedAt")},
        "readingOptions": listed_options([option for option in document["readingOptions"] if option["isActive"]],
                                         public=True),
        "isOnline": bool(profile.is_online) and show_online,
        "lastActive": profile.last_seen_at if show_online else None,
        "isApproved": True,
        "ratingAverage": stats["averageRating"],
        "ratingCount": int(profile.rating_count or 0),
        "totalReadings": stats["totalReadings"],
        "stats": stats,
        "badges": list(plain(profile.badges) or []),
        "reviews": list(plain(profile.recent_reviews) or []),
        "createdDate": profile.created_at,
        "visibility": visibility,
    }
