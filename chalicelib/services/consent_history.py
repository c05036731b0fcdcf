"""The history of a user's consents: every change of marketing, analytics or thirdParty, kept
append-only in the user's partition of the privacy table (``ConsentChange``).

``change(...)`` makes the item a consent's writer saves in the transaction that changes the
consent (services/compliance.py: ``POST /me/consents`` and the marketing switch of
``PUT /me/preferences``), conditional on its key being new, so a change and its history entry
commit together or not at all. An answer that changes nothing (the same answer under the same
privacy policy) writes neither.

Reading is a Query on the user's key (``begins_with consent#``), newest first, paginated
(``page``); the data export reads them all (``all_of``); the purge deletes them (``forget``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.ids import new_id
from chalicelib.models.privacy import CONSENT_PREFIX, ConsentChange
from chalicelib.pagination import PageResult, query_page

SOURCES = ("settings", "signup", "onboarding", "preferences")


def change(user_id: str, consent: str, granted: bool, *, at: str, version: str | None, source: str) -> ConsentChange:
    """The history entry of one change (to save in the change's transaction)."""
    if source not in SOURCES:
        raise ValueError(f"unknown consent source: {source!r}")
    return ConsentChange(
        user_id=user_id,
        sk=ConsentChange.key(at, new_id()),
        consent=consent,
        granted=granted,
        consent_version=version,
        consent_date=at,
        source=source,
    )


def view(entry: ConsentChange) -> dict[str, Any]:
    return {
        "consent": entry.consent,
        "granted": bool(entry.granted),
        "consentVersion": entry.consent_version,
        "consentDate": entry.consent_date,
        "source": entry.source,
    }


def page(user_id: str, *, limit: int, cursor: str | None) -> PageResult[ConsentChange]:
    """The user's changes, newest first: one Query of their partition per page."""
    return query_page(
        lambda size, start: ConsentChange.query(
            user_id,
            ConsentChange.sk.startswith(CONSENT_PREFIX),
            scan_index_forward=False,
            limit=size,
            last_evaluated_key=start,
        ),
        limit=limit,
        cursor=cursor,
        scope=f"GET /me/consents/history:{user_id}",
    )


def _all(user_id: str) -> list[ConsentChange]:
    return list(ConsentChange.query(user_id, ConsentChange.sk.startswith(CONSENT_PREFIX)))


def all_of(user_id: str) -> list[dict[str, Any]]:
    """Every change, oldest first (the data export's)."""
    return [view(entry) for entry in _all(user_id)]


def forget(user_id: str) -> int:
    """Delete the user's history (the purge of a deleted account); how many entries went."""
    count = 0
    with ConsentChange.batch_write() as batch:
        for entry in _all(user_id):
            batch.delete(entry)
            count += 1
    return count
