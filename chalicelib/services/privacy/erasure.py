"""Account deletion: ``DELETE /me`` soft-deletes the account at once; the rest follows from
``user.deleted``; the purge (purge.py) erases the personal data after the retention period.

**At once, in one transaction** (``delete_account``): the user item becomes ``deleted`` (from
the next request every token of the account is a 401 ``account_deleted``; the item is never
removed, so the subject is never provisioned again and its ledger accounts stay), a reader's
profile becomes ``deleted`` (offline, not bookable, gone from ``GET /readers/{id}`` at once and
from ``GET /readers`` at the next snapshot build), the ``Erasure`` record with the purge date
(``ACCOUNT_RETENTION_DAYS`` later), the audit record and ``user.deleted``. An admin cannot
delete their own account (another admin first makes it a client), so the platform keeps an
admin as admin changes do.

Clerk's ``user.deleted`` (services/clerk_sync.py) tombstones the user item and writes the
same erasure record and audit record (``record_in``) in its own transaction, with the
display name it removes (the purge looks for it in other users' text).

**Within seconds** (``wind_down``, a consumer of ``user.deleted``, which both ways of leaving
emit, so they converge): the reader profile retired if it is not yet (Clerk's way), the
reader's active suggestions withdrawn (and remembered for the purge), every reading in
flight cancelled through the readings lifecycle, so credits move only through the ledger:
as the client, requested readings are released and accepted ones refunded; as the reader,
requests are declined (released to their clients) and accepted readings cancelled and
refunded to their clients. A reading already in progress is left to finish (the other
party can complete it or report a no-show, which refunds). A subscription is cancelled at
the end of its period. Other consumers of ``user.deleted`` close the client's active
statuses (statuses/expiry.py), put "Former client" on their reviews (review_names.py) and
mark the explore snapshot stale. Every step is idempotent (SQS delivers at least once); the
purge runs it once more first, in case an index lagged.

Credits left on a deleted account stay on its ledger account (the ledger's sum stays zero);
turning them into money is not automatic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.config import get_settings
from chalicelib.domain.accounts import DELETED
from chalicelib.errors import BusinessRuleViolation, Conflict, DomainError, NotFound
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.privacy import ERASURE_SK, PURGE_DUE, Erasure
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.services import audit, catalog, events, outbox, payments, statuses
from chalicelib.services.readers import blind
from chalicelib.services.readings import common, lifecycle
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SELF = "self"
SYSTEM_ACTOR = "system"
CLOSE_REASON = "account_deleted"
IN_FLIGHT_TABS = ("requested", "accepted")
CANCELLABLE = ("requested", "accepted")
RETRY_FIRST = timedelta(hours=1)  # a failed purge is tried again after this, doubling each time
RETRY_MAX = timedelta(days=7)


@dataclass(frozen=True)
class Deletion:
    user_id: str
    deleted_at: str
    purge_at: str


def retention() -> timedelta:
    return timedelta(days=get_settings().account_retention_days)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _profile(user_id: str) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return None


def delete_account(user_id: str, *, request_id: str | None = None, now: datetime | None = None) -> Deletion:
    """Soft-delete the caller's account (see the module docstring)."""
    moment = now or utcnow()
    try:
        user = User.get(user_id, consistent_read=True)
    except User.DoesNotExist as exc:
        raise NotFound("user") from exc
    if user.status == DELETED:
        raise Conflict("This account is already deleted.", code="account_deleted")
    if user.role == "admin":
        raise BusinessRuleViolation(
            "An admin account cannot be deleted by its owner: ask another admin to change "
            "your role to client first, so the platform always keeps an admin.",
            code="admin_account",
        )
    profile = _profile(user_id)
    stamp = iso(moment)
    purge_at = iso(moment + retention())

    def work(tx: Transaction) -> None:
        tx.update(
            User(user_id=user_id),
            actions=[User.status.set(DELETED), User.deleted_at.set(stamp), User.updated_at.set(stamp)],
            condition=(User.status == user.status) & (User.role == user.role),
            label="user",
        )
        if profile is not None and profile.status != DELETED:
            retire_in(tx, profile, stamp)
        record_in(
            tx,
            user_id,
            source=SELF,
            deleted_at=stamp,
            names=[user.display_name],
            actor_id=user_id,
            before={"status": user.status},
            request_id=request_id,
        )
        outbox.emit(tx, "user.deleted", user_id=user_id, source=SELF, deleted_at=stamp)

    try:
        atomically(work)
    except ConditionsFailed as failed:
        if failed.labels & {"user", "profile", "erasure"}:
            raise Conflict(
                "Your account changed while it was being deleted; try again.", code="account_changed"
            ) from failed
        raise
    logger.info("account deleted", extra={"userId": user_id, "purgeAt": purge_at})
    return Deletion(user_id=user_id, deleted_at=stamp, purge_at=purge_at)


def retire_in(tx: Transaction, profile: ReaderProfile, stamp: str) -> None:
    """A deleted reader's profile: ``deleted`` and offline, with the events that take its card down."""
    actions = [
        ReaderProfile.status.set(DELETED),
        ReaderProfile.updated_at.set(stamp),
        ReaderProfile.is_online.set(False),
        ReaderProfile.online_flag.remove(),
    ]
    tx.update(
        blind(profile.reader_id),
        actions=actions,
        condition=ReaderProfile.status == profile.status,
        add_version_condition=False,
        label="profile",
    )
    outbox.emit(tx, "reader.card_changed", readerId=profile.reader_id, reason=CLOSE_REASON)
    if profile.is_online:
        outbox.emit(
            tx,
            "reader.online_changed",
            reader_id=profile.reader_id,
            is_online=False,
            last_seen_at=profile.last_seen_at or stamp,
            reason=CLOSE_REASON,
        )


# --- after user.deleted ---------------------------------------------------------------------


@events.consumer("user.deleted")
def _on_user_deleted(message: dict[str, Any]) -> None:
    data = message.get("data") or {}
    wind_down(
        str(data["user_id"]),
        source=str(data.get("source") or "clerk"),
        deleted_at=str(data["deleted_at"]) if data.get("deleted_at") else None,
    )


def wind_down(
    user_id: str, *, source: str = "clerk", deleted_at: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Everything a deletion sets in motion (idempotent); the figures are logged."""
    moment = now or utcnow()
    ensure_erasure(user_id, source=source, deleted_at=deleted_at or iso(moment))
    retire_profile(user_id, moment)
    figures = {
        "suggestionsWithdrawn": withdraw_suggestions(user_id, moment),
        "readingsCancelled": cancel_readings(user_id, moment),
        "subscriptionsCancelled": cancel_subscription(user_id),
    }
    logger.info("account wound down", extra={"userId": user_id, **figures})
    return figures


def record_in(
    tx: Transaction,
    user_id: str,
    *,
    source: str,
    deleted_at: str,
    names: Iterable[str | None],
    actor_id: str,
    before: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> str:
    """Add a deletion's erasure record (purge due ``ACCOUNT_RETENTION_DAYS`` after
    ``deleted_at``; the account's ``names`` kept for the purge) and its audit record to ``tx``
    (label ``erasure``: it exists already). Used by ``DELETE /me`` and by Clerk's deletion
    (services/clerk_sync.py), in their own transactions. Returns the purge time."""
    purge_at = iso(_parse(deleted_at) + retention())
    kept = {name.strip() for name in names if name and name.strip()}
    tx.save(
        Erasure(
            user_id=user_id,
            source=source,
            deleted_at=deleted_at,
            purge_at=purge_at,
            purge_due=PURGE_DUE,
            names=kept or None,
        ),
        condition=Erasure.sk.does_not_exist(),
        label="erasure",
    )
    audit.record(
        tx,
        actor_id=actor_id,
        action="user.delete",
        entity_type="user",
        entity_id=user_id,
        before=before,
        after={"status": DELETED, "source": source, "purgeAt": purge_at},
        request_id=request_id,
    )
    return purge_at


def ensure_erasure(user_id: str, *, source: str, deleted_at: str) -> bool:
    """The erasure record of a deletion that has none (a Clerk deletion from before Clerk's
    path wrote it), audited; False when it exists already."""

    def work(tx: Transaction) -> None:
        record_in(tx, user_id, source=source, deleted_at=deleted_at, names=(), actor_id=source)

    try:
        atomically(work)
    except ConditionsFailed as failed:
        if "erasure" in failed:
            return False
        raise
    return True


def retire_profile(user_id: str, moment: datetime) -> bool:
    def work(tx: Transaction) -> bool:
        profile = _profile(user_id)
        if profile is None or profile.status == DELETED:
            return False
        retire_in(tx, profile, iso(moment))
        return True

    return atomically(work, retry_on=lambda failed: "profile" in failed)


def withdraw_suggestions(reader_id: str, moment: datetime) -> int:
    """Withdraw the deleted reader's active suggestions (the client can no longer accept a
    reading from them), and remember those statuses for the purge. Each category's active
    statuses are one partition of ``activeByCategory``, which projects ``suggesterIds``."""
    if _profile(reader_id) is None:
        return 0
    found: list[tuple[str, str]] = []
    for category in sorted(catalog.status_categories()):
        for row in Status.active_by_category.query(category, filter_condition=Status.suggester_ids.contains(reader_id)):
            status = statuses.load(row.status_id)
            found += [
                (status.status_id, str(s["id"]))
                for s in status.suggestion_list()
                if s.get("readerId") == reader_id and s.get("state") == "active"
            ]
    if not found:
        return 0
    Erasure(user_id=reader_id).update(
        actions=[Erasure.suggested_on.add({status_id for status_id, _ in found})], condition=Erasure.sk.exists()
    )
    withdrawn = 0
    for status_id, suggestion_id in found:
        try:
            statuses.withdraw(reader_id, status_id, suggestion_id, now=moment)
            withdrawn += 1
        except DomainError:
            continue  # closed, accepted or withdrawn meanwhile
    return withdrawn


def cancel_readings(user_id: str, moment: datetime) -> int:
    """Cancel every reading in flight of ``user_id`` (see the module docstring); how many."""
    cancelled = 0
    for tab in IN_FLIGHT_TABS:
        for reading in Reading.by_client_tab.query(f"{user_id}#{tab}"):
            if reading.client_id == user_id and _cancel(reading.reading_id, "client", moment):
                cancelled += 1
        for reading in Reading.by_reader_tab.query(f"{user_id}#{tab}"):
            if reading.reader_id == user_id and _cancel(reading.reading_id, "reader", moment):
                cancelled += 1
    return cancelled


def _cancel(reading_id: str, actor: str, moment: datetime) -> bool:
    """One reading, through the lifecycle's cancel step (released before acceptance,
    refunded after; a reader's cancel of a request declines it). A reading that moved
    meanwhile is read again; one no longer cancellable is left as it is."""
    for _ in range(3):
        reading = common.existing(reading_id)
        if reading is None or reading.status not in CANCELLABLE:
            return False
        try:
            lifecycle.execute(reading, "cancel", actor, now=moment, reason=CLOSE_REASON)
            return True
        except Conflict:
            continue
    return False


def cancel_subscription(user_id: str) -> int:
    """Stop renewals: cancel the current subscription at the end of its period (1), or 0."""
    current = payments.current_subscription(user_id)
    if current is None or current.cancel_at_period_end:
        return 0
    try:
        payments.cancel_subscription(user_id)
    except NotFound:
        return 0
    return 1


def due(now: datetime, *, limit: int = 100) -> list[str]:
    """The users whose purge is due at ``now``, oldest first (one Query of the sparse index)."""
    return [
        item.user_id for item in Erasure.purge_due_index.query(PURGE_DUE, Erasure.purge_at <= iso(now), limit=limit)
    ]


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure a purge is tried again: an hour, doubling,
    at most a week."""
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


def postpone(user_id: str, now: datetime) -> None:
    """A failed purge (or its erasure outside our tables, external.py): one more attempt counted
    and ``purgeAt`` moved later (``retry_delay``), so the oldest ``due`` are not the same failing
    ones every run. A failure here is logged."""
    current = record(user_id)
    if current is None or current.purge_due is None:
        return
    attempts = int(current.attempts or 0) + 1
    try:
        Erasure(user_id=user_id).update(
            actions=[
                Erasure.attempts.set(attempts),
                Erasure.last_failed_at.set(iso(now)),
                Erasure.purge_at.set(iso(now + retry_delay(attempts))),
            ],
            condition=Erasure.purge_due.exists() & (Erasure.purge_at == current.purge_at),
        )
    except UpdateError:
        logger.exception("account purge not postponed", extra={"userId": user_id})
        return
    logger.warning(
        "account purge postponed",
        extra={"userId": user_id, "attempts": attempts, "purgeAt": iso(now + retry_delay(attempts))},
    )


def record(user_id: str) -> Erasure | None:
    try:
        return Erasure.get(user_id, ERASURE_SK, consistent_read=True)
    except Erasure.DoesNotExist:
        return None
