"""Admin: payouts by status, and holding or releasing a reader's payouts (audited)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN
from chalicelib.handlers.payouts import payout_document
from chalicelib.schemas.payouts import AdminPayoutsQuery, PayoutHoldIn, PayoutHoldOut, PayoutPage, PayoutReleaseIn
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
    response=PayoutPage,
    errors=(400,),
    tags=["admin", "payouts"],
    summary="Payouts by status, newest first",
)
def list_admin_payouts(ctx: RequestContext) -> dict[str, Any]:
    """``status``: pending (default: the transfer is being created; one that stays pending
    needs a look), paid, failed or reversed. One Query of an index per page."""
    query: AdminPayoutsQuery = ctx.query
    page = queries.payouts_by_status(query.status, limit=query.limit, cursor=query.cursor)
    return page.body([payout_document(payout) for payout in page.items])


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
    them; a payout already on its way is not recalled. 404 for a user who is not a reader,
    409 when already held. Audited."""
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
    """The next payout run (or the reader's request) pays them again. 404 for a user who is
    not a reader, 409 when not held. Audited."""
    body: PayoutReleaseIn = ctx.body
    return hold_document(holds.release(readerId, admin_id=ctx.user.user_id, note=body.note, request_id=ctx.request_id))
