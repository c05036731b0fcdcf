"""Held push and email: quiet hours and digests (the notification-schedule table).

``hold`` stores one held notification per (recipient, notification) under the day and
shard of its release time (``held#<YYYY-MM-DD>#<shard>``, sort key starting with the
release time), so ``release_due`` finds what is due with one Query per (day, shard) of the
last few days: never a Scan. The ids are deterministic (the event id, or the content), so a
redelivered event holds nothing twice.

``release_due`` (the schedule, every 5 minutes) claims each due item with a conditional
write (a lease: a concurrent run skips it; a run that died mid-way leaves it to the next
run once the lease expires), sends, then deletes: quiet-hours holds go one by one, as they
were; a user's digest items of one period go as ONE notification whose ``data`` is
``{"template": "digest", "frequency", "digest": [the items]}`` (email renders it with the
``digest`` template), its type that of the first item.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.domain.notifications import CHANNEL_EMAIL, CHANNEL_PUSH, Delivery
from chalicelib.logs import logger
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.notification_schedule import ScheduledNotification
from chalicelib.services.notifications.preferences import Decision

SHARDS = 4  # partitions per release day, so a burst of holds spreads its writes
LOOKBACK_DAYS = 2  # a release day older than this is no longer queried (the job runs every 5 minutes)
PAGE = 500  # items per (day, shard) per run; the rest go on the next run
LEASE = timedelta(minutes=10)
KEEP = timedelta(days=8)  # TTL after the release time: a week's digest plus a day
PERIOD_WORDS = {"hourly": "hourly", "daily": "daily", "weekly": "weekly"}

Sender = Callable[[list[Delivery]], None]


def _shard(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SHARDS


def _pk(release_at: datetime, user_id: str) -> str:
    return f"held#{iso(release_at)[:10]}#{_shard(user_id)}"


def _item_id(delivery: Delivery, key: str | None) -> str:
    content = json.dumps([key, delivery.type, delivery.related_id, delivery.title, delivery.message],
                         sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:20]


def _stored(delivery: Delivery, key: str) -> dict[str, Any]:
    return {"type": str(delivery.type), "title": delivery.title, "message": delivery.message,
            "relatedId": delivery.related_id, "actionUrl": delivery.action_url, "eventId": key,
            "dataJson": json.dumps(delivery.data, default=str, sort_keys=True)}


def _delivery(row: ScheduledNotification) -> Delivery:
    """The held delivery, its data naming the event and its time (email's idempotency key:
    a release that runs twice queues the same email, which is sent once)."""
    stored = plain(row.delivery)
    data = {**json.loads(stored.get("dataJson") or "{}"), "eventId": stored.get("eventId") or row.sk,
            "occurredAt": row.occurred_at}
    return Delivery(user_id=row.user_id or "", type=stored["type"], title=stored["title"], message=stored["message"],
                    related_id=stored.get("relatedId"), action_url=stored.get("actionUrl"), data=data)


def item_for(delivery: Delivery, decision: Decision, *, key: str | None = None,
             occurred_at: str | None = None) -> ScheduledNotification:
    if decision.release_at is None or not decision.held:
        raise ValueError("only a decision with held channels and a release time is held")
    release = iso(decision.release_at)
    kind = decision.digest or "quiet"
    item_id = _item_id(delivery, key)
    return ScheduledNotification(
        pk=_pk(decision.release_at, delivery.user_id),
        sk=f"{release}#{delivery.user_id}#{kind}#{item_id}",
        user_id=delivery.user_id, channels=set(decision.held), digest=decision.digest, release_at=release,
        delivery=_stored(delivery, key or f"held-{item_id}"), occurred_at=occurred_at or iso(utcnow()),
        expires_at=int((decision.release_at + KEEP).timestamp()))


def hold_many(items: Iterable[tuple[Delivery, Decision]], *, key: str | None = None,
              occurred_at: str | None = None) -> int:
    """Hold each (delivery, decision) with held channels; one BatchWriteItem per 25.
    ``key`` (the event id) makes the ids deterministic per event. Returns how many."""
    rows = [item_for(d, decision, key=key, occurred_at=occurred_at) for d, decision in items if decision.held]
    with ScheduledNotification.batch_write() as batch:
        for row in rows:
            batch.save(row)  # same id, same content: a redelivered event overwrites itself
    return len(rows)


def hold(delivery: Delivery, decision: Decision, *, key: str | None = None, occurred_at: str | None = None) -> int:
    return hold_many([(delivery, decision)], key=key, occurred_at=occurred_at)


def pending_for(user_id: str, *, now: datetime, days: int = 8) -> list[ScheduledNotification]:
    """A user's held items releasing in the next ``days`` days (for tests and support)."""
    found = []
    for offset in range(-LOOKBACK_DAYS, days + 1):
        day = iso(now + timedelta(days=offset))[:10]
        found += [row for row in ScheduledNotification.query(f"held#{day}#{_shard(user_id)}", consistent_read=True)
                  if row.user_id == user_id]
    return found


# --- release ------------------------------------------------------------------------------

def _due(now: datetime) -> list[ScheduledNotification]:
    """Due items of every (day, shard) of the lookback; a page cut short leaves its last
    (user, period) group whole for the next run, so a digest is never split."""
    bound = iso(now) + "$"  # every sort key of a release at or before now sorts below
    rows: list[ScheduledNotification] = []
    for offset in range(LOOKBACK_DAYS, -1, -1):
        day = iso(now - timedelta(days=offset))[:10]
        for shard in range(SHARDS):
            result = ScheduledNotification.query(f"held#{day}#{shard}", ScheduledNotification.sk < bound,
                                                 consistent_read=True, limit=PAGE)
            page = list(result)
            if result.last_evaluated_key is not None and page:
                last = _group_key(page[-1])
                whole = [row for row in page if _group_key(row) != last]
                page = whole or page
            rows += page
    return rows


def _group_key(row: ScheduledNotification) -> tuple[str, str, str]:
    return (row.user_id or "", row.release_at or "", row.digest or "")


def _claim(row: ScheduledNotification, now: datetime) -> bool:
    epoch = int(now.timestamp())
    free = ScheduledNotification.claimed_until.does_not_exist() | (ScheduledNotification.claimed_until < epoch)
    try:
        row.update(actions=[ScheduledNotification.claimed_until.set(epoch + int(LEASE.total_seconds()))],
                   condition=ScheduledNotification.pk.exists() & free)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False  # released or being released by another run
    return True


def digest_of(user_id: str, frequency: str, rows: list[ScheduledNotification]) -> Delivery:
    """One notification for a user's digest items of one period."""
    rows = sorted(rows, key=lambda row: (row.occurred_at or "", row.sk))  # oldest first
    items = [(_delivery(row), row.occurred_at) for row in rows]
    if len(items) == 1:
        return items[0][0]
    count = len(items)
    release = rows[0].release_at or ""
    lines = [f"{d.title}: {d.message}" for d, _ in items]
    return Delivery(
        user_id=user_id, type=items[0][0].type, title=f"Your {PERIOD_WORDS[frequency]} summary: {count} notifications",
        message="\n".join(lines), action_url="/notifications",
        data={"template": "digest", "frequency": frequency, "eventId": f"digest-{frequency}-{release}",
              "occurredAt": release, "digest": [
            {"type": d.type, "title": d.title, "message": d.message, "relatedId": d.related_id,
             "actionUrl": d.action_url, "occurredAt": at} for d, at in items]})


def release_due(now: datetime | None = None, *, push: Sender | None = None,
                send_email: Sender | None = None) -> dict[str, int]:
    """Send what is due: quiet-hours holds one by one, digests one per user and period."""
    moment = now or utcnow()
    claimed = [row for row in _due(moment) if _claim(row, moment)]
    to_push: list[Delivery] = []
    to_email: list[Delivery] = []
    counts = {"released": 0, "digests": 0}
    # A held note about a moment that has passed (a reading reminder released after the
    # reading started) is dropped, never sent late: the in-app copy was written at the time.
    current = [row for row in claimed if not _stale(row, moment)]
    if len(current) < len(claimed):
        counts["stale"] = len(claimed) - len(current)
    quiet = [row for row in current if not row.digest]
    digests = sorted((row for row in current if row.digest), key=_group_key)
    for row in quiet:
        delivery = _delivery(row)
        _route(delivery, set(row.channels or ()), to_push, to_email)
        counts["released"] += 1
    for (user_id, _, frequency), group in groupby(digests, key=_group_key):
        rows = list(group)
        channels = set().union(*(set(row.channels or ()) for row in rows))
        _route(digest_of(user_id, frequency, rows), channels, to_push, to_email)
        counts["released"] += len(rows)
        counts["digests"] += 1
    if to_push:
        (push or _default_push)(to_push)
    if to_email:
        (send_email or _default_email)(to_email)
    with ScheduledNotification.batch_write() as batch:
        for row in claimed:
            batch.delete(row)
    if claimed:
        logger.info("held notifications released", extra=counts)
    return counts


def _stale(row: ScheduledNotification, moment: datetime) -> bool:
    """The delivery's ``staleAfter`` (ISO, set by rules whose note is about a moment) has passed."""
    stale_after = _delivery(row).data.get("staleAfter")
    if not isinstance(stale_after, str):
        return False
    try:
        return datetime.fromisoformat(stale_after.replace("Z", "+00:00")) <= moment
    except ValueError:
        return False


def _route(delivery: Delivery, channels: set[str], to_push: list[Delivery], to_email: list[Delivery]) -> None:
    if CHANNEL_PUSH in channels:
        to_push.append(delivery)
    if CHANNEL_EMAIL in channels:
        to_email.append(delivery)


def _default_push(deliveries: list[Delivery]) -> None:
    from chalicelib.services import realtime

    realtime.push(deliveries)


def _default_email(deliveries: list[Delivery]) -> None:
    from chalicelib.services.notifications import email

    email.enqueue(deliveries)
