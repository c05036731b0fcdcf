"""In-app notifications: deliver (idempotent, batched), list, mark one read, mark all read.

Storage (models/notifications.py): one partition per user; a row per notification with
``sk`` = ``<occurredAt>#<eventId>#<type>`` and the counter item ``~counter`` after every row.

**Unread.** A row is read when it has ``readAt`` or its ``sk`` is at or below the counter's
``readAllBefore`` watermark. ``unreadCount`` is kept exact by conditions, never by counting:

* deliver: each new row is put with ``attribute_not_exists(sk)`` (a redelivered event writes
  nothing and counts nothing) in the same TransactWriteItems as its user's counter
  ``ADD unreadCount :n, seq :n`` conditioned on ``readAllBefore < <lowest counted sk>``. A row
  that arrives late, below the watermark (an event delivered after a newer one was already
  marked read with read-all), is written already read and not counted.
* mark one read: ``SET readAt`` on the row (it must exist, be the caller's: the key is the
  caller's partition, and be unread) with ``ADD unreadCount -1`` on the counter conditioned on
  ``unreadCount > 0`` and the row being above the watermark, in one transaction.
* read-all never touches the rows: one Query reads the counter and the newest row, then one
  UpdateItem sets ``unreadCount = 0`` and ``readAllBefore`` = the newest row's ``sk``,
  conditioned on ``seq`` being unchanged (no row was counted in between).

Rows expire by TTL (``expiresAt``, NOTIFICATION_TTL_DAYS after the event). Known limit: a row
that expires while unread stays in ``unreadCount`` until the user's next read-all.
"""

from __future__ import annotations

import base64
import binascii
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.config import get_settings
from chalicelib.domain.notifications import Delivery
from chalicelib.errors import NotFound
from chalicelib.models.base import iso, utcnow
from chalicelib.models.notifications import COUNTER_SK, Notification
from chalicelib.pagination import MAX_LIMIT, PageResult, decode_cursor, encode_cursor
from chalicelib.services.tx import MAX_OPERATIONS, ConditionsFailed, Contention, Transaction, TransactionConflict

MAX_ATTEMPTS = 6
_sleep = time.sleep  # tests replace it


def _backoff(attempt: int) -> None:
    _sleep(random.uniform(0, 0.02) * 2 ** attempt)  # noqa: S311 - jitter, not crypto


# --- ids ---------------------------------------------------------------------------------

def row_sk(occurred_at: str, event_id: str, type_: str) -> str:
    return f"{occurred_at}#{event_id}#{type_}"


def notification_id(sk: str) -> str:
    """The opaque, URL-safe id of a row: its sort key, base64url without padding."""
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def sk_of(notification_id_: str) -> str | None:
    """The sort key an id encodes, or None when it is not the id of a row."""
    if not notification_id_ or len(notification_id_) > 1024 or not notification_id_.isascii():
        return None
    try:
        sk = base64.urlsafe_b64decode(notification_id_ + "=" * (-len(notification_id_) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    if sk.startswith("~") or sk.count("#") < 2 or notification_id(sk) != notification_id_:
        return None
    return sk


def normalize_time(occurred_at: str) -> str:
    """An event time as our ISO form (UTC, milliseconds, Z): sorts as text."""
    moment = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# --- views -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NotificationView:
    id: str
    user_id: str
    type: str
    title: str
    message: str
    is_read: bool
    created_date: str
    related_id: str | None
    action_url: str | None
    read_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Counter:
    unread_count: int = 0
    read_all_before: str | None = None
    read_all_at: str | None = None
    seq: int = 0

    @classmethod
    def of(cls, item: Notification | None) -> Counter:
        if item is None:
            return cls()
        return cls(unread_count=max(0, int(item.unread_count or 0)), read_all_before=item.read_all_before,
                   read_all_at=item.read_all_at, seq=int(item.seq or 0))

    def covers(self, sk: str) -> bool:
        """Whether read-all marked the row ``sk`` read."""
        return self.read_all_before is not None and sk <= self.read_all_before


def view(row: Notification, counter: Counter) -> NotificationView:
    read_at = row.read_at or (counter.read_all_at if counter.covers(row.sk) else None)
    return NotificationView(
        id=notification_id(row.sk), user_id=row.user_id, type=row.type or "", title=row.title or "",
        message=row.message or "", is_read=read_at is not None or counter.covers(row.sk),
        created_date=row.created_date or "", related_id=row.related_id, action_url=row.action_url, read_at=read_at)


# --- deliver -----------------------------------------------------------------------------

def deliver(event_id: str, occurred_at: str, deliveries: list[Delivery], *,
            now: datetime | None = None) -> list[Delivery]:
    """Write one row per delivery, idempotent per (event_id, user_id, type), each counted on
    its user's counter; returns the deliveries that were new (in their given order).

    One TransactWriteItems per up to 100 operations (rows plus one counter per user), so at
    most one call per 25 rows even when every row is for another user. A cancelled batch is
    retried without the rows that already existed."""
    moment = now or utcnow()
    when = normalize_time(occurred_at)
    by_user: dict[str, dict[str, Delivery]] = {}
    for delivery in deliveries:
        by_user.setdefault(delivery.user_id, {}).setdefault(row_sk(when, event_id, str(delivery.type)), delivery)
    written: set[tuple[str, str]] = set()
    for chunk in _chunks(by_user):
        for user_id, sks in _deliver_chunk(chunk, event_id, when, moment).items():
            written.update((user_id, sk) for sk in sks)
    new, seen = [], set()
    for delivery in deliveries:
        key = (delivery.user_id, row_sk(when, event_id, str(delivery.type)))
        if key in written and key not in seen:
            seen.add(key)
            new.append(delivery)
    return new


def _chunks(by_user: dict[str, dict[str, Delivery]]) -> Iterable[dict[str, dict[str, Delivery]]]:
    chunk: dict[str, dict[str, Delivery]] = {}
    size = 0
    for user_id, rows in by_user.items():
        needed = len(rows) + 1
        if needed > MAX_OPERATIONS:
            raise ValueError(f"at most {MAX_OPERATIONS - 1} notifications per user and event")
        if size + needed > MAX_OPERATIONS:
            yield chunk
            chunk, size = {}, 0
        chunk[user_id] = rows
        size += needed
    if chunk:
        yield chunk


def _row(user_id: str, sk: str, delivery: Delivery, event_id: str, when: str, moment: datetime,
         born_read: bool) -> Notification:
    expires = datetime.fromisoformat(when.replace("Z", "+00:00")) + timedelta(days=get_settings().notification_ttl_days)
    return Notification(
        user_id, sk, type=str(delivery.type), title=delivery.title, message=delivery.message,
        related_id=delivery.related_id, action_url=delivery.action_url, event_id=event_id, created_date=when,
        delivered_at=iso(moment), read_at=iso(moment) if born_read else None, expires_at=int(expires.timestamp()))


def _deliver_chunk(chunk: dict[str, dict[str, Delivery]], event_id: str, when: str,
                   moment: datetime) -> dict[str, set[str]]:
    """Write a chunk (at most 100 operations); the (user, sk) rows it wrote, by user."""
    pending = {user_id: dict(rows) for user_id, rows in chunk.items()}
    watermarks: dict[str, str | None] = {}  # fetched only after a counter condition failed
    for attempt in range(MAX_ATTEMPTS):
        tx = Transaction()
        labels: dict[str, tuple[str, str | None]] = {}
        for index, (user_id, rows) in enumerate(pending.items()):
            mark = watermarks.get(user_id)
            counted = sorted(sk for sk in rows if mark is None or sk > mark)
            for sk, delivery in rows.items():
                label = f"row:{index}:{len(labels)}"
                labels[label] = (user_id, sk)
                tx.save(_row(user_id, sk, delivery, event_id, when, moment, born_read=sk not in counted),
                        condition=Notification.sk.does_not_exist(), label=label)
            if counted:
                label = f"counter:{index}"
                labels[label] = (user_id, None)
                condition = Notification.read_all_before.does_not_exist() | (Notification.read_all_before < counted[0])
                tx.update(Notification(user_id, COUNTER_SK),
                          actions=[Notification.unread_count.add(len(counted)), Notification.seq.add(len(counted))],
                          condition=condition, label=label)
        try:
            tx.commit()
        except ConditionsFailed as failed:
            if "?" in failed.labels:
                raise
            stale: list[str] = []
            for label in failed.labels:
                owner, failed_sk = labels[label]
                if failed_sk is None:
                    stale.append(owner)  # a read-all moved the watermark: learn it, retry
                else:
                    pending[owner].pop(failed_sk, None)  # it existed: written by an earlier delivery
            watermarks.update(_watermarks(stale))
            pending = {user_id: rows for user_id, rows in pending.items() if rows}
            if not pending:
                return {}
            continue
        except TransactionConflict:
            _backoff(attempt)
            continue
        return {user_id: set(rows) for user_id, rows in pending.items()}
    raise Contention()


def _watermarks(user_ids: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = dict.fromkeys(user_ids)
    for start in range(0, len(user_ids), 100):
        keys = [(user_id, COUNTER_SK) for user_id in user_ids[start:start + 100]]
        for item in Notification.batch_get(keys, consistent_read=True):
            found[item.user_id] = item.read_all_before
    return found


# --- read --------------------------------------------------------------------------------

@dataclass
class NotificationsPage:
    items: list[NotificationView]
    page: PageResult[NotificationView]
    unread_count: int


def _query(user_id: str, *, limit: int, start: dict[str, Any] | None, unread: bool) -> tuple[list[Notification],
                                                                                               dict[str, Any] | None]:
    """One Query, newest first (the counter item, when the Query starts at the top, first)."""
    raw = Notification._get_connection().query(
        user_id, scan_index_forward=False, limit=limit, exclusive_start_key=start, consistent_read=True,
        filter_condition=Notification.read_at.does_not_exist() if unread else None)
    return [Notification.from_raw_data(item) for item in raw.get("Items", [])], raw.get("LastEvaluatedKey")


def list_page(user_id: str, *, unread: bool = False, limit: int, cursor: str | None) -> NotificationsPage:
    """The caller's notifications, newest first. The first page is one Query (it reads the
    counter item too); later pages read the counter with one GetItem first."""
    limit = max(1, min(limit, MAX_LIMIT))
    scope = f"notifications:{user_id}:{'unread' if unread else 'all'}"
    start, number = decode_cursor(cursor, scope) if cursor else (None, 1)
    counter_item: Notification | None = None
    if start is not None:
        counter_item = next(iter(Notification.batch_get([(user_id, COUNTER_SK)], consistent_read=True)), None)
    items, last_key = _query(user_id, limit=limit + (1 if start is None else 0), start=start, unread=unread)
    if items and items[0].is_counter:
        counter_item = items.pop(0)
    counter = Counter.of(counter_item)
    rows: list[Notification] = []
    for item in items:
        if unread and counter.covers(item.sk):
            last_key = None  # every older row is below the watermark too: read
            break
        rows.append(item)
    if len(rows) > limit:
        rows = rows[:limit]
        last_key = {"userId": {"S": user_id}, "sk": {"S": rows[-1].sk}}
    views = [view(row, counter) for row in rows]
    next_cursor = encode_cursor(last_key, scope, number + 1) if last_key else None
    page = PageResult(items=views, next_cursor=next_cursor, limit=limit, page=number)
    return NotificationsPage(items=views, page=page, unread_count=counter.unread_count)


def mark_read(user_id: str, notification_id_: str, *, now: datetime | None = None) -> tuple[NotificationView, int]:
    """Mark the caller's notification read; the notification and the unread count after.
    Another user's id, or one that is no row, is 404 and changes nothing; marking a read
    notification again changes nothing."""
    sk = sk_of(notification_id_)
    if sk is None:
        raise NotFound("notification")
    at = iso(now or utcnow())
    for attempt in range(MAX_ATTEMPTS):
        found = {item.sk: item for item in Notification.batch_get([(user_id, sk), (user_id, COUNTER_SK)],
                                                                   consistent_read=True)}
        row, counter = found.get(sk), Counter.of(found.get(COUNTER_SK))
        if row is None:
            raise NotFound("notification")
        if row.read_at or counter.covers(sk):
            return view(row, counter), counter.unread_count
        tx = Transaction()
        tx.update(Notification(user_id, sk), actions=[Notification.read_at.set(at)],
                  condition=Notification.sk.exists() & Notification.read_at.does_not_exist(), label="row")
        if counter.unread_count > 0:
            tx.update(Notification(user_id, COUNTER_SK), actions=[Notification.unread_count.add(-1)],
                      condition=(Notification.unread_count > 0)
                      & (Notification.read_all_before.does_not_exist() | (Notification.read_all_before < sk)),
                      label="counter")
        try:
            tx.commit()
        except ConditionsFailed:
            continue  # read meanwhile, or a read-all: look again
        except TransactionConflict:
            _backoff(attempt)
            continue
        row.read_at = at
        return view(row, counter), max(0, counter.unread_count - 1)
    raise Contention()


def read_all(user_id: str, *, now: datetime | None = None) -> str:
    """Mark every notification of the caller read (the watermark; rows are not rewritten)
    and set the unread count to 0; returns when (ISO). One Query and one UpdateItem."""
    at = iso(now or utcnow())
    for attempt in range(MAX_ATTEMPTS):
        items, _ = _query(user_id, limit=2, start=None, unread=False)
        counter_item = items.pop(0) if items and items[0].is_counter else None
        counter = Counter.of(counter_item)
        newest = items[0].sk if items else None
        mark = max(filter(None, (newest, counter.read_all_before)), default=None)
        actions: list[Any] = [Notification.unread_count.set(0), Notification.read_all_at.set(at)]
        if mark is not None:
            actions.append(Notification.read_all_before.set(mark))
        condition = (Notification.seq == counter.seq) if counter_item is not None and counter_item.seq is not None \
            else Notification.seq.does_not_exist()
        try:
            Notification(user_id, COUNTER_SK).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            _backoff(attempt)
            continue
        return at
    raise Contention()
