"""The moderation queue: one open item per piece of content, joined by every new flag or report.

``current(content_type, content_id)`` reads the content's case (the latest item) and, when it
is open, that item; ``enqueue(tx, ...)`` then either updates the open item (its priority only
goes up, its findings, fields and reports grow) conditional on the version read, or creates a
new item and moves the case to it, conditional on the case being what was read. A concurrent
flag or report of the same content fails one of them (labels ``moderation:item`` /
``moderation:case``); callers retry (``conflicted``).

``page(status, priority)`` lists a status's items urgent first, oldest first within a priority:
one Query of the sparse ``byQueue`` index (``begins_with`` the priority's rank for one priority).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.moderation import EXCERPT_MAX, OPEN_STATUSES, excerpt, higher, rank
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.moderation import ContentCase, ModerationItem, content_key, item_key
from chalicelib.pagination import PageResult, query_page
from chalicelib.services.tx import ConditionsFailed, Transaction

REPORTS_KEPT = 20  # the newest reports an item shows (reportCount counts them all)
FINDINGS_KEPT = 50
ITEM, CASE = "moderation:item", "moderation:case"


def conflicted(failed: ConditionsFailed) -> bool:
    """A concurrent flag or report of the same content: read again and retry."""
    return ITEM in failed or CASE in failed


def queue_sort(priority: str, created_at: str, item_id: str) -> str:
    return f"{rank(priority)}#{created_at}#{item_id}"


@dataclass
class Current:
    case: ContentCase | None
    item: ModerationItem | None  # the open item, if there is one


def current(content_type: str, content_id: str) -> Current:
    try:
        case = ContentCase.get(content_key(content_type, content_id), "case", consistent_read=True)
    except ContentCase.DoesNotExist:
        return Current(None, None)
    if not case.open:
        return Current(case, None)
    return Current(case, load(case.item_id))


def load(item_id: str) -> ModerationItem:
    try:
        return ModerationItem.get(item_key(item_id), "item", consistent_read=True)
    except ModerationItem.DoesNotExist:
        raise NotFound("moderation item", code="moderation_item_not_found") from None


@dataclass
class Flag:
    """What one screen or one report adds to the queue."""

    content_type: str
    content_id: str
    author_id: str
    flagged_by: str  # auto | user | admin
    reason: str
    priority: str
    parent_id: str | None = None
    flagged_by_id: str | None = None
    escalate: bool = False
    held: bool = False
    score: float | None = None
    fields: tuple[str, ...] = ()
    excerpts: dict[str, str] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] | None = None  # {reporterId, reason, note, at}


def enqueue(tx: Transaction, flag: Flag, *, now: datetime | None = None, found: Current | None = None) -> str:
    """Add ``flag`` to the content's open item, or open a new one; returns the item's id.
    ``found``: the content's ``current`` state, when the caller read it in this attempt."""
    at = iso(now or utcnow())
    found = found or current(flag.content_type, flag.content_id)
    texts = {name: excerpt(text)[:EXCERPT_MAX] for name, text in flag.excerpts.items() if text}
    if found.item is not None and found.item.status in OPEN_STATUSES:
        return _join(tx, found.item, flag, texts, at)
    item_id = f"mod_{new_id()}"
    status = "escalated" if flag.escalate else "pending"
    item = ModerationItem(
        pk=item_key(item_id),
        item_id=item_id,
        content_type=flag.content_type,
        content_id=flag.content_id,
        parent_id=flag.parent_id,
        author_id=flag.author_id,
        flagged_reason=flag.reason,
        flagged_by=flag.flagged_by,
        flagged_by_id=flag.flagged_by_id,
        priority=flag.priority,
        status=status,
        auto_moderation_score=flag.score,
        created_at=at,
        updated_at=at,
        fields=set(flag.fields) or None,
        excerpts=texts,
        findings=flag.findings[:FINDINGS_KEPT],
        report_count=1 if flag.report else 0,
        reports=[flag.report] if flag.report else [],
        held=flag.held,
        queue_status=status,
        queue_sort=queue_sort(flag.priority, at, item_id),
    )
    tx.save(item, condition=ModerationItem.pk.does_not_exist(), label=ITEM)
    case = ContentCase(pk=content_key(flag.content_type, flag.content_id), item_id=item_id, open=True, updated_at=at)
    closed = ContentCase.open == False  # noqa: E712 - a DynamoDB condition, not a Python comparison
    condition = (
        ContentCase.pk.does_not_exist() if found.case is None else (ContentCase.item_id == found.case.item_id) & closed
    )
    tx.save(case, condition=condition, label=CASE)
    return item_id


def _join(tx: Transaction, item: ModerationItem, flag: Flag, texts: dict[str, str], at: str) -> str:
    priority = higher(item.priority, flag.priority)
    status = "escalated" if flag.escalate else item.status
    actions: list[Any] = [
        ModerationItem.priority.set(priority),
        ModerationItem.status.set(status),
        ModerationItem.queue_status.set(status),
        ModerationItem.updated_at.set(at),
        ModerationItem.queue_sort.set(queue_sort(priority, item.created_at, item.item_id)),
    ]
    if flag.fields:
        actions.append(ModerationItem.fields.add(set(flag.fields)))
    if texts:
        actions.append(ModerationItem.excerpts.set({**(plain(item.excerpts) or {}), **texts}))
    if flag.findings:
        kept = [*(plain(item.findings) or []), *flag.findings][-FINDINGS_KEPT:]
        actions.append(ModerationItem.findings.set(kept))
    if flag.report is not None:
        kept = [*(plain(item.reports) or []), flag.report][-REPORTS_KEPT:]
        actions += [ModerationItem.reports.set(kept), ModerationItem.report_count.add(1)]
    if flag.held and not item.held:
        actions.append(ModerationItem.held.set(True))
    if flag.score is not None:
        top = max(flag.score, float(item.auto_moderation_score or 0))
        actions.append(ModerationItem.auto_moderation_score.set(top))
    tx.update(item, actions=actions, label=ITEM)  # PynamoDB adds: version == the version read
    tx.condition_check(
        ContentCase,
        content_key(item.content_type, item.content_id),
        "case",
        condition=(ContentCase.item_id == item.item_id) & (ContentCase.open == True),  # noqa: E712
        label=CASE,
    )
    return str(item.item_id)


def page(status: str, priority: str | None, *, limit: int, cursor: str | None) -> PageResult[ModerationItem]:
    condition = None if priority is None else ModerationItem.queue_sort.startswith(f"{rank(priority)}#")

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return ModerationItem.by_queue.query(status, condition, limit=size, last_evaluated_key=start)

    scope = f"GET /admin/moderation?status={status}&priority={priority}"
    return query_page(run, limit=limit, cursor=cursor, scope=scope)


def document(item: ModerationItem) -> dict[str, Any]:
    """The product's ContentModerationQueue, with what the moderator needs beside it."""
    return {
        "id": item.item_id,
        "contentType": item.content_type,
        "contentId": item.content_id,
        "parentId": item.parent_id,
        "authorId": item.author_id,
        "flaggedReason": item.flagged_reason,
        "flaggedBy": item.flagged_by,
        "flaggedById": item.flagged_by_id,
        "priority": item.priority,
        "status": item.status,
        "moderatorId": item.moderator_id,
        "moderatorNotes": item.moderator_notes,
        "autoModerationScore": None if item.auto_moderation_score is None else float(item.auto_moderation_score),
        "reviewedDate": item.reviewed_date,
        "createdAt": item.created_at,
        "updatedAt": item.updated_at,
        "fields": sorted(item.fields or []),
        "excerpts": plain(item.excerpts) or {},
        "findings": plain(item.findings) or [],
        "reportCount": int(item.report_count or 0),
        "reports": plain(item.reports) or [],
        "held": bool(item.held),
    }
