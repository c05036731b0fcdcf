"""Reading timers, every minute: expire unanswered requests, remind, flag late deliveries."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint

readings_jobs = JobBlueprint(__name__)


@readings_jobs.schedule("rate(1 minute)", name="reading_timers")
def reading_timers(event: Any) -> dict[str, int]:
    from chalicelib.services import readings

    return readings.run_timers()
