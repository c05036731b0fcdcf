"""The local stand-in for what happens to a transfer after we made it (payments without a
Stripe account): the local transfers page reverses one (``transfer.reversed``, as an
operator would in Stripe's dashboard) or plays the reader's bank refusing the payout of it
(the connected account's ``payout.failed``). The events are signed with the webhook secret
and go through the real webhook path, as Stripe's deliveries do."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.integrations import stripe_signature
from chalicelib.integrations.payments import LocalGateway, gateway
from chalicelib.models.base import utcnow
from chalicelib.services.payments.local import Delivery
from chalicelib.services.payments.stripe_events import receive_webhook

ACTIONS = ("reverse", "fail_payout")


def _local() -> LocalGateway:
    local = gateway()
    if not isinstance(local, LocalGateway):
        raise NotFound("transfer")
    return local


def local_transfers() -> list[dict[str, Any]]:
    """Every transfer the local gateway made, newest first."""
    return list(reversed(list(_local().transfers.values())))


def act_on_transfer(transfer_id: str, action: str, *, now: datetime | None = None) -> list[Delivery]:
    """The page's buttons: ``reverse`` or ``fail_payout``. 404 for an unknown transfer, 409
    for one reversed already."""
    local = _local()
    if transfer_id not in local.transfers:
        raise NotFound("transfer")
    moment = now or utcnow()
    delivered = []
    for event in local.transfer_events(transfer_id, action, int(moment.timestamp())):
        body = json.dumps(event).encode()
        header = stripe_signature.header(get_settings().stripe_webhook_secret, int(moment.timestamp()), body)
        receipt = receive_webhook(body, header, now=moment)
        delivered.append(Delivery(event_id=event["id"], type=event["type"], duplicate=receipt.duplicate))
    if not delivered:
        raise Conflict("This transfer was reversed already.", code="transfer_reversed")
    return delivered
