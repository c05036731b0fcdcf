"""The reading timers (the every-minute job): expire unanswered requests (the table's
``expire`` step, releasing the hold), remind an hour before scheduled readings, flag video
messages past their delivery deadline. Idempotent: each timer fires once."""

from __future__ import annotations

from datetime import datetime

from chalicelib.errors import Conflict
from chalicelib.models.base import iso
from chalicelib.models.readings import Reading
from chalicelib.services import outbox
from chalicelib.services.readings import common, lifecycle
from chalicelib.services.tx import ConditionsFailed, Contention, Transaction, atomically

NOTICES = (("remind", "reading.reminder", "reminded"), ("deliver_due", "reading.delivery_overdue", "overdue"))


def due(kind: str, now: datetime, limit: int = 200) -> list[str]:
    return [r.reading_id for r in Reading.timers.query(kind, Reading.timer_at <= iso(now), limit=limit)]


def expire(reading_id: str, *, now: datetime | None = None) -> Reading | None:
    """A request not answered in time is expired and its hold released. None when it is
    not due, or moved on meanwhile (accepted first: that one won)."""
    reading = common.existing(reading_id)
    if reading is None or reading.status != "requested":
        return None
    moment = common.now_or(now)
    respond_by = common.parse(reading.respond_by)
    if respond_by is not None and moment < respond_by:
        return None
    try:
        return lifecycle.execute(reading, "expire", "system", now=moment, reason="not answered in time")
    except (Conflict, Contention):
        return None  # answered meanwhile, or busy: the next run (a minute later) tries again


def _notify(reading_id: str, kind: str, event: str) -> bool:
    """Fire one reminder or overdue flag: the timer's removal and its event commit together,
    so a second run (or a concurrent one) finds nothing to do."""
    reading = common.existing(reading_id)
    if reading is None or reading.timer != kind:
        return False

    def work(tx: Transaction) -> None:
        tx.update(reading, actions=common.timer_actions(None), condition=Reading.timer == kind, label="reading")
        outbox.emit(tx, event, **common.event_data(reading, scheduledStart=reading.scheduled_start,
                                                   deliveryDueAt=reading.delivery_due_at))

    try:
        atomically(work)
    except (ConditionsFailed, Contention):
        return False  # it moved on meanwhile; a busy item is retried on the next run
    return True


def run_timers(now: datetime | None = None) -> dict[str, int]:
    moment = common.now_or(now)
    counts = {"expired": 0, "reminded": 0, "overdue": 0}
    for reading_id in due("expire", moment):
        if expire(reading_id, now=moment) is not None:
            counts["expired"] += 1
    for kind, event, key in NOTICES:
        for reading_id in due(kind, moment):
            if _notify(reading_id, kind, event):
                counts[key] += 1
    return counts
