"""One value kept per container for a few seconds: the catalog slices and read models a hot
request path needs without a read per request.

``TtlCache(load, ttl_s)`` calls ``load()`` when the value is missing or older than
``ttl_s`` (by ``clock``, monotonic, which tests replace) and keeps it; ``forget()`` drops it
(after a write in this container, and between tests). Other containers catch up within the
TTL: use it only for data that may be that stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, load: Callable[[], T], ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, T] | None = None

    def get(self, *, clock: Callable[[], float] | None = None) -> T:
        """The kept value, or a fresh one when it is older than the TTL by ``clock`` (default
        the cache's own)."""
        clock = clock or self.clock
        moment = clock()
        kept = self._kept
        if kept is not None and moment - kept[0] < self.ttl_s:
            return kept[1]
        with self._lock:  # one load at a time; a thread that waited uses what the other loaded
            moment = clock()
            kept = self._kept
            if kept is not None and moment - kept[0] < self.ttl_s:
                return kept[1]
            value = self._load()
            self._kept = (moment, value)
            return value

    def forget(self) -> None:
        self._kept = None
