"""The local Pusher server speaks Pusher's protocol: the real ``pusher`` client publishes to it
(signatures verified), websocket clients subscribe as pusher-js does, presence channels track
members, and anything unsigned or mis-signed is refused. Loopback only, ports chosen by the OS."""

from __future__ import annotations

import hashlib
import hmac
import json

import pusher
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.pusher import PusherClient
from tools.local.pusher_server import PusherServer

APP_ID, KEY, SECRET = "42", "unit-key", "unit-secret"


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def server():
    import time

    clock = Clock(time.time())
    running = PusherServer(APP_ID, KEY, SECRET, clock=clock).start()
    running.clock = clock  # type: ignore[attr-defined]
    yield running
    running.stop()


def client_of(server: PusherServer, secret: str = SECRET) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP_ID, key=KEY, secret=secret, host=server.host, port=server.api_port, ssl=False)


def sign(text: str) -> str:
    return f"{KEY}:{hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()}"


def test_the_pusher_client_publishes_to_subscribed_sockets(server):
    with PusherClient(server.ws_url) as listener:
        listener.subscribed("readers")

        client_of(server).trigger("readers", "reader-status", {"readerId": "r1", "isOnline": True})

        frame = listener.next_event("reader-status", channel="readers")
        assert json.loads(frame["data"]) == {"readerId": "r1", "isOnline": True}


def test_the_connection_is_established_with_a_socket_id_and_activity_timeout(server):
    with PusherClient(server.ws_url) as client:
        established = json.loads(client.frames[0]["data"])
        assert established["activity_timeout"] == 120
        assert client.socket_id.replace(".", "").isdigit() and client.socket_id.count(".") == 1

        client.send("pusher:ping", {})
        assert client.next_event("pusher:pong")["event"] == "pusher:pong"


def test_a_publish_signed_with_another_secret_is_401_and_delivers_nothing(server):
    with PusherClient(server.ws_url) as listener:
        listener.subscribed("readers")

        with pytest.raises(pusher.errors.PusherBadAuth, match="Invalid signature"):
            client_of(server, secret="not-the-secret").trigger("readers", "forged", {})
        client_of(server).trigger("readers", "genuine", {})

        assert listener.next_event("genuine")
        assert [f["event"] for f in listener.frames if f.get("channel") == "readers"] == [
            "pusher_internal:subscription_succeeded", "genuine"]


def test_a_publish_older_than_ten_minutes_is_401(server):
    server.clock.now += 601

    with pytest.raises(pusher.errors.PusherBadAuth, match="Timestamp expired"):
        client_of(server).trigger("readers", "late", {})


def test_a_body_that_does_not_match_its_md5_is_401(server):
    import requests
    from pusher.http import POST, Request

    signed = Request(client_of(server)._pusher_client, POST, f"/apps/{APP_ID}/events",
                     {"name": "e", "channels": ["readers"], "data": "{}"})
    response = requests.post(signed.url, data=b'{"name": "tampered", "channels": ["readers"], "data": "{}"}',
                             headers=signed.headers, timeout=5)

    assert response.status_code == 401
    assert "body_md5" in response.text


def test_a_batch_of_more_than_ten_is_400_and_a_batch_of_ten_is_delivered(server):
    with PusherClient(server.ws_url) as listener:
        listener.subscribed("readers")

        with pytest.raises(pusher.errors.PusherBadRequest, match="at most 10"):
            client_of(server).trigger_batch([{"channel": "readers", "name": "e", "data": str(n)} for n in range(11)])
        client_of(server).trigger_batch([{"channel": "readers", "name": "e", "data": str(n)} for n in range(10)])

        assert [listener.next_event("e")["data"] for _ in range(10)] == [str(n) for n in range(10)]


def test_an_unknown_app_key_is_refused_with_4001(server):
    with connect(server.ws_url.replace(f"/app/{KEY}", "/app/other-key"), open_timeout=5) as ws:
        error = json.loads(ws.recv(timeout=5))
        assert (error["event"], error["data"]["code"]) == ("pusher:error", 4001)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


def test_a_private_channel_needs_its_signature(server):
    with PusherClient(server.ws_url) as client:
        client.subscribe("private-user-u1")  # no auth
        assert "Invalid signature" in client.next_event("pusher:error")["data"]["message"]

        client.subscribed("private-user-u1", sign(f"{client.socket_id}:private-user-u1"))
        client_of(server).trigger("private-user-u1", "notification", {"title": "Hi"})

        assert json.loads(client.next_event("notification")["data"]) == {"title": "Hi"}


def test_a_signature_for_another_socket_is_refused(server):
    with PusherClient(server.ws_url) as a, PusherClient(server.ws_url) as b:
        a.subscribe("private-user-u1", sign(f"{b.socket_id}:private-user-u1"))

        assert a.next_event("pusher:subscription_error", channel="private-user-u1")["data"]["status"] == 401


def test_presence_members_are_listed_added_and_removed(server):
    def member(user_id: str, name: str) -> str:
        return json.dumps({"user_id": user_id, "user_info": {"name": name, "role": "reader"}})

    channel = "presence-readers-online"
    with PusherClient(server.ws_url) as luna:
        luna_data = member("r1", "Luna")
        joined = luna.subscribed(channel, sign(f"{luna.socket_id}:{channel}:{luna_data}"), luna_data)
        assert json.loads(joined["data"])["presence"]["ids"] == ["r1"]

        with PusherClient(server.ws_url) as sol:
            sol_data = member("r2", "Sol")
            seen = json.loads(sol.subscribed(channel, sign(f"{sol.socket_id}:{channel}:{sol_data}"), sol_data)["data"])
            assert seen["presence"]["count"] == 2
            assert seen["presence"]["hash"] == {"r1": {"name": "Luna", "role": "reader"},
                                                "r2": {"name": "Sol", "role": "reader"}}
            added = luna.next_event("pusher_internal:member_added", channel=channel)
            assert json.loads(added["data"]) == {"user_id": "r2", "user_info": {"name": "Sol", "role": "reader"}}

        removed = luna.next_event("pusher_internal:member_removed", channel=channel)
        assert json.loads(removed["data"]) == {"user_id": "r2"}


def test_presence_channel_data_is_part_of_the_signature(server):
    channel = "presence-readers-online"
    with PusherClient(server.ws_url) as client:
        signed_as = json.dumps({"user_id": "u1"})
        client.subscribe(channel, sign(f"{client.socket_id}:{channel}:{signed_as}"), json.dumps({"user_id": "admin"}))

        assert "Invalid signature" in client.next_event("pusher:error")["data"]["message"]


def test_the_publishers_own_socket_can_be_excluded(server):
    with PusherClient(server.ws_url) as a, PusherClient(server.ws_url) as b:
        a.subscribed("readers")
        b.subscribed("readers")

        client_of(server).trigger("readers", "e", "first", socket_id=a.socket_id)
        client_of(server).trigger("readers", "e", "second")

        assert b.next_event("e")["data"] == "first"
        assert a.next_event("e")["data"] == "second"  # "first" would have come before it


# -- signing in, and terminating a user's connections ------------------------------------------


def user_data(user_id: str) -> str:
    return json.dumps({"id": user_id}, separators=(",", ":"))


def signed_in(client: PusherClient, user_id: str) -> dict:
    data = user_data(user_id)
    return client.signed_in(sign(f"{client.socket_id}::user::{data}"), data)


def terminate(server: PusherServer, user_id: str, secret: str = SECRET):
    """``POST /apps/<id>/users/<userId>/terminate_connections``, signed by the pusher package's
    own request signing (not the code under test)."""
    import requests
    from pusher.http import POST, Request

    signed = Request(client_of(server, secret)._pusher_client, POST, f"/apps/{APP_ID}/users/{user_id}/"
                     "terminate_connections", {})
    return requests.post(signed.url, data=signed.body, headers=signed.headers, timeout=5)


def test_a_signin_signed_by_the_app_binds_the_connection_to_its_user(server):
    with PusherClient(server.ws_url) as client:
        success = signed_in(client, "u1")

        assert json.loads(success["data"]) == {"user_data": user_data("u1")}
        # pusher-js then subscribes to the user's server-to-user channel: only this user may
        client.subscribed("#server-to-user-u1")
        client.subscribe("#server-to-user-u2")
        refused = client.next_event("pusher:subscription_error", channel="#server-to-user-u2")
        assert refused["data"]["status"] == 401


def test_the_server_to_user_channel_needs_a_signed_in_connection(server):
    with PusherClient(server.ws_url) as client:
        client.subscribe("#server-to-user-u1")

        assert client.next_event("pusher:subscription_error", channel="#server-to-user-u1")["data"]["status"] == 401


@pytest.mark.parametrize("tamper", ["other_socket", "other_user", "other_secret"])
def test_a_signin_not_signed_for_this_connection_and_user_is_refused_and_closed_with_4009(server, tamper):
    with PusherClient(server.ws_url) as client, PusherClient(server.ws_url) as other:
        data = user_data("u1")
        text = {"other_socket": f"{other.socket_id}::user::{data}",
                "other_user": f"{client.socket_id}::user::{user_data('admin')}",
                "other_secret": f"{client.socket_id}::user::{data}"}[tamper]
        auth = (f"{KEY}:{hmac.new(b'not-the-secret', text.encode(), hashlib.sha256).hexdigest()}"
                if tamper == "other_secret" else sign(text))

        client.send("pusher:signin", {"auth": auth, "user_data": data})

        error = client.next_event("pusher:error")
        assert error["data"]["code"] == 4009 and error["data"]["message"].startswith("Invalid signature")
        assert client.closed().rcvd.code == 4009


def test_terminating_a_user_closes_each_of_their_signed_in_connections_with_4009_and_no_other(server):
    with (PusherClient(server.ws_url) as phone, PusherClient(server.ws_url) as laptop,
          PusherClient(server.ws_url) as someone_else, PusherClient(server.ws_url) as anonymous):
        signed_in(phone, "u1")
        signed_in(laptop, "u1")
        signed_in(someone_else, "u2")
        anonymous.subscribed("readers")

        answer = terminate(server, "u1")

        assert (answer.status_code, answer.json()) == (200, {})
        for client in (phone, laptop):
            closed = client.closed()
            assert (closed.rcvd.code, closed.rcvd.reason) == (4009, "You were disconnected by the app.")
            assert client.frames[-1] == {"event": "pusher:error",
                                         "data": {"code": 4009, "message": "You were disconnected by the app."}}
        for client in (someone_else, anonymous):  # still connected, still answered
            client.send("pusher:ping", {})
            assert client.next_event("pusher:pong")


def test_terminating_a_user_with_no_connection_is_200_and_an_unsigned_request_is_401(server):
    with PusherClient(server.ws_url) as client:
        signed_in(client, "u1")

        assert terminate(server, "nobody").status_code == 200
        forged = terminate(server, "u1", secret="not-the-secret")
        assert forged.status_code == 401 and "Invalid signature" in forged.text
        client.send("pusher:ping", {})
        assert client.next_event("pusher:pong")
