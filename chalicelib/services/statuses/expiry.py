"""Active statuses close by themselves (``expired``, no reading) ``STATUS_TTL_DAYS`` after
they were posted: the ``status_expiry`` job walks each category's partition of the sparse
``activeByCategory`` index oldest first, up to the cutoff, so it reads only what it closes.
Each close is its own transaction (``posting.close_in``): a status accepted or closed
meanwhile is left as it is. A deleted account's active statuses close too (a consumer of
``user.deleted``): readers must not answer a client who is gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.logs import logger
from chalicelib.models.statuses import Status, moderated_feed_key
from chalicelib.services import catalog, events
from chalicelib.services.statuses.common import cutoff, load, now_or
from chalicelib.services.statuses.posting import close_in
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

BATCH = 200  # statuses one run closes at most (the next run, minutes later, takes the rest)


def expire_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Close every active status past its time (at most ``batch``); returns how many."""
    moment = now_or(now)
    oldest = cutoff(moment)
    closed = 0
    # Each category's partition, and the one where moderation keeps its held or hidden statuses.
    partitions = [key for category in sorted(catalog.status_categories())
                  for key in (category, moderated_feed_key(category))]
    for partition in partitions:
        for row in Status.active_by_category.query(partition, Status.created_at <= oldest,
                                                   scan_index_forward=True, limit=batch - closed):
            if _expire(row.status_id, moment):
                closed += 1
        if closed >= batch:
            break
    if closed:
        logger.info("statuses expired", extra={"closed": closed})
    return closed


@events.consumer("user.deleted")
def _on_user_deleted(message: dict[str, Any]) -> None:
    close_all_of(str(message["data"]["user_id"]))


def close_all_of(user_id: str, *, now: datetime | None = None) -> int:
    """Close every active status of ``user_id`` (reason ``account_deleted``); how many."""
    moment = now_or(now)
    closed = 0
    for row in Status.by_client.query(user_id, filter_condition=Status.state == "active"):
        if _expire(row.status_id, moment, state="closed", reason="account_deleted"):
            closed += 1
    return closed


def _expire(status_id: str, moment: datetime, *, state: str = "expired", reason: str = "expired") -> bool:
    def work(tx: Transaction) -> bool:
        status = load(status_id)
        if not status.is_active:
            return False
        close_in(tx, status, state=state, reason=reason, moment=moment)
        return True

    try:
        return atomically(work, retry_on=lambda failed: "status" in failed)
    except ConditionsFailed:
        return False  # it kept changing (accepted or closed meanwhile): nothing to expire
