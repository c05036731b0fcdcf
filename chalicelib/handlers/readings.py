"""Readings: quote, request, the lifecycle, delivery, reviews, disputes."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import ADMIN, CLIENT, PUBLIC, READER, SIGNED_IN
from chalicelib.models.readings import Reading
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.readings import (
    DeliveryIn,
    JoinOut,
    OptionalReasonIn,
    PriceOut,
    QuoteIn,
    QuoteOut,
    ReaderReviewPage,
    ReadingIn,
    ReadingOut,
    ReadingPage,
    ReadingsQuery,
    ReasonIn,
    ResolveIn,
    ReviewIn,
    reading_document,
)
from chalicelib.services import readings

readings_api = Blueprint(__name__)
_TAGS = ["readings"]


def _out(ctx: RequestContext, reading: Reading, parties: readings.Parties | None = None) -> dict[str, Any]:
    """``parties``: the page's party summaries (lists read them once per page); a single
    reading reads its own (two BatchGetItems of one key)."""
    user_id, role = ctx.user.user_id, ctx.user.role
    document = reading_document(reading, user_id, role, readings.allowed_actions(reading, user_id, role),
                                readings.delivery_for(reading, user_id))
    parties = parties or readings.party_summaries([reading])
    document["client"], document["reader"] = parties.client(reading), parties.reader(reading)
    if isinstance(document.get("review"), dict):
        document["review"] = {**document["review"], "clientName": document["client"]["displayName"]}
    return ReadingOut.model_validate(document).dump()


reading_out = _out  # a reading as its viewer sees it (the statuses routes answer with one too)


def _page(ctx: RequestContext, items: list[Reading]) -> list[dict[str, Any]]:
    """A page of readings with their parties: one BatchGetItem per table, never one per row."""
    parties = readings.party_summaries(items)
    return [_out(ctx, reading, parties) for reading in items]


@route(readings_api, "/readings/quote", "POST", access=CLIENT, body=QuoteIn, response=QuoteOut,
       errors=(400, 404, 422), tags=_TAGS, summary="Price breakdown and whether the reader can take it then")
def quote(ctx: RequestContext) -> dict:
    """cost = ceil(rate x minutes x multiplier), rate = the option's price / its duration, the
    multiplier from the catalog time span of that duration. ``available``: online (immediate),
    inside the reader's weekly schedule in their timezone and not booked (scheduled)."""
    body: QuoteIn = ctx.body
    booking = readings.prepare(body.reader_id, body.option_type, body.option_id, body.duration, body.scheduled_at)
    return {"readerId": body.reader_id,
            "option": {k: booking.option.get(k) for k in ("id", "type", "name", "duration", "price")},
            "schedule": booking.schedule,
            "scheduledStart": booking.start.isoformat().replace("+00:00", "Z") if booking.start else None,
            "scheduledEnd": booking.end.isoformat().replace("+00:00", "Z") if booking.end else None,
            "price": PriceOut.model_validate(booking.price.breakdown()).dump(),  # rate, multiplier: numbers
            "available": booking.available, "reason": booking.reason}


@route(readings_api, "/readings", "POST", access=CLIENT, body=ReadingIn, response=ReadingOut, status=201,
       errors=(400, 403, 404, 409, 422), tags=_TAGS, rate_limit="reading_requests", idempotent=True,
       summary="Request a reading: holds its price in the same transaction")
def request_reading(ctx: RequestContext) -> Any:
    """Needs the 18+ declaration (422 age_verification_required), the terms of service and
    privacy policy in force accepted (422 terms_not_accepted: ``details.documents`` names each
    one to accept with POST /me/terms-acceptance) and nothing owed (422
    payment_restricted). Send ``Idempotency-Key``: a retry returns the same reading (200);
    the same key with a different body is 409 idempotency_key_reused. A scheduled time
    already booked with the reader is 409 slot_taken; too few credits 422
    insufficient_credits. Unanswered requests expire (immediate: 10 min; video message:
    24 h; scheduled: 24 h or the start, whichever is sooner) and release the hold."""
    body: ReadingIn = ctx.body
    reading, created = readings.request(
        ctx.user.record, reader_id=body.reader_id, option_type=body.option_type, option_id=body.option_id,
        duration=body.duration, scheduled_at=body.scheduled_at, topic_id=body.topic_id, question=body.question,
        idempotency_key=ctx.request.headers.get("idempotency-key"))
    return Reply(_out(ctx, reading), status=201 if created else 200)


@route(readings_api, "/readings", "GET", access=CLIENT, query=ReadingsQuery, response=ReadingPage, errors=(400, 403),
       tags=_TAGS, summary="The caller's readings by side and tab, newest first (one Query, two BatchGets a page)")
def list_readings(ctx: RequestContext) -> dict:
    query: ReadingsQuery = ctx.query
    page = readings.list_for(ctx.user.user_id, ctx.user.role, query.as_, query.tab, limit=query.limit,
                             cursor=query.cursor)
    return page.body(_page(ctx, list(page.items)))


@route(readings_api, "/readings/{readingId}", "GET", access=SIGNED_IN, response=ReadingOut, errors=(404,),
       tags=_TAGS, summary="One reading: its two parties and admins only")
def get_reading(ctx: RequestContext, readingId: str) -> dict:
    return _out(ctx, readings.visible(readingId, ctx.user.user_id, ctx.user.role))


@route(readings_api, "/readings/{readingId}/accept", "POST", access=READER, response=ReadingOut,
       errors=(403, 404, 409), tags=_TAGS, summary="Reader: accept a request (captures the held credits)")
def accept(ctx: RequestContext, readingId: str) -> dict:
    return _out(ctx, readings.accept(readingId, ctx.user.user_id, ctx.user.role))


@route(readings_api, "/readings/{readingId}/decline", "POST", access=READER, body=ReasonIn, response=ReadingOut,
       errors=(400, 403, 404, 409), tags=_TAGS, summary="Reader: decline a request with a reason (releases the hold)")
def decline(ctx: RequestContext, readingId: str) -> dict:
    body: ReasonIn = ctx.body
    return _out(ctx, readings.decline(readingId, ctx.user.user_id, ctx.user.role, reason=body.reason))


@route(readings_api, "/readings/{readingId}/cancel", "POST", access=CLIENT, body=OptionalReasonIn,
       response=ReadingOut, errors=(400, 403, 404, 409, 422), tags=_TAGS,
       summary="Cancel: before acceptance releases the hold; after, per the cancellation policy")
def cancel(ctx: RequestContext, readingId: str) -> dict:
    """Client, requested: released in full. Client, accepted: refunded in full if the start
    is at least 24 h away, or a video message is past its delivery deadline; otherwise 422
    cancellation_window_closed. Reader, accepted: refunded to the client in full."""
    body: OptionalReasonIn = ctx.body
    return _out(ctx, readings.cancel(readingId, ctx.user.user_id, ctx.user.role, reason=body.reason))


@route(readings_api, "/readings/{readingId}/start", "POST", access=READER, response=ReadingOut,
       errors=(403, 404, 409, 422), tags=_TAGS, summary="Reader: start a call or live video (in progress)")
def start(ctx: RequestContext, readingId: str) -> dict:
    return _out(ctx, readings.start(readingId, ctx.user.user_id, ctx.user.role))


@route(readings_api, "/readings/{readingId}/complete", "POST", access=CLIENT, response=ReadingOut,
       errors=(403, 404, 409), tags=_TAGS, summary="Either party: complete a reading in progress (pays the reader)")
def complete(ctx: RequestContext, readingId: str) -> dict:
    """The reader is paid the price minus the platform fee, once."""
    return _out(ctx, readings.complete(readingId, ctx.user.user_id, ctx.user.role))


@route(readings_api, "/readings/{readingId}/no-show", "POST", access=CLIENT, response=ReadingOut,
       errors=(403, 404, 409, 422), tags=_TAGS,
       summary="Report that the other party did not show up (15 minutes after the start)")
def no_show(ctx: RequestContext, readingId: str) -> dict:
    """Reported by the client: refunded in full. Reported by the reader: the reader is paid."""
    return _out(ctx, readings.report_no_show(readingId, ctx.user.user_id, ctx.user.role))


@route(readings_api, "/readings/{readingId}/delivery", "POST", access=READER, body=DeliveryIn, response=ReadingOut,
       errors=(400, 403, 404, 409), tags=_TAGS,
       summary="Reader: attach the delivery (the uploaded video message, or the live session)")
def delivery(ctx: RequestContext, readingId: str) -> dict:
    """A video message (``uploadKey``) completes the reading and pays the reader; a late one
    is still accepted unless the client cancelled first. A call or live video gets the
    session made for both parties (each sees only their own join token; calling again
    returns the same); POST /readings/{readingId}/join does this per party, so a live
    reading needs no delivery."""
    body: DeliveryIn = ctx.body
    return _out(ctx, readings.deliver(readingId, ctx.user.user_id, ctx.user.role, upload_key=body.upload_key))


@route(readings_api, "/readings/{readingId}/join", "POST", access=CLIENT, response=JoinOut,
       errors=(403, 404, 409, 422), tags=_TAGS,
       summary="Either party: join a call or live video (the caller's own join details)")
def join(ctx: RequestContext, readingId: str) -> dict:
    """Open from 10 minutes before a scheduled start (from acceptance for an immediate
    reading) while the reading is accepted or in progress; earlier is 422
    join_window_not_open with ``details.opensAt``; a video message is 422 not_live; a
    reading not accepted or already over is 409. The first join makes the meeting (one per
    reading, whoever joins first or at once); each party gets its own attendee and join
    token, the same one on every call. A meeting the provider has ended (Chime ends an
    empty one) is replaced by a new one on the next join. Only the two parties join: any
    other client or reader gets 404, an admin 403 (the route is for clients and readers;
    an admin sees the reading through GET /readings/{readingId})."""
    return JoinOut.model_validate(readings.join(readingId, ctx.user.user_id)).dump()


@route(readings_api, "/readings/{readingId}/review", "POST", access=CLIENT, body=ReviewIn, response=ReadingOut,
       status=201, errors=(400, 403, 404, 409, 422), tags=_TAGS,
       summary="Client: review a completed reading (once, within 14 days)")
def review(ctx: RequestContext, readingId: str) -> dict:
    """A review is final: it cannot be edited or deleted afterwards, and a second one is a 409
    already_reviewed. Moderation may hide it from the public."""
    body: ReviewIn = ctx.body
    return _out(ctx, readings.review(readingId, ctx.user.user_id, ctx.user.role, rating=body.rating,
                                     comment=body.comment))


@route(readings_api, "/readings/{readingId}/dispute", "POST", access=CLIENT, body=ReasonIn, response=ReadingOut,
       status=201, errors=(400, 403, 404, 409, 422), tags=_TAGS,
       summary="Client: dispute a completed reading (within 14 days)")
def dispute(ctx: RequestContext, readingId: str) -> dict:
    body: ReasonIn = ctx.body
    return _out(ctx, readings.open_dispute(readingId, ctx.user.user_id, ctx.user.role, reason=body.reason))


@route(readings_api, "/readers/{readerId}/reviews", "GET", access=PUBLIC, query=PageQuery,
       response=ReaderReviewPage, errors=(400, 404), tags=[*_TAGS, "readers"], rate_limit="public_reads",
       summary="A reader's reviews, newest first")
def reader_reviews(ctx: RequestContext, readerId: str) -> dict:
    query: PageQuery = ctx.query
    page = readings.reviews_of(readerId, limit=query.limit, cursor=query.cursor)
    return page.body([{"readingId": r.reading_id, "rating": int(r.rating), "comment": r.comment,
                       "clientName": r.client_name, "topic": r.topic, "readingType": r.reading_type,
                       "createdAt": r.created_at} for r in page.items])


@route(readings_api, "/admin/disputes", "GET", access=ADMIN, query=PageQuery, response=ReadingPage,
       errors=(400,), tags=[*_TAGS, "admin"], summary="Open disputes, oldest first")
def admin_disputes(ctx: RequestContext) -> dict:
    query: PageQuery = ctx.query
    page = readings.list_disputes(limit=query.limit, cursor=query.cursor)
    return page.body(_page(ctx, list(page.items)))


@route(readings_api, "/admin/disputes/{disputeId}/resolve", "POST", access=ADMIN, body=ResolveIn,
       response=ReadingOut, errors=(400, 403, 404, 409, 422), tags=[*_TAGS, "admin"],
       summary="Resolve a dispute: full refund, partial refund (<= price) or reject")
def resolve(ctx: RequestContext, disputeId: str) -> dict:
    """The dispute id is the reading id. Refunds move through the ledger, taken back from the
    reader's earnings and the platform fee in proportion; both parties are notified."""
    body: ResolveIn = ctx.body
    return _out(ctx, readings.resolve_dispute(disputeId, ctx.user.user_id, outcome=body.outcome, amount=body.amount,
                                              note=body.note, request_id=ctx.request_id))
