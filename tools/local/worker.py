"""The background loop every local worker shares, and the runner's one-line log."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"{stamp} {message}", file=sys.stderr, flush=True)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class Worker(threading.Thread):
    """A background loop; an exception in ``step`` is logged on one line, then it goes on."""

    kind = "worker"
    idle_s = 0.5

    def __init__(self, name: str, stop: threading.Event, invoke: Callable[[dict[str, Any], Any], Any],
                 context: Callable[[], Any], region: str):
        super().__init__(name=f"{self.kind}:{name}", daemon=True)
        self.job = name
        self.stop_event = stop
        self.invoke = invoke
        self.context = context
        self.region = region

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.step()
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the runner
                log(f"[{self.kind}] {self.job} failed: {one_line(exc)}")
                busy = False
                self.stop_event.wait(2.0)
            if not busy:
                self.stop_event.wait(self.idle_s)

    def step(self) -> bool:
        """One unit of work; True when there may be more right away."""
        raise NotImplementedError

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(service, region_name=self.region)
