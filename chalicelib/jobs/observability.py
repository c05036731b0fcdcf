"""The dead-letter gauge: ``dead_letter_depths`` (every 5 minutes) measures how many messages
wait in each failure queue (the ``DeadLetterMessages`` metric, one GetQueueAttributes per
queue: services/dead_letters.py). The alarms read SQS's own metrics (infra/resources.json);
this one feeds the dashboard, and its WARNING line points at ``make dlq``."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

observability_jobs = JobBlueprint(__name__)


@observability_jobs.schedule("rate(5 minutes)", name="dead_letter_depths")
def dead_letter_depths(event: Any) -> dict[str, int]:
    """The DeadLetterMessages metric per failure queue; a WARNING line while any holds one."""
    from chalicelib.services import dead_letters

    depths = dead_letters.depths()
    if any(depths.values()):
        logger.warning("dead letters waiting (make dlq lists them)", extra={"depths": depths})
    return depths
