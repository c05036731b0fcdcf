"""Reading timers, every minute: expire unanswered requests, remind, flag late deliveries."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.services import readings

readings_jobs = Blueprint(__name__)


@readings_jobs.schedule("rate(1 minute)", name="reading_timers")
def reading_timers(event: Any) -> dict[str, int]:
    return readings.run_timers()
