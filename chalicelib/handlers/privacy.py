"""The caller's data and account: ``POST /me/data-export``, ``GET /me/data-export/{exportId}``
and ``DELETE /me`` (services/privacy)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN_EVEN_SUSPENDED
from chalicelib.models.base import utcnow
from chalicelib.schemas.privacy import AccountDeletionOut, DataExportOut
from chalicelib.services import privacy

privacy_api = Blueprint(__name__)


def _out(found: privacy.ExportView) -> DataExportOut:
    return DataExportOut(
        id=found.id,
        status=found.status,  # type: ignore[arg-type]  # one of domain.privacy.EXPORT_STATES
        requested_at=found.requested_at,
        ready_at=found.ready_at,
        expires_at=found.expires_at,
        size_bytes=found.size_bytes,
        download_url=found.download_url,
        download_url_expires_at=found.download_url_expires_at,
    )


@route(
    privacy_api,
    "/me/data-export",
    "POST",
    access=SIGNED_IN_EVEN_SUSPENDED,
    response=DataExportOut,
    status=202,
    errors=(503,),
    tags=["me"],
    summary="Ask for a copy of everything stored about the caller",
)
def request_data_export(ctx: RequestContext) -> DataExportOut:
    """The export is built by a job; the caller is notified (in the app and by email) when it is
    ready, and downloads it through ``GET /me/data-export/{exportId}``. One export at a time:
    while one is pending, this answers that one and starts nothing new. Audited."""
    return _out(privacy.request_export(ctx.user.user_id, request_id=ctx.request_id, now=utcnow()))


@route(
    privacy_api,
    "/me/data-export/{exportId}",
    "GET",
    access=SIGNED_IN_EVEN_SUSPENDED,
    response=DataExportOut,
    errors=(404,),
    tags=["me"],
    summary="One of the caller's data exports, with a fresh download link when ready",
)
def get_data_export(ctx: RequestContext, exportId: str) -> DataExportOut:
    """``downloadUrl`` is signed for this request and works for an hour at most (never past the
    export's ``expiresAt``); ask again for a new one. Another user's export is a 404."""
    return _out(privacy.get_export(ctx.user.user_id, exportId, now=utcnow()))


@route(
    privacy_api,
    "/me",
    "DELETE",
    access=SIGNED_IN_EVEN_SUSPENDED,
    response=AccountDeletionOut,
    status=202,
    errors=(409, 422),
    tags=["me"],
    summary="Delete the caller's account",
)
def delete_me(ctx: RequestContext) -> AccountDeletionOut:
    """The account is deleted at once: from the next request its tokens get 401
    ``account_deleted``, a reader leaves explore and can no longer be booked. Within seconds its
    readings in flight are cancelled (credits released or refunded through the ledger), its
    active statuses closed and its subscription cancelled at the end of the period. After the
    retention period (``purgeAfter``) its personal data is erased or anonymised everywhere; the
    ledger keeps its amounts. An admin cannot delete their own account (422 ``admin_account``):
    another admin first changes their role. Audited."""
    deleted = privacy.delete_account(ctx.user.user_id, request_id=ctx.request_id, now=utcnow())
    return AccountDeletionOut(
        id=deleted.user_id, status="deleted", deleted_at=deleted.deleted_at, purge_after=deleted.purge_at
    )
