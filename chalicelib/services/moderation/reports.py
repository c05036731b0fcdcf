"""``POST /reports``: a signed-in user flags a review, a profile, a status or a suggestion.

The content must exist and be public to the reporter (else 404, as for content they cannot
read); their own is a 422 ``own_content``. One report per user and content: a second one is a
409 ``already_reported`` (the first still counts; nothing changes). The report joins the
content's open queue item (or opens one): each report raises the item's priority
(``domain.moderation.report_priority``: 2 reports medium, 3 high, 5 urgent, a harassment report
high at once). Reported content stays visible until a moderator decides: a report alone never
hides anything (a crowd must not be able to silence a reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.moderation import PUBLIC_FIELDS, report_priority
from chalicelib.errors import Conflict
from chalicelib.ids import new_id
from chalicelib.models.base import iso, utcnow
from chalicelib.models.moderation import ContentReport, content_key, report_sort_key
from chalicelib.services.moderation import content, queue
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

_ALREADY = "You have already reported this; a moderator will look at it."


@dataclass(frozen=True)
class Receipt:
    id: str
    content_type: str
    content_id: str
    reason: str
    note: str | None
    created_at: str


def report(
    reporter_id: str,
    role: str,
    *,
    content_type: str,
    content_id: str,
    reason: str,
    note: str | None,
    parent_id: str | None = None,
    now: datetime | None = None,
) -> Receipt:
    found = content.locate(content_type, content_id, parent_id, viewer_id=reporter_id, viewer_role=role)
    key = content_key(content_type, content_id)
    try:
        ContentReport.get(key, report_sort_key(reporter_id))
        raise Conflict(_ALREADY, code="already_reported")
    except ContentReport.DoesNotExist:
        pass
    at = iso(now or utcnow())
    report_id = f"rpt_{new_id()}"

    def work(tx: Transaction) -> None:
        state = queue.current(content_type, content_id)
        count = (int(state.item.report_count or 0) if state.item is not None else 0) + 1
        priority = report_priority(count, reason, current=state.item.priority if state.item is not None else None)
        fields = PUBLIC_FIELDS[content_type] if content_type == "profile" else ()
        flag = queue.Flag(
            content_type=content_type,
            content_id=content_id,
            parent_id=found.parent_id,
            author_id=found.author_id,
            flagged_by="user",
            flagged_by_id=reporter_id,
            reason=reason,
            priority=priority,
            fields=fields,
            excerpts=found.texts,
            report={"reporterId": reporter_id, "reason": reason, "note": note, "at": at},
        )
        item_id = queue.enqueue(tx, flag, now=now, found=state)
        tx.save(
            ContentReport(
                pk=key,
                sk=report_sort_key(reporter_id),
                report_id=report_id,
                reporter_id=reporter_id,
                reason=reason,
                note=note,
                item_id=item_id,
                created_at=at,
            ),
            condition=ContentReport.sk.does_not_exist(),
            label="report",
        )

    try:
        atomically(work, retry_on=lambda failed: queue.conflicted(failed) and "report" not in failed)
    except ConditionsFailed as failed:
        if "report" in failed:
            raise Conflict(_ALREADY, code="already_reported") from failed
        raise Conflict("Others are reporting this right now; try again in a moment.", code="busy") from failed
    return Receipt(report_id, content_type, content_id, reason, note, at)
