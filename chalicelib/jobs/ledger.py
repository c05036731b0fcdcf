"""The ledger check, daily: balances against the journal, and the zero sum."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.logs import logger
from chalicelib.services import ledger_check

ledger_jobs = Blueprint(__name__)


@ledger_jobs.schedule("rate(1 day)", name="ledger_check")
def ledger_check_job(event: Any) -> dict[str, Any]:
    """Logs the report; any difference is an ERROR line (alarmed in infra)."""
    report = ledger_check.run()
    summary = {"ok": report.ok, "entries": report.entries, "accounts": report.accounts,
               "totalBalance": report.total_balance, "differences": report.differences[:50],
               "unbalancedEntries": report.unbalanced_entries[:50]}
    if report.ok:
        logger.info("ledger check passed", extra=summary)
    else:
        logger.error("ledger check found differences", extra=summary)
    return summary
