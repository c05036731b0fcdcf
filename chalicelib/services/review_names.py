"""A deleted account's name leaves the reviews it wrote: a consumer of ``user.deleted``
replaces the client's first name with "Former client" on each of their reviews (the
Reviews item behind GET /readers/{id}/reviews and the copy in the reader's card,
``recentReviews``). The rating and the comment stay: they are the reader's record.

The client's reviewed readings are found with one Query of their archived tab (reviews
exist only on completed, disputed or refunded readings). Idempotent: a redelivered event
writes the same value again.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.models.base import plain
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, Review, hidden_reviews_key
from chalicelib.services import events
from chalicelib.services.tx import Transaction, atomically

FORMER_CLIENT = "Former client"


@events.consumer("user.deleted")
def _on_user_deleted(message: dict[str, Any]) -> None:
    scrub(message["data"]["user_id"])


def scrub(client_id: str) -> int:
    """Replace the client's name on every review they wrote; returns how many reviews."""
    scrubbed = 0
    for reading in Reading.by_client_tab.query(f"{client_id}#archived", filter_condition=Reading.review.exists()):
        review = plain(reading.review) or {}
        if reading.client_id != client_id or "createdAt" not in review:
            continue
        # A review moderation holds or hides sits in the reader's hidden partition.
        owner = hidden_reviews_key(reading.reader_id) if review.get("moderation") else reading.reader_id
        with contextlib.suppress(UpdateError):  # the review item is gone: nothing to scrub
            Review(reader_id=owner, sk=f"{review['createdAt']}#{reading.reading_id}").update(
                actions=[Review.client_name.set(FORMER_CLIENT)], condition=Review.sk.exists())
        _scrub_card(reading.reader_id, reading.reading_id)
        scrubbed += 1
    return scrubbed


def _scrub_card(reader_id: str, reading_id: str) -> None:
    """The card's copy, conditioned like the review writer (on the rating count and the
    version), so a review landing meanwhile makes this attempt run again, never lost."""

    def work(tx: Transaction) -> None:
        try:
            profile = ReaderProfile.get(reader_id, consistent_read=True)
        except ReaderProfile.DoesNotExist:
            return
        recent = plain(profile.recent_reviews) or []
        if not any(entry.get("id") == reading_id and entry.get("clientName") != FORMER_CLIENT for entry in recent):
            return
        scrubbed = [{**entry, "clientName": FORMER_CLIENT} if entry.get("id") == reading_id else entry
                    for entry in recent]
        count = ReaderProfile.rating_count == profile.rating_count if profile.rating_count is not None \
            else ReaderProfile.rating_count.does_not_exist()
        tx.update(profile, actions=[ReaderProfile.recent_reviews.set(scrubbed)], condition=count, label="profile")

    atomically(work, retry_on=lambda failed: "profile" in failed)
