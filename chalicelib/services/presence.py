"""Reader presence: the online toggle with heartbeats, and the job that times readers out.

An online reader carries ``onlineFlag = "online"`` (the sparse onlineReaders index, keyed by
lastSeenAt); going offline removes it. ``PUT /reader/online`` with the current status is a
heartbeat: one UpdateItem that moves lastSeenAt and emits nothing. A change of status is a
transaction with its ``reader.online_changed`` event. The presence job Queries the index for
heartbeats older than ``READER_PRESENCE_TIMEOUT_SECONDS`` and sets each offline only if its
lastSeenAt is still the one it read, so a heartbeat that lands meanwhile wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.config import get_settings
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.services import outbox
from chalicelib.services.readers import APPROVED, blind
from chalicelib.services.tx import ConditionsFailed, Transaction, TransactionConflict, atomically

ONLINE = "online"
EVENT = "reader.online_changed"


@dataclass(frozen=True)
class Presence:
    is_online: bool
    last_seen_at: str
    changed: bool


def _actions(online: bool, stamp: str) -> list[Any]:
    flag = ReaderProfile.online_flag.set(ONLINE) if online else ReaderProfile.online_flag.remove()
    return [ReaderProfile.is_online.set(online), flag, ReaderProfile.last_seen_at.set(stamp)]


def _currently(online: bool) -> Any:
    if online:
        return ReaderProfile.is_online == True  # noqa: E712 - a DynamoDB condition, not a Python comparison
    return (ReaderProfile.is_online == False) | ReaderProfile.is_online.does_not_exist()  # noqa: E712


def set_online(reader_id: str, online: bool, *, now: datetime | None = None) -> Presence:
    """Heartbeat (status unchanged: one UpdateItem) or change (a transaction with its event)."""
    stamp = iso(now or utcnow())
    approved = ReaderProfile.status == APPROVED
    try:
        blind(reader_id).update(actions=_actions(online, stamp), condition=approved & _currently(online),
                                add_version_condition=False)
        return Presence(is_online=online, last_seen_at=stamp, changed=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise

    def change(tx: Transaction) -> None:
        tx.update(blind(reader_id), actions=_actions(online, stamp), condition=approved & _currently(not online),
                  add_version_condition=False, label="reader")
        outbox.emit(tx, EVENT, reader_id=reader_id, is_online=online, last_seen_at=stamp, reason="toggle")

    try:
        atomically(change)
    except ConditionsFailed as failed:
        raise _why_not(reader_id) from failed
    return Presence(is_online=online, last_seen_at=stamp, changed=True)


def _why_not(reader_id: str) -> Exception:
    try:
        current = ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return NotFound("reader profile", code="reader_profile_not_found")
    if current.status != APPROVED:
        return Forbidden(f"Your reader profile is {current.status}, not approved.", code="reader_profile_not_active",
                         details={"status": current.status})
    return Conflict("Another request changed your online status; try again.", code="concurrent_change")


def expire_stale(*, now: datetime | None = None, timeout_s: int | None = None) -> list[str]:
    """Set offline every online reader whose last heartbeat is older than the timeout;
    returns their ids. Safe to run concurrently and repeatedly (each change is conditional)."""
    moment = now or utcnow()
    timeout = get_settings().reader_presence_timeout_s if timeout_s is None else timeout_s
    cutoff = iso(moment - timedelta(seconds=timeout))
    expired = []
    for reader in ReaderProfile.online_readers.query(ONLINE, ReaderProfile.last_seen_at < cutoff):
        seen = reader.last_seen_at
        tx = Transaction()
        tx.update(blind(reader.reader_id),
                  actions=[ReaderProfile.is_online.set(False), ReaderProfile.online_flag.remove()],
                  condition=(ReaderProfile.last_seen_at == seen) & (ReaderProfile.online_flag == ONLINE),
                  add_version_condition=False, label="reader")
        outbox.emit(tx, EVENT, reader_id=reader.reader_id, is_online=False, last_seen_at=seen, reason="timeout")
        try:
            tx.commit()
        except (ConditionsFailed, TransactionConflict):
            continue  # a heartbeat or a toggle got there first
        expired.append(reader.reader_id)
    if expired:
        logger.info("readers timed out", extra={"count": len(expired), "cutoff": cutoff})
    return expired
