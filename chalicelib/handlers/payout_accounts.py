"""The signed-in reader's payout account (Stripe Connect Express): onboarding and its state.

``READER`` and an approved reader profile (403 otherwise); there is no way to name another
reader's account.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import READER
from chalicelib.models.base import iso
from chalicelib.schemas.payout_accounts import PayoutAccountOut, PayoutOnboardingOut
from chalicelib.services.payouts import accounts

payout_accounts_api = Blueprint(__name__)


def account_document(account: accounts.PayoutAccount | None) -> PayoutAccountOut:
    if account is None:
        return PayoutAccountOut(
            status="not_started", details_submitted=False, payouts_enabled=False, requirements_due=[]
        )
    return PayoutAccountOut(
        account_id=account.account_id,
        status=account.status,  # type: ignore[arg-type]
        details_submitted=account.details_submitted,
        payouts_enabled=account.payouts_enabled,
        requirements_due=list(account.requirements_due),
        disabled_reason=account.disabled_reason,
        updated_at=account.updated_at,
    )


@route(
    payout_accounts_api,
    "/reader/payout-account",
    "POST",
    access=READER,
    response=PayoutOnboardingOut,
    status=201,
    errors=(403, 503),
    tags=["payouts"],
    summary="Start or resume the reader's payout onboarding (Stripe Connect Express): returns the link",
)
def start_payout_onboarding(ctx: RequestContext) -> Reply:
    """The first call creates the reader's Stripe Connect Express account; every call returns a
    fresh onboarding link to it (single use, expires within minutes). Concurrent or repeated
    calls make one account. 201 when this call created the account, 200 when it resumed
    onboarding of the existing one. 403 unless the caller is an approved reader; 503 when
    Stripe is unreachable (nothing stored: try again)."""
    onboarding = accounts.start_onboarding(ctx.user.user_id, ctx.user.email)
    document = PayoutOnboardingOut(
        url=onboarding.url,
        expires_at=iso(datetime.fromtimestamp(onboarding.expires_at, UTC)),
        created=onboarding.created,
        account=account_document(onboarding.account),
    )
    return Reply(document.dump(), status=201 if onboarding.created else 200)


@route(
    payout_accounts_api,
    "/reader/payout-account",
    "GET",
    access=READER,
    response=PayoutAccountOut,
    errors=(403,),
    tags=["payouts"],
    summary="The reader's payout account: details submitted, payouts enabled, requirements due",
)
def get_payout_account(ctx: RequestContext) -> PayoutAccountOut:
    """As Stripe last reported it (signed ``account.updated`` webhooks keep it current);
    ``status`` is ``not_started`` before the first POST. 403 unless the caller is an approved
    reader."""
    accounts.require_approved(ctx.user.user_id)
    return account_document(accounts.payout_account(ctx.user.user_id))
