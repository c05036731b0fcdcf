"""Wait for a condition with a deadline, instead of sleeping and hoping it happened.

    result = wait_for(lambda: stack.balance("ana") or None, timeout_s=5,
                      message="the checkout credited ana")

``condition`` is polled until it returns something truthy (returned) or the deadline
passes (the test fails with ``message`` and the last value seen). A loaded machine only
makes the wait longer, never the outcome different.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout_s: float, message: str, *, interval_s: float = 0.05) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"not within {timeout_s:g} s: {message} (last value: {value!r})")
        time.sleep(interval_s)
