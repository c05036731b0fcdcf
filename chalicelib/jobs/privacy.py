"""Account purge, every hour: the deleted accounts whose retention period is over are erased
(services/privacy/purge.py). One Query of the sparse ``purgeDue`` index finds them; a run
stops while one more purge still fits, and the next run takes the rest (hourly rather than
daily so a backlog drains without a longer Lambda timeout).

The export job and the deletion's follow-up are consumers of the domain-events queue
(``data_export.requested``, ``user.deleted``), registered by importing the services here."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

privacy_jobs = JobBlueprint(__name__)


@privacy_jobs.schedule("rate(1 hour)", name="account_purge")
def account_purge(event: Any) -> dict[str, int]:
    from chalicelib.services import privacy

    context = getattr(event, "context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    figures = privacy.purge_due(time_left_ms=remaining if callable(remaining) else None)
    logger.info("account purge", extra=figures)
    return figures
