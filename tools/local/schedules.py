"""Schedules (``schedule``): each ``rate(...)`` runs at its rate, the first run one period
after the start, with an EventBridge scheduled event. Every schedule of the app is a rate,
so ``cron(...)`` is refused (with a log line, see ``discovery``) rather than half-parsed."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tools import local_env
from tools.local.worker import Worker, log, one_line


class Rate:
    _UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}

    def __init__(self, value: int, unit: str):
        if value < 1 or unit not in self._UNITS:
            raise ValueError(f"bad rate: {value} {unit}")
        self.seconds: float = value * self._UNITS[unit]

    def first_after(self, now: float) -> float:
        return now + self.seconds


def parse_schedule(expression: str) -> Rate:
    match = re.fullmatch(r"\s*rate\(\s*(\d+)\s+([a-z]+)\s*\)\s*", expression)
    if match:
        return Rate(int(match.group(1)), match.group(2))
    raise ValueError(f"unsupported schedule expression {expression!r} (the local runner runs rate(...) only)")


class ScheduleWorker(Worker):
    kind = "schedule"

    def __init__(self, name: str, expression: str, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.expression = expression
        self.schedule = parse_schedule(expression)

    def run(self) -> None:
        next_run = self.schedule.first_after(time.time())
        while not self.stop_event.wait(max(0.0, min(next_run - time.time(), 1.0))):
            if time.time() < next_run:
                continue
            fired = next_run
            try:
                self.fire(fired)
                log(f"[schedule] {self.job} ran ({self.expression})")
            except Exception as exc:  # noqa: BLE001 - a failing job must not stop the runner
                log(f"[schedule] {self.job} failed: {one_line(exc)}")
            next_run = self.schedule.first_after(max(fired, time.time()))

    def fire(self, at: float | None = None) -> Any:
        """One run of the job now (as the schedule fires it at ``at``); returns what it returned."""
        return self.invoke(self._event(time.time() if at is None else at), self.context())

    def _event(self, fired: float) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": local_env.ACCOUNT_ID,
            "time": datetime.fromtimestamp(fired, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{local_env.ACCOUNT_ID}:rule/{self.job}"],
            "detail": {},
        }
