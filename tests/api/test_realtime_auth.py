"""POST /realtime/auth signs only the caller's own private channel and the readers' presence
channel, exactly as Pusher's protocol asks; a notification pushed through the real pusher
client reaches the user's subscribed socket on the local Pusher server, and nobody else's."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from urllib.parse import urlencode

import pytest

from tests.support.pusher import PusherClient, point_pusher_at

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SOCKET = "123456.7890123"


def _hmac(text: str) -> str:
    return hmac.new(os.environ["PUSHER_SECRET"].encode(), text.encode(), hashlib.sha256).hexdigest()


def _auth(api, user: str, channel: str, socket_id: str = SOCKET):
    return api.post("/realtime/auth", as_user=user, body=urlencode({"socket_id": socket_id, "channel_name": channel}),
                    headers=FORM)


def test_the_callers_own_private_channel_is_signed_from_the_form_pusher_js_sends(api, make_user):
    make_user("u1")

    response = _auth(api, "u1", "private-user-u1")

    assert response.status_code == 200
    assert response.json == {"auth": f"{os.environ['PUSHER_KEY']}:{_hmac(f'{SOCKET}:private-user-u1')}"}


def test_a_json_body_is_accepted_too(api, make_user):
    make_user("u1")

    response = api.post("/realtime/auth", as_user="u1",
                        json_body={"socket_id": SOCKET, "channel_name": "private-user-u1"})

    assert response.status_code == 200
    assert response.json["auth"].endswith(":" + _hmac(f"{SOCKET}:private-user-u1"))


def test_another_users_private_channel_is_403_and_signs_nothing(api, make_user):
    make_user("u1")
    make_user("u2")

    response = _auth(api, "u1", "private-user-u2")

    assert response.status_code == 403
    assert response.json["error"]["code"] == "channel_forbidden"
    assert response.json["error"]["message"] == (
        "You may subscribe only to your own channel private-user-u1 and to presence-readers-online; "
        "private-user-u2 is not one of them.")
    assert "auth" not in response.json


@pytest.mark.parametrize("channel", ["private-user-u1x", "private-user-", "private-encrypted-user-u1", "readers",
                                     "presence-somewhere-else"])
def test_channels_that_are_not_the_callers_are_403(api, make_user, channel):
    make_user("u1")

    assert _auth(api, "u1", channel).status_code == 403


def test_the_presence_channel_is_signed_with_the_callers_public_identity(api, make_user):
    make_user("u1", role="reader", display_name="Luna Marquez",
              image_url="media/u1/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AF/256.webp")

    response = _auth(api, "u1", "presence-readers-online")

    assert response.status_code == 200
    channel_data = response.json["channel_data"]
    assert json.loads(channel_data) == {"user_id": "u1", "user_info": {
        "name": "Luna Marquez", "role": "reader",
        "imageUrl": "http://api.test.auralumic.example/cdn/media/u1/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AF/256.webp"}}
    assert response.json["auth"] == (f"{os.environ['PUSHER_KEY']}:"
                                      f"{_hmac(f'{SOCKET}:presence-readers-online:{channel_data}')}")
    assert "u1@example.com" not in channel_data  # the email is not public


def test_a_user_who_hides_their_online_status_cannot_join_the_presence_channel(api, make_user):
    make_user("u1", preferences={"privacy": {"showOnlineStatus": False}})

    response = _auth(api, "u1", "presence-readers-online")

    assert response.status_code == 403
    assert response.json["error"]["code"] == "online_status_hidden"


@pytest.mark.parametrize("socket_id", ["abc", "1.2.3", "12", ".5", "1.x", ""])
def test_a_socket_id_not_shaped_like_pushers_is_400(api, make_user, socket_id):
    make_user("u1")

    response = _auth(api, "u1", "private-user-u1", socket_id=socket_id)

    assert response.status_code == 400
    assert response.json["error"]["code"] == "validation_error"


def test_a_form_that_repeats_a_field_or_misses_one_is_400(api, make_user):
    make_user("u1")
    repeated = api.post("/realtime/auth", as_user="u1", headers=FORM,
                        body=f"socket_id={SOCKET}&channel_name=private-user-u1&channel_name=private-user-u2")
    missing = api.post("/realtime/auth", as_user="u1", headers=FORM, body=f"socket_id={SOCKET}")

    assert (repeated.status_code, repeated.json["error"]["code"]) == (400, "malformed_form")
    assert (missing.status_code, missing.json["error"]["code"]) == (400, "validation_error")


def test_anonymous_callers_get_401(api):
    response = api.post("/realtime/auth", body=urlencode({"socket_id": SOCKET, "channel_name": "private-user-u1"}),
                        headers=FORM)

    assert response.status_code == 401


@pytest.fixture()
def pusher_server(monkeypatch):
    from tools.local.pusher_server import PusherServer

    server = PusherServer("1", os.environ["PUSHER_KEY"], os.environ["PUSHER_SECRET"]).start()
    point_pusher_at(server, monkeypatch)
    yield server
    server.stop()


def test_a_pushed_notification_reaches_the_users_socket_and_no_one_elses(api, make_user, pusher_server):
    from chalicelib.domain.notifications import Delivery
    from chalicelib.services import realtime

    make_user("u1")
    make_user("u2")
    with PusherClient(pusher_server.ws_url) as u1, PusherClient(pusher_server.ws_url) as u2:
        for client, user in ((u1, "u1"), (u2, "u2")):
            auth = _auth(api, user, f"private-user-{user}", socket_id=client.socket_id).json["auth"]
            client.subscribed(f"private-user-{user}", auth)

        # u2's first, in the same batch: had u1's socket been sent u2's, it would arrive first.
        realtime.push([
            Delivery(user_id="u2", type="reading_request", title="New reading request", message="Clara asks."),
            Delivery(user_id="u1", type="reading_accepted", title="Reading accepted",
                     message="Luna accepted your reading.", related_id="r1", action_url="/readings/r1"),
        ])

        frame = u1.next_event("notification")
        assert frame["channel"] == "private-user-u1"
        assert json.loads(frame["data"]) == {
            "userId": "u1", "type": "reading_accepted", "title": "Reading accepted",
            "message": "Luna accepted your reading.", "relatedId": "r1", "actionUrl": "/readings/r1", "data": {}}
        assert json.loads(u2.next_event("notification")["data"])["userId"] == "u2"


def test_more_than_ten_notifications_go_in_batches_and_all_arrive(api, make_user, pusher_server):
    from chalicelib.domain.notifications import Delivery
    from chalicelib.services import realtime

    make_user("u1")
    with PusherClient(pusher_server.ws_url) as u1:
        u1.subscribed("private-user-u1", _auth(api, "u1", "private-user-u1", socket_id=u1.socket_id).json["auth"])

        realtime.push([Delivery(user_id="u1", type="system_alert", title=f"Alert {n}", message="Check.")
                       for n in range(23)])

        titles = [json.loads(u1.next_event("notification")["data"])["title"] for _ in range(23)]
        assert titles == [f"Alert {n}" for n in range(23)]


def test_subscribing_to_another_users_channel_with_ones_own_signature_is_refused(api, make_user, pusher_server):
    make_user("u1")
    with PusherClient(pusher_server.ws_url) as u1:
        own = _auth(api, "u1", "private-user-u1", socket_id=u1.socket_id).json["auth"]
        assert _auth(api, "u1", "private-user-u2", socket_id=u1.socket_id).status_code == 403

        u1.subscribe("private-user-u2", own)

        error = u1.next_event("pusher:error")
        assert error["data"]["message"].startswith(f"Invalid signature: Expected HMAC SHA256 hex digest of "
                                                   f"{u1.socket_id}:private-user-u2")
        refused = u1.next_event("pusher:subscription_error", channel="private-user-u2")
        assert refused["data"]["status"] == 401


def test_a_push_with_no_server_listening_is_logged_and_does_not_raise(caplog):
    from chalicelib.domain.notifications import Delivery
    from chalicelib.services import realtime

    realtime.push([Delivery(user_id="u1", type="system_alert", title="Alert", message="Check.")])  # port 9: refused

    assert any(record.getMessage() == "real-time publish failed" for record in caplog.records)


def test_the_pusher_package_loads_only_when_something_is_published():
    import subprocess
    import sys

    probe = ("import sys; import chalicelib.handlers.realtime, chalicelib.services.realtime; "
             "print(sorted(m for m in ('pusher', 'websockets') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                            env=dict(os.environ), cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

    assert loaded.stdout.strip() == "[]"
