"""DynamoDB's per-request atomicity for moto when the app is driven from several threads.

moto's in-process backend is not thread-safe: TransactWriteItems checks conditions and
applies writes without a lock (two concurrent conditional puts of one key can both
succeed), and it rolls a cancelled transaction back by restoring a copy of whole tables.
DynamoDB applies each request atomically; serialising moto's request handling gives the
same guarantee and keeps every interleaving of the application's own calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest


@pytest.fixture()
def atomic_dynamodb(aws: None) -> Iterator[None]:
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self):  # type: ignore[no-untyped-def]
        with lock:
            return original(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DynamoHandler, "call_action", call_action)
        yield
