"""Reader insights, every 15 minutes: the readers whose counters moved since their last
evaluation get their badges (and quality) evaluated (services/metrics/insights.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

insights_jobs = JobBlueprint(__name__)


@insights_jobs.schedule("rate(15 minutes)", name="reader_insights")
def reader_insights(event: Any) -> dict[str, int]:
    from chalicelib.services.metrics import insights

    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    figures = insights.run(time_left_ms=remaining if callable(remaining) else None)
    logger.info("reader insights", extra=figures)
    return figures
