"""Readings under pressure and at the edges: concurrent answers and bookings, who may see
and do what, request validation, the cancellation policy, video-message delivery, disputes
and the lists. The lead's happy path is tests/api/test_readings_flow.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.dynamodb import atomic_dynamodb  # noqa: F401 - a fixture
from tests.report import report
from tests.support.readings import (
    MONDAY,
    QUESTION,
    TOPIC,
    balance,
    book,
    make_client,
    make_reader,
    next_local,
    outbox_events,
    race,
    status_of,
)

pytestmark = pytest.mark.usefixtures("default_catalog")

CALL = 57  # 60 credits / 30 min, 30 minutes, x 0.95 (the 30-min time span)
CALL_FEE = CALL * 20 // 100  # the platform's 20 %
MESSAGE = 40  # 40 credits / 15 min, 15 minutes, x 1.0


def _body(reader: str = "rdr", *, option: str = "phone_call", duration: int | None = None,
          at: datetime | None = None, topic: str = TOPIC, question: str | None = QUESTION) -> dict[str, Any]:
    body: dict[str, Any] = {"readerId": reader, "optionType": option, "topicId": topic,
                            "duration": duration or (15 if option == "video_message" else 30)}
    if question is not None:
        body["question"] = question
    if at is not None:
        body["scheduledAt"] = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return body


def _request(api, client: str, reader: str = "rdr", *, key: str | None = None, **kwargs: Any):
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/readings", as_user=client, json_body=_body(reader, **kwargs), headers=headers)


def _created(api, client: str, reader: str = "rdr", **kwargs: Any) -> str:
    response = _request(api, client, reader, **kwargs)
    assert response.status_code == 201, response.body
    return response.json_body["id"]


def _credits(api, user: str) -> dict[str, Any]:
    return api.get("/credits", as_user=user).json_body["balance"]


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json_body["error"]["code"]


def _field(response) -> list[str]:
    assert response.status_code == 400, response.body
    return [f["path"] for f in response.json_body["error"]["details"]["fields"]]


def _status(outcome: Any) -> int | str:
    """A reading's status, or the HTTP status of the error it raised."""
    from chalicelib.errors import DomainError

    if isinstance(outcome, DomainError):
        return outcome.status
    if isinstance(outcome, Exception):
        raise outcome
    return str(outcome.status)


def _completed(api, client: str, reader: str = "rdr") -> str:
    reading_id = _created(api, client, reader)
    for action in ("accept", "start", "complete"):
        response = api.post(f"/readings/{reading_id}/{action}", as_user=reader)
        assert response.status_code == 200, response.body
    return reading_id


# --- concurrency ------------------------------------------------------------------------

def test_fifty_concurrent_accepts_capture_the_credits_once(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.services import ledger, readings

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _created(api, "cli")

    outcomes = [_status(o) for o in race([lambda: readings.accept(reading_id, "rdr", "reader")] * 50)]
    accepted, conflicts = outcomes.count("accepted"), outcomes.count(409)
    report(f"readings: 50 concurrent accepts -> {accepted} accepted, {conflicts} x 409")
    assert (accepted, conflicts) == (1, 49)

    assert _credits(api, "cli") == {"available": 200 - CALL, "held": 0, "earnings": 0, "payable": 0,
                                    "owed": 0, "restricted": False}
    history = [line["kind"] for line in api.get("/credits", as_user="cli").json_body["data"]]
    assert history == ["capture", "hold", "grant.promotion"]
    assert ledger.system_balance("platform:revenue") == CALL
    assert len(outbox_events("reading.accepted")) == 1
    assert api.get(f"/readings/{reading_id}", as_user="cli").json_body["status"] == "accepted"


def test_an_accept_that_dynamodb_cancels_for_a_conflict_is_retried_and_captures_once(api, monkeypatch):
    """DynamoDB cancels a transaction that races another on the same item (the client's
    user item, a shared platform shard): the unit of work runs again and applies once."""
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models import DynamoDBBackend

    from chalicelib.services import tx

    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _created(api, "cli")
    calls: list[int] = []
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        calls.append(len(transact_items))
        if len(calls) == 1:
            raise TransactionCanceledException(
                [("TransactionConflict", "Transaction is ongoing for the item", None)] * len(transact_items))
        return original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact_write_items)
    monkeypatch.setattr(tx.time, "sleep", lambda seconds: None)  # the backoff; no waiting in tests

    accepted = api.post(f"/readings/{reading_id}/accept", as_user="rdr")

    assert accepted.status_code == 200, accepted.body
    assert len(calls) == 2 and calls[0] == calls[1]  # the same writes, sent twice, applied once
    assert _credits(api, "cli")["available"] == 200 - CALL and _credits(api, "cli")["held"] == 0
    history = [line["kind"] for line in api.get("/credits", as_user="cli").json_body["data"]]
    assert history == ["capture", "hold", "grant.promotion"]


def test_accept_against_decline_one_wins_and_the_money_follows_it(api, atomic_dynamodb):  # noqa: F811
    from chalicelib.services import ledger, readings

    make_client("cli", 400)
    make_reader("rdr")
    ids = [_created(api, "cli") for _ in range(6)]
    finals = []
    for reading_id in ids:
        accept, decline = (_status(o) for o in race([
            lambda rid=reading_id: readings.accept(rid, "rdr", "reader"),
            lambda rid=reading_id: readings.decline(rid, "rdr", "reader", reason="Fully booked today")]))
        assert (accept, decline) in (("accepted", 409), (409, "declined"))
        finals.append(status_of(reading_id))
        assert finals[-1] == ("accepted" if accept == "accepted" else "declined")
    won = finals.count("accepted")
    assert _credits(api, "cli")["available"] == 400 - CALL * won and _credits(api, "cli")["held"] == 0
    assert ledger.system_balance("platform:revenue") == CALL * won
    assert len(outbox_events("reading.accepted")) + len(outbox_events("reading.declined")) == len(ids)


def test_two_clients_booking_overlapping_times_get_one_reading_and_one_slot_taken(api, atomic_dynamodb):  # noqa: F811
    make_client("ana", 200)
    make_client("ben", 200)
    make_reader("rdr")
    ten = next_local(0, "10:00")  # a Monday at 10:00 in Lisbon, two days or more ahead
    outcomes = race([lambda: book("ana", at=ten), lambda: book("ben", at=ten + timedelta(minutes=15))])
    statuses = sorted(map(_status, outcomes), key=str)
    assert statuses == [409, "requested"]
    loser = ["ana", "ben"][[_status(o) for o in outcomes].index(409)]
    assert next(o for o in outcomes if isinstance(o, Exception)).code == "slot_taken"
    assert _credits(api, loser)["available"] == 200 and _credits(api, loser)["held"] == 0
    assert api.get("/readings", as_user=loser).json_body["data"] == []
    assert len(api.get("/readings?as=reader", as_user="rdr").json_body["data"]) == 1

    # Adjacent half hours on the Tuesday: both fit.
    tuesday = ten + timedelta(days=1)
    outcomes = race([lambda: book("ana", at=tuesday), lambda: book("ben", at=tuesday + timedelta(minutes=30))])
    assert [_status(o) for o in outcomes] == ["requested", "requested"]
    # And through the API, a third client overlapping both is told the slot is taken.
    make_client("cy", 200)
    overlapping = _request(api, "cy", at=tuesday + timedelta(minutes=15))
    assert _error(overlapping) == (409, "slot_taken")
    assert _credits(api, "cy")["held"] == 0


# --- who may see and do what ------------------------------------------------------------

ACTIONS = [("accept", None), ("decline", {"reason": "Not today"}), ("cancel", {}), ("start", None),
           ("complete", None), ("no-show", None), ("delivery", {}), ("review", {"rating": 5}),
           ("dispute", {"reason": "Not what I asked for"})]
READER_ONLY = {"accept", "decline", "start", "delivery"}


def test_strangers_get_404_and_the_client_cannot_act_as_the_reader(api, make_user):
    make_client("cli", 200)
    make_client("other", 200)
    make_reader("rdr")
    make_reader("rdr2")
    reading_id = _created(api, "cli")
    before = api.get(f"/readings/{reading_id}", as_user="cli").json_body

    for stranger in ("other", "rdr2"):
        assert _error(api.get(f"/readings/{reading_id}", as_user=stranger)) == (404, "not_found")
        for action, body in ACTIONS:
            response = api.post(f"/readings/{reading_id}/{action}", as_user=stranger, json_body=body)
            expected = 403 if stranger == "other" and action in READER_ONLY else 404
            assert response.status_code == expected, (stranger, action, response.body)
        resolve = api.post(f"/admin/disputes/{reading_id}/resolve", as_user=stranger,
                           json_body={"outcome": "full_refund", "note": "Give it back"})
        assert resolve.status_code == 403

    for action in sorted(READER_ONLY):  # the reading's own client
        body = dict(ACTIONS)[action]
        assert _error(api.post(f"/readings/{reading_id}/{action}", as_user="cli", json_body=body)) == (
            403, "forbidden_role"), action
    for action in ("review", "dispute"):  # the reading's own reader
        response = api.post(f"/readings/{reading_id}/{action}", as_user="rdr", json_body=dict(ACTIONS)[action])
        assert response.status_code == 403, (action, response.body)

    after = api.get(f"/readings/{reading_id}", as_user="cli").json_body
    assert (after["status"], after["updatedAt"]) == ("requested", before["updatedAt"])
    assert _credits(api, "cli")["held"] == CALL and _credits(api, "other")["available"] == 200
    assert api.get(f"/readings/{reading_id}", as_user="rdr").status_code == 200


# --- request validation -----------------------------------------------------------------

def test_malformed_requests_are_400_and_hold_nothing(api):
    make_client("cli", 200)
    make_reader("rdr")
    assert _field(_request(api, "cli", question=None)) == ["question"]
    assert _field(_request(api, "cli", question="   ")) == ["question"]
    assert _field(_request(api, "cli", topic="astral-plumbing")) == ["topicId"]
    assert _field(_request(api, "cli", duration=20)) == ["duration"]
    off_boundary = next_local(0, "10:02")
    assert _field(_request(api, "cli", at=off_boundary)) == ["scheduledAt"]
    assert _field(_request(api, "cli", at=datetime.now(UTC) + timedelta(days=120))) == ["scheduledAt"]
    assert _field(_request(api, "cli", option="video_message", at=next_local(0, "10:00"))) == ["scheduledAt"]
    assert _credits(api, "cli")["available"] == 200
    assert api.get("/readings", as_user="cli").json_body["data"] == []

    general = _request(api, "cli", topic="general-reading", question=None)  # the one topic without a question
    assert general.status_code == 201, general.body
    assert _credits(api, "cli")["held"] == CALL


def test_requests_the_rules_refuse(api):
    from tests.support import ledger as moves

    make_reader("rdr")
    make_reader("asleep", online=False)
    make_client("cli", 200)
    assert _error(_request(api, "cli", "asleep")) == (409, "reader_offline")
    scheduled = _request(api, "cli", "asleep", at=next_local(1, "11:00"))  # offline readers still take bookings
    assert scheduled.status_code == 201, scheduled.body

    make_client("young", 200, verified=False)
    assert _error(_request(api, "young")) == (422, "age_verification_required")

    make_client("owes", 10)
    moves.reverse("owes", 30, entry_id="chargeback:test-owes")  # 10 taken back, 20 owed
    assert _credits(api, "owes")["owed"] == 20
    assert _error(_request(api, "owes")) == (422, "payment_restricted")

    first = _request(api, "cli", key="retry-1")
    assert first.status_code == 201
    assert _request(api, "cli", key="retry-1").json_body["id"] == first.json_body["id"]
    assert _error(_request(api, "cli", key="retry-1", question="Another question")) == (409, "idempotency_key_reused")
    assert _credits(api, "cli")["held"] == 2 * CALL
    for user in ("young", "owes"):
        assert api.get("/readings", as_user=user).json_body["data"] == []


def test_without_an_option_id_the_only_option_or_the_one_of_that_duration_is_booked(api):
    """Several active options of one type: the duration picks one, or the client must name
    it (422 option_required); one active option of the type is taken without an id."""
    options = [
        {"id": "opt_short", "type": "phone_call", "name": "Short call", "description": "", "duration": 30,
         "price": 60, "isActive": True},
        {"id": "opt_long", "type": "phone_call", "name": "Long call", "description": "", "duration": 60,
         "price": 100, "isActive": True},
        {"id": "opt_paused", "type": "phone_call", "name": "Paused call", "description": "", "duration": 45,
         "price": 90, "isActive": False},
        {"id": "opt_live", "type": "live_video", "name": "Live video", "description": "", "duration": 30,
         "price": 75, "isActive": True},
    ]
    make_reader("multi", options=options)
    make_client("cli", 500)

    by_duration = _request(api, "cli", "multi", duration=60)
    assert by_duration.status_code == 201, by_duration.body
    assert by_duration.json_body["readingOption"]["id"] == "opt_long"

    quote = {"readerId": "multi", "optionType": "phone_call", "duration": 45}
    for route, body in (("/readings/quote", quote), ("/readings", _body("multi", duration=45))):
        refused = api.post(route, as_user="cli", json_body=body)
        assert _error(refused) == (422, "option_required"), refused.body
        error = refused.json_body["error"]
        assert error["message"] == ("This reader offers more than one option of this reading type; "
                                    "choose one with optionId.")
        assert error["details"] == {"optionType": "phone_call", "optionIds": ["opt_short", "opt_long"]}
    named = api.post("/readings", as_user="cli", json_body={**_body("multi", duration=45), "optionId": "opt_short"})
    assert named.status_code == 201 and named.json_body["readingOption"]["id"] == "opt_short", named.body

    only = _request(api, "cli", "multi", option="live_video", duration=45)  # the only live video option
    assert only.status_code == 201 and only.json_body["readingOption"]["id"] == "opt_live", only.body
    assert _credits(api, "cli")["held"] == sum(
        r.json_body["creditsCost"] for r in (by_duration, named, only))


def test_too_few_credits_is_422_and_writes_nothing(api):
    make_client("cli", CALL - 1)
    make_client("rich", 200)
    make_reader("rdr")
    at = next_local(2, "15:00")
    assert _error(_request(api, "cli", at=at)) == (422, "insufficient_credits")
    assert _error(_request(api, "cli", key="k")) == (422, "insufficient_credits")
    assert _credits(api, "cli") == {"available": CALL - 1, "held": 0, "earnings": 0, "payable": 0,
                                    "owed": 0, "restricted": False}
    for tab in ("requested", "accepted", "archived"):
        assert api.get(f"/readings?tab={tab}", as_user="cli").json_body["data"] == []
    assert api.get("/readings?as=reader", as_user="rdr").json_body["data"] == []
    assert [line["kind"] for line in api.get("/credits", as_user="cli").json_body["data"]] == ["grant.promotion"]
    assert _request(api, "rich", at=at).status_code == 201  # no slot was left taken


@pytest.mark.parametrize("change", ["suspended", "deleted"])
def test_a_reader_suspended_or_deleted_while_a_booking_is_priced_is_a_404_and_holds_nothing(api, monkeypatch, change):
    """The profile is read outside the booking's transaction: the transaction re-checks that
    the reader is still approved, so a suspension (or deletion) committed meanwhile wins."""
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.services.readings import booking

    make_client("cli", 200)
    make_reader("rdr")
    real = booking.approved_reader

    def read_then_lose_the_reader(reader_id: str) -> Any:
        profile = real(reader_id)
        stored = ReaderProfile.get(reader_id)
        if change == "deleted":
            stored.delete()
        else:
            stored.update(actions=[ReaderProfile.status.set("suspended")])
        return profile  # the booking goes on with the approved profile it read

    monkeypatch.setattr(booking, "approved_reader", read_then_lose_the_reader)
    refused = _request(api, "cli")
    assert _error(refused) == (404, "not_found"), refused.body
    assert refused.json_body["error"]["message"] == "The reader was not found."
    assert _credits(api, "cli") == {"available": 200, "held": 0, "earnings": 0, "payable": 0,
                                    "owed": 0, "restricted": False}
    assert api.get("/readings", as_user="cli").json_body["data"] == []


# --- cancellation policy ----------------------------------------------------------------

def test_cancelling_through_the_api(api):
    make_client("cli", 300)
    make_client("ben", 100)
    make_reader("rdr")
    requested = _created(api, "cli")
    cancelled = api.post(f"/readings/{requested}/cancel", as_user="cli", json_body={"reason": "Changed my mind"})
    assert cancelled.status_code == 200 and cancelled.json_body["status"] == "cancelled"
    assert cancelled.json_body["refundedCredits"] == 0  # released, never captured
    assert _credits(api, "cli")["available"] == 300 and _credits(api, "cli")["held"] == 0

    far = next_local(3, "12:00")  # a Thursday noon, two days or more ahead
    scheduled = _created(api, "cli", at=far)
    assert api.post(f"/readings/{scheduled}/accept", as_user="rdr").status_code == 200
    assert _credits(api, "cli")["available"] == 300 - CALL
    refunded = api.post(f"/readings/{scheduled}/cancel", as_user="cli", json_body={})
    assert refunded.status_code == 200, refunded.body
    assert (refunded.json_body["status"], refunded.json_body["refundedCredits"]) == ("cancelled", CALL)
    assert _credits(api, "cli")["available"] == 300
    assert _request(api, "ben", at=far).status_code == 201  # the time is free again

    immediate = _created(api, "cli")
    assert api.post(f"/readings/{immediate}/accept", as_user="rdr").status_code == 200
    by_reader = api.post(f"/readings/{immediate}/cancel", as_user="rdr", json_body={"reason": "Family emergency"})
    assert by_reader.status_code == 200, by_reader.body
    assert (by_reader.json_body["status"], by_reader.json_body["closedBy"]) == ("cancelled", "reader")
    assert _credits(api, "cli")["available"] == 300
    assert _credits(api, "rdr")["earnings"] == 0


def test_a_client_cannot_cancel_an_accepted_reading_less_than_a_day_ahead(aws):
    from chalicelib.errors import BusinessRuleViolation
    from chalicelib.services import readings

    make_client("cli", 300)
    make_reader("rdr")
    tuesday_ten = MONDAY + timedelta(hours=26)
    soon = book("cli", at=MONDAY + timedelta(hours=2), now=MONDAY)  # Monday 10:00
    boundary = book("cli", at=tuesday_ten, now=MONDAY)
    for reading in (soon, boundary):
        readings.accept(reading.reading_id, "rdr", "reader", now=MONDAY)

    with pytest.raises(BusinessRuleViolation) as closed:
        readings.cancel(soon.reading_id, "cli", "client", reason=None, now=MONDAY)
    assert closed.value.code == "cancellation_window_closed"
    with pytest.raises(BusinessRuleViolation):
        readings.cancel(boundary.reading_id, "cli", "client", reason=None, now=tuesday_ten - timedelta(hours=24)
                        + timedelta(seconds=1))
    assert (status_of(soon.reading_id), status_of(boundary.reading_id)) == ("accepted", "accepted")
    assert balance("cli")[:2] == (300 - 2 * CALL, 0)

    exactly_a_day = readings.cancel(boundary.reading_id, "cli", "client", reason=None,
                                    now=tuesday_ten - timedelta(hours=24))
    assert (exactly_a_day.status, int(exactly_a_day.refunded)) == ("cancelled", CALL)
    assert balance("cli")[:2] == (300 - CALL, 0)
    # The reader may still cancel the close one, refunding the client in full.
    assert readings.cancel(soon.reading_id, "rdr", "reader", reason="Unwell", now=MONDAY).status == "cancelled"
    assert balance("cli")[:2] == (300, 0)


def test_a_late_video_message_may_be_cancelled_for_a_full_refund(aws):
    from chalicelib.errors import BusinessRuleViolation
    from chalicelib.services import readings

    make_client("cli", 100)
    make_reader("rdr")
    reading = book("cli", option_type="video_message", now=MONDAY)
    accepted = readings.accept(reading.reading_id, "rdr", "reader", now=MONDAY)
    due = MONDAY + timedelta(hours=72)
    assert accepted.delivery_due_at == due.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with pytest.raises(BusinessRuleViolation) as early:
        readings.cancel(reading.reading_id, "cli", "client", reason=None, now=due)
    assert early.value.code == "cancellation_window_closed"
    assert balance("cli")[:2] == (100 - MESSAGE, 0)

    late = readings.cancel(reading.reading_id, "cli", "client", reason="Never came", now=due + timedelta(seconds=1))
    assert (late.status, int(late.refunded), late.closed_by) == ("cancelled", MESSAGE, "client")
    assert balance("cli")[:2] == (100, 0)


# --- video message delivery -------------------------------------------------------------

def test_a_delivered_video_message_completes_pays_the_reader_and_shows_the_client_a_link(api):
    import boto3

    from chalicelib.ids import new_id
    from chalicelib.services import media

    make_client("cli", 100)
    make_reader("rdr")
    make_reader("rdr2")
    reading_id = _created(api, "cli", option="video_message")
    assert api.post(f"/readings/{reading_id}/accept", as_user="rdr").status_code == 200
    s3 = boto3.client("s3")
    mine = f"media/rdr/video_message/{new_id()}.mp4"
    theirs = f"media/rdr2/video_message/{new_id()}.mp4"
    for key in (mine, theirs):
        s3.put_object(Bucket=media._bucket(), Key=key, Body=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64,
                      ContentType="video/mp4")

    assert _field(api.post(f"/readings/{reading_id}/delivery", as_user="rdr",
                           json_body={"uploadKey": theirs})) == ["uploadKey"]
    missing = f"media/rdr/video_message/{new_id()}.mp4"
    assert _field(api.post(f"/readings/{reading_id}/delivery", as_user="rdr",
                           json_body={"uploadKey": missing})) == ["uploadKey"]
    assert status_of(reading_id) == "accepted" and _credits(api, "rdr")["earnings"] == 0

    delivered = api.post(f"/readings/{reading_id}/delivery", as_user="rdr", json_body={"uploadKey": mine})
    assert delivered.status_code == 200, delivered.body
    assert delivered.json_body["status"] == "completed"
    assert _credits(api, "rdr")["earnings"] == MESSAGE - MESSAGE * 20 // 100
    again = api.post(f"/readings/{reading_id}/delivery", as_user="rdr", json_body={"uploadKey": mine})
    assert again.status_code == 409
    assert _credits(api, "rdr")["earnings"] == MESSAGE - MESSAGE * 20 // 100

    seen = api.get(f"/readings/{reading_id}", as_user="cli").json_body
    assert seen["delivery"]["type"] == "video_message" and mine in seen["delivery"]["videoUrl"]
    assert "review" in seen["allowedActions"] and "dispute" in seen["allowedActions"]


# --- disputes ---------------------------------------------------------------------------

def test_disputes_refund_in_full_in_part_or_are_rejected(api, make_user):
    make_user("adm", role="admin")
    make_client("cli", 200)
    make_reader("rdr")
    full, partial, rejected = (_completed(api, "cli") for _ in range(3))
    paid = CALL - CALL_FEE
    assert _credits(api, "rdr")["earnings"] == 3 * paid and _credits(api, "cli")["available"] == 200 - 3 * CALL

    for reading_id in (full, partial, rejected):
        opened = api.post(f"/readings/{reading_id}/dispute", as_user="cli",
                          json_body={"reason": "The call dropped after five minutes"})
        assert opened.status_code == 201, opened.body
    listed = api.get("/admin/disputes", as_user="adm").json_body["data"]
    assert [r["id"] for r in listed] == [full, partial, rejected]  # oldest first
    assert listed[0]["dispute"]["status"] == "open"
    assert "resolution" not in listed[0] and "outcome" not in listed[0]["dispute"]  # open: not resolved yet
    assert api.get("/admin/disputes", as_user="cli").status_code == 403

    def resolve(reading_id: str, outcome: str, amount: int | None = None):
        body: dict[str, Any] = {"outcome": outcome, "note": "Reviewed the session log"}
        if amount is not None:
            body["amount"] = amount
        return api.post(f"/admin/disputes/{reading_id}/resolve", as_user="adm", json_body=body)

    done = resolve(full, "full_refund")
    assert done.status_code == 200, done.body
    assert (done.json_body["status"], done.json_body["refundedCredits"]) == ("refunded", CALL)
    assert (done.json_body["resolution"], done.json_body["dispute"]["outcome"]) == ("full_refund", "full_refund")
    assert done.json_body["dispute"]["refunded"] == CALL
    assert _credits(api, "cli")["available"] == 200 - 2 * CALL
    assert _credits(api, "rdr")["earnings"] == 2 * paid

    assert _field(resolve(partial, "partial_refund", CALL + 1)) == ["amount"]
    assert status_of(partial) == "disputed"
    part = resolve(partial, "partial_refund", 20)
    assert (part.json_body["status"], part.json_body["refundedCredits"]) == ("refunded", 20)
    assert (part.json_body["resolution"], part.json_body["dispute"]["refunded"]) == ("partial_refund", 20)
    # 20 credits back: the platform gives back its fee's share (11 x 20 // 57 = 3), the reader 17.
    assert _credits(api, "cli")["available"] == 200 - 2 * CALL + 20
    assert _credits(api, "rdr")["earnings"] == 2 * paid - 17

    kept = resolve(rejected, "reject")
    assert kept.status_code == 200
    assert (kept.json_body["status"], kept.json_body["dispute"]["outcome"]) == ("completed", "reject")
    assert kept.json_body["refundedCredits"] == 0 and _credits(api, "rdr")["earnings"] == 2 * paid - 17
    assert (kept.json_body["resolution"], kept.json_body["dispute"]["refunded"]) == ("reject", 0)
    # Both parties tell the three outcomes apart on the reading itself (status alone cannot:
    # a full and a partial refund both end in refunded).
    for party in ("cli", "rdr"):
        seen = {reading_id: api.get(f"/readings/{reading_id}", as_user=party).json_body
                for reading_id in (full, partial, rejected)}
        assert [(seen[r]["status"], seen[r]["resolution"], seen[r]["refundedCredits"])
                for r in (full, partial, rejected)] == [
            ("refunded", "full_refund", CALL), ("refunded", "partial_refund", 20), ("completed", "reject", 0)]
    assert api.get("/admin/disputes", as_user="adm").json_body["data"] == []
    assert resolve(full, "full_refund").status_code == 409  # resolved once

    from chalicelib.services import ledger_check

    assert ledger_check.run().ok


def test_a_dispute_after_fourteen_days_is_refused(aws):
    from chalicelib.errors import BusinessRuleViolation
    from chalicelib.services import readings

    make_client("cli", 100)
    make_reader("rdr")
    reading = book("cli", now=MONDAY)
    readings.accept(reading.reading_id, "rdr", "reader", now=MONDAY)
    readings.start(reading.reading_id, "rdr", "reader", now=MONDAY + timedelta(minutes=1))
    done_at = MONDAY + timedelta(minutes=31)
    readings.complete(reading.reading_id, "cli", "client", now=done_at)
    with pytest.raises(BusinessRuleViolation) as late:
        readings.open_dispute(reading.reading_id, "cli", "client", reason="Too late?",
                              now=done_at + timedelta(days=14, seconds=1))
    assert late.value.code == "dispute_window_closed"
    assert status_of(reading.reading_id) == "completed"
    opened = readings.open_dispute(reading.reading_id, "cli", "client", reason="Just in time",
                                   now=done_at + timedelta(days=14))
    assert opened.status == "disputed"


# --- lists ------------------------------------------------------------------------------

def _count_queries(index_name: str) -> list[str]:
    """Every DynamoDB Query on the readings table's ``index_name`` from now on."""
    from chalicelib.models.readings import Reading

    seen: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        if params.get("IndexName") == index_name:
            seen.append(index_name)

    Reading._get_connection().connection.client.meta.events.register(
        "provide-client-params.dynamodb.Query", record)
    return seen


def test_lists_by_side_and_tab_newest_first_one_query_per_page(api):
    make_client("cli", 400)
    make_client("ben", 100)
    make_reader("rdr")
    mine = [_created(api, "cli") for _ in range(5)]
    theirs = _created(api, "ben")
    newest_first = [theirs, *reversed(mine)]

    queries = _count_queries("byReaderTab")
    pages, infos, cursor = [], [], None
    while True:
        url = "/readings?as=reader&tab=requested&limit=2" + (f"&cursor={cursor}" if cursor else "")
        before = len(queries)
        page = api.get(url, as_user="rdr")
        assert page.status_code == 200, page.body
        assert len(queries) - before == 1  # one Query per page
        pages.append([r["id"] for r in page.json_body["data"]])
        infos.append(page.json_body["pagination"])
        cursor = page.json_body["pagination"]["nextCursor"]
        if not cursor:
            break
    assert [rid for page in pages for rid in page] == newest_first
    sizes = [len(page) for page in pages]
    assert sizes[:3] == [2, 2, 2] and not any(sizes[3:])  # DynamoDB (not moto) may end with an empty page
    # Pages 1, 2, 3...: no total is kept, so the number of pages is known on the last one only.
    last = len(infos)
    assert [(i["page"], i["hasPrev"], i["totalPages"]) for i in infos] == [
        (n, n > 1, n if n == last else None) for n in range(1, last + 1)]

    assert [r["id"] for r in api.get("/readings", as_user="cli").json_body["data"]] == list(reversed(mine))
    assert api.post(f"/readings/{mine[0]}/accept", as_user="rdr").status_code == 200
    assert [r["id"] for r in api.get("/readings?as=reader&tab=accepted", as_user="rdr").json_body["data"]] == [
        mine[0]]
    assert [r["id"] for r in api.get("/readings?tab=accepted", as_user="cli").json_body["data"]] == [mine[0]]
    assert mine[0] not in [r["id"] for r in api.get("/readings?as=reader", as_user="rdr").json_body["data"]]
    assert api.post(f"/readings/{mine[1]}/decline", as_user="rdr",
                    json_body={"reason": "Not my specialty"}).status_code == 200
    assert [r["id"] for r in api.get("/readings?tab=archived", as_user="cli").json_body["data"]] == [mine[1]]
    assert api.get("/readings?tab=archived", as_user="ben").json_body["data"] == []

    assert _error(api.get("/readings?as=reader", as_user="cli")) == (403, "not_a_reader")
    reader_cursor = api.get("/readings?as=reader&limit=1", as_user="rdr").json_body["pagination"]["nextCursor"]
    assert api.get(f"/readings?limit=1&cursor={reader_cursor}", as_user="cli").status_code == 400


# --- defects of issue 10 ----------------------------------------------------------------

def test_a_request_past_its_respond_by_cannot_be_accepted_or_declined_before_the_job_runs(api):
    make_client("cli", 200)
    make_reader("rdr")
    reading = book("cli", now=datetime.now(UTC) - timedelta(minutes=11))  # an immediate request: 10 minutes

    for action, body in (("accept", None), ("decline", {"reason": "Sorry, too late"})):
        response = api.post(f"/readings/{reading.reading_id}/{action}", as_user="rdr", json_body=body)
        assert _error(response) == (409, "request_expired"), response.body
        past = {"accept": "accepted", "decline": "declined"}[action]
        assert response.json_body["error"]["message"] == (
            f"This request expired at {reading.respond_by}; it can no longer be {past}.")
    seen = api.get(f"/readings/{reading.reading_id}", as_user="rdr").json_body
    assert seen["status"] == "requested" and "accept" not in seen["allowedActions"]
    assert _credits(api, "cli")["held"] == CALL  # nothing captured; the job will release it
    assert outbox_events("reading.accepted") == []


def test_a_rejected_dispute_cannot_be_opened_again(api, make_user):
    make_user("adm", role="admin")
    make_client("cli", 200)
    make_reader("rdr")
    reading_id = _completed(api, "cli")
    dispute = {"reason": "The call dropped after five minutes"}
    assert api.post(f"/readings/{reading_id}/dispute", as_user="cli", json_body=dispute).status_code == 201
    rejected = api.post(f"/admin/disputes/{reading_id}/resolve", as_user="adm",
                        json_body={"outcome": "reject", "note": "The session log shows 30 minutes"})
    assert rejected.json_body["status"] == "completed"
    assert "dispute" not in rejected.json_body["allowedActions"]
    assert "dispute" not in api.get(f"/readings/{reading_id}", as_user="cli").json_body["allowedActions"]

    again = api.post(f"/readings/{reading_id}/dispute", as_user="cli", json_body=dispute)
    assert _error(again) == (409, "already_disputed")
    assert again.json_body["error"]["message"] == (
        "This reading was disputed before; a reading can be disputed only once.")
    assert status_of(reading_id) == "completed"
    assert api.get("/admin/disputes", as_user="adm").json_body["data"] == []
    assert len(outbox_events("dispute.filed")) == 1


@pytest.mark.parametrize("route", ["/readings/quote", "/readings"])
@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "9999-12-31T23:59:59Z", "2300-01-05T10:00:00Z"])
def test_a_start_outside_the_calendar_or_the_booking_horizon_is_a_400_on_scheduled_at(api, route, when):
    make_client("cli", 200)
    make_reader("rdr")
    body = {**_body(), "scheduledAt": when}
    if route == "/readings/quote":
        body = {k: v for k, v in body.items() if k not in ("topicId", "question")}
    response = api.post(route, as_user="cli", json_body=body)
    assert _error(response) == (400, "validation_error"), response.body
    fields = response.json_body["error"]["details"]["fields"]
    assert fields == [{"path": "scheduledAt", "message": "Must be between 30 minutes and 90 days from now.",
                       "type": "value_error"}]
    assert _credits(api, "cli")["held"] == 0


def test_a_refusal_in_the_wrong_state_says_so_in_words_on_the_route(api, make_user):
    make_user("adm", role="admin")
    make_client("cli", 200)
    make_reader("rdr")
    requested = _created(api, "cli")
    complete = api.post(f"/readings/{requested}/complete", as_user="cli")
    assert _error(complete) == (409, "invalid_transition")
    assert complete.json_body["error"]["message"] == "A requested reading cannot be completed."
    accepted = api.post(f"/readings/{requested}/accept", as_user="rdr")
    assert accepted.status_code == 200
    again = api.post(f"/readings/{requested}/accept", as_user="rdr")
    assert again.json_body["error"]["message"] == "An accepted reading cannot be accepted."
    resolve = api.post(f"/admin/disputes/{requested}/resolve", as_user="adm",
                       json_body={"outcome": "full_refund", "note": "Give it back"})
    assert _error(resolve) == (409, "invalid_transition")
    assert resolve.json_body["error"]["message"] == "An accepted reading has no open dispute to resolve."
    review = api.post(f"/readings/{requested}/review", as_user="rdr", json_body={"rating": 5})
    assert (review.status_code, review.json_body["error"]["message"]) == (
        403, "Only the client can review a reading.")
