"""Reader quality, daily: readers whose quality changes with time alone (a counted day
leaves the 30-day window, an inactivity limit passes) are marked for the reader_insights
job, which re-evaluates them within 15 minutes (services/metrics/quality_views.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

quality_jobs = JobBlueprint(__name__)


@quality_jobs.schedule("rate(1 day)", name="reader_quality_recheck")
def reader_quality_recheck(event: Any) -> dict[str, int]:
    from chalicelib.services.metrics import quality_views

    figures = quality_views.recheck_due()
    logger.info("reader quality recheck", extra=figures)
    return figures
