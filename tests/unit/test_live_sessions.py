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


def test_chime_reports_an_ended_meeting_and_replaces_it_under_its_own_token() -> None:
    import pytest

    from chalicelib.integrations.live_sessions import MeetingEnded, request_token

    client = boto3.client("chime-sdk-meetings", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("get_meeting", {"Meeting": {"MeetingId": "m-1", "MediaRegion": "us-east-1"}},
                      {"MeetingId": "m-1"})
    stub.add_client_error("get_meeting", "NotFoundException", http_status_code=404,
                          expected_params={"MeetingId": "m-1"})
    stub.add_client_error("create_attendee", "NotFoundException", http_status_code=404,
                          expected_params={"MeetingId": "m-1", "ExternalUserId": "client_1"})
    token = request_token("rdg_1", "m-1")
    stub.add_response("create_meeting", {"Meeting": {"MeetingId": "m-2", "MediaRegion": "us-east-1"}},
                      {"ClientRequestToken": token, "MediaRegion": "us-east-1", "ExternalMeetingId": "rdg_1"})
    sessions = ChimeLiveSessions("us-east-1")
    sessions._client = client
    with stub:
        assert sessions.meeting_exists({"meetingId": "m-1"})
        assert not sessions.meeting_exists({"meetingId": "m-1"})
        with pytest.raises(MeetingEnded):
            sessions.add_attendee({"meetingId": "m-1"}, "client_1")
        assert sessions.create_meeting("rdg_1", media_type="live_video", replacing="m-1")["meetingId"] == "m-2"
    stub.assert_no_pending_responses()
    long_id = "rdg_" + "x" * 60
    assert token != "rdg_1" and token == request_token("rdg_1", "m-1") != request_token("rdg_1", "m-2")
    assert len(request_token(long_id, "m-1")) <= 64 and request_token(long_id, None) == long_id[:64]
