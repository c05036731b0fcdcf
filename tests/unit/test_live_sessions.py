"""The live-session adapters: one meeting per reading, one attendee per party, the same
shape from Chime and from the local stand-in."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from chalicelib.integrations.live_sessions import ChimeLiveSessions, LocalLiveSessions


def test_chime_creates_one_idempotent_meeting_and_an_attendee_per_party() -> None:
    client = boto3.client("chime-sdk-meetings", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("create_meeting", {"Meeting": {"MeetingId": "m-1", "MediaRegion": "us-east-1"}},
                      {"ClientRequestToken": "rdg_1", "MediaRegion": "us-east-1", "ExternalMeetingId": "rdg_1"})
    for user, attendee in (("client_1", "a-1"), ("reader_1", "a-2")):
        stub.add_response("create_attendee",
                          {"Attendee": {"AttendeeId": attendee, "JoinToken": f"token-{attendee}",
                                        "ExternalUserId": user}},
                          {"MeetingId": "m-1", "ExternalUserId": user})
    sessions = ChimeLiveSessions("us-east-1")
    sessions._client = client
    with stub:
        session = sessions.create("rdg_1", ["client_1", "reader_1"], media_type="live_video")
    stub.assert_no_pending_responses()
    assert session == {"provider": "chime", "meetingId": "m-1", "mediaRegion": "us-east-1", "joinUrl": None,
                       "attendees": {"client_1": {"attendeeId": "a-1", "joinToken": "token-a-1"},
                                     "reader_1": {"attendeeId": "a-2", "joinToken": "token-a-2"}}}


def test_the_local_stand_in_has_the_same_shape_with_distinct_secret_tokens() -> None:
    session = LocalLiveSessions().create("rdg_2", ["c", "r"], media_type="phone_call")
    assert session["provider"] == "local" and session["meetingId"] == "local-rdg_2"
    assert set(session["attendees"]) == {"c", "r"}
    assert session["attendees"]["c"]["joinToken"] != session["attendees"]["r"]["joinToken"]
