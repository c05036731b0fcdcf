"""Reader applications: the applicant's draft, submission and status; the admin's queue and decision."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import ADMIN, CLIENT
from chalicelib.schemas.reader_views import ApplicationOut, ApplicationPage
from chalicelib.schemas.readers import ApplicationDraft, ApplicationQuery, DeclineIn
from chalicelib.services import reader_applications as applications

reader_applications_api = Blueprint(__name__)


def _out(profile: object) -> ApplicationOut:
    return ApplicationOut.model_validate(applications.application_document(profile))  # type: ignore[arg-type]


@route(reader_applications_api, "/reader-application", "GET", access=CLIENT, response=ApplicationOut,
       errors=(404,), tags=["reader applications"], summary="The caller's reader application and its status")
def get_application(ctx: RequestContext) -> ApplicationOut:
    """``missingForSubmit`` lists what a submission still needs; ``declineReason`` says why a
    declined application was declined (it may be edited and resubmitted)."""
    return _out(applications.get_own(ctx.user.user_id))


@route(reader_applications_api, "/reader-application", "PUT", access=CLIENT, body=ApplicationDraft,
       response=ApplicationOut, errors=(409,), tags=["reader applications"],
       summary="Save a step of the reader application (a draft; partial fields allowed)")
def put_application(ctx: RequestContext) -> ApplicationOut:
    """Fields left out keep their saved value; ``null`` clears one. Values that are present
    are validated in full (limits and the catalog). A pending application cannot be edited
    (409 application_pending); a reader cannot apply (409 already_reader)."""
    draft: ApplicationDraft = ctx.body
    return _out(applications.save_draft(ctx.user.user_id, ctx.user.role, draft.changes()))


@route(reader_applications_api, "/reader-application/submit", "POST", access=CLIENT, response=ApplicationOut,
       errors=(404, 409, 422), tags=["reader applications"], summary="Submit the reader application for review")
def submit_application(ctx: RequestContext) -> ApplicationOut:
    """Requires a complete profile: displayName, tagline, bio, 1-3 tools, 1-3 abilities and a
    style (active in the catalog), at least one active reading option, availability with a
    timezone (422 application_incomplete lists what is missing). Submitting again while
    pending is 409 application_pending. A declined application may be resubmitted."""
    return _out(applications.submit(ctx.user.user_id, ctx.user.role))


@route(reader_applications_api, "/admin/reader-applications", "GET", access=ADMIN, query=ApplicationQuery,
       response=ApplicationPage, errors=(400,), tags=["reader applications", "admin"],
       summary="Reader applications by status, oldest submission first")
def list_applications(ctx: RequestContext) -> dict:
    query: ApplicationQuery = ctx.query
    page = applications.list_by_status(query.status, limit=query.limit, cursor=query.cursor)
    return page.body([_out(profile).dump() for profile in page.items])


@route(reader_applications_api, "/admin/reader-applications/{applicationId}/approve", "POST", access=ADMIN,
       response=ApplicationOut, errors=(404, 409), tags=["reader applications", "admin"],
       summary="Approve a pending application: the applicant becomes a reader")
def approve_application(ctx: RequestContext, applicationId: str) -> ApplicationOut:
    """One transaction: the application becomes approved, the user's role client -> reader,
    audit records for both, and the ``reader_application.approved`` event. Deciding on one's
    own application is 403 self_approval; an application that is not pending (or was decided
    concurrently), or an applicant who is no longer a client, is 409 and changes nothing."""
    return _out(applications.approve(applicationId, admin_id=ctx.user.user_id, request_id=ctx.request_id))


@route(reader_applications_api, "/admin/reader-applications/{applicationId}/decline", "POST", access=ADMIN,
       body=DeclineIn, response=ApplicationOut, errors=(404, 409), tags=["reader applications", "admin"],
       summary="Decline a pending application with a reason shown to the applicant")
def decline_application(ctx: RequestContext, applicationId: str) -> ApplicationOut:
    body: DeclineIn = ctx.body
    return _out(applications.decline(applicationId, body.reason, admin_id=ctx.user.user_id,
                                     request_id=ctx.request_id))
