"""Notification settings on the user item, and the notification schedule table.

``NotificationSettings`` is the users table seen through the attributes notifications read
and write (like ``ReadingMeeting`` on the readings table): the per-type preferences map,
its version, and the account's general preferences (timezone, master switches), so that
deciding for 100 recipients is one BatchGetItem of those attributes only.

``ScheduledNotification`` is one item of the ``notification-schedule`` table, which holds
what must happen at a time, keyed so that a schedule finds what is due with a Query per
time bucket (never a Scan):

* a held push/email (quiet hours or a digest): ``pk = held#<release day>#<shard>``,
  ``sk = <releaseAt>#<userId>#<digest|quiet>#<id>``;
* a reading reminder due: ``pk = remind#<due day>#<shard>``,
  ``sk = <dueAt>#<readingId>#<minutesBefore>``;
* a reminder already sent: ``pk = reminded#<readingId>``, ``sk = <minutesBefore>#<scheduledStart>``
  (the conditional marker that makes each reminder once).

Every item expires by TTL (``expiresAt``).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class NotificationSettings(Model):
    """The users table, only the attributes notification preferences use. Never creates a
    user: every write is conditional on the item existing."""

    class Meta:
        table_name = table_name("users")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    # {type: {"inApp", "push", "email": bool, "frequency": str, "quietHours": {start, end, timezone}}}
    notification_preferences: MapAttribute[str, Any] = MapAttribute(null=True, attr_name="notificationPreferences")
    notification_preferences_version = NumberAttribute(null=True, attr_name="notificationPreferencesVersion")
    notification_preferences_updated_at = UnicodeAttribute(null=True, attr_name="notificationPreferencesUpdatedAt")
    # Read only here: the account's preferences (timezone, notifications master switches).
    preferences: MapAttribute[str, Any] = MapAttribute(null=True)


class ScheduledNotification(Model):
    class Meta:
        table_name = table_name("notification-schedule")
        region = region()

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    user_id = UnicodeAttribute(null=True, attr_name="userId")
    channels = UnicodeSetAttribute(null=True)  # the held channels: push, email
    digest = UnicodeAttribute(null=True)  # hourly | daily | weekly; absent: held for quiet hours
    release_at = UnicodeAttribute(null=True, attr_name="releaseAt")
    delivery: MapAttribute[str, Any] = MapAttribute(null=True)  # the Delivery as stored (camelCase)
    occurred_at = UnicodeAttribute(null=True, attr_name="occurredAt")
    claimed_until = NumberAttribute(null=True, attr_name="claimedUntil")  # epoch s: a release in progress
    reading_id = UnicodeAttribute(null=True, attr_name="readingId")
    minutes_before = NumberAttribute(null=True, attr_name="minutesBefore")
    scheduled_start = UnicodeAttribute(null=True, attr_name="scheduledStart")
    expires_at = NumberAttribute(attr_name="expiresAt")  # TTL
