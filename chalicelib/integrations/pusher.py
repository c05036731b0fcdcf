"""Pusher Channels: publishing through its HTTP API, signing channel subscriptions and user
sign-ins, and terminating a user's connections.

The ``pusher`` package (with requests, PyNaCl and pyOpenSSL behind it) is imported on the
first publish only: API cold starts never pay for it, and signing a subscription needs
nothing but ``hmac``. The client is built once per container and per settings.

Signatures follow Pusher's protocol: ``<key>:<HMAC-SHA256(secret, socket_id:channel[:channel_data])>``
for a subscription, ``<key>:<HMAC-SHA256(secret, socket_id::user::user_data)>`` for a sign-in
(``pusher:signin``), hex; the local server (tools/local/pusher_server.py) verifies them the same way.

``terminate_user_connections`` is Pusher's ``POST /apps/<app_id>/users/<user_id>/terminate_connections``,
signed as every HTTP API call (``auth_key``, ``auth_timestamp``, ``auth_version``, ``body_md5``,
``auth_signature``), sent with urllib (imported by the call): the pusher package's own
``terminate_user_connections`` (3.3) posts to ``/users/<id>/...`` without the app's path.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.config import Settings, get_settings

# Pusher's own limits: 10 events per batch call, 200 characters per channel name.
BATCH_SIZE = 10
MAX_CHANNEL_LENGTH = 200
SOCKET_ID = re.compile(r"\A\d+\.\d+\Z")
CHANNEL_NAME = re.compile(r"\A[-a-zA-Z0-9_=@,.;]+\Z")
USER_ID = re.compile(r"\A[-a-zA-Z0-9_=@,.;]{1,200}\Z")  # Pusher's rule for user ids
TIMEOUT_S = 5


@dataclass(frozen=True)
class Event:
    channel: str
    name: str
    data: Any  # JSON-serializable; Pusher sends it to subscribers as a JSON string


class PublishFailed(RuntimeError):
    """Pusher (or the local server) refused a publish or could not be reached."""


class TerminateFailed(RuntimeError):
    """Pusher (or the local server) refused to terminate a user's connections or could not be reached."""


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def subscription_auth(socket_id: str, channel: str, channel_data: str | None = None,
                      *, settings: Settings | None = None) -> str:
    """The ``auth`` value a client sends with ``pusher:subscribe`` for ``channel``."""
    settings = settings or get_settings()
    text = f"{socket_id}:{channel}" + (f":{channel_data}" if channel_data is not None else "")
    return f"{settings.pusher_key}:{signature(settings.pusher_secret, text)}"


def user_auth(socket_id: str, user_data: str, *, settings: Settings | None = None) -> str:
    """The ``auth`` value a client sends with ``pusher:signin`` to sign in as ``user_data``
    (a JSON object with the user's ``id``)."""
    settings = settings or get_settings()
    return f"{settings.pusher_key}:{signature(settings.pusher_secret, f'{socket_id}::user::{user_data}')}"


def terminate_user_connections(user_id: str) -> None:
    """Close every connection signed in as ``user_id`` (Pusher answers 200 whether there were
    any or not). Raises ``TerminateFailed`` when refused or unreachable."""
    import urllib.error
    import urllib.request

    if not USER_ID.match(user_id):
        raise ValueError(f"{user_id!r} is not a Pusher user id")
    settings = get_settings()
    path = f"/apps/{settings.pusher_app_id}/users/{user_id}/terminate_connections"
    body = b"{}"
    params = {"auth_key": settings.pusher_key, "auth_timestamp": str(int(time.time())), "auth_version": "1.0",
              "body_md5": hashlib.md5(body, usedforsecurity=False).hexdigest()}  # Pusher's protocol
    query = "&".join(f"{name}={params[name]}" for name in sorted(params))
    query += "&auth_signature=" + signature(settings.pusher_secret, f"POST\n{path}\n{query}")
    scheme = "https" if settings.pusher_use_tls else "http"
    host = settings.pusher_host or f"api-{settings.pusher_cluster}.pusher.com"
    port = settings.pusher_port or (443 if settings.pusher_use_tls else 80)
    request = urllib.request.Request(f"{scheme}://{host}:{port}{path}?{query}", data=body, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - Pusher's API
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip()
        raise TerminateFailed(f"Pusher answered {exc.code} to terminating {user_id}'s connections: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TerminateFailed(f"Pusher did not answer terminating {user_id}'s connections: {exc}") from exc


@lru_cache(maxsize=4)
def _client(settings: Settings) -> Any:
    import pusher  # lazy: ~100 ms of imports that only publishing paths need

    return pusher.Pusher(
        app_id=settings.pusher_app_id,
        key=settings.pusher_key,
        secret=settings.pusher_secret,
        cluster=settings.pusher_cluster or None,
        host=settings.pusher_host or None,
        port=settings.pusher_port or None,
        ssl=settings.pusher_use_tls,
        timeout=5,
    )


def _batches(events: Iterable[Event]) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for event in events:
        batch.append(event)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def publish(events: Iterable[Event]) -> int:
    """Trigger ``events`` with one batch call per ``BATCH_SIZE``; returns how many were
    accepted. Raises ``PublishFailed`` on the first refused or unreachable call (the events of
    earlier calls were delivered)."""
    client = _client(get_settings())
    sent = 0
    for batch in _batches(events):
        try:
            client.trigger_batch([{"channel": e.channel, "name": e.name, "data": e.data} for e in batch])
        except Exception as exc:  # requests' and pusher's errors alike: one type for callers
            raise PublishFailed(f"Pusher refused or did not answer a batch of {len(batch)} events: {exc}") from exc
        sent += len(batch)
    return sent
