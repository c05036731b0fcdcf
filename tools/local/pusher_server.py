"""A local Pusher Channels server: the real protocol, one app, on loopback.

Two listeners in one asyncio loop (its own thread):

* the HTTP API that the ``pusher`` Python client publishes to: ``POST /apps/<id>/events``
  and ``POST /apps/<id>/batch_events``, each request's signature verified as Pusher does
  (``auth_key``, ``auth_timestamp`` within 600 s, ``auth_version`` 1.0, ``body_md5``,
  ``auth_signature`` = HMAC-SHA256 of ``POST\\n<path>\\n<sorted query>``);
* the websocket endpoint ``/app/<key>?protocol=7`` that ``pusher-js`` subscribes through:
  ``pusher:connection_established``, ``pusher:subscribe`` (private- and presence- channels
  checked against the HMAC of ``socket_id:channel[:channel_data]``),
  ``pusher_internal:subscription_succeeded`` (with the members on presence channels),
  ``pusher_internal:member_added``/``member_removed``, ``pusher:ping``/``pusher:pong``, and
  ``pusher:error`` (plus ``pusher:subscription_error`` on the channel) for a bad signature.

The websocket library answers GET requests only, hence the second port for the API.
``python -m tools.local.pusher_server`` runs it alone; ``make run`` starts it with the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
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

HOST = "127.0.0.1"
PROTOCOL = 7
ACTIVITY_TIMEOUT_S = 120
TIMESTAMP_WINDOW_S = 600
MAX_BATCH = 10
MAX_BODY_BYTES = 1024 * 1024
CHANNEL_NAME = re.compile(r"\A[-a-zA-Z0-9_=@,.;]{1,200}\Z")
_API_PATH = re.compile(r"\A/apps/(?P<app_id>[^/]+)/(?P<action>events|batch_events)\Z")


def _hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class _Socket:
    socket_id: str
    connection: ServerConnection
    channels: dict[str, str | None] = field(default_factory=dict)  # channel -> presence user id


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
        return [f"new Pusher('{self.key}', {{ cluster: 'local', wsHost: '{self.host}', wsPort: {self.ws_port}, "
                "forceTLS: false, enabledTransports: ['ws'],",
                f"  channelAuthorization: {{ endpoint: '{api}/realtime/auth', "
                "headers: { Authorization: 'Bearer <token>' } } })"]

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
            api_server = await asyncio.start_server(self._http, self.host, self.api_port)
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
        await connection.send(json.dumps({"event": "pusher:error", "data": {"code": code, "message": message}}))
        await connection.close(code, message)

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
        elif isinstance(event, str) and event.startswith("client-"):
            await self._error(socket, "Client events are not enabled on this app.")
        # Other pusher: events (pusher:signin...) are not supported locally; Pusher ignores unknown ones too.

    async def _subscribe(self, socket: _Socket, data: dict[str, Any]) -> None:
        channel = data.get("channel")
        if not isinstance(channel, str) or not CHANNEL_NAME.match(channel):
            await self._error(socket, f"Invalid channel name {channel!r}.")
            return
        presence = channel.startswith("presence-")
        channel_data = data.get("channel_data")
        if presence or channel.startswith("private-"):
            if presence and not isinstance(channel_data, str):
                await self._auth_failed(socket, channel, "Presence subscriptions need channel_data.")
                return
            text = f"{socket.socket_id}:{channel}" + (f":{channel_data}" if presence else "")
            key, _, signature = str(data.get("auth") or "").partition(":")
            if key != self.key or not hmac.compare_digest(signature, _hmac(self.secret, text)):
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
        self._sockets.pop(socket.socket_id, None)

    def _deliver(self, channel: str, event: str, data: str, *, exclude: str | None = None,
                 only: set[str] | None = None) -> int:
        """Queue ``event`` to the channel's subscribers (without waiting for slow ones)."""
        targets = [self._sockets[s].connection for s in self._channels.get(channel, set())
                   if s != exclude and s in self._sockets and (only is None or s in only)]
        broadcast(targets, json.dumps({"event": event, "channel": channel, "data": data}))
        return len(targets)

    # -- HTTP API side -------------------------------------------------------------------------

    async def _http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                method, target, _version = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    await self._reply(writer, 413, "Request body too large.", close=True)
                    break
                body = await reader.readexactly(length)
                try:
                    status, answer = 200, self._api(method, target, body)
                except ApiError as exc:
                    status, answer = exc.status, str(exc)
                close = headers.get("connection", "").lower() == "close"
                await self._reply(writer, status, answer, close=close)
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping with this keep-alive connection idle: end quietly
        finally:
            writer.close()

    async def _reply(self, writer: asyncio.StreamWriter, status: int, answer: Any, *, close: bool) -> None:
        is_json = not isinstance(answer, str)
        body = (json.dumps(answer) if is_json else answer + "\n").encode()
        head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {'application/json' if is_json else 'text/plain; charset=utf-8'}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n")
        writer.write(head.encode() + body)
        await writer.drain()

    def _api(self, method: str, target: str, body: bytes) -> dict[str, Any]:
        url = urlsplit(target)
        match = _API_PATH.match(url.path)
        if match is None:
            raise ApiError(404, f"Not found: {url.path}. This server answers POST /apps/{self.app_id}/events "
                                f"and /apps/{self.app_id}/batch_events.")
        if method != "POST":
            raise ApiError(405, f"{url.path} takes POST.")
        if match["app_id"] != self.app_id:
            raise ApiError(404, f"Unknown app id {match['app_id']}.")
        self._verify(method, url.path, url.query, body)
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise ApiError(400, "The body is not JSON.") from exc
        if not isinstance(payload, dict):
            raise ApiError(400, "The body must be a JSON object.")
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
            self._check(event)
        for event in events:
            socket_id = event.get("socket_id")
            self._deliver(event["channel"], event["name"], event["data"],
                          exclude=socket_id if isinstance(socket_id, str) else None)
        return {} if match["action"] == "events" else {"batch": [{} for _ in events]}

    def _verify(self, method: str, path: str, query: str, body: bytes) -> None:
        params = {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}
        missing = [name for name in ("auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature")
                   if name not in params]
        if missing:
            raise ApiError(401, f"Missing authentication parameters: {', '.join(missing)}.")
        if params["auth_key"] != self.key:
            raise ApiError(401, f"Unknown auth_key {params['auth_key']}.")
        if params["auth_version"] != "1.0":
            raise ApiError(401, "auth_version must be 1.0.")
        try:
            skew = abs(self._clock() - int(params["auth_timestamp"]))
        except ValueError as exc:
            raise ApiError(401, "auth_timestamp must be an integer.") from exc
        if skew > TIMESTAMP_WINDOW_S:
            raise ApiError(401, f"Timestamp expired: {skew:.0f} s from the server's time (at most "
                                f"{TIMESTAMP_WINDOW_S} s).")
        if params["body_md5"] != hashlib.md5(body, usedforsecurity=False).hexdigest():  # Pusher's protocol
            raise ApiError(401, "body_md5 does not match the body.")
        signed = "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "auth_signature")
        text = f"{method}\n{path}\n{signed}"
        if not hmac.compare_digest(params["auth_signature"], _hmac(self.secret, text)):
            raise ApiError(401, f"Invalid signature: you should have sent HmacSHA256Hex({text!r}, your_secret).")

    @staticmethod
    def _check(event: Any) -> None:
        if not isinstance(event, dict):
            raise ApiError(400, "Each event is an object with channel, name and data.")
        channel, name, data = event.get("channel"), event.get("name"), event.get("data")
        if not isinstance(channel, str) or not CHANNEL_NAME.match(channel):
            raise ApiError(400, f"Invalid channel name {channel!r}.")
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise ApiError(400, "The event name must be a string of 1 to 200 characters.")
        if not isinstance(data, str):
            raise ApiError(400, "The event data must be a string (JSON-encode objects).")


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
