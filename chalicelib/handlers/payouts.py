"""The signed-in reader's payouts: request one, list them (``READER``: only their own)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import READER
from chalicelib.models.payout_records import Payout
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.payouts import PayoutOut, PayoutPage, PayoutRequestIn
from chalicelib.services.payouts import queries, requesting

payouts_api = Blueprint(__name__)


def payout_document(payout: Payout) -> dict[str, Any]:
    return PayoutOut(
        id=payout.payout_id,
        reader_id=payout.reader_id,
        credits=int(payout.credits),
        amount=int(payout.amount_minor),
        currency=payout.currency,
        status=payout.status,  # type: ignore[arg-type]
        source=payout.source,  # type: ignore[arg-type]
        created_at=payout.created_at,
        sent_at=payout.sent_at,
        returned_at=payout.returned_at,
        transfer_id=payout.transfer_id,
        failure_reason=payout.failure_reason,
    ).dump()


@route(
    payouts_api,
    "/reader/payouts",
    "POST",
    access=READER,
    body=PayoutRequestIn,
    response=PayoutOut,
    status=201,
    errors=(400, 403, 409, 422, 503),
    tags=["payouts"],
    idempotent=True,
    summary="Pay out the reader's available earnings to their bank (at least the payout minimum)",
)
def request_payout(ctx: RequestContext) -> Reply:
    """Moves ``credits`` (default: everything available for payout) out of the reader's
    available earnings in one ledger movement, as a ``pending`` payout; the transfer to their
    payout account follows within seconds (``paid``; a failed transfer returns the credits,
    ``failed``). Earnings become available once their reading's dispute window closed.
    Refusals: 422 payout_account_not_ready (finish POST /reader/payout-account first),
    below_payout_minimum, insufficient_credits (more than is available), payouts_on_hold (an
    admin holds them), payouts_restricted (credits owed after a refund); 409
    payout_in_progress while another payout is on its way (one at a time: concurrent requests
    make one payout). Send ``Idempotency-Key``: a retry returns the same payout (200); the
    same key for other credits is 409 idempotency_key_reused."""
    body: PayoutRequestIn = ctx.body
    done = requesting.request_payout(
        ctx.user.user_id,
        credits=body.credits,
        idempotency_key=ctx.request.headers.get("idempotency-key"),
        user=ctx.user.record,  # read consistently by authentication: the payable balance; the ledger re-checks it
    )
    return Reply(payout_document(done.payout), status=201 if done.created else 200)


@route(
    payouts_api,
    "/reader/payouts",
    "GET",
    access=READER,
    query=PageQuery,
    response=PayoutPage,
    errors=(400,),
    tags=["payouts"],
    summary="The reader's payouts with their status, newest first",
)
def list_reader_payouts(ctx: RequestContext) -> dict[str, Any]:
    """One page at a time (``cursor`` for the next page)."""
    query: PageQuery = ctx.query
    page = queries.reader_payouts(ctx.user.user_id, limit=query.limit, cursor=query.cursor)
    return page.body([payout_document(payout) for payout in page.items])
