"""Data export and account deletion as plain rules: how long things last, what an export's
state is at a given moment, and how a deleted account's names leave another user's text.

* An export is downloadable for ``EXPORT_AVAILABLE`` after it is built; the bucket's
  lifecycle rule for ``exports/`` (infra/resources.json) deletes the object
  ``EXPORT_AVAILABLE_DAYS`` days after it was written (S3 rounds up to the next midnight UTC,
  so the object outlives its availability). Each ``GET /me/data-export/{id}`` signs a new
  download link valid for ``EXPORT_LINK`` at most.
* A pending export whose job has not finished within ``EXPORT_STALE`` counts as failed (its
  message went to the dead-letter queue); the user may then ask for a new one.
* A deleted account is erased ``ACCOUNT_RETENTION_DAYS`` (config) after its deletion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

EXPORT_AVAILABLE_DAYS = 7
EXPORT_AVAILABLE = timedelta(days=EXPORT_AVAILABLE_DAYS)
EXPORT_LINK = timedelta(hours=1)
EXPORT_STALE = timedelta(hours=1)
# How long an export's record stays after its file is gone, so GET says "expired" rather than 404.
EXPORT_RECORD_KEPT = timedelta(days=30)

PENDING, READY, EXPIRED, FAILED = "pending", "ready", "expired", "failed"
EXPORT_STATES = (PENDING, READY, EXPIRED, FAILED)

# What a deleted account is called where another user's text named it.
FORMER_CLIENT = "a former client"
FORMER_READER = "a former reader"
REMOVED_TEXT = "[removed]"
_SENTENCE_END = re.compile(r"[.!?]\s*$")


def export_state(stored: str, *, requested_at: datetime, available_until: datetime | None, now: datetime) -> str:
    """The state the caller sees: a ready export past its availability is expired; a pending
    one the job has not finished within ``EXPORT_STALE`` has failed."""
    if stored == READY:
        return EXPIRED if available_until is None or now >= available_until else READY
    if stored == PENDING and now - requested_at >= EXPORT_STALE:
        return FAILED
    return stored


def link_lifetime(available_until: datetime, now: datetime) -> timedelta:
    """How long a download link signed now may live: ``EXPORT_LINK``, never past the export."""
    return max(timedelta(seconds=1), min(EXPORT_LINK, available_until - now))


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


def without_names(text: str, names: Iterable[str], replacement: str) -> str:
    """``text`` with every whole-word occurrence of ``names`` (longest first, case as written)
    replaced by ``replacement``, capitalised where it begins a sentence. Names shorter than two
    characters are left alone (they would match ordinary words)."""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")

        def swap(match: re.Match[str], source: str = text) -> str:
            before = source[: match.start()]
            starts = not before.strip() or bool(_SENTENCE_END.search(before))
            return _capitalised(replacement) if starts else replacement

        text = pattern.sub(swap, text)
    return text


def without_quotes(text: str, quoted: Iterable[str]) -> str:
    """``text`` without the quotations of ``quoted`` (a status excerpt quoted as ``: “...”``);
    any other occurrence of one becomes ``REMOVED_TEXT``."""
    for excerpt in sorted({q for q in quoted if q and q.strip()}, key=len, reverse=True):
        text = text.replace(f": \u201c{excerpt}\u201d", "").replace(excerpt, REMOVED_TEXT)
    return text
