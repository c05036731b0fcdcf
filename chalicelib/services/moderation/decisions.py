"""``POST /admin/moderation/{itemId}/decide``: approve, reject or escalate a queue item.

* ``reject`` hides the content from every public read (``content.apply``: ``hidden``);
* ``approve`` makes it public again: it releases what the item held, and restores what an
  earlier ``reject`` of the same item hid (decisions can be taken back);
* ``escalate`` marks it for a senior look (``escalated``, ``urgent``); what the public sees does
  not change.

Approve and reject can be taken again (reject an approved item, approve a rejected one), on the
content's latest item only: once a new flag or report opened another item, the older one is
history (409 ``superseded``). The same decision twice is a 409 ``already_decided``.

One transaction: the content's state, the item (conditional on the version read), the case
(open while pending or escalated), the audit record and, when what the author's content shows
changed, ``moderation.decided`` (the author is told).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.moderation import HIDDEN, OPEN_STATUSES, higher
from chalicelib.errors import Conflict
from chalicelib.models.base import iso, utcnow
from chalicelib.models.moderation import ContentCase, ModerationItem
from chalicelib.services import audit, outbox
from chalicelib.services.moderation import content, queue
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

DECIDED_EVENT = "moderation.decided"
ENTITY = "moderation_item"
_TO_STATUS = {"approve": "approved", "reject": "rejected", "escalate": "escalated"}
_FROM = {
    "approve": ("pending", "escalated", "rejected"),
    "reject": ("pending", "escalated", "approved"),
    "escalate": ("pending",),
}


def _snapshot(item: ModerationItem) -> dict[str, Any]:
    return {
        "status": item.status,
        "priority": item.priority,
        "moderatorNotes": item.moderator_notes,
        "contentType": item.content_type,
        "contentId": item.content_id,
    }


def decide(
    item_id: str,
    decision: str,
    *,
    notes: str | None,
    admin_id: str,
    request_id: str | None = None,
    now: datetime | None = None,
) -> ModerationItem:
    at = iso(now or utcnow())
    status = _TO_STATUS[decision]

    def work(tx: Transaction) -> None:
        item = queue.load(item_id)
        if item.status == status:
            raise Conflict(f"This item is already {status}.", code="already_decided", details={"status": item.status})
        if item.status not in _FROM[decision]:
            raise Conflict(
                f"An item that is {item.status} cannot be escalated; approve or reject it.",
                code="invalid_decision",
                details={"status": item.status},
            )
        case = queue.current(item.content_type, item.content_id).case
        if case is None or case.item_id != item_id:
            raise Conflict(
                "A newer moderation item exists for this content; decide that one instead.",
                code="superseded",
                details={"latestItemId": case.item_id if case else None},
            )
        was_hidden = bool(item.held) or item.status == "rejected"
        if decision != "escalate":
            content.apply(tx, item, HIDDEN if decision == "reject" else None)
        priority = higher(item.priority, "urgent") if decision == "escalate" else item.priority
        tx.update(
            item,
            actions=[
                ModerationItem.status.set(status),
                ModerationItem.queue_status.set(status),
                ModerationItem.priority.set(priority),
                ModerationItem.queue_sort.set(queue.queue_sort(priority, item.created_at, item.item_id)),
                ModerationItem.moderator_id.set(admin_id),
                ModerationItem.reviewed_date.set(at),
                ModerationItem.updated_at.set(at),
                ModerationItem.held.set(False),
                ModerationItem.moderator_notes.set(notes) if notes else ModerationItem.moderator_notes.remove(),
            ],
            label=queue.ITEM,
        )
        tx.update(
            case,
            actions=[ContentCase.open.set(status in OPEN_STATUSES), ContentCase.updated_at.set(at)],
            condition=ContentCase.item_id == item_id,
            label=queue.CASE,
        )
        after = {**_snapshot(item), "status": status, "priority": priority, "moderatorNotes": notes}
        audit.record(
            tx,
            actor_id=admin_id,
            action=f"moderation.{decision}",
            entity_type=ENTITY,
            entity_id=item_id,
            before=_snapshot(item),
            after=after,
            request_id=request_id,
        )
        outcome = "hidden" if decision == "reject" else "published" if decision == "approve" and was_hidden else None
        if outcome is not None:
            outbox.emit(
                tx,
                DECIDED_EVENT,
                itemId=item_id,
                contentType=item.content_type,
                contentId=item.content_id,
                parentId=item.parent_id,
                authorId=item.author_id,
                outcome=outcome,
                fields=sorted(item.fields or ()),
            )

    def changed_meanwhile(failed: ConditionsFailed) -> bool:
        return queue.conflicted(failed) or content.CONTENT in failed or "profile" in failed

    try:
        atomically(work, retry_on=changed_meanwhile)
    except ConditionsFailed as failed:
        raise Conflict("This content kept changing while you decided; try again.", code="concurrent_change") from failed
    return queue.load(item_id)
