"""Account rules as plain values: when a suspension is over, and how users are searched.

* A suspension may carry an end (``suspendedUntil``). From that moment the account is
  active for every check (``effective_status``), whether or not the job that tidies ended
  suspensions has written it back yet: the end holds to the request, not to the job.
* Admins search users by the beginning of their email or display name. Both are indexed
  lowercased (``search_key``: NFKC, case-folded, whitespace collapsed) under their first
  ``SEARCH_PREFIX_LENGTH`` characters, so a search is one Query of one small partition
  with ``begins_with`` on the whole key; a shorter search text cannot name a partition.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

ACTIVE = "active"
SUSPENDED = "suspended"
DELETED = "deleted"
SEARCH_PREFIX_LENGTH = 3
# An index key attribute holds at most 1024 bytes; a search text is far shorter than this.
SEARCH_KEY_MAX_CHARS = 200


def suspension_over(until: str | None, now: datetime) -> bool:
    """Whether a suspension ending at ``until`` (ISO 8601; None: no end) has ended at ``now``."""
    return until is not None and datetime.fromisoformat(until) <= now


def effective_status(status: str, suspended_until: str | None, now: datetime) -> str:
    """The status every check uses: a suspension past its end counts as active."""
    if status == SUSPENDED and suspension_over(suspended_until, now):
        return ACTIVE
    return status


def search_key(value: str | None) -> str | None:
    """``value`` as the search indexes hold it (None for nothing to index)."""
    if value is None:
        return None
    key = " ".join(unicodedata.normalize("NFKC", value).casefold().split())[:SEARCH_KEY_MAX_CHARS]
    return key or None


def search_prefix(key: str) -> str:
    """The partition of the search index a key (or a search text) falls in."""
    return key[:SEARCH_PREFIX_LENGTH]
