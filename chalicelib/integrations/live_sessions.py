"""Live sessions for phone calls and live video: Amazon Chime SDK Meetings in the cloud
stages, a local stand-in on the embedded default and in tests. Both return the same shape:

    {"provider", "meetingId", "mediaRegion", "joinUrl", "attendees": {userId: {attendeeId, joinToken}}}

A join token is the attendee's secret: the API shows each party only their own.

A meeting ends at the provider (Chime ends one that stayed empty for a while):
``meeting_exists`` says so, ``add_attendee`` raises ``MeetingEnded``, and the reading gets
a new meeting made with ``replacing=`` the ended one's id (its own idempotency token, so
concurrent replacements of the same meeting ask the provider for the same new one).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import Any, Protocol

from chalicelib.config import get_settings


class MeetingEnded(Exception):
    """The provider no longer has this meeting (it ended)."""


def request_token(reading_id: str, replacing: str | None) -> str:
    """The idempotency token of a reading's meeting: the reading id for its first meeting;
    for the one replacing an ended meeting, the reading id and a digest of the ended id
    (2 to 64 characters of ``[-_a-zA-Z0-9]``, as Chime's ClientRequestToken needs)."""
    if replacing is None:
        return reading_id[:64]
    return f"{reading_id[:43]}-{hashlib.sha256(replacing.encode()).hexdigest()[:20]}"


class LiveSessions(Protocol):
    def create_meeting(self, reading_id: str, *, media_type: str, replacing: str | None = None) -> dict[str, Any]:
        """The reading's meeting ({provider, meetingId, mediaRegion, joinUrl}); a retry for
        the same reading (and the same ``replacing``: the id of the ended meeting this one
        replaces) returns the same meeting where the provider can."""
        ...

    def meeting_exists(self, meeting: dict[str, Any]) -> bool:
        """False once the provider has ended the meeting."""
        ...

    def add_attendee(self, meeting: dict[str, Any], user_id: str) -> dict[str, Any]:
        """One party's {attendeeId, joinToken}; a retry for the same user returns the same
        attendee where the provider can. Raises ``MeetingEnded`` if the meeting ended."""
        ...

    def create(self, reading_id: str, user_ids: list[str], *, media_type: str) -> dict[str, Any]: ...


class ChimeLiveSessions:
    """One meeting per reading (ExternalMeetingId = the reading id, ClientRequestToken makes
    a retry return the same meeting), one attendee per party."""

    def __init__(self, region: str) -> None:
        self._region = region
        self._client: Any = None

    def _meetings(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("chime-sdk-meetings", region_name=self._region)
        return self._client

    def create_meeting(self, reading_id: str, *, media_type: str, replacing: str | None = None) -> dict[str, Any]:
        meeting = self._meetings().create_meeting(ClientRequestToken=request_token(reading_id, replacing),
                                                  MediaRegion=self._region,
                                                  ExternalMeetingId=reading_id[:64])["Meeting"]
        return {"provider": "chime", "meetingId": meeting["MeetingId"], "mediaRegion": meeting["MediaRegion"],
                "joinUrl": None}

    def meeting_exists(self, meeting: dict[str, Any]) -> bool:
        try:
            self._meetings().get_meeting(MeetingId=meeting["meetingId"])
        except self._meetings().exceptions.NotFoundException:
            return False
        return True

    def add_attendee(self, meeting: dict[str, Any], user_id: str) -> dict[str, Any]:
        # Chime returns the existing attendee for an ExternalUserId already in the meeting.
        try:
            attendee = self._meetings().create_attendee(MeetingId=meeting["meetingId"],
                                                        ExternalUserId=user_id[:64])["Attendee"]
        except self._meetings().exceptions.NotFoundException:
            raise MeetingEnded(meeting["meetingId"]) from None
        return {"attendeeId": attendee["AttendeeId"], "joinToken": attendee["JoinToken"]}

    def create(self, reading_id: str, user_ids: list[str], *, media_type: str) -> dict[str, Any]:
        meeting = self.create_meeting(reading_id, media_type=media_type)
        return {**meeting, "attendees": {user_id: self.add_attendee(meeting, user_id) for user_id in user_ids}}


class LocalLiveSessions:
    """No media server locally: a meeting id and attendee tokens with the same shape as
    Chime's, so the frontend's flow (fetch the reading, read your own attendee) is the same."""

    def create_meeting(self, reading_id: str, *, media_type: str, replacing: str | None = None) -> dict[str, Any]:
        return {"provider": "local", "meetingId": f"local-{request_token(reading_id, replacing)}",
                "mediaRegion": "local", "joinUrl": None}

    def meeting_exists(self, meeting: dict[str, Any]) -> bool:
        return True  # nothing runs locally that could end it

    def add_attendee(self, meeting: dict[str, Any], user_id: str) -> dict[str, Any]:
        return {"attendeeId": f"att-{secrets.token_hex(6)}", "joinToken": secrets.token_urlsafe(24)}

    def create(self, reading_id: str, user_ids: list[str], *, media_type: str) -> dict[str, Any]:
        meeting = self.create_meeting(reading_id, media_type=media_type)
        return {**meeting, "attendees": {user_id: self.add_attendee(meeting, user_id) for user_id in user_ids}}


@lru_cache(maxsize=1)
def adapter() -> LiveSessions:
    settings = get_settings()
    if settings.live_sessions == "chime":
        return ChimeLiveSessions(settings.region)
    return LocalLiveSessions()
