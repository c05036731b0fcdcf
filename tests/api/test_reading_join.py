"""Joining a call or live video: POST /readings/{id}/join, the join window, one meeting per
reading however many join at once, and ``join`` in both parties' allowedActions."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.report import report
from tests.support.readings import book, make_client, make_reader, next_local, outbox_events, race

pytestmark = pytest.mark.usefixtures("default_catalog")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _accepted_now(api, *, option: str = "live_video") -> str:
    """An immediate reading between cli and rdr, requested and accepted over HTTP."""
    created = api.post("/readings", as_user="cli", json_body={
        "readerId": "rdr", "optionType": option, "duration": 15 if option == "video_message" else 30,
        "topicId": "love-relationships", "question": "Will it work out?"})
    assert created.status_code == 201, created.body
    reading_id = created.json_body["id"]
    accepted = api.post(f"/readings/{reading_id}/accept", as_user="rdr")
    assert accepted.status_code == 200, accepted.body
    return reading_id


def _actions(api, reading_id: str, user: str) -> list[str]:
    return api.get(f"/readings/{reading_id}", as_user=user).json_body["allowedActions"]


class UniqueMeetings:
    """A provider with no idempotency at all: every meeting and attendee it makes is new,
    so two meetings recorded for one reading would show as two meeting ids. ``end`` ends a
    meeting as Chime does (``hidden``: the existence check still says it runs, as when it
    ends between the check and the attendee)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.meetings = 0
        self.replacing: list[str | None] = []
        self.ended: set[str] = set()
        self.hidden: set[str] = set()

    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    def end(self, meeting_id: str, *, hidden: bool = False) -> None:
        (self.hidden if hidden else self.ended).add(meeting_id)

    def create_meeting(self, reading_id: str, *, media_type: str, replacing: str | None = None) -> dict[str, Any]:
        with self._lock:
            self.meetings += 1
            self.replacing.append(replacing)
        return {"provider": "fake", "meetingId": f"m-{self._next()}", "mediaRegion": "eu-west-1",
                "joinUrl": "https://meet.example/x"}

    def meeting_exists(self, meeting: dict[str, Any]) -> bool:
        return meeting["meetingId"] not in self.ended

    def add_attendee(self, meeting: dict[str, Any], user_id: str) -> dict[str, Any]:
        from chalicelib.integrations.live_sessions import MeetingEnded

        if meeting["meetingId"] in self.ended | self.hidden:
            raise MeetingEnded(meeting["meetingId"])
        number = self._next()
        return {"attendeeId": f"a-{number}", "joinToken": f"token-{user_id}-{number}"}


def _warm_clients() -> None:
    """Each model's botocore client made before the threads start (see support.readings.race)."""
    from chalicelib.models.base import connection
    from chalicelib.models.ledger import LedgerEntry, LedgerLine, SystemAccount
    from chalicelib.models.outbox import OutboxEvent
    from chalicelib.models.readings import Reading, ReadingMeeting, ReadingSlot

    for model in (Reading, ReadingMeeting, ReadingSlot, LedgerEntry, LedgerLine, SystemAccount, OutboxEvent):
        assert model._get_connection().connection.client is not None
    assert connection().client is not None


def test_both_parties_join_one_meeting_each_with_their_own_token(api, aws):
    make_client("cli", 200)
    make_reader("rdr")
    make_client("stranger", 10)
    reading_id = _accepted_now(api)
    assert "join" in _actions(api, reading_id, "cli") and "join" in _actions(api, reading_id, "rdr")

    client = api.post(f"/readings/{reading_id}/join", as_user="cli")
    assert client.status_code == 200, client.body
    reader = api.post(f"/readings/{reading_id}/join", as_user="rdr")
    assert reader.status_code == 200, reader.body
    mine, theirs = client.json_body, reader.json_body
    assert mine["readingId"] == reading_id and mine["type"] == "live_video" and mine["provider"] == "local"
    assert mine["meetingId"] == theirs["meetingId"] and mine["mediaRegion"] == "local"
    assert mine["attendee"]["joinToken"] != theirs["attendee"]["joinToken"]
    assert mine["attendee"]["attendeeId"] != theirs["attendee"]["attendeeId"]

    again = api.post(f"/readings/{reading_id}/join", as_user="cli").json_body
    assert again == mine  # idempotent: the same meeting and token
    seen = api.get(f"/readings/{reading_id}", as_user="cli").json_body["delivery"]
    assert seen["meetingId"] == mine["meetingId"] and seen["attendee"] == mine["attendee"]
    assert len(outbox_events("reading.session_ready")) == 1

    stranger = api.post(f"/readings/{reading_id}/join", as_user="stranger")
    assert stranger.status_code == 404 and stranger.json_body["error"]["code"] == "not_found"


def test_an_admin_is_refused_with_403_as_the_route_documents(api, aws, make_user):
    make_client("cli", 200)
    make_reader("rdr")
    make_user("boss", role="admin")
    reading_id = _accepted_now(api)
    refused = api.post(f"/readings/{reading_id}/join", as_user="boss")
    assert refused.status_code == 403 and refused.json_body["error"]["code"] == "forbidden_role", refused.body
    assert api.get(f"/readings/{reading_id}", as_user="boss").status_code == 200  # admins see it, not join it
    spec = api.get("/openapi.json").json_body["paths"]["/readings/{readingId}/join"]["post"]
    assert {"403", "404"} <= set(spec["responses"])
    assert "an admin 403" in spec["description"] and "404" in spec["description"]


def test_the_reader_starts_without_a_delivery_and_join_ends_with_the_reading(api, aws):
    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api, option="phone_call")

    started = api.post(f"/readings/{reading_id}/start", as_user="rdr")
    assert started.status_code == 200, started.body
    assert started.json_body["status"] == "in_progress" and started.json_body.get("delivery") is None
    assert "join" in started.json_body["allowedActions"] and "join" in _actions(api, reading_id, "cli")
    assert api.post(f"/readings/{reading_id}/join", as_user="cli").json_body["type"] == "phone_call"

    assert api.post(f"/readings/{reading_id}/complete", as_user="cli").status_code == 200
    for user in ("cli", "rdr"):
        assert "join" not in _actions(api, reading_id, user)
        closed = api.post(f"/readings/{reading_id}/join", as_user=user)
        assert closed.status_code == 409, closed.body
        assert closed.json_body["error"]["message"] == "A completed reading has no live session to join."


def test_a_scheduled_reading_opens_for_joining_ten_minutes_before_its_start(api, aws):
    from chalicelib.errors import BusinessRuleViolation
    from chalicelib.services import readings

    make_client("cli", 200)
    make_reader("rdr")
    start = next_local(0, "10:00")  # a Monday at least two days ahead
    reading = book("cli", option_type="live_video", at=start)
    reading_id = reading.reading_id
    readings.accept(reading_id, "rdr", "reader")
    opens = start - timedelta(minutes=10)

    early = api.post(f"/readings/{reading_id}/join", as_user="rdr")
    assert early.status_code == 422, early.body
    error = early.json_body["error"]
    assert error["code"] == "join_window_not_open" and error["details"]["opensAt"] == _iso(opens)
    assert error["message"] == (f"The session opens at {_iso(opens)}, 10 minutes before the scheduled start; "
                                "join again then.")
    assert "join" not in _actions(api, reading_id, "cli") and "join" not in _actions(api, reading_id, "rdr")

    stored = readings.get(reading_id)
    for user, role in (("cli", "client"), ("rdr", "reader")):
        assert "join" not in readings.allowed_actions(stored, user, role, now=opens - timedelta(seconds=1))
        assert "join" in readings.allowed_actions(stored, user, role, now=opens)
    with pytest.raises(BusinessRuleViolation, match="The session opens at") as refused:
        readings.join(reading_id, "cli", now=opens - timedelta(seconds=1))
    assert refused.value.status == 422
    joined = readings.join(reading_id, "cli", now=opens)
    assert joined["attendee"]["joinToken"] and joined["meetingId"] == f"local-{reading_id}"


def test_a_video_message_or_a_request_has_nothing_to_join(api, aws):
    make_client("cli", 200)
    make_reader("rdr")
    message = _accepted_now(api, option="video_message")
    refused = api.post(f"/readings/{message}/join", as_user="cli")
    assert refused.status_code == 422 and refused.json_body["error"]["code"] == "not_live"
    assert refused.json_body["error"]["message"] == "A video message has no live session to join."
    assert "join" not in _actions(api, message, "rdr")

    requested = api.post("/readings", as_user="cli", json_body={
        "readerId": "rdr", "optionType": "phone_call", "duration": 30, "topicId": "love-relationships",
        "question": "Will it work out?"})
    early = api.post(f"/readings/{requested.json_body['id']}/join", as_user="cli")
    assert early.status_code == 409 and early.json_body["error"]["message"] == (
        "A requested reading has no live session yet; it opens once the reader accepts.")


def test_a_delivery_posted_by_the_reader_is_the_meeting_the_parties_join(api, aws):
    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    session = api.post(f"/readings/{reading_id}/delivery", as_user="rdr", json_body={}).json_body["delivery"]
    client_view = api.get(f"/readings/{reading_id}", as_user="cli").json_body["delivery"]
    joined = api.post(f"/readings/{reading_id}/join", as_user="cli").json_body
    assert joined["meetingId"] == session["meetingId"] and joined["attendee"] == client_view["attendee"]
    assert api.post(f"/readings/{reading_id}/join", as_user="rdr").json_body["attendee"] == session["attendee"]


def test_concurrent_first_joins_record_one_meeting(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.services import readings

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    provider = UniqueMeetings()
    callers = ["cli", "rdr"] * 6
    outcomes = race([lambda user=user: readings.join(reading_id, user, sessions=provider) for user in callers])
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert not failures, failures

    meetings = {o["meetingId"] for o in outcomes}
    tokens = {user: {o["attendee"]["joinToken"] for o, u in zip(outcomes, callers, strict=True) if u == user}
              for user in ("cli", "rdr")}
    report(f"join: {len(callers)} concurrent first joins -> {len(meetings)} meeting recorded "
           f"({provider.meetings} made by the provider)")
    assert len(meetings) == 1
    assert len(tokens["cli"]) == 1 and len(tokens["rdr"]) == 1 and tokens["cli"] != tokens["rdr"]
    stored = readings.get(reading_id).meeting.as_dict()
    assert stored["meetingId"] in meetings and set(stored["attendees"]) == {"cli", "rdr"}
    assert stored["attendees"]["cli"]["joinToken"] in tokens["cli"]
    assert len(outbox_events("reading.session_ready")) == 1


def _joined_once(api, provider: UniqueMeetings) -> tuple[str, dict[str, Any]]:
    """An accepted live video the client has joined through ``provider``: (id, the join)."""
    from chalicelib.services import readings

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    return reading_id, readings.join(reading_id, "cli", sessions=provider)


def test_a_meeting_the_provider_ended_is_replaced_on_the_next_join(api, aws):
    from chalicelib.services import readings

    provider = UniqueMeetings()
    reading_id, first = _joined_once(api, provider)
    provider.end(first["meetingId"])

    reader = readings.join(reading_id, "rdr", sessions=provider)
    assert reader["meetingId"] != first["meetingId"] and reader["attendee"]["joinToken"].startswith("token-rdr-")
    assert provider.replacing == [None, first["meetingId"]]  # the replacement named the meeting it replaces
    client = readings.join(reading_id, "cli", sessions=provider)  # the client's old token was for the ended one
    assert client["meetingId"] == reader["meetingId"] and client["attendee"] != first["attendee"]
    stored = readings.get(reading_id).meeting.as_dict()
    assert stored["meetingId"] == reader["meetingId"] and set(stored["attendees"]) == {"cli", "rdr"}
    assert readings.join(reading_id, "cli", sessions=provider) == client and provider.meetings == 2


def test_a_meeting_that_ends_as_a_party_joins_is_replaced_too(api, aws):
    """The existence check still saw it running; the provider refused the attendee."""
    from chalicelib.services import readings

    provider = UniqueMeetings()
    reading_id, first = _joined_once(api, provider)
    provider.end(first["meetingId"], hidden=True)

    reader = readings.join(reading_id, "rdr", sessions=provider)
    assert reader["meetingId"] != first["meetingId"] and provider.replacing == [None, first["meetingId"]]
    client = readings.join(reading_id, "cli", sessions=provider)
    assert client["meetingId"] == reader["meetingId"] and client["attendee"] != first["attendee"]
    assert set(readings.get(reading_id).meeting.as_dict()["attendees"]) == {"cli", "rdr"}


def test_concurrent_joins_replace_an_ended_meeting_once(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.services import readings
    from tests.support.threads import all_at_once

    provider = UniqueMeetings()
    reading_id, first = _joined_once(api, provider)
    readings.join(reading_id, "rdr", sessions=provider)
    provider.end(first["meetingId"])
    callers = ["cli", "rdr"] * 6
    _warm_clients()
    outcomes = all_at_once(len(callers), lambda n: readings.join(reading_id, callers[n], sessions=provider))

    meetings = {o["meetingId"] for o in outcomes}
    tokens = {user: {o["attendee"]["joinToken"] for o, u in zip(outcomes, callers, strict=True) if u == user}
              for user in ("cli", "rdr")}
    report(f"join: {len(callers)} concurrent joins of an ended meeting -> {len(meetings)} replacement recorded "
           f"({provider.meetings - 1} made by the provider)")
    assert len(meetings) == 1 and first["meetingId"] not in meetings
    assert len(tokens["cli"]) == 1 and len(tokens["rdr"]) == 1
    stored = readings.get(reading_id).meeting.as_dict()
    assert stored["meetingId"] in meetings and set(stored["attendees"]) == {"cli", "rdr"}
    assert {stored["attendees"][u]["joinToken"] for u in ("cli", "rdr")} == tokens["cli"] | tokens["rdr"]


def test_a_start_read_before_the_first_join_is_not_refused_as_a_change(api, aws):
    """The meeting is written without the reading's version: a transition read before the
    first join (the race of a start with that join) still commits."""
    from chalicelib.models.readings import Reading
    from chalicelib.services import readings
    from chalicelib.services.readings import lifecycle

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    before = readings.get(reading_id)
    joined = readings.join(reading_id, "cli", sessions=UniqueMeetings())
    after = readings.get(reading_id)
    assert after.version == before.version and after.meeting["meetingId"] == joined["meetingId"]

    now = datetime.now(UTC)
    started = lifecycle.execute(before, "start", "reader", now=now, actions=(Reading.started_at.set(_iso(now)),))
    assert started.status == "in_progress" and started.meeting["meetingId"] == joined["meetingId"]


def test_a_start_and_the_first_joins_at_once_all_succeed(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.services import readings
    from tests.support.threads import all_at_once

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    provider = UniqueMeetings()
    calls = [lambda: readings.start(reading_id, "rdr", "reader"),
             lambda: readings.join(reading_id, "cli", sessions=provider),
             lambda: readings.join(reading_id, "rdr", sessions=provider)]
    _warm_clients()
    started, client, reader = all_at_once(len(calls), lambda n: calls[n]())
    assert started.status == "in_progress" and client["meetingId"] == reader["meetingId"]
    stored = readings.get(reading_id)
    assert stored.status == "in_progress" and set(stored.meeting.as_dict()["attendees"]) == {"cli", "rdr"}


def test_a_session_delivered_before_join_existed_is_joined_not_made_again(api, aws):
    from chalicelib.models.readings import Reading
    from chalicelib.services import readings

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _accepted_now(api)
    reader_attendee = {"attendeeId": "a-old-rdr", "joinToken": "token-old-rdr"}
    delivered = {"type": "live_video", "provider": "fake", "meetingId": "m-delivered", "mediaRegion": "eu-west-1",
                 "joinUrl": None, "createdAt": "2026-01-05T10:00:00.000Z", "attendees": {"rdr": reader_attendee}}
    readings.get(reading_id).update(actions=[Reading.delivery.set(delivered)])  # as the old delivery path left it
    provider = UniqueMeetings()

    reader = readings.join(reading_id, "rdr", sessions=provider)
    assert reader["meetingId"] == "m-delivered" and reader["attendee"] == reader_attendee
    client = readings.join(reading_id, "cli", sessions=provider)
    assert client["meetingId"] == "m-delivered" and client["attendee"]["joinToken"].startswith("token-cli-")
    assert client["createdAt"] == "2026-01-05T10:00:00.000Z" and provider.meetings == 0
    seen = api.get(f"/readings/{reading_id}", as_user="rdr").json_body["delivery"]
    assert seen["meetingId"] == "m-delivered" and seen["attendee"] == reader_attendee
    assert outbox_events("reading.session_ready") == []  # the session was ready when it was delivered
