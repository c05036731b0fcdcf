"""Delivery: a video message's uploaded file completes the reading (the table's
``deliver`` step, which pays the reader); for a call or live video the reader may still
post it to make the session for both parties at once (joining.py; the reading stays
accepted or in progress), though each party's POST /readings/{id}/join does that too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.errors import Conflict, Forbidden
from chalicelib.models.base import iso, plain
from chalicelib.models.readings import Reading
from chalicelib.services.readings import common, joining, lifecycle
from chalicelib.services.readings.common import field_error
from chalicelib.services.readings.table import STATUS_PHRASE, sentence


def deliver(reading_id: str, user_id: str, role: str, *, upload_key: str | None,
            sessions: Any = None, now: datetime | None = None) -> Reading:
    """A video message: the reader's upload completes the reading and pays the reader (a
    late one still counts unless the client cancelled first). A call or live video: the
    session's join details; calling again returns the same session."""
    reading = common.get(reading_id)
    actor = common.actor_of(reading, user_id, role)
    if actor != "reader":
        raise Forbidden("Only the reader can deliver a reading.", code="forbidden_transition",
                        details={"action": "deliver"})
    moment = common.now_or(now)
    if common.reading_type(reading) == "video_message":
        return _deliver_video(reading, upload_key, moment)
    if upload_key:
        raise field_error("uploadKey", "Only a video message is delivered as a file.")
    return _open_session(reading, sessions, moment)


def _deliver_video(reading: Reading, upload_key: str | None, moment: datetime) -> Reading:
    lifecycle.check(reading, "deliver", "reader")
    if not upload_key:
        raise field_error("uploadKey", "A video message needs the key of the uploaded video (POST /media/uploads).")
    if not upload_key.startswith(f"media/{reading.reader_id}/video_message/"):
        raise field_error("uploadKey", "Must be a video message you uploaded.")
    from chalicelib.integrations import s3
    from chalicelib.services import media

    if s3.read_head(media._bucket(), upload_key, first_bytes=0) is None:
        raise field_error("uploadKey", "There is no such upload; upload the file first.")
    at = iso(moment)
    delivery = {"type": "video_message", "videoKey": upload_key, "deliveredAt": at}
    late = bool(reading.delivery_due_at and at > reading.delivery_due_at)
    return lifecycle.execute(reading, "deliver", "reader", now=moment, actions=(Reading.delivery.set(delivery),),
                             event={"late": late})


def _open_session(reading: Reading, sessions: Any, moment: datetime) -> Reading:
    if reading.status not in ("accepted", "in_progress"):
        raise Conflict(sentence(f"{STATUS_PHRASE[reading.status]} has no live session."), code="invalid_transition",
                       details={"status": reading.status, "action": "deliver"})
    if reading.delivery is not None:  # a session attached before POST /join existed
        return reading
    # The same meeting POST /readings/{id}/join makes, with an attendee for each party.
    return joining.ensure(reading, [reading.client_id, reading.reader_id], sessions, moment)


def delivery_for(reading: Reading, user_id: str) -> dict[str, Any] | None:
    """What the caller sees of the delivery: the video (a time-limited URL), or the live
    session with the caller's own join token only (none before the caller joined). Nothing
    before the video is delivered or the session's first join."""
    if reading.meeting is not None:
        return joining.details(reading, user_id)
    if reading.delivery is None:
        return None
    delivery = plain(reading.delivery)
    if delivery.get("type") == "video_message":
        from chalicelib.services import media

        return {"type": "video_message", "deliveredAt": delivery.get("deliveredAt"),
                "videoUrl": media.url_for(delivery.get("videoKey"))}
    attendees = delivery.get("attendees") or {}
    own = attendees.get(user_id)
    return {"type": delivery.get("type"), "provider": delivery.get("provider"), "meetingId": delivery.get("meetingId"),
            "mediaRegion": delivery.get("mediaRegion"), "joinUrl": delivery.get("joinUrl"),
            "attendee": own, "createdAt": delivery.get("createdAt")}
