"""Every PynamoDB model, so health checks and the drift test see the same list."""

from __future__ import annotations

from pynamodb.models import Model

from chalicelib.models.audit import AuditRecord
from chalicelib.models.billing import Purchase, Subscription
from chalicelib.models.catalog import CatalogItem
from chalicelib.models.favorites import Favorite, Interaction
from chalicelib.models.ledger import LedgerEntry, LedgerLine, SystemAccount
from chalicelib.models.metrics import AnalyticsEvent, MetricItem
from chalicelib.models.moderation import ModerationItem
from chalicelib.models.notification_schedule import ScheduledNotification
from chalicelib.models.notifications import Notification
from chalicelib.models.outbox import OutboxEvent
from chalicelib.models.payout_records import Maturity, Payout, PayoutReader
from chalicelib.models.payouts import PayoutAccountItem
from chalicelib.models.privacy import Erasure
from chalicelib.models.rate_limits import RateLimitCounter
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, ReadingSlot, Review
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.models.webhooks import ProcessedWebhook

ALL_MODELS: list[type[Model]] = [
    User, CatalogItem, ReaderProfile, OutboxEvent, AuditRecord, ProcessedWebhook,
    LedgerEntry, LedgerLine, SystemAccount, Purchase, Subscription, Reading, ReadingSlot, Review,
    Favorite, Interaction, Notification, ScheduledNotification, Status, MetricItem, AnalyticsEvent,
    RateLimitCounter, ModerationItem, Erasure,
    PayoutAccountItem,
    Payout, PayoutReader, Maturity,
]
