"""A local Pusher Channels server: the real protocol, one app, on loopback.

Two listeners in one asyncio loop (its own thread):

* the HTTP API that the ``pusher`` Python client publishes to: ``POST /apps/<id>/events``
  and ``POST /apps/<id>/batch_events``, and ``POST /apps/<id>/users/<userId>/terminate_connections``
  (every connection signed in as that user gets ``pusher:error`` 4009 and is closed with
  4009: pusher-js does not reconnect), each request's signature verified as Pusher does
  (pusher_protocol.py);
* the websocket endpoint ``/app/<key>?protocol=7`` that ``pusher-js`` subscribes through:
  ``pusher:connection_established``, ``pusher:subscribe`` (private- and presence- channels
  checked against the HMAC of ``socket_id:channel[:channel_data]``),
  ``pusher_internal:subscription_succeeded`` (with the members on presence channels),
  ``pusher_internal:member_added``/``member_removed``, ``pusher:ping``/``pusher:pong``, and
  ``pusher:error`` (plus ``pusher:subscription_error`` on the channel) for a bad signature;
  ``pusher:signin`` (pusher-js ``signin()``: the HMAC of ``socket_id::user::user_data``
  checked, the connection bound to ``user_data``'s ``id``, ``pusher:signin_success``; a bad
  one is ``pusher:error`` 4009 and the connection closed) and the signed-in user's
  ``#server-to-user-<id>`` channel.

The websocket library answers GET requests only, hence the second port for the API.
``python -m tools.local.pusher_server`` runs it alone; ``make run`` starts it with the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from tools.local.pusher_protocol import (
    MAX_BATCH,
    UNAUTHORIZED,
    USER_ID,
    ApiError,
    check_event,
    serve_http,
    server_to_user_id,
    signed,
    valid_channel,
    verify_request,
)

HOST = "127.0.0.1"
PROTOCOL = 7
ACTIVITY_TIMEOUT_S = 120
_API_PATH = re.compile(r"\A/apps/(?P<app_id>[^/]+)/(?:(?P<action>events|batch_events)"
                       r"|users/(?P<user_id>[^/]+)/terminate_connections)\Z")
TERMINATED = "You were disconnected by the app."


@dataclass
class _Socket:
    socket_id: str
    connection: ServerConnection
    channels: dict[str, str | None] = field(default_factory=dict)  # channel -> presence user id
    user_id: str | None = None  # signed in as (pusher:signin)


class PusherServer:
    """``start()`` binds both ports (0: any free one) and returns; ``stop()`` closes everything."""

    def __init__(self, app_id: str, key: str, secret: str, *, host: str = HOST, ws_port: int = 0, api_port: int = 0,
                 clock: Callable[[], float] = time.time):
        self.app_id, self.key, self.secret, self.host = app_id, key, secret, host
        self.ws_port, self.api_port = ws_port, api_port
        self._clock = clock
        self._sockets: dict[str, _Socket] = {}
        self._channels: dict[str, set[str]] = {}  # channel -> socket ids
        self._members: dict[str, dict[str, tuple[Any, int]]] = {}  # presence channel -> user id -> (info, sockets)
        self._users: dict[str, set[str]] = {}  # signed-in user id -> socket ids
        self._closing: set[asyncio.Task[None]] = set()  # terminations under way (held: tasks are weak)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}/app/{self.key}?protocol={PROTOCOL}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    def frontend_config(self, api: str = "<API>") -> list[str]:
        """How pusher-js connects to this server (lines to print)."""
        return [f"const pusher = new Pusher('{self.key}', {{ cluster: 'local', wsHost: '{self.host}', "
                f"wsPort: {self.ws_port}, forceTLS: false, enabledTransports: ['ws'],",
                f"  channelAuthorization: {{ endpoint: '{api}/realtime/auth', "
                "headers: { Authorization: 'Bearer <token>' } },",
                f"  userAuthentication: {{ endpoint: '{api}/realtime/user-auth', "
                "headers: { Authorization: 'Bearer <token>' } } }); pusher.signin()"]

    def start(self, timeout_s: float = 5.0) -> PusherServer:
        self._thread = threading.Thread(target=self._run, name="pusher-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError(f"the local Pusher server did not start within {timeout_s:g} s")
        if self._failure is not None:
            raise RuntimeError(f"the local Pusher server could not start: {self._failure}") from self._failure
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to start() (or lost at shutdown)
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        ws_server = await serve(self._websocket, self.host, self.ws_port, close_timeout=1, max_size=64 * 1024)
        try:
            api_server = await asyncio.start_server(functools.partial(serve_http, self._api), self.host,
                                                    self.api_port)
        except OSError:
            ws_server.close()
            raise
        self.ws_port = ws_server.sockets[0].getsockname()[1]
        self.api_port = api_server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            api_server.close()
            ws_server.close()
            await asyncio.wait_for(ws_server.wait_closed(), timeout=1.5)

    # -- websocket side ------------------------------------------------------------------------

    async def _websocket(self, connection: ServerConnection) -> None:
        url = urlsplit(connection.request.path if connection.request else "/")
        query = parse_qs(url.query)
        if url.path != f"/app/{self.key}":
            await self._refuse(connection, 4001, f"App key {url.path.rsplit('/', 1)[-1]} is not in this cluster.")
            return
        try:
            protocol = int((query.get("protocol") or ["0"])[0])
        except ValueError:
            protocol = 0
        if protocol < 5:
            await self._refuse(connection, 4007, "Unsupported protocol version.")
            return
        socket = _Socket(f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}", connection)
        self._sockets[socket.socket_id] = socket
        try:
            await self._send(socket, "pusher:connection_established",
                             json.dumps({"socket_id": socket.socket_id, "activity_timeout": ACTIVITY_TIMEOUT_S}))
            async for raw in connection:
                await self._on_message(socket, raw)
        except ConnectionClosed:
            pass
        finally:
            self._forget(socket)

    async def _refuse(self, connection: ServerConnection, code: int, message: str) -> None:
        """``pusher:error`` with ``code``, then the close with ``code`` (a close frame's reason
        holds 123 bytes: the error frame has the whole message)."""
        with contextlib.suppress(ConnectionClosed):
            await connection.send(json.dumps({"event": "pusher:error", "data": {"code": code, "message": message}}))
            await connection.close(code, message.encode()[:123].decode(errors="ignore"))

    async def _send(self, socket: _Socket, event: str, data: Any, channel: str | None = None) -> None:
        frame: dict[str, Any] = {"event": event, "data": data}
        if channel is not None:
            frame["channel"] = channel
        with contextlib.suppress(ConnectionClosed):
            await socket.connection.send(json.dumps(frame))

    async def _error(self, socket: _Socket, message: str, code: int | None = None) -> None:
        await self._send(socket, "pusher:error", {"code": code, "message": message})

    async def _on_message(self, socket: _Socket, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            event = message["event"]
        except (ValueError, TypeError, KeyError):
            await self._error(socket, "Messages must be JSON objects with an event.")
            return
        data = message.get("data")
        if isinstance(data, str):  # some clients send data JSON-encoded
            try:
                data = json.loads(data)
            except ValueError:
                data = {}
        data = data if isinstance(data, dict) else {}
        if event == "pusher:ping":
            await self._send(socket, "pusher:pong", "{}")
        elif event == "pusher:subscribe":
            await self._subscribe(socket, data)
        elif event == "pusher:unsubscribe":
            self._unsubscribe(socket, str(data.get("channel") or ""))
        elif event == "pusher:signin":
            await self._signin(socket, data)
        elif isinstance(event, str) and event.startswith("client-"):
            await self._error(socket, "Client events are not enabled on this app.")
        # Other pusher: events are not supported locally; Pusher ignores unknown ones too.

    async def _signin(self, socket: _Socket, data: dict[str, Any]) -> None:
        """Bind the connection to the user ``user_data`` names, if the app signed it."""
        user_data = data.get("user_data")
        text = f"{socket.socket_id}::user::{user_data}"
        if not isinstance(user_data, str) or not signed(self.key, self.secret, text, data.get("auth")):
            signature = str(data.get("auth") or "").partition(":")[2]
            await self._refuse(socket.connection, UNAUTHORIZED,
                               f"Invalid signature: Expected HMAC SHA256 hex digest of {text}, but got {signature}")
            return
        try:
            user_id = json.loads(user_data)["id"]
        except (ValueError, TypeError, KeyError):
            user_id = None
        if not isinstance(user_id, str) or not USER_ID.match(user_id):
            await self._refuse(socket.connection, UNAUTHORIZED, "user_data must be a JSON object with a valid id.")
            return
        self._sign_out(socket)
        socket.user_id = user_id
        self._users.setdefault(user_id, set()).add(socket.socket_id)
        await self._send(socket, "pusher:signin_success", json.dumps({"user_data": user_data}))

    def _sign_out(self, socket: _Socket) -> None:
        if socket.user_id is not None:
            signed_in = self._users.get(socket.user_id, set())
            signed_in.discard(socket.socket_id)
            if not signed_in:
                self._users.pop(socket.user_id, None)
            socket.user_id = None

    async def _subscribe(self, socket: _Socket, data: dict[str, Any]) -> None:
        channel = data.get("channel")
        if not isinstance(channel, str) or not valid_channel(channel):
            await self._error(socket, f"Invalid channel name {channel!r}.")
            return
        owner = server_to_user_id(channel)
        if owner is not None and owner != socket.user_id:
            await self._auth_failed(socket, channel, f"Only a connection signed in as {owner} may subscribe to "
                                                     f"{channel}.")
            return
        presence = channel.startswith("presence-")
        channel_data = data.get("channel_data")
        if presence or channel.startswith("private-"):
            if presence and not isinstance(channel_data, str):
                await self._auth_failed(socket, channel, "Presence subscriptions need channel_data.")
                return
            text = f"{socket.socket_id}:{channel}" + (f":{channel_data}" if presence else "")
            if not signed(self.key, self.secret, text, data.get("auth")):
                signature = str(data.get("auth") or "").partition(":")[2]
                await self._auth_failed(socket, channel, f"Invalid signature: Expected HMAC SHA256 hex digest of "
                                                         f"{text}, but got {signature}")
                return
        user_id, info = None, None
        if presence:
            try:
                member = json.loads(str(channel_data))
                user_id, info = str(member["user_id"]), member.get("user_info")
            except (ValueError, TypeError, KeyError):
                await self._auth_failed(socket, channel, "channel_data must be JSON with a user_id.")
                return
        if channel not in socket.channels:
            socket.channels[channel] = user_id
            others = set(self._channels.get(channel, set()))
            self._channels.setdefault(channel, set()).add(socket.socket_id)
            if user_id is not None:
                members = self._members.setdefault(channel, {})
                known, count = members.get(user_id, (info, 0))
                members[user_id] = (info if count == 0 else known, count + 1)
                if count == 0:
                    self._deliver(channel, "pusher_internal:member_added",
                                  json.dumps({"user_id": user_id, "user_info": info}), only=others)
        payload: dict[str, Any] = {}
        if presence:
            members = self._members.get(channel, {})
            payload = {"presence": {"ids": list(members), "hash": {uid: m[0] for uid, m in members.items()},
                                    "count": len(members)}}
        await self._send(socket, "pusher_internal:subscription_succeeded", json.dumps(payload), channel)

    async def _auth_failed(self, socket: _Socket, channel: str, message: str) -> None:
        await self._error(socket, message)
        await self._send(socket, "pusher:subscription_error", {"type": "AuthError", "error": message, "status": 401},
                         channel)

    def _unsubscribe(self, socket: _Socket, channel: str) -> None:
        if channel not in socket.channels:
            return
        user_id = socket.channels.pop(channel)
        subscribers = self._channels.get(channel, set())
        subscribers.discard(socket.socket_id)
        if not subscribers:
            self._channels.pop(channel, None)
        if user_id is not None:
            members = self._members.get(channel, {})
            info, count = members.get(user_id, (None, 1))
            if count > 1:
                members[user_id] = (info, count - 1)
            else:
                members.pop(user_id, None)
                self._deliver(channel, "pusher_internal:member_removed", json.dumps({"user_id": user_id}))
            if not members:
                self._members.pop(channel, None)

    def _forget(self, socket: _Socket) -> None:
        for channel in list(socket.channels):
            self._unsubscribe(socket, channel)
        self._sign_out(socket)
        self._sockets.pop(socket.socket_id, None)

    def _terminate(self, user_id: str) -> int:
        """Close every connection signed in as ``user_id`` (in the background, on this loop)."""
        sockets = [self._sockets[s] for s in self._users.get(user_id, set()) if s in self._sockets]
        for socket in sockets:
            task = asyncio.ensure_future(self._refuse(socket.connection, UNAUTHORIZED, TERMINATED))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return len(sockets)

    def _deliver(self, channel: str, event: str, data: str, *, exclude: str | None = None,
                 only: set[str] | None = None) -> int:
        """Queue ``event`` to the channel's subscribers (without waiting for slow ones)."""
        targets = [self._sockets[s].connection for s in self._channels.get(channel, set())
                   if s != exclude and s in self._sockets and (only is None or s in only)]
        broadcast(targets, json.dumps({"event": event, "channel": channel, "data": data}))
        return len(targets)

    # -- HTTP API side -------------------------------------------------------------------------

    def _api(self, method: str, target: str, body: bytes) -> dict[str, Any]:
        url = urlsplit(target)
        match = _API_PATH.match(url.path)
        if match is None:
            raise ApiError(404, f"Not found: {url.path}. This server answers POST /apps/{self.app_id}/events, "
                                f"/apps/{self.app_id}/batch_events and "
                                f"/apps/{self.app_id}/users/<userId>/terminate_connections.")
        if method != "POST":
            raise ApiError(405, f"{url.path} takes POST.")
        if match["app_id"] != self.app_id:
            raise ApiError(404, f"Unknown app id {match['app_id']}.")
        verify_request(method, url.path, url.query, body, key=self.key, secret=self.secret, now=self._clock())
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "The body is not JSON.") from exc
        if not isinstance(payload, dict):
            raise ApiError(400, "The body must be a JSON object.")
        if match["user_id"] is not None:
            if not USER_ID.match(match["user_id"]):
                raise ApiError(400, f"Invalid user id {match['user_id']!r}.")
            self._terminate(match["user_id"])
            return {}
        if match["action"] == "events":
            channels = payload.get("channels") or ([payload["channel"]] if payload.get("channel") else [])
            if not isinstance(channels, list) or not channels or len(channels) > 100:
                raise ApiError(400, "Give channels: a list of 1 to 100 channel names.")
            events = [{**payload, "channel": channel} for channel in channels]
        else:
            events = payload.get("batch")
            if not isinstance(events, list) or len(events) > MAX_BATCH:
                raise ApiError(400, f"Give batch: a list of at most {MAX_BATCH} events.")
        for event in events:  # all valid, or none delivered
            check_event(event)
        for event in events:
            socket_id = event.get("socket_id")
            self._deliver(event["channel"], event["name"], event["data"],
                          exclude=socket_id if isinstance(socket_id, str) else None)
        return {} if match["action"] == "events" else {"batch": [{} for _ in events]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.local.pusher_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=6001, help="websocket port for pusher-js (default 6001)")
    parser.add_argument("--api-port", type=int, default=6002, help="HTTP API port for the pusher client (6002)")
    parser.add_argument("--app-id", default="1")
    parser.add_argument("--key", default="local-pusher-key")
    parser.add_argument("--secret", default="local-only-pusher-secret")
    args = parser.parse_args(argv)
    server = PusherServer(args.app_id, args.key, args.secret, ws_port=args.port, api_port=args.api_port).start()
    print(f"Pusher API {server.api_url} (app {server.app_id}); websockets {server.ws_url}", flush=True)
    print("\n".join(server.frontend_config()), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
