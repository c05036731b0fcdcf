"""A reader going online or offline is announced on the public ``readers`` channel as
``reader-status`` (through the real pusher client and the local Pusher server), unless the
reader's privacy hides their online status."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.pusher import PusherClient, point_pusher_at


@pytest.fixture()
def pusher_server(monkeypatch):
    from tools.local.pusher_server import PusherServer

    server = PusherServer("1", os.environ["PUSHER_KEY"], os.environ["PUSHER_SECRET"]).start()
    point_pusher_at(server, monkeypatch)
    yield server
    server.stop()


@pytest.fixture()
def readers(api, make_user):
    """Two approved readers (as the approval leaves them); one hides their online status."""
    from chalicelib.models.readers import ReaderProfile

    make_user("user_r1", role="reader")
    make_user("user_hidden", role="reader", preferences={"privacy": {"showOnlineStatus": False}})
    for reader_id in ("user_r1", "user_hidden"):
        ReaderProfile(reader_id=reader_id, status="approved", display_name=reader_id,
                      created_at="2030-05-01T12:00:00.000Z", updated_at="2030-05-01T12:00:00.000Z").save()
    return api


def _status(frame: dict) -> dict:
    return json.loads(frame["data"])


def test_online_and_offline_changes_are_broadcast_and_a_hidden_reader_never_is(readers, drain, pusher_server):
    with PusherClient(pusher_server.ws_url) as watcher:
        watcher.subscribed("readers")

        assert readers.put("/reader/online", as_user="user_hidden", json_body={"online": True}).status_code == 200
        drain()
        went_online = readers.put("/reader/online", as_user="user_r1", json_body={"online": True}).json
        drain()

        # Had the hidden reader been announced, that frame would have come first.
        first = _status(watcher.next_event("reader-status", channel="readers"))
        assert first == {"readerId": "user_r1", "isOnline": True, "lastSeenAt": went_online["lastSeenAt"]}

        went_offline = readers.put("/reader/online", as_user="user_r1", json_body={"online": False}).json
        drain()

        second = _status(watcher.next_event("reader-status", channel="readers"))
        assert second == {"readerId": "user_r1", "isOnline": False, "lastSeenAt": went_offline["lastSeenAt"]}
        assert not [f for f in watcher.frames if f.get("event") == "reader-status" and "user_hidden" in f["data"]]


def test_a_redelivered_change_announces_the_current_status_not_the_stale_one(readers, drain, pusher_server):
    from chalicelib.services import events

    with PusherClient(pusher_server.ws_url) as watcher:
        watcher.subscribed("readers")
        readers.put("/reader/online", as_user="user_r1", json_body={"online": True})
        online_event = next(m for m in drain() if m["type"] == "reader.online_changed")
        watcher.next_event("reader-status")
        readers.put("/reader/online", as_user="user_r1", json_body={"online": False})
        drain()
        watcher.next_event("reader-status")

        events.dispatch(online_event)  # SQS delivers the old "online" again, late

        assert _status(watcher.next_event("reader-status"))["isOnline"] is False
