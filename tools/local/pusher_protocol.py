"""The rules of Pusher's protocol that the local server (pusher_server.py) checks, as plain
functions: names, signatures, and the HTTP API's requests.

* Channel names: ``[-a-zA-Z0-9_=@,.;]``, at most 200 characters; a user's server-to-user
  channel is ``#server-to-user-<user id>`` (user ids follow the channel names' rule).
* Signatures: ``<key>:<HMAC-SHA256 hex(secret, text)>``, where ``text`` is
  ``socket_id:channel[:channel_data]`` for a subscription and ``socket_id::user::user_data``
  for a sign-in (``pusher:signin``).
* HTTP API requests carry ``auth_key``, ``auth_timestamp`` (within 600 s), ``auth_version``
  1.0, ``body_md5`` and ``auth_signature`` = HMAC-SHA256 of ``<METHOD>\\n<path>\\n<sorted query>``;
  ``serve_http`` is the HTTP/1.1 (keep-alive) side of the API, answering with a handler's JSON
  or an ``ApiError``'s status and text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

TIMESTAMP_WINDOW_S = 600
MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH = 10
CHANNEL_NAME = re.compile(r"\A[-a-zA-Z0-9_=@,.;]{1,200}\Z")
USER_ID = CHANNEL_NAME
SERVER_TO_USER = "#server-to-user-"
# Close codes (4000-4099: the client must not reconnect). Pusher closes a connection whose
# sign-in is invalid, and each connection of a user the app terminates, with 4009.
UNAUTHORIZED = 4009


def hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def signed(key: str, secret: str, text: str, auth: Any) -> bool:
    """Whether ``auth`` is ``<key>:<signature of text>``."""
    given_key, _, signature = str(auth or "").partition(":")
    return given_key == key and hmac.compare_digest(signature, hmac_hex(secret, text))


def server_to_user_id(channel: str) -> str | None:
    """The user id of a ``#server-to-user-<id>`` channel; None for any other name."""
    if not channel.startswith(SERVER_TO_USER):
        return None
    user_id = channel.removeprefix(SERVER_TO_USER)
    return user_id if USER_ID.match(user_id) else None


def valid_channel(channel: Any) -> bool:
    return isinstance(channel, str) and bool(CHANNEL_NAME.match(channel) or server_to_user_id(channel))


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def verify_request(method: str, path: str, query: str, body: bytes, *, key: str, secret: str, now: float) -> None:
    """Raise ``ApiError`` (401) unless the request is signed as Pusher's HTTP API requires."""
    params = {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}
    missing = [
        name
        for name in ("auth_key", "auth_timestamp", "auth_version", "body_md5", "auth_signature")
        if name not in params
    ]
    if missing:
        raise ApiError(401, f"Missing authentication parameters: {', '.join(missing)}.")
    if params["auth_key"] != key:
        raise ApiError(401, f"Unknown auth_key {params['auth_key']}.")
    if params["auth_version"] != "1.0":
        raise ApiError(401, "auth_version must be 1.0.")
    try:
        skew = abs(now - int(params["auth_timestamp"]))
    except ValueError as exc:
        raise ApiError(401, "auth_timestamp must be an integer.") from exc
    if skew > TIMESTAMP_WINDOW_S:
        raise ApiError(401, f"Timestamp expired: {skew:.0f} s from the server's time (at most {TIMESTAMP_WINDOW_S} s).")
    if params["body_md5"] != hashlib.md5(body, usedforsecurity=False).hexdigest():  # Pusher's protocol
        raise ApiError(401, "body_md5 does not match the body.")
    text = f"{method}\n{path}\n" + "&".join(
        f"{name}={params[name]}" for name in sorted(params) if name != "auth_signature"
    )
    if not hmac.compare_digest(params["auth_signature"], hmac_hex(secret, text)):
        raise ApiError(401, f"Invalid signature: you should have sent HmacSHA256Hex({text!r}, your_secret).")


def check_event(event: Any) -> None:
    """Raise ``ApiError`` (400) unless ``event`` is a publishable event."""
    if not isinstance(event, dict):
        raise ApiError(400, "Each event is an object with channel, name and data.")
    channel, name, data = event.get("channel"), event.get("name"), event.get("data")
    if not valid_channel(channel):
        raise ApiError(400, f"Invalid channel name {channel!r}.")
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise ApiError(400, "The event name must be a string of 1 to 200 characters.")
    if not isinstance(data, str):
        raise ApiError(400, "The event data must be a string (JSON-encode objects).")


async def serve_http(
    handle: Callable[[str, str, bytes], dict[str, Any]], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One HTTP connection: each request's ``handle(method, target, body)`` answered as JSON
    (200), or an ``ApiError`` as its status and text; keep-alive until the client closes."""
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
                await _reply(writer, 413, "Request body too large.", close=True)
                break
            body = await reader.readexactly(length)
            try:
                status, answer = 200, handle(method, target, body)
            except ApiError as exc:
                status, answer = exc.status, str(exc)
            close = headers.get("connection", "").lower() == "close"
            await _reply(writer, status, answer, close=close)
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:
        pass  # the server is stopping with this keep-alive connection idle: end quietly
    finally:
        writer.close()


async def _reply(writer: asyncio.StreamWriter, status: int, answer: Any, *, close: bool) -> None:
    is_json = not isinstance(answer, str)
    body = (json.dumps(answer) if is_json else answer + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
        f"Content-Type: {'application/json' if is_json else 'text/plain; charset=utf-8'}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
