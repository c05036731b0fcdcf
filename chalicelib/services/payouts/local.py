"""The local stand-in for Stripe's Connect onboarding (payments without a Stripe account):
finishing onboarding on the local page delivers the ``account.updated`` Stripe would send,
signed with the webhook secret, through the real webhook path."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import NotFound
from chalicelib.integrations import stripe_signature
from chalicelib.integrations.payments import LocalGateway, gateway
from chalicelib.models.base import utcnow
from chalicelib.services.payments.local import Delivery
from chalicelib.services.payments.stripe_events import receive_webhook

OUTCOMES = ("complete", "requirements_due")


def local_account(account_id: str) -> dict[str, Any]:
    """The local gateway's Connect account (with ``_return_url``, where the page sends the
    reader back to); NotFound when there is none (or no local gateway)."""
    local = gateway()
    account = local.account(account_id) if isinstance(local, LocalGateway) else None
    if account is None:
        raise NotFound("connected account")
    return account


def finish_local_onboarding(account_id: str, outcome: str, *, now: datetime | None = None) -> list[Delivery]:
    """The local page's "submit" button: the ``account.updated`` Stripe would send, signed,
    through ``receive_webhook`` exactly as Stripe's deliveries arrive."""
    local_account(account_id)
    local = gateway()
    assert isinstance(local, LocalGateway)
    moment = now or utcnow()
    delivered = []
    for event in local.finish_onboarding(account_id, outcome, int(moment.timestamp())):
        body = json.dumps(event).encode()
        header = stripe_signature.header(get_settings().stripe_webhook_secret, int(moment.timestamp()), body)
        receipt = receive_webhook(body, header, now=moment)
        delivered.append(Delivery(event_id=event["id"], type=event["type"], duplicate=receipt.duplicate))
    return delivered
