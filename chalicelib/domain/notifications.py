"""Notification types, channels and the one value every notification part passes around.

* ``NotificationType``: the product's 10 types (frontend ``NotificationType``) plus ours.
* Channels: ``in_app`` (the notifications table), ``push`` (Pusher), ``email`` (SES via SQS).
* ``Delivery``: one notification for one user, as fan-out builds it and the store, push and
  email parts take it. It is frozen and hashable on its identity (user_id, type).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NotificationType(StrEnum):
    """What a notification is about: the product's 10 types, then ours."""

    # The product's types.
    READING_REQUEST = "reading_request"
    READING_ACCEPTED = "reading_accepted"
    READING_DECLINED = "reading_declined"
    READING_COMPLETED = "reading_completed"
    SUGGESTED_READING = "suggested_reading"
    STATUS_RESPONSE = "status_response"
    APPLICATION_APPROVED = "application_approved"
    APPLICATION_DECLINED = "application_declined"
    CREDITS_PURCHASED = "credits_purchased"
    DISPUTE_FILED = "dispute_filed"
    # Ours.
    READING_REMINDER = "reading_reminder"
    READING_CANCELLED = "reading_cancelled"
    APPLICATION_SUBMITTED = "application_submitted"
    MEDIA_PROCESSED = "media_processed"
    MEDIA_REJECTED = "media_rejected"
    BADGE_AWARDED = "badge_awarded"
    EARNINGS_RECEIVED = "earnings_received"
    SYSTEM_ALERT = "system_alert"
    REVIEW_RECEIVED = "review_received"
    DISPUTE_RESOLVED = "dispute_resolved"
    STATUS_POSTED = "status_posted"
    QUALITY_WARNING = "quality_warning"
    DATA_EXPORT_READY = "data_export_ready"
    CONTENT_MODERATED = "content_moderated"
    PAYOUT_SENT = "payout_sent"
    PAYOUT_FAILED = "payout_failed"
    PAYOUTS_HELD = "payouts_held"
    PAYOUTS_RELEASED = "payouts_released"


NOTIFICATION_TYPES: tuple[str, ...] = tuple(t.value for t in NotificationType)
PRODUCT_TYPES: tuple[str, ...] = NOTIFICATION_TYPES[:10]

CHANNEL_IN_APP = "in_app"
CHANNEL_PUSH = "push"
CHANNEL_EMAIL = "email"
CHANNELS: tuple[str, ...] = (CHANNEL_IN_APP, CHANNEL_PUSH, CHANNEL_EMAIL)

# Limits the store and the request schemas share.
MAX_TITLE_LENGTH = 200
MAX_MESSAGE_LENGTH = 2000


@dataclass(frozen=True)
class Delivery:
    """One notification for one user. ``type`` is a NotificationType value (str)."""

    user_id: str
    type: str
    title: str
    message: str
    related_id: str | None = None
    action_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in NOTIFICATION_TYPES:
            raise ValueError(f"Unknown notification type {self.type!r}.")
        if not self.user_id:
            raise ValueError("A delivery needs a user id.")

    @property
    def key(self) -> tuple[str, str]:
        """The delivery's identity within one event: (user_id, type)."""
        return (self.user_id, str(self.type))
