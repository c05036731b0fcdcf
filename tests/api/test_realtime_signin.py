"""POST /realtime/user-auth signs a Pusher connection in as the caller (pusher-js ``signin()``);
suspending or deleting the account then closes the signed-in connections on Pusher (the local
Pusher server, in-process), through the event pipeline: within seconds, never in the request,
and a failed termination fails its event so the queue delivers it again."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from tests.support.pusher import PusherClient, point_pusher_at

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SOCKET = "123456.7890123"
ADMIN = "user_admin"


def _hmac(text: str, secret: str | None = None) -> str:
    key = secret or os.environ["PUSHER_SECRET"]
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _user_auth(api, user: str, socket_id: str = SOCKET):
    return api.post("/realtime/user-auth", as_user=user, body=urlencode({"socket_id": socket_id}), headers=FORM)


def _suspend(api, user_id: str, *, days: int = 7):
    until = (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = api.patch(
        f"/admin/users/{user_id}", as_user=ADMIN, json_body={"suspend": {"reason": "Abusive messages.", "until": until}}
    )
    assert response.status_code == 200, response.body
    return response


# --- the endpoint -----------------------------------------------------------------------------------


def test_the_form_pusher_js_sends_is_signed_for_the_caller_only(api, make_user):
    make_user("u1")

    response = _user_auth(api, "u1")

    assert response.status_code == 200
    user_data = response.json["user_data"]
    assert json.loads(user_data) == {"id": "u1"}  # nothing else: no name, no email
    assert response.json == {
        "auth": f"{os.environ['PUSHER_KEY']}:{_hmac(f'{SOCKET}::user::{user_data}')}",
        "user_data": user_data,
    }


def test_a_json_body_is_accepted_too(api, make_user):
    make_user("u1")

    response = api.post("/realtime/user-auth", as_user="u1", json_body={"socket_id": SOCKET})

    assert response.status_code == 200
    assert response.json["auth"].endswith(":" + _hmac(f"{SOCKET}::user::{response.json['user_data']}"))


@pytest.mark.parametrize(
    "body",
    ["socket_id=abc", "socket_id=1.2.3", "", f"socket_id={SOCKET}&user_id=admin", f"socket_id={SOCKET}&socket_id=1.2"],
)
def test_a_bad_form_is_400_and_signs_nothing(api, make_user, body):
    make_user("u1")

    response = api.post("/realtime/user-auth", as_user="u1", body=body, headers=FORM)

    assert response.status_code == 400
    assert response.json["error"]["code"] in {"validation_error", "malformed_form"}
    assert "auth" not in response.json


def test_anonymous_suspended_and_deleted_callers_are_refused(api, make_user):
    make_user(ADMIN, role="admin")
    make_user("u1")
    make_user("u2")
    _suspend(api, "u1")
    assert api.delete("/me", as_user="u2").status_code == 202

    anonymous = api.post("/realtime/user-auth", body=urlencode({"socket_id": SOCKET}), headers=FORM)
    suspended = _user_auth(api, "u1")
    deleted = _user_auth(api, "u2")

    assert anonymous.status_code == 401
    assert (suspended.status_code, suspended.json["error"]["code"]) == (403, "account_suspended")
    assert (deleted.status_code, deleted.json["error"]["code"]) == (401, "account_deleted")
    # nor may they subscribe again
    channel = urlencode({"socket_id": SOCKET, "channel_name": "private-user-u1"})
    assert api.post("/realtime/auth", as_user="u1", body=channel, headers=FORM).status_code == 403


# --- the events -------------------------------------------------------------------------------------


def test_a_suspension_and_a_deletion_terminate_the_accounts_connections_after_the_request(
    api, make_user, drain, pusher_terminations
):
    make_user(ADMIN, role="admin")
    make_user("u1")
    make_user("u2")

    _suspend(api, "u1")
    assert api.delete("/me", as_user="u2").status_code == 202
    assert pusher_terminations == []  # not in the request's unit of work

    drain()

    assert sorted(pusher_terminations) == ["u1", "u2"]


def test_a_suspension_delivered_again_after_the_reinstatement_closes_nothing(api, make_user, pusher_terminations):
    from chalicelib.services import events

    make_user(ADMIN, role="admin")
    make_user("u1")
    _suspend(api, "u1")
    assert api.patch("/admin/users/u1", as_user=ADMIN, json_body={"reinstate": {}}).status_code == 200

    events.dispatch({"eventId": "e1", "type": "user.suspended", "data": {"userId": "u1"}})

    assert pusher_terminations == []


def test_a_suspension_past_its_end_closes_nothing(api, make_user, pusher_terminations):
    from chalicelib.services import events

    make_user("u1", status="suspended", suspended_until="2020-01-01T00:00:00.000Z")

    events.dispatch({"eventId": "e1", "type": "user.suspended", "data": {"userId": "u1"}})

    assert pusher_terminations == []


@pytest.fixture()
def pusher_server(monkeypatch):
    from tools.local.pusher_server import PusherServer

    server = PusherServer("1", os.environ["PUSHER_KEY"], os.environ["PUSHER_SECRET"]).start()
    point_pusher_at(server, monkeypatch)
    yield server
    server.stop()


def _signed_in(api, client: PusherClient, user: str) -> None:
    signed = _user_auth(api, user, socket_id=client.socket_id).json
    success = client.signed_in(signed["auth"], signed["user_data"])
    assert json.loads(json.loads(success["data"])["user_data"]) == {"id": user}


def test_a_suspended_users_open_connection_is_closed_on_pusher_and_no_one_elses(api, make_user, drain, pusher_server):
    make_user(ADMIN, role="admin")
    make_user("u1")
    make_user("u2")
    with PusherClient(pusher_server.ws_url) as u1, PusherClient(pusher_server.ws_url) as u2:
        for client, user in ((u1, "u1"), (u2, "u2")):
            _signed_in(api, client, user)
            channel = f"private-user-{user}"
            auth = api.post(
                "/realtime/auth",
                as_user=user,
                headers=FORM,
                body=urlencode({"socket_id": client.socket_id, "channel_name": channel}),
            ).json["auth"]
            client.subscribed(channel, auth)

        _suspend(api, "u1")
        drain()

        closed = u1.closed()
        assert closed.rcvd is not None and closed.rcvd.code == 4009  # 4000-4099: pusher-js does not reconnect
        u2.send("pusher:ping", {})
        assert u2.next_event("pusher:pong")


def test_a_deleted_accounts_open_connection_is_closed(api, make_user, drain, pusher_server):
    make_user("u1")
    with PusherClient(pusher_server.ws_url) as u1:
        _signed_in(api, u1, "u1")

        assert api.delete("/me", as_user="u1").status_code == 202
        drain()

        assert u1.closed().rcvd.code == 4009


def test_a_termination_pusher_refuses_fails_the_event_so_the_queue_retries_it(api, make_user, monkeypatch):
    """The tests' Pusher address answers nothing: the event fails (the queue delivers it again);
    once Pusher answers, the same event closes the connection."""
    from chalicelib.integrations import pusher
    from chalicelib.services import events
    from tests.support.pusher import REAL_TERMINATE
    from tools.local.pusher_server import PusherServer

    make_user("u1", status="suspended", suspension_reason="Spam.")
    message = {"eventId": "e1", "type": "user.suspended", "data": {"userId": "u1"}}
    monkeypatch.setattr(pusher, "terminate_user_connections", REAL_TERMINATE)

    with pytest.raises(pusher.TerminateFailed, match="Pusher did not answer terminating u1's connections"):
        events.dispatch(message)

    server = PusherServer("1", os.environ["PUSHER_KEY"], os.environ["PUSHER_SECRET"]).start()
    try:
        point_pusher_at(server, monkeypatch)
        with PusherClient(server.ws_url) as u1:
            u1.signed_in(*_sign_in_values(u1.socket_id, "u1"))
            events.dispatch(message)
            assert u1.closed().rcvd.code == 4009
    finally:
        server.stop()


def _sign_in_values(socket_id: str, user_id: str) -> tuple[str, str]:
    """What /realtime/user-auth answers (a suspended user cannot call it any more)."""
    from chalicelib.services import realtime

    signed = realtime.authenticate(user_id, socket_id)
    return signed.auth, signed.user_data


def test_a_termination_with_a_wrong_secret_is_refused_by_pusher_and_fails_the_event(make_user, monkeypatch):
    from chalicelib.integrations import pusher
    from chalicelib.services import events
    from tools.local.pusher_server import PusherServer

    make_user("u1", status="deleted")
    server = PusherServer("1", os.environ["PUSHER_KEY"], "another-secret").start()
    try:
        point_pusher_at(server, monkeypatch)
        settings = pusher.get_settings().with_secrets(pusher_secret=os.environ["PUSHER_SECRET"])
        monkeypatch.setattr(pusher, "get_settings", lambda: settings)

        with pytest.raises(pusher.TerminateFailed, match="Pusher answered 401"):
            events.dispatch({"eventId": "e1", "type": "user.deleted", "data": {"user_id": "u1"}})
    finally:
        server.stop()
