"""What a UI shows beside a reading's ids: each party's display name and avatar URL.

Design: read at answer time, one BatchGetItem per table per page; no snapshot on the
reading. ``summaries(readings)`` reads the clients' user items (projected) and the readers'
profiles (projected) with one BatchGetItem each, whatever the page size (a page holds at
most 100 readings, BatchGetItem's limit), so a list costs its Query plus two calls, never
a call per row. A snapshot copied onto the reading at request time would save those two
calls but would go stale: a reader's new name or photo, and above all a client's privacy
choice made after booking, must show on readings booked before; and readings written
before this change would need a backfill. Reading at answer time honours the current
preferences and needs none.

The rules (the same for every viewer: the parties and admins):
- The reader: the public profile's display name and profile image, as on the public card
  (``GET /readers/{readerId}``); the image as a URL that loads (``media_urls.public_url``).
- The client: the first name only (as on reviews); the avatar (the account's image) unless
  their ``privacy.profileVisibility`` is ``private``. A deleted account (client or reader) shows neither.
A party whose item is missing shows an id with no name or avatar (never an error).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.media_urls import public_url
from chalicelib.models.base import plain
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.models.users import User

_USER_FIELDS = ["userId", "displayName", "imageUrl", "status", "preferences"]
_PROFILE_FIELDS = ["readerId", "displayName", "profileImage", "status"]


def first_name(name: str | None) -> str | None:
    """The first word of a display name: what a client shows of themselves to readers."""
    return name.split()[0] if name and name.split() else None


def client_summary(user_id: str, user: User | None) -> dict[str, Any]:
    if user is None or user.status == "deleted":
        return {"id": user_id, "displayName": None, "avatarUrl": None}
    privacy = (plain(user.preferences) or {}).get("privacy") or {}
    hidden = privacy.get("profileVisibility") == "private"
    return {"id": user_id, "displayName": first_name(user.display_name),
            "avatarUrl": None if hidden else public_url(user.image_url)}


def reader_summary(reader_id: str, profile: ReaderProfile | None) -> dict[str, Any]:
    if profile is None or profile.status == "deleted":
        return {"id": reader_id, "displayName": None, "avatarUrl": None}
    return {"id": reader_id, "displayName": profile.display_name, "avatarUrl": public_url(profile.profile_image)}


class Parties:
    """The summaries of a page's parties: ``client(reading)`` and ``reader(reading)``."""

    def __init__(self, users: dict[str, User], profiles: dict[str, ReaderProfile]) -> None:
        self._users = users
        self._profiles = profiles

    def client(self, reading: Reading) -> dict[str, Any]:
        return client_summary(reading.client_id, self._users.get(reading.client_id))

    def reader(self, reading: Reading) -> dict[str, Any]:
        return reader_summary(reading.reader_id, self._profiles.get(reading.reader_id))


def summaries(readings: Iterable[Reading]) -> Parties:
    """One BatchGetItem on users (the clients) and one on reader profiles (the readers)."""
    listed = list(readings)
    client_ids = sorted({reading.client_id for reading in listed})
    reader_ids = sorted({reading.reader_id for reading in listed})
    users = ({user.user_id: user for user in User.batch_get(client_ids, attributes_to_get=_USER_FIELDS)}
             if client_ids else {})
    profiles = ({profile.reader_id: profile
                 for profile in ReaderProfile.batch_get(reader_ids, attributes_to_get=_PROFILE_FIELDS)}
                if reader_ids else {})
    return Parties(users, profiles)
