"""The signed-in reader's earnings (``READER``: only their own; there is no way to name another reader)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import READER
from chalicelib.models.base import iso
from chalicelib.pagination import paginate
from chalicelib.schemas.earnings import EarningsOut, EarningsQuery
from chalicelib.services import earnings
from chalicelib.services.payouts import queries as payout_queries

earnings_api = Blueprint(__name__)


def pending_document(pending: earnings.Pending) -> dict[str, Any]:
    return {"credits": pending.credits, "platformFee": pending.platform_fee, "readings": pending.readings}


def payouts_document(states: payout_queries.EarningsStates) -> dict[str, Any]:
    """``EarningsPayoutsOut``: credits in the dispute window, available, sent to the bank and
    owed, with their money."""
    return {"inDisputeWindow": states.in_dispute_window,
            "inDisputeWindowAmount": earnings.money(states.in_dispute_window).amount,
            "available": states.available, "availableAmount": earnings.money(states.available).amount,
            "sentToBank": states.sent_to_bank, "sentToBankAmount": earnings.money(states.sent_to_bank).amount,
            "owed": states.owed, "owedAmount": earnings.money(states.owed).amount, "minimum": states.minimum,
            "minimumAmount": earnings.money(states.minimum).amount,
            "onHold": states.on_hold, "payoutInProgress": states.in_progress}


def totals_document(totals: earnings.Totals) -> dict[str, Any]:
    """One total (``EarningsTotalsOut``): this week, this month or all time."""
    value = earnings.money(totals.credits)
    return {"since": iso(totals.since) if totals.since is not None else None, "credits": totals.credits,
            "amount": value.amount, "currency": value.currency,
            "platformFee": totals.platform_fee, "paidOut": totals.paid_out, "pending": totals.pending.credits,
            "refunded": totals.refunded, "readings": totals.readings, "pendingReadings": totals.pending.readings}


@route(earnings_api, "/reader/earnings", "GET", access=READER, query=EarningsQuery, response=EarningsOut,
       errors=(400,), tags=["readers"],
       summary="The reader's earnings: credits, platform fee, paid out vs pending, and the ledger lines")
def get_earnings(ctx: RequestContext) -> dict[str, Any]:
    """Totals this week and this month in the reader's timezone (weeks start on Monday) and
    all time, each with the same fields: credits earned (the reader's share), the platform
    fee, how much of the credits is paid out (credited to the earnings account by completed
    readings, less refunds) and how much is pending (accepted readings not completed yet);
    the earnings balance; and a page of the ledger lines that moved earnings, newest first
    (``cursor`` for the next page). ``payouts``: where the earned credits stand for payouts to
    the reader's bank: in the dispute window, available, sent to the bank, owed (read in one
    snapshot, so they always add up)."""
    query: EarningsQuery = ctx.query
    reader_id = ctx.user.user_id
    totals = earnings.summary(reader_id, all_time=True)
    assert totals.all_time is not None
    # One snapshot of the user item and the payout state: the payouts block always adds up
    # (and the balance is its inDisputeWindow), even while a payout commits.
    states = payout_queries.earnings_states(reader_id)
    balance = states.in_dispute_window
    credit = earnings.money(1)
    page = paginate(earnings.lines_query(reader_id), query, scope=f"GET /reader/earnings:{reader_id}")
    return {
        "timezone": totals.timezone, "feePercent": totals.fee_percent,
        "balance": balance, "balanceAmount": earnings.money(balance).amount,
        "currency": credit.currency, "minorPerCredit": credit.amount,
        "thisWeek": totals_document(totals.week), "thisMonth": totals_document(totals.month),
        "allTime": totals_document(totals.all_time),
        "payouts": payouts_document(states),
        **page.body([{"entryId": line.entry_id, "kind": line.kind, "createdAt": line.created_at,
                      "credits": line.credits, "amount": earnings.money(line.credits).amount,
                      "currency": credit.currency, "platformFee": line.platform_fee, "readingId": line.reading_id,
                      "description": line.description} for line in earnings.lines(page.items)]),
    }
