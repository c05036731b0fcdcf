"""The local stand-in for Stripe Checkout (payments without a Stripe account): paying a
session delivers Stripe-format events, signed with the webhook secret, through the real
webhook path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.integrations import stripe_signature
from chalicelib.integrations.payments import LocalGateway, gateway
from chalicelib.models.base import utcnow
from chalicelib.services.payments.stripe_events import receive_webhook


@dataclass(frozen=True)
class Delivery:
    event_id: str
    type: str
    duplicate: bool


def local_session(session_id: str) -> dict[str, Any]:
    """The local gateway's checkout session; NotFound when there is none (or no local gateway)."""
    local = gateway()
    session = local.session(session_id) if isinstance(local, LocalGateway) else None
    if session is None:
        raise NotFound("checkout session")
    return session


def complete_local_checkout(session_id: str, outcome: str) -> list[Delivery]:
    """The local page's "pay" button: the events Stripe would send, signed, through
    ``receive_webhook`` exactly as Stripe's deliveries arrive. Conflict when complete."""
    local_session(session_id)
    local = gateway()
    assert isinstance(local, LocalGateway)
    now = utcnow()
    delivered = []
    for event in local.complete(session_id, outcome, int(now.timestamp())):
        body = json.dumps(event).encode()
        header = stripe_signature.header(get_settings().stripe_webhook_secret, int(now.timestamp()), body)
        receipt = receive_webhook(body, header, now=now)
        delivered.append(Delivery(event_id=event["id"], type=event["type"], duplicate=receipt.duplicate))
    if not delivered:
        raise Conflict("This checkout session is already complete.", code="session_complete")
    return delivered
