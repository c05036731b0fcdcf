"""Admin: payouts by status, a reader's payouts (hold and figures), and holding or releasing
a reader's payouts (audited)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.handlers.payouts import payout_document
from chalicelib.schemas.payouts import (
    AdminPayoutPage,
    AdminPayoutsQuery,
    AdminReaderPayoutsOut,
    PayoutHoldIn,
    PayoutHoldOut,
    PayoutReleaseIn,
)
from chalicelib.services import earnings
from chalicelib.services.payouts import holds, queries

admin_payouts_api = Blueprint(__name__)


def hold_document(state: holds.HoldState) -> PayoutHoldOut:
    return PayoutHoldOut(
        reader_id=state.reader_id,
        held=state.held,
        reason=state.reason,
        held_by=state.held_by,
        held_at=state.held_at,
        payout_in_progress=state.payout_in_progress,
    )


@route(
    admin_payouts_api,
    "/admin/payouts",
    "GET",
    access=ADMIN,
    query=AdminPayoutsQuery,
    response=AdminPayoutPage,
    errors=(400,),
    tags=["admin", "payouts"],
    summary="Payouts of every reader (or by status), newest first, with the reader's name",
)
def list_admin_payouts(ctx: RequestContext) -> dict[str, Any]:
    """``status``: all (default: every status), pending (the transfer is being created; one
    that stays pending needs a look), paid, failed or reversed. One Query of an index per page
    and one BatchGetItem for the page's readers' names."""
    query: AdminPayoutsQuery = ctx.query
    page = queries.payouts_by_status(query.status, limit=query.limit, cursor=query.cursor)
    names = queries.display_names([payout.reader_id for payout in page.items])
    return page.body([{**payout_document(payout), "readerName": names.get(payout.reader_id)} for payout in page.items])


@route(
    admin_payouts_api,
    "/admin/readers/{readerId}/payouts",
    "GET",
    access=ADMIN,
    response=AdminReaderPayoutsOut,
    errors=(404,),
    tags=["admin", "payouts"],
    summary="A reader's payouts: whether they are held (why, by whom, since when), available and sent to the bank",
)
def get_reader_payouts(ctx: RequestContext, readerId: str) -> AdminReaderPayoutsOut:
    """The hold and the figures come from one snapshot of the reader's items (one
    TransactGetItems). 404 for a user who is not a reader."""
    states = holds.reader_payouts(readerId)
    return AdminReaderPayoutsOut(
        reader_id=readerId,
        on_hold=states.on_hold,
        reason=states.hold_reason,
        held_at=states.held_at,
        held_by=states.held_by,
        available=states.available,
        available_amount=earnings.money(states.available).amount,
        sent_to_bank=states.sent_to_bank,
        sent_to_bank_amount=earnings.money(states.sent_to_bank).amount,
        currency=earnings.money(0).currency,
        payout_in_progress=states.in_progress,
    )


@route(
    admin_payouts_api,
    "/admin/readers/{readerId}/payouts/hold",
    "POST",
    access=ADMIN,
    body=PayoutHoldIn,
    response=PayoutHoldOut,
    errors=(400, 404, 409),
    tags=["admin", "payouts"],
    summary="Hold a reader's payouts, with a reason",
)
def hold_reader_payouts(ctx: RequestContext, readerId: str) -> PayoutHoldOut:
    """While held, neither the reader's requests (422 payouts_on_hold) nor the weekly run pay
    them; a payout already on its way is not recalled; the reader is told (not the reason).
    404 for a user who is not a reader, 409 when already held. Audited."""
    body: PayoutHoldIn = ctx.body
    return hold_document(holds.hold(readerId, admin_id=ctx.user.user_id, reason=body.reason, request_id=ctx.request_id))


@route(
    admin_payouts_api,
    "/admin/readers/{readerId}/payouts/release",
    "POST",
    access=ADMIN,
    body=PayoutReleaseIn,
    response=PayoutHoldOut,
    errors=(400, 404, 409),
    tags=["admin", "payouts"],
    summary="Release the hold on a reader's payouts",
)
def release_reader_payouts(ctx: RequestContext, readerId: str) -> PayoutHoldOut:
    """The next payout run (or the reader's request) pays them again; the reader is told.
    404 for a user who is not a reader, 409 when not held. Audited."""
    body: PayoutReleaseIn = ctx.body
    return hold_document(
        holds.release(readerId, admin_id=ctx.user.user_id, reason=body.reason, request_id=ctx.request_id)
    )
