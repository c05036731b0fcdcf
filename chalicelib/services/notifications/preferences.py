"""Notification preferences per type, and the decision of what to send now.

Stored on the user item (``notificationPreferences``, a map by type, with its own version),
so ``decide`` for any audience is one BatchGetItem per 100 recipients of three attributes.
A type the user never set takes its default: in-app and push for every type, email for the
transactional ones, marketing email off (the account's ``notifications.marketingEmails``
switch, off by default, decides a marketing type's default email).

The account's general preferences (``/me/preferences`` ``notifications``) are master
switches on top: ``email``, ``push`` or ``inApp`` off turns that channel off for every type,
``readingReminders`` off silences reading reminders. Their ``timezone`` places the daily and
weekly digests when a type has no quiet hours of its own.

Frequency ``never`` sends nothing; ``hourly``/``daily``/``weekly`` hold push and email for a
digest; quiet hours hold push and email until they end. In-app is never held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.domain.notifications import (
    CHANNEL_EMAIL,
    CHANNEL_IN_APP,
    CHANNEL_PUSH,
    NOTIFICATION_TYPES,
    NotificationType,
)
from chalicelib.errors import Conflict, NotFound
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.notification_schedule import NotificationSettings
from chalicelib.services.notifications import timing

FREQUENCIES = ("immediate", "hourly", "daily", "weekly", "never")
BATCH_GET_LIMIT = 100  # keys per BatchGetItem

TRANSACTIONAL: frozenset[str] = frozenset({
    NotificationType.READING_REQUEST, NotificationType.READING_ACCEPTED, NotificationType.READING_DECLINED,
    NotificationType.READING_COMPLETED, NotificationType.READING_CANCELLED, NotificationType.READING_REMINDER,
    NotificationType.CREDITS_PURCHASED, NotificationType.APPLICATION_APPROVED,
    NotificationType.APPLICATION_DECLINED, NotificationType.APPLICATION_SUBMITTED, NotificationType.DISPUTE_FILED,
    NotificationType.DISPUTE_RESOLVED, NotificationType.DATA_EXPORT_READY, NotificationType.PAYOUT_SENT,
    NotificationType.PAYOUT_FAILED, NotificationType.PAYOUTS_HELD, NotificationType.PAYOUTS_RELEASED,
})
MARKETING: frozenset[str] = frozenset({NotificationType.SUGGESTED_READING})


@dataclass(frozen=True)
class TypePreference:
    """One type's settings, as stored and as GET shows them (``sms`` is never offered)."""

    in_app: bool
    push: bool
    email: bool
    frequency: str = "immediate"
    quiet_hours: timing.QuietHours | None = None

    @property
    def channels(self) -> frozenset[str]:
        chosen = {CHANNEL_IN_APP: self.in_app, CHANNEL_PUSH: self.push, CHANNEL_EMAIL: self.email}
        return frozenset(channel for channel, on in chosen.items() if on)

    def stored(self) -> dict[str, Any]:
        document: dict[str, Any] = {"inApp": self.in_app, "push": self.push, "email": self.email,
                                    "frequency": self.frequency}
        if self.quiet_hours is not None:
            document["quietHours"] = {"start": self.quiet_hours.start.strftime("%H:%M"),
                                      "end": self.quiet_hours.end.strftime("%H:%M"),
                                      "timezone": self.quiet_hours.timezone}
        return document

    @classmethod
    def from_stored(cls, document: dict[str, Any]) -> TypePreference:
        quiet = document.get("quietHours")
        return cls(in_app=bool(document.get("inApp", True)), push=bool(document.get("push", True)),
                   email=bool(document.get("email", False)), frequency=str(document.get("frequency", "immediate")),
                   quiet_hours=timing.QuietHours.parse(quiet["start"], quiet["end"], quiet["timezone"])
                   if quiet else None)


def default_for(notification_type: str, *, marketing_emails: bool = False) -> TypePreference:
    email = notification_type in TRANSACTIONAL or (notification_type in MARKETING and marketing_emails)
    return TypePreference(in_app=True, push=True, email=email)


@dataclass(frozen=True)
class Settings:
    """A user's effective notification settings: every type, plus the account's switches."""

    types: dict[str, TypePreference]
    version: int = 0
    updated_at: str | None = None
    master: dict[str, bool] = field(default_factory=dict)
    timezone: str = "UTC"


def _settings(item: NotificationSettings | None) -> Settings:
    stored = plain(item.notification_preferences) if item is not None and item.notification_preferences else {}
    account = plain(item.preferences) if item is not None and item.preferences else {}
    master = {k: bool(v) for k, v in (account.get("notifications") or {}).items()}
    types = {name: TypePreference.from_stored(stored[name]) if name in stored
             else default_for(name, marketing_emails=master.get("marketingEmails", False))
             for name in NOTIFICATION_TYPES}
    return Settings(types=types, version=int(item.notification_preferences_version or 0) if item else 0,
                    updated_at=item.notification_preferences_updated_at if item else None, master=master,
                    timezone=str(account.get("timezone") or "UTC"))


def get(user_id: str) -> Settings:
    try:
        item = NotificationSettings.get(user_id, consistent_read=True)
    except NotificationSettings.DoesNotExist:
        raise NotFound("user") from None
    return _settings(item)


def put(user_id: str, types: dict[str, TypePreference], *, expected_version: int | None = None,
        now: datetime | None = None) -> Settings:
    """Replace the user's per-type preferences: a type left out takes its default again.
    With ``expected_version``, saved only if nobody saved since (else 409)."""
    unknown = sorted(set(types) - set(NOTIFICATION_TYPES))
    if unknown:
        raise ValueError(f"unknown notification types: {unknown}")
    at = iso(now or utcnow())
    document = {name: pref.stored() for name, pref in types.items()}  # SMS is not offered: never stored
    condition = NotificationSettings.user_id.exists()
    if expected_version is not None:
        condition &= (NotificationSettings.notification_preferences_version == expected_version) \
            if expected_version else NotificationSettings.notification_preferences_version.does_not_exist()
    item = NotificationSettings(user_id=user_id)
    try:
        item.update(actions=[NotificationSettings.notification_preferences.set(document),
                             NotificationSettings.notification_preferences_version.add(1),
                             NotificationSettings.notification_preferences_updated_at.set(at)],
                    condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = get(user_id)  # NotFound when the user is gone; else the version moved
        raise Conflict(f"Your notification preferences were changed elsewhere since you read them (version "
                       f"{expected_version}; they are now at version {current.version}). Reload them and save "
                       "again.", code="version_conflict", details={"version": current.version}) from exc
    return get(user_id)


def unsubscribe(user_id: str, notification_type: str, *, attempts: int = 5) -> Settings:
    """Email off for one type (the link in every email): the other settings stay as they
    are. Optimistic: written only on the version read, retried when a save raced it."""
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    for _ in range(attempts):
        current = get(user_id)
        types = dict(current.types)
        pref = types[notification_type]
        if not pref.email:
            return current
        types[notification_type] = TypePreference(pref.in_app, pref.push, False, pref.frequency, pref.quiet_hours)
        try:
            return put(user_id, types, expected_version=current.version)
        except Conflict:
            continue
    raise Conflict("Your notification preferences are being changed right now; try again in a moment.",
                   code="version_conflict")


# --- deciding what goes now ---------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """For one recipient of one notification: the channels to send now, and the ones held
    (push/email) until ``release_at``, for a ``digest`` (hourly/daily/weekly) or, when
    ``digest`` is None, for the end of quiet hours."""

    channels: frozenset[str]
    held: frozenset[str] = frozenset()
    release_at: datetime | None = None
    digest: str | None = None


NOTHING = Decision(channels=frozenset())


def decide_one(settings: Settings, notification_type: str, now: datetime) -> Decision:
    pref = settings.types[notification_type]
    if pref.frequency == "never":
        return NOTHING
    if notification_type == NotificationType.READING_REMINDER and settings.master.get("readingReminders") is False:
        return NOTHING
    switches = {CHANNEL_IN_APP: "inApp", CHANNEL_PUSH: "push", CHANNEL_EMAIL: "email"}
    chosen = frozenset(c for c in pref.channels if settings.master.get(switches[c]) is not False)
    in_app = chosen & {CHANNEL_IN_APP}
    outside = chosen - in_app
    if not outside:
        return Decision(channels=chosen)
    digest = pref.frequency if pref.frequency in timing.DIGEST_FREQUENCIES else None
    zone = pref.quiet_hours.timezone if pref.quiet_hours else settings.timezone
    release = timing.release_time(now, digest=digest, quiet=pref.quiet_hours, timezone=zone)
    if release is None:
        return Decision(channels=chosen)
    return Decision(channels=in_app, held=outside, release_at=release, digest=digest)


def settings_of(user_ids: Iterable[str]) -> dict[str, Settings]:
    """Each user's effective settings: one BatchGetItem per 100 users (users without an
    item, or without preferences, get the defaults)."""
    unique = list(dict.fromkeys(user_ids))
    found: dict[str, NotificationSettings] = {}
    for start in range(0, len(unique), BATCH_GET_LIMIT):
        chunk = unique[start:start + BATCH_GET_LIMIT]
        for item in NotificationSettings.batch_get(chunk, attributes_to_get=[
                "userId", "notificationPreferences", "notificationPreferencesVersion", "preferences"]):
            found[item.user_id] = item
    return {user_id: _settings(found.get(user_id)) for user_id in unique}


def decide(user_ids: list[str], notification_type: str, now: datetime) -> dict[str, Decision]:
    """What to send now, per recipient, for one notification of ``notification_type``."""
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    return {user_id: decide_one(settings, notification_type, now)
            for user_id, settings in settings_of(user_ids).items()}
