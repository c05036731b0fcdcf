"""The caller's compliance records: ``GET /me/compliance``, ``POST /me/consents``,
``GET /me/consents/history`` and ``POST /me/terms-acceptance`` (the 18+ declaration is ``POST /me/age-verification``, in
handlers/onboarding.py). See services/compliance.py for the rules."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.compliance import ComplianceOut, ConsentHistoryPage, ConsentsIn, TermsAcceptanceIn
from chalicelib.services import compliance, consent_history

compliance_api = Blueprint(__name__)

_TAGS = ["compliance"]


@route(
    compliance_api,
    "/me/compliance",
    "GET",
    access=SIGNED_IN,
    response=ComplianceOut,
    tags=_TAGS,
    summary="The caller's consents, 18+ declaration, accepted terms and privacy policy, and what is pending",
)
def get_compliance(ctx: RequestContext) -> ComplianceOut:
    """``pendingAcceptance`` lists the documents to accept before the next booking (a
    booking answers 422 ``terms_not_accepted`` while any is pending)."""
    return ComplianceOut.model_validate(compliance.state(ctx.user.record).view())


@route(
    compliance_api,
    "/me/consents",
    "POST",
    access=SIGNED_IN,
    body=ConsentsIn,
    response=ComplianceOut,
    tags=_TAGS,
    errors=(409,),
    summary="Give or withdraw consents: marketing, analytics, third-party sharing",
)
def record_consents(ctx: RequestContext) -> ComplianceOut:
    """Each consent sent is recorded with the date and the privacy policy version in force; one
    that repeats the stored answer keeps its original date. ``marketing`` is the preferences'
    ``notifications.marketingEmails`` switch: both change together (and the preferences'
    version goes up). Every change is added to the consent history (GET /me/consents/history)
    with ``source``."""
    body: ConsentsIn = ctx.body
    state = compliance.record_consents(ctx.user.user_id, body.answers(), source=body.source)
    return ComplianceOut.model_validate(state.view())


@route(
    compliance_api,
    "/me/consents/history",
    "GET",
    access=SIGNED_IN,
    query=PageQuery,
    response=ConsentHistoryPage,
    tags=_TAGS,
    errors=(400,),
    summary="Every change of the caller's consents, newest first",
)
def list_consent_history(ctx: RequestContext) -> dict[str, Any]:
    """Append-only: each time a consent was given or withdrawn (or answered again under a new
    privacy policy version), by POST /me/consents or the marketing switch of PUT
    /me/preferences. One Query per page."""
    query: PageQuery = ctx.query
    page = consent_history.page(ctx.user.user_id, limit=query.limit, cursor=query.cursor)
    return ConsentHistoryPage.model_validate(page.body([consent_history.view(entry) for entry in page.items])).dump()


@route(
    compliance_api,
    "/me/terms-acceptance",
    "POST",
    access=SIGNED_IN,
    body=TermsAcceptanceIn,
    response=ComplianceOut,
    tags=_TAGS,
    errors=(404, 409, 422),
    summary="Accept the version in force of the terms of service or the privacy policy",
)
def accept_terms(ctx: RequestContext) -> ComplianceOut:
    """Only the version in force is accepted: an earlier one is a 409 (``stale_version``, with
    the version to accept), one never published a 404. Accepting it again keeps the first
    acceptance. The date and the caller's address are recorded."""
    body: TermsAcceptanceIn = ctx.body
    state = compliance.accept(ctx.user.user_id, body.document_type, body.version, ip_address=ctx.source_ip)
    return ComplianceOut.model_validate(state.view())
