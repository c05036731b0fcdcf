"""Active statuses close by themselves (``expired``, no reading) ``STATUS_TTL_DAYS`` after
they were posted: the ``status_expiry`` job walks each category's partition of the sparse
``activeByCategory`` index oldest first, up to the cutoff, so it reads only what it closes.
Each close is its own transaction (``posting.close_in``): a status accepted or closed
meanwhile is left as it is."""

from __future__ import annotations

from datetime import datetime

from chalicelib.logs import logger
from chalicelib.models.statuses import Status
from chalicelib.services import catalog
from chalicelib.services.statuses.common import cutoff, load, now_or
from chalicelib.services.statuses.posting import close_in
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

BATCH = 200  # statuses one run closes at most (the next run, minutes later, takes the rest)


def expire_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Close every active status past its time (at most ``batch``); returns how many."""
    moment = now_or(now)
    oldest = cutoff(moment)
    closed = 0
    for category in sorted(catalog.status_categories()):
        for row in Status.active_by_category.query(category, Status.created_at <= oldest,
                                                   scan_index_forward=True, limit=batch - closed):
            if _expire(row.status_id, moment):
                closed += 1
        if closed >= batch:
            break
    if closed:
        logger.info("statuses expired", extra={"closed": closed})
    return closed


def _expire(status_id: str, moment: datetime) -> bool:
    def work(tx: Transaction) -> bool:
        status = load(status_id)
        if not status.is_active:
            return False
        close_in(tx, status, state="expired", reason="expired", moment=moment)
        return True

    try:
        return atomically(work, retry_on=lambda failed: "status" in failed)
    except ConditionsFailed:
        return False  # it kept changing (accepted or closed meanwhile): nothing to expire
