"""Pusher Channels: publishing through its HTTP API, and signing channel subscriptions.

The ``pusher`` package (with requests, PyNaCl and pyOpenSSL behind it) is imported on the
first publish only: API cold starts never pay for it, and signing a subscription needs
nothing but ``hmac``. The client is built once per container and per settings.

Signatures follow Pusher's protocol: ``<key>:<HMAC-SHA256(secret, socket_id:channel[:channel_data])>``
(hex); the local server (tools/local/pusher_server.py) verifies them the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
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


@dataclass(frozen=True)
class Event:
    channel: str
    name: str
    data: Any  # JSON-serializable; Pusher sends it to subscribers as a JSON string


class PublishFailed(RuntimeError):
    """Pusher (or the local server) refused a publish or could not be reached."""


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def subscription_auth(socket_id: str, channel: str, channel_data: str | None = None,
                      *, settings: Settings | None = None) -> str:
    """The ``auth`` value a client sends with ``pusher:subscribe`` for ``channel``."""
    settings = settings or get_settings()
    text = f"{socket_id}:{channel}" + (f":{channel_data}" if channel_data is not None else "")
    return f"{settings.pusher_key}:{signature(settings.pusher_secret, text)}"


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
