"""Stripe's webhook: receipt of an event, and its dispatch to the concern that applies it.

The webhook request does the minimum: verify the signature, record the event id (a
permanent conditional put) and put the event in the outbox, in one transaction; the
domain-events worker then applies it (``process``). Every grant and reversal has a
deterministic ledger entry id, so redelivered, replayed or reordered events apply once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, DependencyUnavailable
from chalicelib.integrations import stripe_signature
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import events, outbox
from chalicelib.services.payments import checkout, reversals, subscriptions
from chalicelib.services.payouts import accounts as payout_accounts
from chalicelib.services.tx import ConditionsFailed, Contention, Transaction, atomically

_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_]{1,200}$")

HANDLERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "checkout.session.completed": checkout.checkout_completed,
    "checkout.session.async_payment_succeeded": checkout.async_payment_succeeded,
    "checkout.session.async_payment_failed": checkout.async_payment_failed,
    "customer.subscription.created": subscriptions.subscription_changed,
    "customer.subscription.updated": subscriptions.subscription_changed,
    "customer.subscription.deleted": subscriptions.subscription_changed,
    "invoice.paid": subscriptions.invoice_paid,
    "invoice.payment_failed": subscriptions.invoice_failed,
    "charge.refunded": reversals.charge_refunded,
    "refund.failed": reversals.refund_failed,
    "charge.dispute.created": reversals.dispute_created,
    "charge.dispute.closed": reversals.dispute_closed,
}


@dataclass(frozen=True)
class EventInfo:
    """What an event says beside its object: handlers that order events or act for a
    connected account take it (``EVENT_HANDLERS``)."""

    event_id: str
    created: int | None  # unix seconds
    account: str | None  # a Connect event's connected account ("acct_..."); None for our own


def _account_updated(account: dict[str, Any], info: EventInfo) -> None:
    payout_accounts.account_updated(account, created=info.created, event_id=info.event_id)


def _transfer_reversed(transfer: dict[str, Any], info: EventInfo) -> None:
    from chalicelib.services.payouts import transfers

    transfers.transfer_reversed(transfer)


def _payout_failed(bank_payout: dict[str, Any], info: EventInfo) -> None:
    """A connected account's payout to the reader's bank failed (``account`` names it)."""
    from chalicelib.services.payouts import transfers

    transfers.bank_payout_failed(bank_payout, info.account)


# Handlers that take the event's ``EventInfo`` too (Stripe Connect: readers' payout accounts).
EVENT_HANDLERS: dict[str, Callable[[dict[str, Any], EventInfo], Any]] = {
    "account.updated": _account_updated,
    "transfer.reversed": _transfer_reversed,
    "payout.failed": _payout_failed,
}
HANDLED_EVENTS = frozenset(HANDLERS) | frozenset(EVENT_HANDLERS)


@dataclass(frozen=True)
class WebhookReceipt:
    duplicate: bool  # this event id was recorded before: nothing done again
    handled: bool  # false for event types we do not use


def receive_webhook(raw_body: bytes, signature_header: str | None, *, now: datetime | None = None) -> WebhookReceipt:
    """Verify, record, enqueue. Raises BadRequest (400) for a bad signature or event,
    DependencyUnavailable (503, Stripe retries) if recording fails."""
    moment = now or utcnow()
    try:
        settings = get_settings()
        # Connect events (a connected account's) come from the Connect endpoint, with its own secret.
        secrets = settings.stripe_webhook_secrets + tuple(filter(None, [settings.stripe_connect_webhook_secret]))
        stripe_signature.verify(raw_body, signature_header, secrets, now=moment)
    except stripe_signature.InvalidSignature as exc:
        raise BadRequest(str(exc), code="invalid_signature") from exc
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("The event is not JSON.", code="invalid_event") from exc
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and _EVENT_ID.match(event["id"])
            and isinstance(event.get("type"), str) and isinstance((event.get("data") or {}).get("object"), dict)):
        raise BadRequest("This is not a Stripe event (id, type, data.object).", code="invalid_event")
    handled = event["type"] in HANDLED_EVENTS

    def record(tx: Transaction) -> None:
        tx.save(ProcessedWebhook(event_key=f"stripe#{event['id']}", source="stripe", event_type=event["type"],
                                 received_at=iso(moment)),
                condition=ProcessedWebhook.event_key.does_not_exist(), label="webhook")
        if handled:
            outbox.emit(tx, "stripe.event_received", eventId=event["id"], type=event["type"],
                        created=event.get("created"), account=event.get("account"), object=event["data"]["object"])

    try:
        atomically(record)
    except ConditionsFailed as failed:
        if "webhook" in failed:
            return WebhookReceipt(duplicate=True, handled=handled)
        raise _not_recorded() from failed
    except (Contention, PynamoDBException) as exc:
        raise _not_recorded() from exc
    return WebhookReceipt(duplicate=False, handled=handled)


def _not_recorded() -> DependencyUnavailable:
    return DependencyUnavailable("The event could not be recorded; Stripe will retry.", code="not_recorded")


@events.consumer("stripe.event_received")
def _on_stripe_event(message: dict[str, Any]) -> None:
    data = message["data"]
    process(data["type"], data["object"], event_id=data.get("eventId", ""), created=data.get("created"),
            account=data.get("account"))


def process(event_type: str, obj: dict[str, Any], *, event_id: str = "", created: int | None = None,
            account: str | None = None) -> None:
    """Apply one Stripe event. Idempotent; safe in any order."""
    handler = HANDLERS.get(event_type)
    event_handler = EVENT_HANDLERS.get(event_type)
    if handler is None and event_handler is None:
        return
    logger.info("stripe event", extra={"eventId": event_id, "type": event_type, "objectId": obj.get("id")})
    if event_handler is not None:
        event_handler(obj, EventInfo(event_id=event_id, created=created, account=account))
    else:
        assert handler is not None
        handler(obj)
