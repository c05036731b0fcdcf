"""Fan-out of domain events to their consumers.

Capabilities register a consumer per event type (``@consumer("reading.accepted")``);
``dispatch`` calls every consumer of a message's type. Consumers must be idempotent
(SQS delivers at least once): each receives the event id to dedupe on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Consumer = Callable[[dict[str, Any]], None]
CONSUMERS: dict[str, list[Consumer]] = {}


def consumer(event_type: str) -> Callable[[Consumer], Consumer]:
    def register(fn: Consumer) -> Consumer:
        CONSUMERS.setdefault(event_type, []).append(fn)
        return fn

    return register


def dispatch(message: dict[str, Any]) -> int:
    """Run the consumers of one event; returns how many ran."""
    handlers = CONSUMERS.get(message.get("type", ""), [])
    for handler in handlers:
        handler(message)
    return len(handlers)
