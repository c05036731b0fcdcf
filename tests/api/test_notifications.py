"""/notifications through the API: the caller's own list (newest first, unread filter, one
Query), marking one read, read-all, and no way into another user's notifications."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.notifications import Delivery, NotificationType
from tests.support.calls import dynamodb_calls
from tests.support.readings import make_client


def _at(minute: int) -> str:
    return f"2026-11-28T17:{minute:02d}:00.000Z"


def _deliver(user_id: str, minute: int, type_: str = NotificationType.READING_ACCEPTED) -> None:
    from chalicelib.services.notifications import store

    store.deliver(f"evt-{user_id}-{minute}", _at(minute), [Delivery(
        user_id=user_id, type=type_, title="Your reading was accepted",
        message="Luna accepted your 30-minute phone reading.", related_id="reading-1",
        action_url="/readings/reading-1")])


@pytest.fixture()
def world(api: Any) -> Any:
    make_client("alice")
    make_client("bob")
    for minute in range(3):
        _deliver("alice", minute)
    _deliver("bob", 0)
    return api


def test_the_list_is_newest_first_with_the_product_fields_and_one_query(world):
    with dynamodb_calls() as calls:
        response = world.get("/notifications?limit=2", as_user="alice")

    assert response.status_code == 200, response.body
    assert calls == ["GetItem", "Query"]  # the caller's user item (authentication), then the list
    body = response.json
    assert body["unreadCount"] == 3 and body["pagination"]["hasNext"] is True and body["meta"]["cached"] is False
    first = body["data"][0]
    assert first["createdDate"] == _at(2) and first["userId"] == "alice" and first["type"] == "reading_accepted"
    assert first["isRead"] is False and first["relatedId"] == "reading-1"
    assert set(first) >= {"id", "userId", "type", "title", "message", "isRead", "createdDate", "actionUrl"}
    rest = world.get(f"/notifications?limit=2&cursor={body['pagination']['nextCursor']}", as_user="alice").json
    assert [n["createdDate"] for n in body["data"] + rest["data"]] == [_at(2), _at(1), _at(0)]
    assert rest["pagination"]["hasNext"] is False and rest["unreadCount"] == 3


def test_mark_one_read_then_the_unread_filter_and_read_all(world):
    ids = [n["id"] for n in world.get("/notifications", as_user="alice").json["data"]]

    read = world.post(f"/notifications/{ids[1]}/read", as_user="alice")
    again = world.post(f"/notifications/{ids[1]}/read", as_user="alice")
    unread = world.get("/notifications?unread=true", as_user="alice").json

    assert read.status_code == 200 and read.json["data"]["isRead"] is True and read.json["unreadCount"] == 2
    assert again.status_code == 200 and again.json["unreadCount"] == 2
    assert [n["id"] for n in unread["data"]] == [ids[0], ids[2]] and unread["unreadCount"] == 2

    done = world.post("/notifications/read-all", as_user="alice")
    assert done.status_code == 200 and done.json["unreadCount"] == 0
    after = world.get("/notifications", as_user="alice").json
    assert after["unreadCount"] == 0 and all(n["isRead"] for n in after["data"])
    assert world.get("/notifications?unread=true", as_user="alice").json["data"] == []

    _deliver("alice", 30)
    fresh = world.get("/notifications?unread=true", as_user="alice").json
    assert fresh["unreadCount"] == 1 and [n["createdDate"] for n in fresh["data"]] == [_at(30)]


def test_another_users_notification_is_404_and_unchanged(world):
    alices = world.get("/notifications", as_user="alice").json["data"][0]["id"]
    bobs = world.get("/notifications", as_user="bob").json

    stolen = world.post(f"/notifications/{alices}/read", as_user="bob")
    world.post("/notifications/read-all", as_user="bob")

    assert stolen.status_code == 404 and stolen.json["error"]["code"] == "not_found"
    assert [n["userId"] for n in bobs["data"]] == ["bob"]
    assert world.get("/notifications", as_user="alice").json["unreadCount"] == 3
    assert world.post("/notifications/not-an-id/read", as_user="alice").status_code == 404


def test_a_cursor_from_another_user_is_400(world):
    cursor = world.get("/notifications?limit=1", as_user="alice").json["pagination"]["nextCursor"]

    response = world.get(f"/notifications?limit=1&cursor={cursor}", as_user="bob")

    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_signed_out_is_401(world):
    assert world.get("/notifications").status_code == 401
    assert world.post("/notifications/read-all").status_code == 401
