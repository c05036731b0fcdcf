"""``POST /webhooks/clerk``: Clerk's user events, delivered and signed by Svix."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC
from chalicelib.schemas.clerk import ClerkWebhookAck
from chalicelib.services import clerk_sync

clerk_webhooks_api = Blueprint(__name__)


# No ``body=``: the signature covers the raw bytes, so the service verifies them before any parsing.
@route(clerk_webhooks_api, "/webhooks/clerk", "POST", access=PUBLIC, response=ClerkWebhookAck, tags=["webhooks"],
       errors=(400, 413), summary="Clerk user events (Svix-signed): user.created, user.updated, user.deleted")
def clerk_webhook(ctx: RequestContext) -> ClerkWebhookAck:
    """Verifies the ``svix-id``/``svix-timestamp``/``svix-signature`` headers over the raw body
    (5-minute tolerance); a bad or missing signature is a 400 ``invalid_signature`` and nothing
    is written. Replays (same ``svix-id``) and older states are acknowledged and change nothing;
    other event types are acknowledged and ignored."""
    outcome = clerk_sync.receive(ctx.request.raw_body or b"", ctx.request.headers)
    return ClerkWebhookAck(received=True, outcome=outcome)
