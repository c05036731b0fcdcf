"""Client statuses and the readings readers suggest for them.

One item per status holds its suggestions (``suggestions``, a list of maps, at most
``SUGGESTIONS_MAX``; a suggestion is never removed, only marked), so the owner's view is one
GetItem and a suggestion is one atomic UpdateItem (``list_append``, guarded by
``suggesterIds``: one active suggestion per reader) that never conflicts with another
reader's.

Indexes:
- ``byClient`` (``userId``, ``createdAt``): ``GET /statuses/mine``, newest first (a deleted
  status stays in it, filtered out of that list, so the account's export and erasure find it).
- ``activeByCategory`` (``feedCategory``, ``createdAt``), sparse: ``feedCategory`` is the
  category while the status is active and removed when it closes, so the readers' feed and
  the expiry job Query only active statuses, one partition per category. It projects what a
  feed row shows, not the suggestions.

``StatusCounter`` shares the table: the item ``active#<userId>`` counts a client's active
statuses, moved in the same transaction as each status that opens or closes, so the limit
holds under concurrent posts.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

FEED_ATTRIBUTES = ["userId", "content", "mood", "category", "state", "updatedAt", "suggestionCount",
                   "suggesterIds"]


class StatusesByClient(GlobalSecondaryIndex["Status"]):
    class Meta:
        index_name = "byClient"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class ActiveStatusesByCategory(GlobalSecondaryIndex["Status"]):
    class Meta:
        index_name = "activeByCategory"
        projection = IncludeProjection(FEED_ATTRIBUTES)

    feed_category = UnicodeAttribute(hash_key=True, attr_name="feedCategory")
    created_at = UnicodeAttribute(range_key=True, attr_name="createdAt")


class Status(Model):
    class Meta:
        table_name = table_name("statuses")
        region = region()

    status_id = UnicodeAttribute(hash_key=True, attr_name="statusId")
    user_id = UnicodeAttribute(attr_name="userId")
    content = UnicodeAttribute()
    mood = UnicodeAttribute(null=True)
    category = UnicodeAttribute()
    state = UnicodeAttribute()  # active | closed (by the client) | accepted | expired | deleted
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    closed_at = UnicodeAttribute(null=True, attr_name="closedAt")
    accepted_suggestion_id = UnicodeAttribute(null=True, attr_name="acceptedSuggestionId")
    reading_id = UnicodeAttribute(null=True, attr_name="readingId")
    feed_category = UnicodeAttribute(null=True, attr_name="feedCategory")  # sparse: set while active
    suggestions: ListAttribute[Any] = ListAttribute(default=list)  # maps in camelCase (services/statuses)
    suggester_ids = UnicodeSetAttribute(null=True, attr_name="suggesterIds")  # readers with an active one
    suggestion_count = NumberAttribute(default=0, attr_name="suggestionCount")  # entries in ``suggestions``
    # held | hidden (services/moderation): out of the readers' feed (``feedCategory`` is then
    # ``moderated_feed_key(category)``) and of every reader's view; its client still sees it.
    moderation = UnicodeAttribute(null=True)
    # Optimistic locking (services/versions.py): raised by every change of the status or its
    # suggestions (not by moderation marks); absent on statuses posted before it: version 1.
    version = NumberAttribute(null=True)
    # Soft delete (state ``deleted``): kept for the account's export and erasure, gone from every read.
    deleted_at = UnicodeAttribute(null=True, attr_name="deletedAt")

    by_client = StatusesByClient()
    active_by_category = ActiveStatusesByCategory()

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    def suggestion_list(self) -> list[dict[str, Any]]:
        """The suggestions as plain dicts (stored maps may come back as MapAttribute)."""
        from chalicelib.models.base import plain

        return [plain(s) for s in (self.suggestions or [])]


class StatusCounter(Model):
    """``active#<userId>``: how many active statuses the client has (same table)."""

    class Meta:
        table_name = table_name("statuses")
        region = region()

    status_id = UnicodeAttribute(hash_key=True, attr_name="statusId")
    active = NumberAttribute(default=0)


def counter_key(user_id: str) -> str:
    return f"active#{user_id}"


def moderated_feed_key(category: str) -> str:
    """Where an active status held or hidden by moderation sits in ``activeByCategory``: not in
    its category's partition (the feed), but still where the expiry job finds it."""
    return f"moderated#{category}"


def feed_key(category: str, moderation: str | None) -> str:
    return category if moderation is None else moderated_feed_key(category)

