"""Live sessions for phone calls and live video: Amazon Chime SDK Meetings in the cloud
stages, a local stand-in on the embedded default and in tests. Both return the same shape:

    {"provider", "meetingId", "mediaRegion", "joinUrl", "attendees": {userId: {attendeeId, joinToken}}}

A join token is the attendee's secret: the API shows each party only their own.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any, Protocol

from chalicelib.config import get_settings


class LiveSessions(Protocol):
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

    def create(self, reading_id: str, user_ids: list[str], *, media_type: str) -> dict[str, Any]:
        client = self._meetings()
        meeting = client.create_meeting(ClientRequestToken=reading_id[:64], MediaRegion=self._region,
                                        ExternalMeetingId=reading_id[:64])["Meeting"]
        attendees = {}
        for user_id in user_ids:
            attendee = client.create_attendee(MeetingId=meeting["MeetingId"], ExternalUserId=user_id[:64])["Attendee"]
            attendees[user_id] = {"attendeeId": attendee["AttendeeId"], "joinToken": attendee["JoinToken"]}
        return {"provider": "chime", "meetingId": meeting["MeetingId"], "mediaRegion": meeting["MediaRegion"],
                "joinUrl": None, "attendees": attendees}


class LocalLiveSessions:
    """No media server locally: a meeting id and attendee tokens with the same shape as
    Chime's, so the frontend's flow (fetch the reading, read your own attendee) is the same."""

    def create(self, reading_id: str, user_ids: list[str], *, media_type: str) -> dict[str, Any]:
        meeting_id = f"local-{reading_id}"
        return {"provider": "local", "meetingId": meeting_id, "mediaRegion": "local",
                "joinUrl": None,
                "attendees": {user_id: {"attendeeId": f"att-{secrets.token_hex(6)}",
                                        "joinToken": secrets.token_urlsafe(24)} for user_id in user_ids}}


@lru_cache(maxsize=1)
def adapter() -> LiveSessions:
    settings = get_settings()
    if settings.live_sessions == "chime":
        return ChimeLiveSessions(settings.region)
    return LocalLiveSessions()
