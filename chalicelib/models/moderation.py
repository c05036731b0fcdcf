"""The moderation table: rules, the queue, and each piece of content's case and reports.

One table, keyed ``pk`` + ``sk``:

- ``ModerationRuleRecord``: pk ``rule``, sk the rule id. All rules are one partition: the
  screen loads them with one Query (cached per container for a few seconds).
- ``ModerationItem``: pk ``item#<itemId>``, sk ``item``: a queue item (the product's
  ContentModerationQueue). The sparse ``byQueue`` index (``queueStatus`` = its status,
  ``queueSort`` = ``<priority rank>#<createdAt>#<itemId>``) lists a status's items urgent first,
  oldest first within a priority, and one priority with ``begins_with``.
- ``ContentCase``: pk ``content#<contentType>#<contentId>``, sk ``case``: the latest queue item of
  that content and whether it is still open, so new flags and reports join the open item
  rather than opening another (a conditional write on it serialises them).
- ``ContentReport``: same pk, sk ``report#<reporterId>``: one report per user and content
  (a conditional put).

Two keys-only indexes, sparse by nature, serve an account's erasure (services/privacy/purge.py):
``byAuthor`` (``authorId``: only queue items carry it) finds the items quoting the deleted
account's text; ``byReporter`` (``reporterId``: only reports carry it) finds its reports.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import region, table_name

RULES_PARTITION = "rule"


def item_key(item_id: str) -> str:
    return f"item#{item_id}"


def content_key(content_type: str, content_id: str) -> str:
    return f"content#{content_type}#{content_id}"


def report_sort_key(reporter_id: str) -> str:
    return f"report#{reporter_id}"


class ModerationQueue(GlobalSecondaryIndex["ModerationItem"]):
    """A status's items by priority (urgent first), then oldest first."""

    class Meta:
        index_name = "byQueue"
        projection = AllProjection()

    queue_status = UnicodeAttribute(hash_key=True, attr_name="queueStatus")
    queue_sort = UnicodeAttribute(range_key=True, attr_name="queueSort")


class ItemsByAuthor(GlobalSecondaryIndex["ModerationItem"]):
    """The queue items about one author's content (keys only)."""

    class Meta:
        index_name = "byAuthor"
        projection = KeysOnlyProjection()

    author_id = UnicodeAttribute(hash_key=True, attr_name="authorId")


class ReportsByReporter(GlobalSecondaryIndex["ContentReport"]):
    """One user's reports (keys only); declared on ``ModerationItem`` too, the registry's model."""

    class Meta:
        index_name = "byReporter"
        projection = KeysOnlyProjection()

    reporter_id = UnicodeAttribute(hash_key=True, attr_name="reporterId")


class ModerationItem(Model):
    class Meta:
        table_name = table_name("moderation")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="item")
    item_id = UnicodeAttribute(attr_name="itemId")
    content_type = UnicodeAttribute(attr_name="contentType")
    content_id = UnicodeAttribute(attr_name="contentId")
    parent_id = UnicodeAttribute(null=True, attr_name="parentId")  # a suggestion's status
    author_id = UnicodeAttribute(attr_name="authorId")
    flagged_reason = UnicodeAttribute(attr_name="flaggedReason")
    flagged_by = UnicodeAttribute(attr_name="flaggedBy")  # auto | user | admin
    flagged_by_id = UnicodeAttribute(null=True, attr_name="flaggedById")
    priority = UnicodeAttribute()
    status = UnicodeAttribute()
    moderator_id = UnicodeAttribute(null=True, attr_name="moderatorId")
    moderator_notes = UnicodeAttribute(null=True, attr_name="moderatorNotes")
    auto_moderation_score = NumberAttribute(null=True, attr_name="autoModerationScore")
    reviewed_date = UnicodeAttribute(null=True, attr_name="reviewedDate")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    # Ours, for the moderator: the fields concerned, their text when flagged, what the automatic
    # screen found, the reports (count, reasons, the newest notes), whether the content is held.
    fields = UnicodeSetAttribute(null=True)
    excerpts: MapAttribute[str, Any] = MapAttribute(null=True)
    findings: ListAttribute[Any] = ListAttribute(null=True)
    report_count = NumberAttribute(default=0, attr_name="reportCount")
    reports: ListAttribute[Any] = ListAttribute(null=True)
    held = BooleanAttribute(default=False)
    queue_status = UnicodeAttribute(attr_name="queueStatus")
    queue_sort = UnicodeAttribute(attr_name="queueSort")
    version = VersionAttribute()

    by_queue = ModerationQueue()
    by_author = ItemsByAuthor()
    by_reporter = ReportsByReporter()  # an index of the table: ContentReport Queries it


class ContentCase(Model):
    class Meta:
        table_name = table_name("moderation")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="case")
    item_id = UnicodeAttribute(attr_name="itemId")  # the latest queue item of this content
    open = BooleanAttribute(default=True)
    updated_at = UnicodeAttribute(attr_name="updatedAt")


class ContentReport(Model):
    class Meta:
        table_name = table_name("moderation")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    report_id = UnicodeAttribute(attr_name="reportId")
    reporter_id = UnicodeAttribute(attr_name="reporterId")
    reason = UnicodeAttribute()
    note = UnicodeAttribute(null=True)
    item_id = UnicodeAttribute(attr_name="itemId")
    created_at = UnicodeAttribute(attr_name="createdAt")

    by_reporter = ReportsByReporter()


class ModerationRuleRecord(Model):
    """The product's ModerationRule; ``conditions`` is ``{keywords, length: {min, max}, userRole}``."""

    class Meta:
        table_name = table_name("moderation")
        region = region()

    pk = UnicodeAttribute(hash_key=True, default=RULES_PARTITION)
    sk = UnicodeAttribute(range_key=True)  # the rule id
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    content_type = UnicodeAttribute(attr_name="contentType")
    conditions: MapAttribute[str, Any] = MapAttribute(default=dict)
    action = UnicodeAttribute()
    flagged_reason = UnicodeAttribute(default="other", attr_name="flaggedReason")
    is_active = BooleanAttribute(default=True, attr_name="isActive")
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    created_by = UnicodeAttribute(null=True, attr_name="createdBy")
    version = VersionAttribute()
