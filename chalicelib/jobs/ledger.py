"""The ledger check, daily: balances against the journal, and the zero sum."""

from __future__ import annotations

from typing import Any

from chalicelib.jobs.blueprint import JobBlueprint
from chalicelib.logs import logger

ledger_jobs = JobBlueprint(__name__)


@ledger_jobs.schedule("rate(1 day)", name="ledger_check")
def ledger_check_job(event: Any) -> dict[str, Any]:
    """Logs the report. Any difference is an ERROR line, a ``system.alert`` event (one per
    run: every active admin is notified) and fails the invocation, which the
    ``<prefix>-ledger-check-failed`` alarm (infra/resources.json) reports."""
    from chalicelib.services import ledger_check

    report = ledger_check.run()
    summary = {
        "ok": report.ok,
        "entries": report.entries,
        "accounts": report.accounts,
        "totalBalance": report.total_balance,
        "differences": report.differences[:50],
        "unbalancedEntries": report.unbalanced_entries[:50],
    }
    if report.ok:
        logger.info("ledger check passed", extra=summary)
    else:
        logger.error("ledger check found differences", extra=summary)
        ledger_check.alert(report)  # admins get a system_alert notification
        raise LedgerOutOfBalance(
            f"ledger check: {len(report.differences)} account(s) differ, "
            f"{len(report.unbalanced_entries)} unbalanced entr(ies), "
            f"total {report.total_balance}"
        )
    return summary


class LedgerOutOfBalance(RuntimeError):
    """The books do not balance: a bug to investigate, never to auto-correct."""
