"""What a data export holds: everything stored about one user, read key by key.

Every part is a Query or a GetItem on the user's own keys (their item, their reader profile,
their payout account and payout state, their partitions of notifications, ledger lines,
subscriptions, favorites, interactions and audit history; their readings through the client
and reader tab indexes, their statuses through ``byClient``, their payouts through
``byReader``, their analytics events through ``byUser``); nothing is Scanned.

Whose data is in it (the rule the export test checks): what the user wrote, chose and did,
and what the platform recorded about them. Another user appears only as an id: the other
party of a shared reading (``counterpartId``), the reader of a suggestion or a favorite.
Free text another person wrote is left out: the client's question and review comment on a
reader's readings, readers' suggestion texts on a client's statuses, the clients' names and
comments on a reader's reviews (the ratings stay). Two places keep what the user was shown
as it was shown: their own notifications and ledger lines (a ledger line of a booking names
the reader's public display name, as ``GET /credits`` showed it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.models import Model

from chalicelib.config import get_settings
from chalicelib.domain.readings import TABS
from chalicelib.integrations import aws
from chalicelib.models.audit import AuditRecord
from chalicelib.models.base import iso, plain
from chalicelib.models.billing import Subscription
from chalicelib.models.favorites import Favorite, Interaction
from chalicelib.models.ledger import LedgerLine
from chalicelib.models.metrics import AnalyticsEvent
from chalicelib.models.notification_schedule import NotificationSettings
from chalicelib.models.notifications import COUNTER_SK, Notification
from chalicelib.models.payout_records import Payout, PayoutReader
from chalicelib.models.payouts import PayoutAccountItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, Review
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.services import compliance

FORMAT = "auralumic.data-export/1"
BATCH_GET_MAX = 100  # BatchGetItem's limit

# The user item's attributes an export shows (the search keys and Clerk's sync stamp are
# internal copies of these).
_ACCOUNT = (
    "user_id",
    "email",
    "display_name",
    "image_url",
    "role",
    "status",
    "created_at",
    "updated_at",
    "last_login_at",
    "deleted_at",
    "suspension_reason",
    "suspended_at",
    "suspended_until",
    "age_verified_at",
    "age_verification_method",
    "subscription_id",
    "subscription_status",
    "onboarding_steps",
    "onboarding_current_step",
    "onboarding_skip_tutorial",
    "onboarding_welcome_shown",
    "onboarding_updated_at",
)
# The reader profile's, without ``recentReviews`` (other clients' names and comments).
_PROFILE_LEFT_OUT = ("recent_reviews", "version", "online_flag", "decided_by")

NOTES = [
    "This file holds the data Auralumic stores about your account, as of generatedAt.",
    "Other people appear only by their id: the other party of a reading (counterpartId), the reader of a "
    "favorite or of a suggestion. Text other people wrote (a client's question, reviews of your readings, "
    "readers' suggestion messages) is left out; ratings stay.",
    "Your notifications and ledger lines are as they were shown to you (a booking's line names the reader).",
    "Times are UTC (ISO 8601). Credits are whole numbers.",
]


def attributes(item: Model, *, only: Iterable[str] | None = None, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """A model's stored attributes by their wire names, as plain JSON values (sets as sorted
    lists), without the empty ones."""
    wanted = set(only) if only is not None else None
    skipped = set(leave_out)
    found: dict[str, Any] = {}
    for name, attribute in type(item).get_attributes().items():
        if name in skipped or (wanted is not None and name not in wanted):
            continue
        value = getattr(item, name, None)
        if value is None:
            continue
        if isinstance(value, set | frozenset):
            value = sorted(value)
        found[attribute.attr_name] = plain(value)
    return found


def collect(user_id: str, *, now: datetime) -> dict[str, Any]:
    """The whole export document of ``user_id``."""
    user = User.get(user_id, consistent_read=True)
    return {
        "format": FORMAT,
        "userId": user_id,
        "generatedAt": iso(now),
        "notes": NOTES,
        "account": attributes(user, only=_ACCOUNT),
        "balances": {
            "available": int(user.credits_available or 0),
            "held": int(user.credits_held or 0),
            "earnings": int(user.credits_earnings or 0),
            "payable": int(user.credits_payable or 0),
            "owed": -int(user.credits_receivable or 0),
        },
        "preferences": _preferences(user_id, user),
        "readerProfile": _reader_profile(user_id),
        "readings": _readings(user_id),
        "reviews": _reviews(user_id),
        "statuses": [_status(status) for status in Status.by_client.query(user_id)],
        "notifications": _notifications(user_id),
        "ledger": [
            attributes(line, leave_out=("owner", "sk", "earner"))
            for line in LedgerLine.query(user_id, scan_index_forward=False)
        ],
        "subscriptions": [attributes(s, leave_out=("bucket", "version")) for s in Subscription.query(user_id)],
        "favorites": [attributes(f, leave_out=("user_id",)) for f in Favorite.query(user_id)],
        "interactions": [attributes(i, leave_out=("client_id",)) for i in Interaction.query(user_id)],
        "analyticsEvents": _analytics(user_id),
        "accountHistory": _history(user_id),
        "consents": consents(user_id),
        "payoutAccount": _payout_account(user_id),
        "payoutState": _payout_state(user_id),
        "payouts": [
            attributes(payout, leave_out=("reader_id",))
            for payout in Payout.by_reader.query(user_id, scan_index_forward=False)
        ],
    }


def _preferences(user_id: str, user: User) -> dict[str, Any]:
    general = plain(user.preferences) if user.preferences is not None else {}
    general.pop("_updatedAt", None)
    try:
        settings = NotificationSettings.get(
            user_id, consistent_read=True, attributes_to_get=["userId", "notificationPreferences"]
        )
        notifications = plain(settings.notification_preferences) if settings.notification_preferences else {}
    except NotificationSettings.DoesNotExist:
        notifications = {}
    return {"general": general, "notifications": notifications}


def _reader_profile(user_id: str) -> dict[str, Any] | None:
    try:
        profile = ReaderProfile.get(user_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return None
    return attributes(profile, leave_out=_PROFILE_LEFT_OUT)


def _readings(user_id: str) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for tab in TABS:
        for reading in Reading.by_client_tab.query(f"{user_id}#{tab}"):
            if reading.client_id == user_id:
                found[reading.reading_id] = _as_client(reading)
        for reading in Reading.by_reader_tab.query(f"{user_id}#{tab}"):
            if reading.reader_id == user_id:
                found[reading.reading_id] = _as_reader(reading)
    return sorted(found.values(), key=lambda entry: entry["createdAt"], reverse=True)


_READING_FACTS = (
    "reading_id",
    "status",
    "topic_id",
    "topic",
    "duration",
    "credits_cost",
    "schedule",
    "scheduled_start",
    "scheduled_end",
    "created_at",
    "updated_at",
    "accepted_at",
    "started_at",
    "completed_at",
    "closed_at",
    "close_reason",
    "no_show",
    "refunded",
)


def _facts(reading: Reading) -> dict[str, Any]:
    entry = attributes(reading, only=_READING_FACTS)
    option = plain(reading.reading_option) or {}
    entry["type"] = option.get("type")
    entry["option"] = {k: option[k] for k in ("id", "name", "type", "duration", "price") if k in option}
    return entry


def _as_client(reading: Reading) -> dict[str, Any]:
    entry = {**_facts(reading), "as": "client", "counterpartId": reading.reader_id}
    if reading.question:
        entry["question"] = reading.question
    if reading.review is not None:
        entry["review"] = plain(reading.review)
    if reading.dispute is not None:
        dispute = plain(reading.dispute)
        entry["dispute"] = {
            k: dispute[k]
            for k in ("reason", "openedAt", "status", "outcome", "refunded", "note", "resolvedAt")
            if k in dispute
        }
    if reading.delivery is not None:
        entry["delivery"] = {k: v for k, v in plain(reading.delivery).items() if k in ("type", "deliveredAt")}
    return entry


def _as_reader(reading: Reading) -> dict[str, Any]:
    entry = {
        **_facts(reading),
        "as": "reader",
        "counterpartId": reading.client_id,
        "paidOut": int(reading.paid_out or 0),
        "fee": int(reading.fee or 0),
    }
    if reading.review is not None:
        review = plain(reading.review)
        entry["review"] = {k: review[k] for k in ("rating", "createdAt") if k in review}
    if reading.dispute is not None:
        dispute = plain(reading.dispute)
        entry["dispute"] = {
            k: dispute[k] for k in ("openedAt", "status", "outcome", "refunded", "resolvedAt") if k in dispute
        }
    if reading.delivery is not None:
        entry["delivery"] = plain(reading.delivery)
    return entry


def _reviews(user_id: str) -> dict[str, Any]:
    """Reviews the user received as a reader: the ratings (the comments are the clients' words).
    The reviews the user wrote are on their readings (``readings[].review``)."""
    received = [
        {
            "readingId": review.reading_id,
            "rating": int(review.rating),
            "topic": review.topic,
            "readingType": review.reading_type,
            "createdAt": review.created_at,
        }
        for review in Review.query(user_id, scan_index_forward=False)
    ]
    return {"received": received}


_SUGGESTION_FACTS = (
    "id",
    "readerId",
    "suggestedType",
    "estimatedDuration",
    "suggestedPrice",
    "listedPrice",
    "scheduledAt",
    "topicName",
    "state",
    "createdAt",
    "updatedAt",
)


def _status(status: Status) -> dict[str, Any]:
    entry = attributes(status, leave_out=("user_id", "feed_category", "suggestions", "suggester_ids"))
    entry["suggestions"] = [{k: s[k] for k in _SUGGESTION_FACTS if k in s} for s in status.suggestion_list()]
    return entry


def _notifications(user_id: str) -> list[dict[str, Any]]:
    rows = [row for row in Notification.query(user_id, scan_index_forward=False) if row.sk != COUNTER_SK]
    return [
        attributes(
            row,
            leave_out=(
                "user_id",
                "sk",
                "event_id",
                "expires_at",
                "unread_count",
                "read_all_before",
                "read_all_at",
                "seq",
            ),
        )
        for row in rows
    ]


def _analytics(user_id: str) -> list[dict[str, Any]]:
    """The events the user sent while signed in: keys from ``byUser``, items by BatchGetItem."""
    from boto3.dynamodb.types import TypeDeserializer

    keys = [{"pk": {"S": event.pk}, "sk": {"S": event.sk}} for event in AnalyticsEvent.by_user.query(user_id)]
    table = get_settings().table_name("analytics")
    client = aws.client("dynamodb")
    deserializer = TypeDeserializer()
    events: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_MAX):
        pending: dict[str, Any] = {table: {"Keys": keys[start : start + BATCH_GET_MAX]}}
        while pending:
            response = client.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                event = {name: plain(deserializer.deserialize(value)) for name, value in item.items()}
                events.append({k: v for k, v in event.items() if k not in ("pk", "expiresAt", "userId")})
            pending = response.get("UnprocessedKeys") or {}
    return sorted(events, key=lambda event: str(event.get("sk", "")))


def _payout_account(user_id: str) -> dict[str, Any] | None:
    """A reader's payout account as Stripe last reported it (``account.updated``): the account id,
    onboarding and payouts state, requirements due. No Stripe secret or link is ever stored."""
    try:
        account = PayoutAccountItem.get(user_id, consistent_read=True)
    except PayoutAccountItem.DoesNotExist:
        return None
    return attributes(account, leave_out=("reader_id", "event_created", "event_id"))


def _payout_state(user_id: str) -> dict[str, Any] | None:
    """A reader's payout state: an admin's hold and its reason (never the admin's id), the
    credits paid out so far, the day the weekly run last paid them."""
    try:
        state = PayoutReader.get(user_id, consistent_read=True)
    except PayoutReader.DoesNotExist:
        return None
    return attributes(state, leave_out=("reader_id", "held_by", "lock"))


def _history(user_id: str) -> list[dict[str, Any]]:
    """What was done to the account (the audit trail of ``user#<id>``): who in words, never an admin's id."""
    entries = []
    for record in AuditRecord.query(f"user#{user_id}"):
        by = "you" if record.actor_id == user_id else "the system" if record.actor_id == "system" else "an admin"
        entry: dict[str, Any] = {"action": record.action, "at": record.at, "by": by}
        if record.before is not None:
            entry["before"] = plain(record.before)
        if record.after is not None:
            entry["after"] = plain(record.after)
        entries.append(entry)
    return entries


def consents(user_id: str) -> dict[str, Any]:
    """The user's consents, age declaration and legal acceptances (the compliance capability's export)."""
    return dict(plain(compliance.export(user_id)))
