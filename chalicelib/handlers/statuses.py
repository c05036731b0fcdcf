"""Client statuses and the readings readers suggest for them.

Who may call: posting, editing, closing, deleting, listing one's own and accepting are
``CLIENT`` routes on the caller's own statuses (another's is 404); the feed, suggesting and
withdrawing are ``READER`` routes (suggesting needs an approved profile: 403); reading one
status is any signed-in user the status is visible to (services/statuses/common.py).

A status answers its ``version`` as ``ETag``; PATCH, close and DELETE honour ``If-Match``
(a stale version is a 409 ``version_mismatch``). DELETE is a soft delete
(services/statuses/deleting.py): the status is gone from every read.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import CLIENT, READER, SIGNED_IN
from chalicelib.errors import NotFound
from chalicelib.handlers.readings import reading_out
from chalicelib.http_conditions import etag, if_match
from chalicelib.models.statuses import Status
from chalicelib.schemas.statuses import (
    AcceptIn,
    AcceptOut,
    FeedPage,
    StatusesQuery,
    StatusIn,
    StatusOut,
    StatusPage,
    StatusPatch,
    SuggestedReadingOut,
    SuggestionIn,
    feed_document,
)
from chalicelib.services import catalog, readings, statuses
from chalicelib.services.statuses.common import author, expires_at

statuses_api = Blueprint(__name__)
_TAGS = ["statuses"]


def _out(ctx: RequestContext, status: Status) -> dict[str, Any]:
    author_user = None
    if ctx.user.user_id != status.user_id and ctx.user.role != "admin":
        author_user = statuses.authors([status.user_id]).get(status.user_id)
    document = statuses.status_document(status, ctx.user.user_id, ctx.user.role,
                                        categories=catalog.status_categories(), author_user=author_user)
    return StatusOut.model_validate(document).dump()


def _tagged(ctx: RequestContext, status: Status, status_code: int | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    """The status with its version as ``ETag`` (what ``If-Match`` sends back)."""
    document = _out(ctx, status)
    return Reply(document, status=status_code, headers={"ETag": etag(document["version"]), **(headers or {})})


@route(statuses_api, "/statuses", "POST", access=CLIENT, body=StatusIn, response=StatusOut, status=201,
       errors=(400, 422), tags=_TAGS, rate_limit="statuses",
       summary="Post a status: what is on your mind, for readers to answer")
def post_status(ctx: RequestContext) -> Reply:
    """Readers whose specialties match the category are notified and see it first in their
    feed. At most 3 active statuses at a time (422 too_many_active_statuses); a status
    closes by itself after 7 days (``expiresAt``)."""
    body: StatusIn = ctx.body
    status = statuses.create(ctx.user.record, content=body.content, mood=body.mood, category=body.category)
    return _tagged(ctx, status, 201, {"Location": f"/statuses/{status.status_id}"})


@route(statuses_api, "/statuses/mine", "GET", access=CLIENT, query=StatusesQuery, response=StatusPage,
       errors=(400,), tags=_TAGS, summary="Your statuses, newest first, with their suggested readings")
def my_statuses(ctx: RequestContext) -> dict[str, Any]:
    """Active and closed (``isActive``), each with every suggestion readers made and did not
    withdraw; ``readingId`` names the reading booked from an accepted one. Deleted ones are
    left out."""
    query: StatusesQuery = ctx.query
    found = statuses.mine(ctx.user.user_id, limit=query.limit, cursor=query.cursor)
    return StatusPage.model_validate(found.body([_out(ctx, s) for s in found.items])).dump()


@route(statuses_api, "/statuses", "GET", access=READER, query=StatusesQuery, response=FeedPage, errors=(400,),
       tags=_TAGS, summary="Active statuses to answer: those matching your specialties first")
def status_feed(ctx: RequestContext) -> dict[str, Any]:
    """Newest first within each group; ``matchesSpecialties`` marks the first group (the
    category's abilities and tools, GET /catalog, meet yours). Your own statuses are left out."""
    query: StatusesQuery = ctx.query
    found, matching = statuses.feed_page(ctx.user.user_id, limit=query.limit, cursor=query.cursor)
    users = statuses.authors([row.user_id for row in found.items])
    categories = catalog.status_categories()
    data = [feed_document(row, author(row.user_id, users.get(row.user_id)), viewer_id=ctx.user.user_id,
                          matching=matching, categories=categories, expires_at=expires_at(row.created_at))
            for row in found.items]
    return FeedPage.model_validate(found.body(data)).dump()


@route(statuses_api, "/statuses/{statusId}", "GET", access=SIGNED_IN, response=StatusOut, errors=(404,),
       tags=_TAGS, summary="One status with the suggested readings you may see")
def get_status(ctx: RequestContext, statusId: str) -> Reply:
    """Its client and admins see every suggestion; a reader sees an active status (or one
    they suggested on) with their own suggestion only. A deleted status is a 404. The
    ``ETag`` is its version (``If-Match`` for PATCH, close and DELETE)."""
    status = statuses.load(statusId)
    if not statuses.viewer_may_see(status, ctx.user.user_id, ctx.user.role):
        raise NotFound("status")
    return _tagged(ctx, status)


@route(statuses_api, "/statuses/{statusId}", "PATCH", access=CLIENT, body=StatusPatch, response=StatusOut,
       errors=(400, 404, 409), tags=_TAGS, rate_limit="statuses", summary="Edit your status until a reader answers it")
def patch_status(ctx: RequestContext, statusId: str) -> Reply:
    """Only the fields sent change (``mood: null`` removes it). Once a reader has suggested a
    reading it is 409 status_has_suggestions (their offer answers what they read); a closed
    status is 409 status_closed. ``If-Match: "<version>"`` edits that version only (else 409
    version_mismatch, ``details.currentVersion``); without it, an edit that lands between
    this one's read and write makes this one the same 409: of two concurrent edits, one wins."""
    body: StatusPatch = ctx.body
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    for required in ("content", "category"):
        if required in changes and changes[required] is None:
            from chalicelib.services.readings.common import field_error

            raise field_error(required, "Cannot be null.")
    return _tagged(ctx, statuses.update(ctx.user.user_id, statusId, changes, role=ctx.user.role,
                                        expected_version=if_match(ctx)))


@route(statuses_api, "/statuses/{statusId}/close", "POST", access=CLIENT, response=StatusOut,
       errors=(400, 404, 409), tags=_TAGS,
       summary="Close your status without booking, keeping it in your list (readers who suggested are told)")
def close_status(ctx: RequestContext, statusId: str) -> Reply:
    """The status leaves the readers' feed and keeps its history (state ``closed``). Closing
    a closed status changes nothing. ``If-Match: "<version>"``: only that version (else 409
    version_mismatch)."""
    return _tagged(ctx, statuses.close(ctx.user.user_id, statusId, expected_version=if_match(ctx)))


@route(statuses_api, "/statuses/{statusId}", "DELETE", access=CLIENT, response=StatusOut, errors=(400, 404, 409),
       tags=_TAGS, summary="Delete your status: gone from your list, the feed and every read (readers who "
                           "suggested are told it closed)")
def delete_status(ctx: RequestContext, statusId: str) -> dict[str, Any]:
    """A soft delete: answers the status as deleted (``state: deleted``, ``deletedAt``); from
    then on its GET is a 404 and no list shows it. An active one is closed first (its open
    suggestions closed, their readers told; your active-status place freed); a reading booked
    from it stays. Deleting it again is a 404. ``If-Match: "<version>"`` deletes that version
    only (else 409 version_mismatch); without it, the delete applies to the status as it is."""
    return _out(ctx, statuses.delete(ctx.user.user_id, statusId, expected_version=if_match(ctx)))


@route(statuses_api, "/statuses/{statusId}/suggestions", "POST", access=READER, body=SuggestionIn,
       response=SuggestedReadingOut, status=201, errors=(400, 403, 404, 409, 422), tags=_TAGS,
       rate_limit="statuses", summary="Suggest a reading for an active status")
def suggest_reading(ctx: RequestContext, statusId: str) -> Reply:
    """Priced like a booking of your option at that duration; ``suggestedPrice`` at most that
    listed price (422 price_above_listed; below it is shown as a discount). One active
    suggestion per status (409 already_suggested; withdraw it to suggest another); a closed
    status is 409 status_closed. A proposed ``scheduledAt`` must be inside your availability
    and free (409). 403 reader_not_approved until your application is approved. Without a
    proposed time, a phone call or live video needs you online when the client accepts."""
    body: SuggestionIn = ctx.body
    _, stored = statuses.suggest(
        ctx.user.user_id, statusId, title=body.title, description=body.description,
        suggested_type=body.suggested_type, option_id=body.option_id, duration=body.estimated_duration,
        suggested_price=body.suggested_price, message=body.message, scheduled_at=body.scheduled_at)
    document = statuses.suggestion_document(statusId, stored)
    return Reply(SuggestedReadingOut.model_validate(document).dump(), status=201)


@route(statuses_api, "/statuses/{statusId}/suggestions/{suggestionId}", "DELETE", access=READER,
       response=StatusOut, errors=(404, 409), tags=_TAGS, summary="Withdraw your suggestion")
def withdraw_suggestion(ctx: RequestContext, statusId: str, suggestionId: str) -> dict[str, Any]:
    """Only while the status is active and the suggestion not accepted; the client no longer
    sees it and you may suggest again."""
    return _out(ctx, statuses.withdraw(ctx.user.user_id, statusId, suggestionId))


@route(statuses_api, "/statuses/{statusId}/suggestions/{suggestionId}/accept", "POST", access=CLIENT,
       body=AcceptIn, response=AcceptOut, status=201, errors=(400, 404, 409, 422), tags=_TAGS,
       summary="Accept a suggestion: books it as a reading request and closes the status")
def accept_suggestion(ctx: RequestContext, statusId: str, suggestionId: str) -> Reply:
    """One transaction: the reading request at the suggested price with the credits held
    (as ``POST /readings``: 422 age_verification_required, terms_not_accepted, insufficient_credits,
    payment_restricted; 409 reader_offline (send ``scheduledAt`` to book a time instead),
    outside_availability, slot_taken), the status
    closed with ``acceptedSuggestedReadingId``, the other readers told. Accepting again, or
    another suggestion of a closed status, is 409 status_closed (details name the reading)."""
    body: AcceptIn = ctx.body
    done = statuses.accept(ctx.user.record, statusId, suggestionId, scheduled_at=body.scheduled_at)
    parties = readings.Parties({ctx.user.user_id: ctx.user.record}, {done.reader.reader_id: done.reader})
    out = AcceptOut.model_validate({"status": _out(ctx, done.status),
                                    "reading": reading_out(ctx, done.reading, parties)}).dump()
    return Reply(out, status=201, headers={"Location": f"/readings/{done.reading.reading_id}"})
