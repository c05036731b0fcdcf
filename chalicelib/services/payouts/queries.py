"""Reading payouts: a reader's own, an admin's list by status, and where a reader's earnings
stand (pending, available, paid out, owed) for ``GET /reader/earnings``."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.transactions import TransactGet

from chalicelib.config import get_settings
from chalicelib.errors import NotFound
from chalicelib.models.base import connection
from chalicelib.models.payout_records import EVERY_PAYOUT, STATUSES, Payout, PayoutReader
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import ledger


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


ALL = "all"


def payouts_by_status(status: str = ALL, *, limit: int, cursor: str | None) -> PageResult[Payout]:
    """Every payout in ``status`` (``all``: every status), newest first: one Query of
    ``byStatus`` (or ``byCreated``) per page."""
    if status == ALL:
        return query_page(
            lambda size, start: Payout.by_created.query(
                EVERY_PAYOUT, scan_index_forward=False, limit=size, last_evaluated_key=start
            ),
            limit=limit,
            cursor=cursor,
            scope=f"GET /admin/payouts:{ALL}",
        )
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


def display_names(user_ids: list[str]) -> dict[str, str | None]:
    """{user id: display name} of a page's readers: one BatchGetItem per 100 ids."""
    wanted = sorted(set(user_ids))
    names: dict[str, str | None] = dict.fromkeys(wanted)
    if wanted:
        for user in User.batch_get(wanted, attributes_to_get=["userId", "displayName"]):
            names[user.user_id] = user.display_name
    return names


@dataclass(frozen=True)
class EarningsStates:
    """Where the reader's earned credits are now, from one snapshot of their items."""

    in_dispute_window: int  # earned, inside their readings' dispute window (the earnings account)
    available: int  # payable: their dispute window closed
    sent_to_bank: int  # net of returned payouts; a payout on its way counts
    owed: int  # taken back by refunds after payout, settled from the next earnings
    on_hold: bool  # an admin holds the reader's payouts
    in_progress: str | None  # the payout on its way, if any
    minimum: int  # the least a payout may be, in credits
    role: str | None = None  # the user's role ("reader" for a reader)
    hold_reason: str | None = None
    held_by: str | None = None
    held_at: str | None = None


def earnings_states(reader_id: str) -> EarningsStates:
    """The reader's balances (user item) and payout state (sent to bank, hold, payout in flight)
    read in ONE snapshot: one TransactGetItems of both items. Two reads (even a consistent
    BatchGetItem) could fall either side of a payout's transaction and show its credits both
    as available and as sent to the bank. ``NotFound`` without the user."""
    with TransactGet(connection=connection()) as snapshot:
        user_read = snapshot.get(User, reader_id)
        state_read = snapshot.get(PayoutReader, reader_id)
    try:
        user = user_read.get()
    except User.DoesNotExist:
        raise NotFound("reader") from None
    try:
        state: PayoutReader | None = state_read.get()
    except PayoutReader.DoesNotExist:
        state = None
    balance = ledger.balance_of(user)
    held = bool(state and state.held)
    return EarningsStates(
        in_dispute_window=balance.earnings,
        available=balance.payable,
        sent_to_bank=int(state.paid_out_credits or 0) if state else 0,
        owed=balance.owed,
        on_hold=held,
        in_progress=state.lock if state else None,
        minimum=get_settings().payout_minimum_credits,
        role=user.role,
        hold_reason=state.hold_reason if state and held else None,
        held_by=state.held_by if state and held else None,
        held_at=state.held_at if state and held else None,
    )
