"""Stripe events as Stripe sends them, signed and delivered to ``POST /webhooks/stripe``.

The signature is computed here from Stripe's documented scheme (``t=<unix>,v1=<hex
HMAC-SHA256(secret, "<t>.<raw body>")>``), not by the code under test; a test checks that
the app's own ``stripe_signature.header`` and the stripe package agree with it.

Object builders return the fields the services read, in the shapes of the pinned API
version (subscription periods on the items, the invoice's subscription under
``parent.subscription_details``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import secrets
import time
from typing import Any

_serial = itertools.count(1)
DAY = 24 * 3600
PERIOD_START = 1_767_225_600  # 2026-01-01T00:00:00Z
PERIOD = 30 * DAY


def unique(prefix: str) -> str:
    """A Stripe-looking id (``evt_``, ``cs_test_``, ``sub_``...) unique in this run."""
    return f"{prefix}{next(_serial):05d}{secrets.token_hex(4)}"


def webhook_secret() -> str:
    return os.environ["STRIPE_WEBHOOK_SECRET"]


def v1(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={v1(secret or webhook_secret(), timestamp, body)}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None,
          created: int | None = None) -> dict[str, Any]:
    return {"id": event_id or unique("evt_test_"), "object": "event", "api_version": "2026-10-28.endive",
            "created": created or int(time.time()), "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": event_type, "data": {"object": obj}}


def body_of(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt, separators=(",", ":")).encode()


def deliver(api: Any, evt: dict[str, Any] | None = None, *, body: bytes | None = None,
            timestamp: int | None = None, secret: str | None = None, signature: str | None = None,
            omit_signature: bool = False) -> Any:
    """POST one delivery (raw bytes, as Stripe does); ``signature`` replaces the header."""
    raw = body if body is not None else body_of(evt or {})
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if not omit_signature:
        headers["Stripe-Signature"] = signature or sign(raw, timestamp=timestamp, secret=secret)
    return api.post("/webhooks/stripe", body=raw, headers=headers)


# --- objects ------------------------------------------------------------------------------

def paid_checkout(user_id: str, *, package_id: str = "seeker", credits: int = 60, amount: int = 1799,
                  session_id: str | None = None, payment_intent: str | None = None,
                  payment_status: str = "paid") -> dict[str, Any]:
    """A completed payment-mode Checkout Session for a credit package (our metadata)."""
    session_id = session_id or unique("cs_test_")
    return {"id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": payment_status, "amount_total": amount, "currency": "usd",
            "client_reference_id": user_id, "payment_intent": payment_intent or unique("pi_"),
            "subscription": None, "customer": None,
            "metadata": {"userId": user_id, "kind": "credits", "packageId": package_id, "credits": str(credits)}}


def ordered_checkout(api: Any, user_id: str, *, package_id: str = "seeker", **overrides: Any) -> dict[str, Any]:
    """A completed session of a checkout ``user_id`` really opened (``POST /credits/checkout``):
    the app grants only what it recorded when it opened the session, never the metadata."""
    response = api.post("/credits/checkout", as_user=user_id, json_body={"packageId": package_id})
    assert response.status_code == 201, response.body
    opened = response.json_body
    return paid_checkout(user_id, package_id=package_id, credits=opened["credits"], amount=opened["amount"],
                         session_id=opened["sessionId"], **overrides)


def subscription_checkout(user_id: str, subscription_id: str, *, plan_id: str = "monthly-60",
                          amount: int = 1599) -> dict[str, Any]:
    return {"id": unique("cs_test_"), "object": "checkout.session", "mode": "subscription", "status": "complete",
            "payment_status": "paid", "amount_total": amount, "currency": "usd", "client_reference_id": user_id,
            "payment_intent": None, "subscription": subscription_id, "customer": "cus_" + user_id,
            "metadata": {"userId": user_id, "kind": "subscription", "planId": plan_id}}


def subscription(subscription_id: str, user_id: str, *, plan_id: str = "monthly-60", status: str = "active",
                 period: int = 0, cancel_at_period_end: bool = False,
                 canceled_at: int | None = None) -> dict[str, Any]:
    """Stripe's subscription object in period number ``period`` (0 = the first month)."""
    start = PERIOD_START + period * PERIOD
    return {"id": subscription_id, "object": "subscription", "customer": "cus_" + user_id, "status": status,
            "cancel_at_period_end": cancel_at_period_end, "canceled_at": canceled_at, "created": PERIOD_START,
            "metadata": {"userId": user_id, "kind": "subscription", "planId": plan_id},
            "items": {"object": "list", "data": [{"id": "si_" + subscription_id, "object": "subscription_item",
                                                   "current_period_start": start,
                                                   "current_period_end": start + PERIOD}]}}


def invoice(invoice_id: str, subscription_id: str, *, amount_paid: int = 1599, period: int = 0,
            status: str = "paid", payment_intent: str | None = None,
            billing_reason: str = "subscription_cycle") -> dict[str, Any]:
    start = PERIOD_START + period * PERIOD
    return {"id": invoice_id, "object": "invoice", "status": status, "billing_reason": billing_reason,
            "amount_paid": amount_paid, "amount_due": 1599, "currency": "usd", "payment_intent": payment_intent,
            "period_start": start, "period_end": start + PERIOD,
            "parent": {"type": "subscription_details",
                       "subscription_details": {"subscription": subscription_id, "metadata": {}}}}


def charge(charge_id: str, payment_intent: str, *, amount: int = 1799, amount_refunded: int = 0) -> dict[str, Any]:
    return {"id": charge_id, "object": "charge", "payment_intent": payment_intent, "amount": amount,
            "amount_refunded": amount_refunded, "refunded": amount_refunded >= amount, "currency": "usd",
            "status": "succeeded"}


def refund(refund_id: str, charge_id: str, payment_intent: str, *, amount: int, status: str = "succeeded",
           created: int | None = None) -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "charge": charge_id, "payment_intent": payment_intent,
            "amount": amount, "currency": "usd", "status": status, "created": created or int(time.time())}


def dispute(dispute_id: str, charge_id: str, payment_intent: str, *, amount: int = 1799,
            status: str = "needs_response") -> dict[str, Any]:
    return {"id": dispute_id, "object": "dispute", "charge": charge_id, "payment_intent": payment_intent,
            "amount": amount, "currency": "usd", "reason": "fraudulent", "status": status}
