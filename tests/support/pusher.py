"""A websocket client of the local Pusher server (tools/local/pusher_server.py), as pusher-js
speaks to it, and a fixture-friendly way to point the app's settings at a running server.

    with PusherClient(server.ws_url) as client:
        client.subscribe("private-user-u1", auth)
        frame = client.next_event("notification", timeout_s=5)

``next_event`` reads frames until the one wanted arrives; past the deadline the test fails
with every frame seen, so a slow machine only waits longer. ``point_pusher_at`` aims the
app's pusher integration at a server started in the test.

Terminating a user's connections (``pusher.terminate_user_connections``) is recorded instead
of sent in every test (``record_terminations``, the autouse ``pusher_terminations`` fixture
of tests/conftest.py): the tests' Pusher address answers nothing, and a termination that
fails fails its event. ``point_pusher_at`` restores the real call, aimed at the test's server.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from chalicelib.integrations import pusher as _integration

REAL_TERMINATE = _integration.terminate_user_connections  # read at import, before any test records it


class PusherClient:
    def __init__(self, url: str):
        self.url = url
        self.frames: list[dict[str, Any]] = []
        self.connection: ClientConnection | None = None
        self.socket_id = ""

    def __enter__(self) -> PusherClient:
        self.connection = connect(self.url, open_timeout=5, close_timeout=1)
        established = self.next_event("pusher:connection_established")
        self.socket_id = json.loads(established["data"])["socket_id"]
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.connection is not None:
            self.connection.close()

    def send(self, event: str, data: Any) -> None:
        assert self.connection is not None
        self.connection.send(json.dumps({"event": event, "data": data}))

    def subscribe(self, channel: str, auth: str | None = None, channel_data: str | None = None) -> None:
        data: dict[str, Any] = {"channel": channel}
        if auth is not None:
            data["auth"] = auth
        if channel_data is not None:
            data["channel_data"] = channel_data
        self.send("pusher:subscribe", data)

    def next_event(self, event: str, *, channel: str | None = None, timeout_s: float = 5.0) -> dict[str, Any]:
        """The next frame named ``event`` (on ``channel``), skipping others; frames read stay in
        ``frames``."""
        assert self.connection is not None
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {event!r} frame{f' on {channel}' if channel else ''} within {timeout_s:g} s; "
                            f"frames seen: {self.frames}")
            try:
                raw = self.connection.recv(timeout=remaining)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                pytest.fail(f"the connection closed ({exc}) before a {event!r} frame; frames seen: {self.frames}")
            frame = json.loads(raw)
            self.frames.append(frame)
            if frame.get("event") == event and (channel is None or frame.get("channel") == channel):
                return frame

    def signed_in(self, auth: str, user_data: str) -> dict[str, Any]:
        """``pusher:signin`` (as pusher-js sends it) and the server's ``pusher:signin_success``."""
        self.send("pusher:signin", {"auth": auth, "user_data": user_data})
        return self.next_event("pusher:signin_success")

    def closed(self, *, timeout_s: float = 5.0) -> ConnectionClosed:
        """Read until the server closes the connection; the close (``.rcvd.code``, ``.rcvd.reason``)."""
        assert self.connection is not None
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"the connection was not closed within {timeout_s:g} s; frames seen: {self.frames}")
            try:
                raw = self.connection.recv(timeout=remaining)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                return exc
            self.frames.append(json.loads(raw))

    def subscribed(self, channel: str, auth: str | None = None, channel_data: str | None = None) -> dict[str, Any]:
        """Subscribe and wait for the server's confirmation."""
        self.subscribe(channel, auth, channel_data)
        return self.next_event("pusher_internal:subscription_succeeded", channel=channel)


def point_pusher_at(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pusher integration's settings aimed at ``server`` for the test. Only that module's
    view changes: clearing the global settings cache inside ``chalice.test.Client`` would read
    the stage environment the client patches in."""
    from dataclasses import replace

    from chalicelib.config import get_settings
    from chalicelib.integrations import pusher

    settings = replace(get_settings(), pusher_host=server.host, pusher_port=server.api_port,
                       pusher_use_tls=False).with_secrets(pusher_cluster="", pusher_app_id=server.app_id,
                                                          pusher_key=server.key, pusher_secret=server.secret)
    monkeypatch.setattr(pusher, "get_settings", lambda: settings)
    monkeypatch.setattr(pusher, "terminate_user_connections", REAL_TERMINATE)


def record_terminations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``pusher.terminate_user_connections`` records the user ids instead of calling Pusher."""
    terminated: list[str] = []
    monkeypatch.setattr(_integration, "terminate_user_connections", terminated.append)
    return terminated
