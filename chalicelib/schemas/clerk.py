"""The acknowledgement ``POST /webhooks/clerk`` answers. Clerk's own payloads are read in
chalicelib/integrations/clerk_events.py."""

from __future__ import annotations

from pydantic import Field

from chalicelib.integrations.clerk_events import WebhookOutcome
from chalicelib.schemas.common import ApiModel


class ClerkWebhookAck(ApiModel):
    """The acknowledgement of a Clerk webhook delivery."""
    received: bool = True
    outcome: WebhookOutcome = Field(description="applied; stale (older than the state we hold, or the user "
                                                "is deleted); replay (this svix-id was processed); ignored "
                                                "(an event type we do not use)")
