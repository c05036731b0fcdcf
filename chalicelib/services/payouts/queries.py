"""Reading payouts: a reader's own, an admin's list by status, and where a reader's earnings
stand (pending, available, paid out, owed) for ``GET /reader/earnings``."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.models.payout_records import PENDING, STATUSES, Payout
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import ledger
from chalicelib.services.payouts.requesting import reader_state


def reader_payouts(reader_id: str, *, limit: int, cursor: str | None) -> PageResult[Payout]:
    """The reader's payouts, newest first: one Query of ``byReader`` per page."""
    return query_page(
        lambda size, start: Payout.by_reader.query(
            reader_id, scan_index_forward=False, limit=size, last_evaluated_key=start
        ),
        limit=limit,
        cursor=cursor,
        scope=f"GET /reader/payouts:{reader_id}",
    )


def payouts_by_status(status: str = PENDING, *, limit: int, cursor: str | None) -> PageResult[Payout]:
    """Every payout in ``status``, newest first: one Query of ``byStatus`` per page."""
    if status not in STATUSES:
        raise ValueError(f"unknown payout status {status!r}")
    return query_page(
        lambda size, start: Payout.by_status.query(
            status, scan_index_forward=False, limit=size, last_evaluated_key=start
        ),
        limit=limit,
        cursor=cursor,
        scope=f"GET /admin/payouts:{status}",
    )


@dataclass(frozen=True)
class EarningsStates:
    """Where the reader's earned credits are now."""

    pending: int  # earned, inside their readings' dispute window
    available: int  # payable: their dispute window closed
    paid_out: int  # sent to the bank (net of returned payouts; a payout on its way counts)
    owed: int  # taken back by refunds after payout, settled from the next earnings
    on_hold: bool  # an admin holds the reader's payouts
    in_progress: str | None  # the payout on its way, if any
    minimum: int  # the least a payout may be, in credits


def earnings_states(user: User) -> EarningsStates:
    """From the reader's user item (as the request read it) and payout state (one GetItem)."""
    balance = ledger.balance_of(user)
    state = reader_state(user.user_id)
    return EarningsStates(
        pending=balance.earnings,
        available=balance.payable,
        paid_out=int(state.paid_out_credits or 0) if state else 0,
        owed=balance.owed,
        on_hold=bool(state and state.held),
        in_progress=state.lock if state else None,
        minimum=get_settings().payout_minimum_credits,
    )
