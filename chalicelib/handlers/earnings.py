"""The signed-in reader's earnings (``READER``: only their own; there is no way to name another reader)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import READER
from chalicelib.pagination import paginate
from chalicelib.schemas.earnings import EarningsOut, EarningsQuery
from chalicelib.services import earnings, ledger

earnings_api = Blueprint(__name__)


def _period(totals: earnings.PeriodTotals) -> dict[str, Any]:
    return {"since": totals.start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "paid": totals.paid, "fees": totals.fees,
            "takenBack": totals.taken_back, "net": totals.net, "readings": totals.readings}


@route(earnings_api, "/reader/earnings", "GET", access=READER, query=EarningsQuery, response=EarningsOut,
       errors=(400,), tags=["readers"], summary="The reader's earnings: totals, pending vs paid, fees and ledger lines")
def get_earnings(ctx: RequestContext) -> dict[str, Any]:
    """Totals this week and this month in the reader's timezone (weeks start on Monday) and
    all time; pending (accepted readings not completed yet) vs paid (credited to the earnings
    account); the platform fee; a page of the ledger lines that moved earnings, newest first
    (``cursor`` for the next page). Transfers of earnings to a bank account are issue 18."""
    query: EarningsQuery = ctx.query
    reader_id = ctx.user.user_id
    totals = earnings.summary(reader_id, earnings_balance=ledger.balance_of(ctx.user.record).earnings)
    page = paginate(earnings.lines_query(reader_id), query, scope=f"GET /reader/earnings:{reader_id}")
    pending = totals.pending
    return {
        "timezone": totals.timezone, "feePercent": totals.fee_percent,
        "thisWeek": _period(totals.week), "thisMonth": _period(totals.month), "allTime": {"net": totals.all_time_net},
        "pending": {"credits": pending.credits, "readings": pending.readings, "expectedFee": pending.expected_fee,
                    "expectedNet": pending.expected_net},
        **page.body([{"entryId": line.entry_id, "kind": line.kind, "createdAt": line.created_at,
                      "earnings": line.earnings, "fee": line.fee, "readingId": line.reading_id,
                      "description": line.description} for line in earnings.lines(page.items)]),
    }
