"""POST /events: a batch of client events, each checked against its type's schema, stored
by day and shard with a 90-day TTL and no IP address or user agent; profile views counted
once per event for the reader, on the reader's local date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.calls import dynamodb_calls
from tests.support.readings import make_client, make_reader

SESSION = "s_0123456789abcdef"


@pytest.fixture()
def world(api: Any) -> Iterator[Any]:
    from chalicelib.services import analytics

    analytics.forget_cached()
    make_client("cli")
    make_reader("luna", timezone="Asia/Tokyo")
    make_reader("rdr", timezone="Europe/Lisbon")
    yield api
    analytics.forget_cached()


def _at(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def view(event_id: str, reader_id: str = "luna", at: datetime | None = None) -> dict[str, Any]:
    return {"type": "view_reader", "eventId": event_id, "occurredAt": _at(at), "readerId": reader_id,
            "source": "explore"}


def search(event_id: str) -> dict[str, Any]:
    return {"type": "search", "eventId": event_id, "occurredAt": _at(), "query": "tarot", "results": 4,
            "attributeIds": ["tarot"], "onlineOnly": True}


def stored() -> list[dict[str, Any]]:
    """Every analytics item (a Scan is fine in a test)."""
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws

    return aws.client("dynamodb").scan(TableName=get_settings().table_name("analytics"))["Items"]


def views_of(reader_id: str, sk: str = "total") -> int:
    from chalicelib.services.metrics import store

    return int(store.get(f"reader#{reader_id}", sk).get("views", 0))


def test_an_anonymous_batch_is_stored_by_day_and_shard_without_ip_or_user_agent(world):
    response = world.post("/events", json_body={"sessionId": SESSION, "events": [search("evt-search-1"),
                                                                                   view("evt-view-0001")]},
                          headers={"User-Agent": "Mozilla/5.0", "X-Forwarded-For": "203.0.113.9"})

    assert response.status_code == 200, response.body
    assert response.json == {"accepted": 2, "profileViews": 1}
    items = {item["eventId"]["S"]: item for item in stored()}
    assert set(items) == {"evt-search-1", "evt-view-0001"}
    item = items["evt-search-1"]
    day, shard = item["pk"]["S"].split("#")
    assert day == item["occurredAt"]["S"][:10] and 0 <= int(shard) < 8
    assert item["sk"]["S"] == f"{item['occurredAt']['S']}#evt-search-1"
    assert item["sessionId"]["S"] == SESSION and "userId" not in item
    assert item["props"]["M"] == {"query": {"S": "tarot"}, "results": {"N": "4"},
                                  "attributeIds": {"L": [{"S": "tarot"}]}, "onlineOnly": {"BOOL": True}}
    occurred = datetime.fromisoformat(item["occurredAt"]["S"].replace("Z", "+00:00"))
    assert int(item["expiresAt"]["N"]) == int((occurred + timedelta(days=90)).timestamp())
    text = repr(stored())
    assert "203.0.113.9" not in text and "Mozilla" not in text


def test_a_signed_in_caller_is_stored_by_user_id_not_session(world):
    response = world.post("/events", as_user="cli", json_body={"sessionId": SESSION, "events": [search("evt-s-0002")]})

    assert response.status_code == 200, response.body
    (item,) = stored()
    assert item["userId"]["S"] == "cli" and item["role"]["S"] == "client" and "sessionId" not in item


def test_a_suspended_callers_events_are_stored_as_anonymous_ones(world, make_user):
    make_user("gone", role="client", status="suspended")

    response = world.post("/events", as_user="gone", json_body={"sessionId": SESSION, "events": [search("evt-s-0003")]})
    assert response.status_code == 200, response.body
    (item,) = stored()
    assert item["sessionId"]["S"] == SESSION and "userId" not in item and "role" not in item

    without_session = world.post("/events", as_user="gone", json_body={"events": [search("evt-s-0004")]})
    assert without_session.status_code == 200 and without_session.json == {"accepted": 0, "profileViews": 0}
    assert [item["eventId"]["S"] for item in stored()] == ["evt-s-0003"]


@pytest.mark.parametrize(("bad", "path", "message"), [
    ({"type": "view_reader", "eventId": "evt-bad-0001", "occurredAt": _at()}, "events.2.readerId",
     "A view_reader event needs readerId."),
    ({**search("evt-bad-0002"), "ip": "203.0.113.9"}, "events.2.ip", "A search event has no field ip."),
    ({**search("evt-bad-0003"), "results": "4"}, "events.2.results", "Input should be a valid integer."),
    ({"type": "teleport", "eventId": "evt-bad-0004", "occurredAt": _at()}, "events.2.type",
     "The event type 'teleport' is not one of: view_page, view_reader, search, view_status, favorite, unfavorite, "
     "start_booking, abandon_booking, book, start_checkout."),
    ({"eventId": "evt-bad-0005", "occurredAt": _at()}, "events.2.type",
     "Every event needs a type, one of: view_page, view_reader, search, view_status, favorite, unfavorite, "
     "start_booking, abandon_booking, book, start_checkout."),
    ({"type": "start_checkout", "eventId": "evt-bad-0006", "occurredAt": _at()}, "events.2",
     "Send either packageId or planId."),
])
def test_one_bad_event_rejects_the_batch_naming_its_index_and_field_in_a_sentence(world, bad, path, message):
    response = world.post("/events", json_body={"sessionId": SESSION, "events": [
        view("evt-good-0001"), search("evt-good-0002"), bad]})

    assert response.status_code == 400, response.body
    assert [(f["path"], f["message"]) for f in response.json["error"]["details"]["fields"]] == [(path, message)]
    assert stored() == [] and views_of("luna") == 0


def test_every_bad_event_of_a_batch_is_named_by_its_own_index(world):
    response = world.post("/events", json_body={"sessionId": SESSION, "events": [
        {**search("evt-two-0001"), "results": -1}, view("evt-two-0002"), {**view("evt-two-0003"), "source": "tv"}]})

    assert response.status_code == 400
    assert [f["path"] for f in response.json["error"]["details"]["fields"]] == ["events.0.results", "events.2.source"]
    assert all(f["message"][0].isupper() and f["message"].endswith(".")
               for f in response.json["error"]["details"]["fields"])


@pytest.mark.parametrize(("events", "path"), [
    ([search("evt-dup-0001"), search("evt-dup-0001")], "events.1.eventId"),
    ([search("evt-old-0001"), {**search("evt-old-0002"), "occurredAt": _at(datetime.now(UTC) - timedelta(days=8))}],
     "events.1.occurredAt"),
    ([{**search("evt-new-0001"), "occurredAt": _at(datetime.now(UTC) + timedelta(hours=1))}], "events.0.occurredAt"),
])
def test_duplicate_ids_and_implausible_times_reject_the_batch(world, events, path):
    response = world.post("/events", json_body={"sessionId": SESSION, "events": events})

    assert response.status_code == 400
    assert [field["path"] for field in response.json["error"]["details"]["fields"]] == [path]
    assert stored() == []


def test_a_batch_is_at_most_50_events_and_anonymous_callers_send_a_session(world):
    too_many = world.post("/events", json_body={"sessionId": SESSION,
                                                "events": [search(f"evt-many-{n:04d}") for n in range(51)]})
    anonymous = world.post("/events", json_body={"events": [search("evt-anon-0001")]})
    empty = world.post("/events", json_body={"sessionId": SESSION, "events": []})

    assert too_many.status_code == 400 and too_many.json["error"]["details"]["fields"][0]["path"] == "events"
    assert anonymous.status_code == 400 and anonymous.json["error"]["details"]["fields"][0]["path"] == "sessionId"
    assert empty.status_code == 400
    assert stored() == []


def test_a_batch_sent_again_is_stored_and_counted_once(world):
    batch = {"sessionId": SESSION, "events": [view("evt-view-0001"), view("evt-view-0002"), view("evt-view-0003",
                                                                                                 "rdr")]}
    first = world.post("/events", json_body=batch)
    again = world.post("/events", json_body=batch)

    assert (first.json["profileViews"], again.json["profileViews"]) == (3, 0)
    assert len(stored()) == 3
    assert (views_of("luna"), views_of("rdr")) == (2, 1)


def test_a_view_lands_in_the_day_bucket_of_the_readers_timezone(world):
    from chalicelib.services import analytics

    now = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # Thursday 01:00 in Tokyo, Wednesday 16:00 in Lisbon
    events = [analytics.ClientEvent("view_reader", f"evt-tz-{reader}", now - timedelta(minutes=1),
                                    {"readerId": reader}) for reader in ("luna", "rdr")]

    analytics.record(events, user_id=None, session_id=SESSION, now=now)

    assert views_of("luna", "day#2026-12-03") == 1 and views_of("luna", "day#2026-12-02") == 0
    assert views_of("rdr", "day#2026-12-02") == 1


def test_own_profile_and_unknown_readers_are_stored_but_not_counted(world):
    response = world.post("/events", as_user="luna", json_body={"events": [
        view("evt-self-0001", "luna"), view("evt-ghost-001", "nobody")]})

    assert response.status_code == 200 and response.json == {"accepted": 2, "profileViews": 0}
    assert len(stored()) == 2 and views_of("luna") == 0 and views_of("nobody") == 0


@contextmanager
def every_dynamodb_call() -> Iterator[list[str]]:
    """PynamoDB's calls and the low-level client's (metrics store, batch writes)."""
    from chalicelib.integrations import aws

    client = aws.client("dynamodb")
    with dynamodb_calls() as seen:
        def record(model: Any = None, **_: Any) -> None:
            seen.append(model.name)

        client.meta.events.register("before-call", record)
        try:
            yield seen
        finally:
            client.meta.events.unregister("before-call", record)


def test_a_full_batch_costs_two_batch_writes_one_profile_read_and_a_transaction_per_view(world):
    events = [view(f"evt-cost-{n:04d}", "luna" if n % 2 else "rdr") for n in range(5)]
    events += [search(f"evt-cost-s{n:03d}") for n in range(45)]

    with every_dynamodb_call() as calls:
        response = world.post("/events", json_body={"sessionId": SESSION, "events": events})

    assert response.status_code == 200 and response.json == {"accepted": 50, "profileViews": 5}
    # UpdateItem: the caller's rate-limit counter (services/rate_limits.py).
    assert sorted(calls) == ["BatchGetItem", "BatchWriteItem", "BatchWriteItem", *["TransactWriteItems"] * 5,
                             "UpdateItem"]
