"""Calls released together on threads: the start of every race test."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def all_at_once(count: int, call: Callable[[int], T]) -> list[T]:
    """``call(0..count-1)`` on ``count`` threads released together; results in order."""
    barrier = threading.Barrier(count)

    def run(n: int) -> T:
        barrier.wait(timeout=60)
        return call(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
