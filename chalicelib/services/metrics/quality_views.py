"""What the quality evaluation (services/metrics/quality.py) shows and takes: the reader's
view (``GET /reader/quality``), acknowledging a warning, the admins' list of readers by
status, and the daily recheck that re-marks readers whose result changes with time alone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.config import get_settings
from chalicelib.domain import quality as rules
from chalicelib.errors import Conflict, NotFound
from chalicelib.integrations import aws
from chalicelib.models.base import iso, utcnow
from chalicelib.pagination import PageResult, query_page
from chalicelib.services.metrics import reader
from chalicelib.services.metrics.quality import (
    ACKNOWLEDGED,
    ACTIVE,
    CLOSED,
    METRIC,
    OPEN,
    RECHECK,
    Listed,
    Warning,
    current,
    shown_rate,
    warnings_of,
)

RECENT = timedelta(days=rules.WINDOW_DAYS)  # resolved warnings shown to the reader this long
RECHECK_BATCH = 1_000  # readers re-marked per daily run; the rest the next day


def reader_view(reader_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The reader's metrics and status now, their open warnings and those resolved in the
    last ``RECENT`` (four reads: profile, day buckets, last evaluation, warnings)."""
    moment = now or utcnow()
    found = current(reader_id, now=moment)
    if found is None:
        raise NotFound("reader profile", code="reader_profile_not_found")
    recent_from = iso(moment - RECENT)
    items = sorted(warnings_of(reader_id).values(), key=lambda w: w.opened_at or "", reverse=True)
    open_ = [w.document() for w in items if w.state in ACTIVE]
    recent = [w.document() for w in items if w.state == CLOSED and (w.resolved_at or "") >= recent_from]
    return {"readerId": reader_id, "status": found.measured.status,
            "statusSince": found.snapshot.since if found.snapshot and found.snapshot.status == found.measured.status
            else None,
            "metrics": found.measured.metrics, "openWarnings": open_, "recentWarnings": recent}


def acknowledge(reader_id: str, warning_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The reader acknowledges their warning: once (a second time returns it unchanged);
    another reader's, an unknown or a past episode's id is a 404; a resolved one a 409."""
    kind = warning_id.partition(".")[0]
    if kind not in rules.KINDS:
        raise NotFound("warning")
    for _ in range(2):  # a resolve racing the acknowledgement: read again once
        try:
            item = Warning.get(reader.pk(reader_id), f"warning#{kind}", consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("warning") from exc
        if item.warning_id != warning_id:
            raise NotFound("warning")
        if item.state == ACKNOWLEDGED:
            return item.document()
        if item.state != OPEN:
            raise Conflict("This warning is already resolved: there is nothing to acknowledge.",
                           code="warning_resolved")
        try:
            item.update(actions=[Warning.state.set(ACKNOWLEDGED), Warning.acknowledged_at.set(iso(now or utcnow()))],
                        condition=(Warning.warning_id == warning_id) & (Warning.state == OPEN))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        return item.document()
    raise Conflict("This warning changed while you acknowledged it; try again.", code="concurrent_change")


@dataclass(frozen=True)
class ListedReader:
    reader_id: str
    display_name: str | None
    status: str
    since: str | None
    warnings: list[str]
    metrics: dict[str, Any]
    evaluated_at: str | None


def listed(status: str, *, limit: int, cursor: str | None) -> PageResult[ListedReader]:
    """One page of the readers whose last evaluation gave ``status`` (at_risk or
    needs_improvement), by reader id: one Query of the ``quality#<status>`` items."""
    if status not in rules.LISTED:
        raise ValueError(f"{status!r} is not a listed status")

    def run(size: int, start: dict[str, Any] | None) -> Any:
        return Listed.query(f"quality#{status}", limit=size, last_evaluated_key=start)

    page = query_page(run, limit=limit, cursor=cursor, scope=f"admin/readers/at-risk#{status}")
    items = [ListedReader(str(item.reader_id or item.sk), item.display_name, str(item.status), item.since,
                          list(item.warnings or []), stored_metrics(item.metrics), item.updated_at)
             for item in page.items]
    return PageResult(items=items, next_cursor=page.next_cursor, limit=page.limit, page=page.page,
                      generated_at=page.generated_at)


def stored_metrics(text: str | None) -> dict[str, Any]:
    """The metrics a listed reader's evaluation stored; a rate measured only since (the
    late-start rate) is shown not judged, with no sample, until the reader's next evaluation."""
    metrics: dict[str, Any] = json.loads(text or "{}")
    for kind in rules.KINDS:
        metrics.setdefault(METRIC[kind], shown_rate(kind, rules.Judged(None, 0)))
    return metrics


def recheck_due(*, now: datetime | None = None) -> dict[str, int]:
    """Mark for the insights job every reader whose recheck day has come (UTC date). The item
    stays until the evaluation replaces it (a reader west of UTC may not have reached that
    local date yet: the evaluation then keeps it, and the next daily run marks them again),
    so no recheck is ever lost; it goes here only for a reader with no counters left."""
    moment = now or utcnow()
    client = aws.client("dynamodb")
    table = get_settings().table_name("metrics")
    due = client.query(TableName=table, KeyConditionExpression="pk = :pk AND sk <= :last",
                       ExpressionAttributeValues={":pk": {"S": RECHECK}, ":last": {"S": f"{moment.date()}#\uffff"}},
                       Limit=RECHECK_BATCH)
    figures = {"due": 0, "marked": 0}
    for item in due.get("Items", []):
        sk = item["sk"]["S"]
        reader_id = sk.partition("#")[2]
        figures["due"] += 1
        try:
            client.update_item(TableName=table, Key={"pk": {"S": reader.pk(reader_id)}, "sk": {"S": "total"}},
                               UpdateExpression="SET attention = :a, attentionAt = :t",
                               ConditionExpression="attribute_exists(pk)",
                               ExpressionAttributeValues={":a": {"S": reader.ATTENTION},
                                                          ":t": {"S": f"{iso(moment)}#recheck"}})
            figures["marked"] += 1
        except client.exceptions.ConditionalCheckFailedException:  # no counters any more: nothing to evaluate
            client.delete_item(TableName=table, Key={"pk": {"S": RECHECK}, "sk": {"S": sk}})
    return figures
