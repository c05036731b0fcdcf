"""Reader payouts: earnings mature hourly once their dispute window closed, and the payout run
pays every reader due (scheduled daily; it pays on the day ``PAYOUT_SCHEDULE`` names)."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

payout_jobs = JobBlueprint(__name__)


@payout_jobs.schedule("rate(1 hour)", name="earnings_maturation")
def earnings_maturation(event: Any) -> dict[str, int]:
    """Moves every completed reading's earnings whose dispute window closed (and that has no
    open dispute) from pending to available for payout: one transaction per reading due."""
    from chalicelib.services.payouts import maturity

    figures = maturity.mature_due()
    logger.info("earnings matured", extra=figures)
    return figures


@payout_jobs.schedule("cron(0 6 * * ? *)", name="reader_payouts")
def reader_payouts(event: Any) -> dict[str, Any]:
    """06:00 UTC daily; pays on PAYOUT_SCHEDULE's day (default Monday) every active reader with
    an enabled payout account, no hold and at least PAYOUT_MINIMUM_CREDITS available."""
    from chalicelib.services.payouts import scheduled

    figures = scheduled.pay_due()
    logger.info("payout run", extra=figures)
    return figures
