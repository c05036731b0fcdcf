"""The explore snapshot: every showable reader card, built from Query pages and stored as
one gzip object in the media bucket.

A build Queries the readers table's ``byStatus`` index for approved profiles, page by page,
and BatchGets their users 100 keys per call (projected to ``readers.CARD_USER_FIELDS``), so
its DynamoDB calls grow with pages (about readers/100), never with readers one by one. Each
card is ``readers.card_document(profile, user)``; None (suspended, deleted, private...) is
left out.

The stored form is gzip JSON lines: a header line ``{"format", "builtAt", "count",
"hiddenPresence"}`` then one card per line. ``hiddenPresence`` lists the readers whose
privacy hides their online status: the live overlay must never show them online.

This object is the source of truth; next to it the job stores the index built from it
(``packed``), which is what a cold container loads (``store``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.integrations import s3
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.services import reader_cards as readers  # card_document, CARD_USER_FIELDS, APPROVED

FORMAT_VERSION = 1
KEY = "explore/snapshot.json.gz"
CONTENT_TYPE = "application/gzip"
BATCH_GET_KEYS = 100  # DynamoDB's BatchGetItem limit
# Larger snapshots are refused on load rather than inflated without bound.
MAX_BYTES = 512 * 1024 * 1024


@dataclass
class Built:
    """A snapshot in memory: the cards in build order and what the overlay needs."""

    built_at: str
    cards: list[dict[str, Any]]
    hidden_presence: frozenset[str] = field(default_factory=frozenset)

    @property
    def count(self) -> int:
        return len(self.cards)


def shows_online(user: User | None) -> bool:
    """The reader's privacy.showOnlineStatus (default shown), as ``card_document`` reads it."""
    if user is None:
        return True
    privacy = (plain(user.preferences) or {}).get("privacy") or {}
    return privacy.get("showOnlineStatus", True) is not False


def _chunks(profiles: Iterable[ReaderProfile], size: int) -> Iterator[list[ReaderProfile]]:
    chunk: list[ReaderProfile] = []
    for profile in profiles:
        chunk.append(profile)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def approved_profiles() -> Iterable[ReaderProfile]:
    """Every approved profile, one Query page (up to 1 MB) at a time."""
    return ReaderProfile.by_status.query(readers.APPROVED)


def build(*, now: datetime | None = None, profiles: Iterable[ReaderProfile] | None = None) -> Built:
    """Read every approved reader and their user; ``profiles`` replaces the Query (the bench
    feeds generated profiles straight in), the users are still BatchGot."""
    built_at = iso(now or utcnow())
    cards: list[dict[str, Any]] = []
    hidden: set[str] = set()
    for chunk in _chunks(approved_profiles() if profiles is None else profiles, BATCH_GET_KEYS):
        users = {user.user_id: user
                 for user in User.batch_get([profile.reader_id for profile in chunk],
                                            attributes_to_get=list(readers.CARD_USER_FIELDS))}
        for profile in chunk:
            user = users.get(profile.reader_id)
            card = readers.card_document(profile, user)
            if card is None:
                continue
            cards.append(card)
            if not shows_online(user):
                hidden.add(profile.reader_id)
    return Built(built_at=built_at, cards=cards, hidden_presence=frozenset(hidden))


def serialize(built: Built) -> bytes:
    header = {"format": FORMAT_VERSION, "builtAt": built.built_at, "count": built.count,
              "hiddenPresence": sorted(built.hidden_presence)}
    lines = [json.dumps(header, separators=(",", ":"))]
    lines += [json.dumps(card, separators=(",", ":"), default=str) for card in built.cards]
    return gzip.compress("\n".join(lines).encode(), compresslevel=6)


class SnapshotFormatError(ValueError):
    """The stored object is not a snapshot this code reads."""


def parse(data: bytes) -> Built:
    try:
        text = gzip.decompress(data).decode()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SnapshotFormatError("The explore snapshot is not gzip UTF-8 text.") from exc
    lines = text.split("\n")
    header = json.loads(lines[0])
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        raise SnapshotFormatError(f"The explore snapshot has format {header.get('format')!r}, "
                                  f"not {FORMAT_VERSION}.")
    cards = [json.loads(line) for line in lines[1:] if line]
    if len(cards) != header.get("count"):
        raise SnapshotFormatError(f"The explore snapshot holds {len(cards)} cards, its header says "
                                  f"{header.get('count')}.")
    return Built(built_at=str(header["builtAt"]), cards=cards,
                 hidden_presence=frozenset(header.get("hiddenPresence") or ()))


def write(built: Built) -> str:
    """Store the snapshot (one PutObject); returns its ETag."""
    return s3.put(get_settings().media_bucket_name, KEY, serialize(built), content_type=CONTENT_TYPE)


def read(etag: str | None = None) -> tuple[Built, str] | s3.NotModifiedType | None:
    """The stored snapshot and its ETag (one GetObject); ``s3.NOT_MODIFIED`` when its ETag is
    still ``etag``; None when there is none yet."""
    stored = s3.read_if_changed(get_settings().media_bucket_name, KEY, etag=etag, limit=MAX_BYTES)
    if stored is None or stored is s3.NOT_MODIFIED:
        return stored
    assert isinstance(stored, s3.StoredObject)
    if stored.size > MAX_BYTES:
        raise SnapshotFormatError(f"The explore snapshot exceeds {MAX_BYTES} bytes.")
    return parse(stored.data), stored.etag
