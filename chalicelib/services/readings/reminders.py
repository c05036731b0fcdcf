"""Reading reminders: 24 hours and 15 minutes before a scheduled reading, each exactly once,
never for a cancelled or moved reading.

When a scheduled reading is accepted (``reading.accepted``) or moved (``reading.rescheduled``,
whose data names the reading), ``schedule`` writes one due item per reminder still ahead into
the notification-schedule table, under the day and shard of its due time
(``remind#<YYYY-MM-DD>#<shard>``, sort key starting with the due time): the every-minute
job (``run``) finds what is due with one Query per (day, shard), never a Scan. A reminder
whose time had already passed when the reading was accepted or moved is not sent (the
acceptance itself told both parties).

Firing one is one transaction: the reading is still accepted AND still starts when the
reminder was planned for (a condition check), a marker per (reading, window, scheduled
start) is put only if absent, the due item is deleted, and ``reading.reminder_due`` is
emitted. A rerun or a concurrent run finds the marker and emits nothing; a cancelled
reading fails the check; a moved reading's old items fail it too, while the move's own
items (planned for the new start) fire at the new time.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from chalicelib.logs import logger
from chalicelib.models.base import iso
from chalicelib.models.notification_schedule import ScheduledNotification
from chalicelib.models.readings import Reading
from chalicelib.services import events, outbox
from chalicelib.services.readings import common
from chalicelib.services.tx import ConditionsFailed, Contention, Transaction, atomically

WINDOWS = (timedelta(hours=24), timedelta(minutes=15))  # longest first
EVENT = "reading.reminder_due"
SHARDS = 4
LOOKBACK_DAYS = 1  # due items of yesterday's partitions are still read (a job that was down)
PAGE = 500
KEEP = timedelta(days=2)  # TTL of due items and markers after the reading's start


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


def _pk(due: datetime, reading_id: str) -> str:
    return f"remind#{iso(due)[:10]}#{zlib.crc32(reading_id.encode()) % SHARDS}"


def _cutoff(start: datetime, minutes_before: int) -> datetime:
    """A reminder is stale once the next one is due (or, for the last, once the reading starts)."""
    later = [w for w in WINDOWS if _minutes(w) < minutes_before]
    return start - max(later) if later else start


def schedule(reading_id: str, *, now: datetime | None = None) -> int:
    """Plan the reminders of an accepted scheduled reading for its current start. ``now``
    is when it was accepted or moved (the event's time); idempotent. Returns how many."""
    reading = common.existing(reading_id)
    if reading is None or reading.status != "accepted" or not reading.scheduled_start:
        return 0
    start = common.parse(reading.scheduled_start)
    assert start is not None
    since = max(filter(None, (common.parse(reading.accepted_at), now)), default=common.now_or(now))
    rows = []
    for window in WINDOWS:
        due = start - window
        if due < since:
            continue  # its time had passed when the reading was accepted (or moved)
        rows.append(ScheduledNotification(
            pk=_pk(due, reading_id), sk=f"{iso(due)}#{reading_id}#{_minutes(window)}", reading_id=reading_id,
            minutes_before=_minutes(window), scheduled_start=reading.scheduled_start,
            expires_at=int((start + KEEP).timestamp())))
    with ScheduledNotification.batch_write() as batch:
        for row in rows:
            batch.save(row)
    return len(rows)


@events.consumer("reading.accepted")
@events.consumer("reading.rescheduled")
def on_reading_scheduled(message: dict[str, Any]) -> None:
    reading_id = (message.get("data") or {}).get("readingId")
    if reading_id:
        schedule(str(reading_id), now=common.parse(message.get("occurredAt")))


def _due(now: datetime) -> list[ScheduledNotification]:
    bound = iso(now) + "$"  # every sort key of a reminder due at or before now sorts below
    rows: list[ScheduledNotification] = []
    for offset in range(LOOKBACK_DAYS, -1, -1):
        day = iso(now - timedelta(days=offset))[:10]
        for shard in range(SHARDS):
            rows += ScheduledNotification.query(f"remind#{day}#{shard}", ScheduledNotification.sk < bound,
                                                consistent_read=True, limit=PAGE)
    return rows


def _fire(row: ScheduledNotification, reading: Reading) -> bool:
    minutes = int(row.minutes_before or 0)
    marker = ScheduledNotification(pk=f"reminded#{reading.reading_id}", sk=f"{minutes}#{row.scheduled_start}",
                                   reading_id=reading.reading_id, minutes_before=minutes,
                                   scheduled_start=row.scheduled_start, expires_at=row.expires_at)

    def work(tx: Transaction) -> None:
        tx.condition_check(Reading, reading.reading_id,
                           condition=(Reading.status == "accepted") & (Reading.scheduled_start == row.scheduled_start),
                           label="reading")
        tx.save(marker, condition=ScheduledNotification.pk.does_not_exist(), label="marker")
        tx.delete(row, label="due")
        outbox.emit(tx, EVENT, **common.event_data(reading, minutesBefore=minutes,
                                                   scheduledStart=row.scheduled_start))

    try:
        atomically(work)
    except ConditionsFailed:
        row.delete()  # sent already, or cancelled/moved meanwhile: nothing to send
        return False
    except Contention:
        return False  # busy: the next run (a minute later) tries again
    return True


def run(now: datetime | None = None) -> dict[str, int]:
    """The every-minute job: emit each due reminder once; drop the ones no longer wanted."""
    moment = common.now_or(now)
    rows = _due(moment)
    counts = {"reminded": 0, "dropped": 0}
    if not rows:
        return counts
    ids = list(dict.fromkeys(row.reading_id for row in rows if row.reading_id))
    readings = {r.reading_id: r for r in Reading.batch_get(ids, consistent_read=True)}
    for row in rows:
        reading = readings.get(row.reading_id or "")
        start = common.parse(row.scheduled_start)
        wanted = (reading is not None and start is not None and reading.status == "accepted"
                  and reading.scheduled_start == row.scheduled_start
                  and moment < _cutoff(start, int(row.minutes_before or 0)))
        if wanted and reading is not None and _fire(row, reading):
            counts["reminded"] += 1
        elif not wanted:
            row.delete()
            counts["dropped"] += 1
    if counts["reminded"] or counts["dropped"]:
        logger.info("reading reminders", extra=counts)
    return counts
