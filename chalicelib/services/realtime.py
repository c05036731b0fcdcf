"""Real time over Pusher Channels: who may subscribe to what, and what is published.

Channels:

* ``private-user-<userId>``: one per user; notifications arrive there as ``notification``
  events. Only the user may subscribe (``authorize``).
* ``presence-readers-online``: who is online, each member with their public identity
  (``user_info``: name, role, imageUrl). Any signed-in user whose privacy does not hide their
  online status may join.
* ``readers`` (public): ``reader-status`` ``{readerId, isOnline, lastSeenAt}`` whenever a
  reader goes online or offline, unless the reader hides their online status.

Publishing is best effort: the in-app notification is the record, a Pusher event only makes
it arrive sooner. A refused or unreachable Pusher is logged and the caller carries on (an
email is still queued); a client that reconnects reloads ``GET /notifications``.

Signing in (``authenticate``, pusher-js ``signin()``): a connection signed in as its user is
one Pusher can close. A suspended or deleted account (``user.suspended``, ``user.deleted``)
has its open connections terminated within seconds, by a consumer of those events (never in
the request's transaction); its ``/realtime/auth`` and ``/realtime/user-auth`` are refused
already (403 ``account_suspended``, 401 ``account_deleted``), so it cannot subscribe or sign in
again. Unlike publishing this is not best effort: a refused or unreachable Pusher fails the
event, which the queue delivers again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.accounts import ACTIVE, effective_status
from chalicelib.domain.notifications import Delivery
from chalicelib.errors import Forbidden
from chalicelib.integrations import pusher
from chalicelib.logs import logger
from chalicelib.media_urls import public_url
from chalicelib.models.base import utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.users import User
from chalicelib.services import events, users

USER_CHANNEL_PREFIX = "private-user-"
PRESENCE_CHANNEL = "presence-readers-online"
READERS_CHANNEL = "readers"
NOTIFICATION_EVENT = "notification"
READER_STATUS_EVENT = "reader-status"
ONLINE_CHANGED = "reader.online_changed"


def user_channel(user_id: str) -> str:
    return f"{USER_CHANNEL_PREFIX}{user_id}"


@dataclass(frozen=True)
class ChannelAuth:
    """Pusher's channel authorization answer: ``auth``, plus ``channel_data`` on presence."""

    auth: str
    channel_data: str | None = None


def shows_online(user: User) -> bool:
    """The user's privacy.showOnlineStatus (default shown)."""
    privacy = users.preferences_of(user).document.get("privacy") or {}
    return privacy.get("showOnlineStatus", True) is not False


def public_identity(user: User) -> dict[str, Any]:
    """What other members of the presence channel see of ``user`` (the image as browsers load it)."""
    return {"user_id": user.user_id,
            "user_info": {"name": user.display_name, "role": user.role, "imageUrl": public_url(user.image_url)}}


def authorize(user_id: str, socket_id: str, channel: str, *, user: User | None = None) -> ChannelAuth:
    """Sign ``socket_id``'s subscription to ``channel`` for the caller ``user_id`` (``user``:
    their record when already loaded). ``socket_id`` has Pusher's ``<digits>.<digits>`` form
    (the request schema checks it). Raises ``Forbidden`` for any other user's channel."""
    if channel == user_channel(user_id):
        return ChannelAuth(auth=pusher.subscription_auth(socket_id, channel))
    if channel == PRESENCE_CHANNEL:
        record = user if user is not None else users.get(user_id)
        if not shows_online(record):
            raise Forbidden("Your privacy settings hide your online status, so you cannot join "
                            f"{PRESENCE_CHANNEL}. Show your online status in your preferences to join it.",
                            code="online_status_hidden", details={"channel": channel})
        channel_data = json.dumps(public_identity(record), separators=(",", ":"))
        return ChannelAuth(auth=pusher.subscription_auth(socket_id, channel, channel_data), channel_data=channel_data)
    raise Forbidden(f"You may subscribe only to your own channel {user_channel(user_id)} and to "
                    f"{PRESENCE_CHANNEL}; {channel} is not one of them.", code="channel_forbidden",
                    details={"channel": channel})


@dataclass(frozen=True)
class UserAuth:
    """Pusher's user authentication answer: ``auth`` over ``user_data`` (JSON, the user's ``id``)."""

    auth: str
    user_data: str


def authenticate(user_id: str, socket_id: str) -> UserAuth:
    """Sign ``socket_id``'s ``pusher:signin`` as the caller ``user_id`` (``socket_id`` has
    Pusher's ``<digits>.<digits>`` form: the request schema checks it). Only the id is signed:
    the connection needs no more to be closed, and nobody else sees ``user_data``."""
    user_data = json.dumps({"id": user_id}, separators=(",", ":"))
    return UserAuth(auth=pusher.user_auth(socket_id, user_data), user_data=user_data)


@events.consumer("user.suspended")
@events.consumer("user.deleted")
def disconnect_locked_out(message: dict[str, Any]) -> None:
    """Close the open connections of a suspended or deleted account. The account is read now:
    a suspension delivered again after its reinstatement (or past its end) closes nothing.
    ``TerminateFailed`` fails the event, so the queue retries it."""
    data = message.get("data") or {}
    user_id = data.get("userId") or data.get("user_id")
    if not user_id:
        return
    try:
        user = User.get(user_id, consistent_read=True,
                        attributes_to_get=["userId", "status", "suspendedUntil"])
    except User.DoesNotExist:
        user = None
    if user is not None and effective_status(user.status, user.suspended_until, utcnow()) == ACTIVE:
        return
    pusher.terminate_user_connections(user_id)
    logger.info("real-time connections terminated", extra={"userId": user_id, "event": message.get("type")})


def notification_payload(delivery: Delivery) -> dict[str, Any]:
    """The ``notification`` event's data: the delivery in the wire's camelCase."""
    payload: dict[str, Any] = {"userId": delivery.user_id, "type": str(delivery.type), "title": delivery.title,
                               "message": delivery.message, "relatedId": delivery.related_id,
                               "actionUrl": delivery.action_url, "data": dict(delivery.data)}
    return {key: value for key, value in payload.items() if value is not None}


def push(deliveries: Iterable[Delivery]) -> None:
    """A ``notification`` event on each delivery's user channel, ten per Pusher call."""
    _publish([pusher.Event(user_channel(d.user_id), NOTIFICATION_EVENT, notification_payload(d))
              for d in deliveries])


def broadcast(channel: str, event: str, data: Any) -> None:
    """One event on one channel (public, or a presence channel's members)."""
    _publish([pusher.Event(channel, event, data)])


def _publish(batch: list[pusher.Event]) -> None:
    if not batch:
        return
    try:
        pusher.publish(batch)
    except pusher.PublishFailed as exc:
        logger.warning("real-time publish failed", extra={"events": len(batch), "error": str(exc)})


@events.consumer(ONLINE_CHANGED)
def broadcast_reader_status(message: dict[str, Any]) -> None:
    """``reader-status`` on ``readers`` with the reader's current presence (read now, so a
    redelivered or out-of-order event still announces the latest state), unless the reader
    hides their online status."""
    reader_id = (message.get("data") or {}).get("reader_id")
    if not reader_id:
        return
    try:
        profile = ReaderProfile.get(reader_id, consistent_read=True)
        user = User.get(reader_id)
    except (ReaderProfile.DoesNotExist, User.DoesNotExist):
        return  # the reader is gone; nobody to announce
    if not shows_online(user):
        return
    broadcast(READERS_CHANNEL, READER_STATUS_EVENT,
              {"readerId": reader_id, "isOnline": bool(profile.is_online), "lastSeenAt": profile.last_seen_at})
