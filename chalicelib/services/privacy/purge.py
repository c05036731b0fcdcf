"""The purge: ``ACCOUNT_RETENTION_DAYS`` after a deletion, the account's personal data is
erased or anonymised in every table and in the bucket.

The ``account_purge`` job Queries the sparse ``purgeDue`` index of the privacy table for the
erasures due (never the users), and purges each (``purge``), stopping while one more still
fits in the invocation. Every step is idempotent, so a purge cut short runs again whole on
the next run; the erasure is marked purged (and leaves the index) only at the end. A purge
that fails is logged and postponed (``erasure.postpone``: its ``purgeAt`` moves later, further
after each failure), so a few that always fail never hold the head of the index.

What goes, table by table (scrub.py rewrites what stays):

* users: the item stays as a tombstone (so the subject is never provisioned again and its
  ledger accounts keep their balances): id, role, status ``deleted``, dates, balances and the
  subscription's ids (``USER_KEPT``). Every other attribute goes: email, names, image,
  preferences, notification settings, suspension, onboarding, age verification, consents,
  the search keys, and whatever personal field is added later.
* readers: the profile becomes a tombstone (id, status ``deleted``, dates): display name,
  tagline, bio, location, languages, images, options, availability, reviews copy... go.
  Every object under ``media/<userId>/`` (images, their variants, video messages) is deleted.
* readings stay, without the account's words (scrub.reading_texts); reviews keep their rating.
* statuses of the account (and its active-status counter) are deleted; its suggestions on
  other statuses (found by their traces in the privacy table) are scrubbed.
* moderation: the queue items about the account's content lose their excerpts; its reports
  lose their notes and are deleted (scrub.moderation_items, scrub.moderation_reports).
* notifications: the account's partition is deleted; other inboxes are rewritten where they
  name the account (scrub.notifications).
* favorites, interactions (recommendation signals), analytics events (``byUser``), the
  reader's metric buckets and the account's data exports (records and files) are deleted.
* ledger: amounts stay under the account id; memos lose the account's names.
* audit: kept (ids, actions, before/after of admin decisions): the record of who did what.
* Consents and legal acceptances (with the IP address an acceptance recorded) are attributes
  of the user item: removed with it; the consents' history (the privacy table's ``consent#``
  items) is deleted.
* Outside our tables (external.py): the account's Clerk user and its Stripe customers are
  deleted right after the tables; what fails is retried by the next runs, alone.

Items that expire by TTL well before the retention ends are left to it: domain events in
the outbox (14 days), held notifications, rate-limit counters, webhook markers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pynamodb.models import Model

from chalicelib.config import get_settings
from chalicelib.domain.accounts import DELETED
from chalicelib.domain.readings import TABS
from chalicelib.integrations import s3
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.favorites import Favorite, Interaction
from chalicelib.models.metrics import AnalyticsEvent, MetricItem
from chalicelib.models.notification_schedule import NotificationSettings
from chalicelib.models.notifications import Notification
from chalicelib.models.privacy import Erasure
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.models.statuses import Status, StatusCounter, counter_key
from chalicelib.models.users import User
from chalicelib.services import audit, consent_history
from chalicelib.services.notifications import audiences
from chalicelib.services.privacy import erasure, export, external, scrub
from chalicelib.services.statuses.posting import excerpt
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

SYSTEM_ACTOR = "system"
RESERVE_MS = 5_000  # stop purging with this much of the invocation left
AUDIENCE_PAGE = 500

# The user item's attributes that stay: the tombstone. Every other attribute of the model is
# removed, so a personal field added later is erased without a change here.
USER_KEPT = frozenset(
    {
        "user_id",
        "role",
        "status",
        "created_at",
        "updated_at",
        "deleted_at",
        "credits_available",
        "credits_held",
        "credits_earnings",
        "credits_payable",
        "credits_receivable",
        "subscription_id",
        "subscription_status",
        "subscription_created_at",
    }
)


def purge_due(*, now: datetime | None = None, time_left_ms: Callable[[], int] | None = None) -> dict[str, int]:
    """The job: purge every erasure due at ``now``; figures for the log."""
    moment = now or utcnow()
    figures = {"purged": 0, "failed": 0, "left": 0}
    for user_id in erasure.due(moment):
        if time_left_ms is not None and time_left_ms() < RESERVE_MS:
            figures["left"] += 1
            continue
        try:
            if purge(user_id, now=moment):
                figures["purged"] += 1
        except Exception:  # noqa: BLE001 - one account's failure must not stop the others
            logger.exception("account purge failed", extra={"userId": user_id})
            erasure.postpone(user_id, moment)  # still due, later: it no longer heads the index
            figures["failed"] += 1
    return figures


def purge(user_id: str, *, now: datetime | None = None) -> bool:
    """Erase one deleted account (see the module docstring); False when there is nothing to do.
    An account whose tables are purged already only has its erasure outside them finished."""
    moment = now or utcnow()
    record = erasure.record(user_id)
    if record is None:
        return False
    if record.purged_at is not None:
        return external.erase(user_id)
    try:
        user = User.get(user_id, consistent_read=True)
    except User.DoesNotExist:
        user = None
    if user is not None and user.status != DELETED:
        raise RuntimeError(f"refusing to purge {user_id}: the account is {user.status}, not deleted")
    erasure.wind_down(user_id, source=record.source, deleted_at=record.deleted_at, now=moment)
    profile = _profile(user_id)
    as_client, as_reader = scrub.readings_of(user_id, TABS)
    owned_statuses = list(Status.by_client.query(user_id))
    names = _names([user.display_name if user is not None else None, *(record.names or ())], profile, owned_statuses)
    suggested_on = (record.suggested_on or set()) | scrub.suggested_on(user_id)

    # Others' copies first, while the names and ids to look for are still known.
    related = _related(user_id, as_client, as_reader, owned_statuses, profile, suggested_on)
    scrub.notifications(user_id, related, names)
    scrub.booking_memos(as_reader, names)
    scrub.suggestions(user_id, suggested_on)
    scrub.moderation_items(user_id)
    scrub.moderation_reports(user_id)
    for reading in as_client:
        scrub.review_comment(reading)
    for reading in [*as_client, *as_reader]:
        scrub.reading_texts(reading.reading_id, user_id, names)
    scrub.own_ledger_memos(user_id)

    # What is the account's own goes.
    for status in owned_statuses:
        status.delete()
    StatusCounter(status_id=counter_key(user_id)).delete()
    _delete_all(Notification, Notification.query(user_id))
    _delete_all(Favorite, Favorite.query(user_id))
    _delete_all(Interaction, Interaction.query(user_id))
    _delete_all(AnalyticsEvent, AnalyticsEvent.by_user.query(user_id))
    _delete_all(MetricItem, MetricItem.query(f"reader#{user_id}"))
    export.forget(user_id)
    consent_history.forget(user_id)
    scrub.forget_suggestion_traces(user_id)
    s3.delete_prefix(get_settings().media_bucket_name, f"media/{user_id}/")
    if profile is not None:
        _tombstone_profile(user_id, moment)
    if user is not None:
        NotificationSettings(user_id=user_id).update(
            actions=[
                NotificationSettings.notification_preferences.remove(),
                NotificationSettings.notification_preferences_version.remove(),
                NotificationSettings.notification_preferences_updated_at.remove(),
            ],
            condition=NotificationSettings.user_id.exists(),
        )
    _finish(user_id, user is not None, moment, elsewhere=external.pending(user_id, record.source))
    logger.info("account purged", extra={"userId": user_id, "readings": len(as_client) + len(as_reader)})
    external.erase(user_id)
    return True


def _profile(user_id: str) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return None


def _names(displayed: list[str | None], profile: ReaderProfile | None, owned: list[Status]) -> scrub.Names:
    """The account's names as others' text may hold them (its display names: the user item's,
    and the one the erasure kept when Clerk's deletion removed it; a reader's public name):
    each whole name and each of its words (a client is named by their first name; a reader's
    option may carry their surname)."""

    def spelled(*names: str | None) -> tuple[str, ...]:
        found = {name.strip() for name in names if name and name.strip()}
        return tuple(sorted(found | {word for name in found for word in name.split()}, key=len, reverse=True))

    return scrub.Names(
        client=spelled(*displayed),
        reader=spelled(profile.display_name, *displayed) if profile is not None else (),
        quotes=tuple(excerpt(status.content) for status in owned if status.content),
    )


def _related(
    user_id: str,
    as_client: list[Reading],
    as_reader: list[Reading],
    owned: list[Status],
    profile: ReaderProfile | None,
    suggested_on: set[str],
) -> scrub.Related:
    """Whose inboxes may name the account, about which of its readings, statuses, suggestions
    or application."""
    related = scrub.Related()
    admins = _audience("admins")
    for reading in as_client:
        related.add([reading.reader_id], reading.reading_id)
    for reading in as_reader:
        related.add([reading.client_id], reading.reading_id)
    for reading in [*as_client, *as_reader]:
        if reading.dispute is not None:
            related.add(admins, reading.reading_id)
    announced: dict[str, list[str]] = {}  # category -> the readers its statuses are announced to
    for status in owned:
        if status.category not in announced:
            announced[status.category] = _audience(audiences.specialists(status.category))
        suggesters = {str(s.get("readerId")) for s in status.suggestion_list() if s.get("readerId")}
        related.add(suggesters | set(announced[status.category]), status.status_id)
    for status_id in sorted(suggested_on):  # a suggestion's notification went to the status's client
        with contextlib.suppress(Status.DoesNotExist):
            related.add([Status.get(status_id).user_id], status_id)
    if profile is not None:
        related.add(admins, user_id)  # the reader application's notifications (its id is the user's)
    return related


def _audience(name: str) -> list[str]:
    found: list[str] = []
    cursor: dict[str, Any] | None = None
    while True:
        page = audiences.page(name, limit=AUDIENCE_PAGE, cursor=cursor)
        found += page.user_ids
        if page.cursor is None:
            return found
        cursor = page.cursor


def _delete_all(model: type[Model], items: Iterable[Model]) -> int:
    """BatchWriteItem deletes of the items' keys (a Query's results or an index's keys)."""
    count = 0
    with model.batch_write() as batch:
        for item in items:
            batch.delete(item)
            count += 1
    return count


def _tombstone_profile(user_id: str, moment: datetime) -> None:
    """The profile keeps its id, status and dates; everything else goes (one conditional put
    on the version read, again if the counters moved meanwhile)."""

    def work(tx: Transaction) -> None:
        current = _profile(user_id)
        if current is None:
            return
        tx.save(
            ReaderProfile(
                reader_id=user_id,
                status=DELETED,
                created_at=current.created_at,
                updated_at=iso(moment),
                version=current.version,
            ),
            label="profile",
        )

    atomically(work, retry_on=lambda failed: "profile" in failed)


def _finish(user_id: str, has_user: bool, moment: datetime, *, elsewhere: set[str]) -> None:
    """The user item stripped to its tombstone, the erasure marked purged, audited: together.
    What is ``elsewhere`` to erase (external.py) keeps the erasure due until it is done."""
    stamp = iso(moment)
    done: list[Any] = [Erasure.external_pending.set(elsewhere)] if elsewhere else [Erasure.purge_due.remove()]

    def work(tx: Transaction) -> None:
        if has_user:
            actions: list[Any] = [
                attribute.remove() for name, attribute in User.get_attributes().items() if name not in USER_KEPT
            ]
            actions.append(User.updated_at.set(stamp))
            tx.update(User(user_id=user_id), actions=actions, condition=User.status == DELETED, label="user")
        tx.update(
            Erasure(user_id=user_id),
            actions=[Erasure.purged_at.set(stamp), Erasure.names.remove(), *done],
            condition=Erasure.purged_at.does_not_exist(),
            label="erasure",
        )
        audit.record(
            tx,
            actor_id=SYSTEM_ACTOR,
            action="user.purge",
            entity_type="user",
            entity_id=user_id,
            after={"purgedAt": stamp, **({"pendingElsewhere": sorted(elsewhere)} if elsewhere else {})},
        )

    try:
        atomically(work)
    except ConditionsFailed as failed:
        if "erasure" in failed:
            return  # a concurrent run finished it
        raise
