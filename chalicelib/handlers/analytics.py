"""``POST /events``: the app's analytics events, in batches (``PUBLIC_OR_SIGNED_IN``: anyone
may send; a bearer token, when sent, must be valid and names the caller)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC_OR_SIGNED_IN
from chalicelib.schemas.analytics import EventsIn, EventsOut
from chalicelib.services import analytics

analytics_api = Blueprint(__name__)


@route(analytics_api, "/events", "POST", access=PUBLIC_OR_SIGNED_IN, body=EventsIn, response=EventsOut,
       errors=(400, 401, 413, 415, 503), tags=["analytics"], rate_limit="analytics",
       summary="Record a batch of up to 50 client events")
def post_events(ctx: RequestContext) -> EventsOut:
    """Each event is validated against the schema of its ``type``; one bad event rejects the
    whole batch with a 400 whose ``details.fields[].path`` names the event's index and field
    (``events.3.readerId``; ``events.3.type`` for a missing or unknown type), each with a
    sentence, and nothing is stored. Without a bearer token ``sessionId`` is required. Sending a batch
    again (after a timeout) stores and counts its events once. No IP address or user agent
    is kept; events expire after 90 days. ``view_reader`` counts toward the reader's profile
    views (not your own profile). A suspended account's events are kept as anonymous ones (no
    user id, by ``sessionId``; without one they are not stored: ``accepted`` is 0)."""
    body: EventsIn = ctx.body
    events = [analytics.ClientEvent(type=event.type, event_id=event.event_id, occurred_at=event.occurred_at,
                                    fields=event.model_dump(mode="json", by_alias=True,
                                                            exclude={"type", "event_id", "occurred_at"}))
              for event in body.events]
    principal = ctx.principal if ctx.principal is not None and ctx.principal.status != "suspended" else None
    if principal is None and ctx.principal is not None and body.session_id is None:
        return EventsOut(accepted=0, profile_views=0)  # suspended, no session to file them under
    recorded = analytics.record(events, user_id=principal.user_id if principal else None,
                                role=principal.role if principal else None, session_id=body.session_id)
    return EventsOut(accepted=recorded.accepted, profile_views=recorded.profile_views)
