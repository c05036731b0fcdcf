"""Credits: balance and history, buying packages, subscriptions, Stripe's webhook, and the
local stand-in for Stripe Checkout."""

from __future__ import annotations

import html

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC, SIGNED_IN
from chalicelib.errors import NotFound
from chalicelib.models.base import plain
from chalicelib.models.billing import Subscription
from chalicelib.pagination import paginate
from chalicelib.schemas.credits import (
    CheckoutIn,
    CheckoutOut,
    CreditsOut,
    CreditsQuery,
    LocalCheckoutIn,
    LocalCheckoutOut,
    StripeWebhookAck,
    SubscribeIn,
    SubscriptionMeOut,
    SubscriptionOut,
)
from chalicelib.services import ledger, payments

credits_api = Blueprint(__name__)

_CHANGE_NAMES = {"available": "available", "held": "held", "earnings": "earnings", "receivable": "owed"}


def _line(line: object) -> dict:
    changes = {}
    for kind, delta in plain(line.changes).items():  # type: ignore[attr-defined]
        # The receivable is stored as a (non-positive) balance; "owed" is its negation.
        changes[_CHANGE_NAMES.get(kind, kind)] = -int(delta) if kind == "receivable" else int(delta)
    return {"entryId": line.entry_id, "kind": line.kind, "createdAt": line.created_at,  # type: ignore[attr-defined]
            "changes": changes, "reference": line.ref, "description": line.memo}  # type: ignore[attr-defined]


@route(credits_api, "/credits", "GET", access=SIGNED_IN, query=CreditsQuery, response=CreditsOut, errors=(400,),
       tags=["credits"], summary="The caller's balance and ledger history, newest first")
def get_credits(ctx: RequestContext) -> dict:
    """The balance comes from the caller's account (no summing); the history is one Query
    over the caller's ledger lines, paginated with ``cursor``."""
    balance = ledger.balance_of(ctx.user.record)
    page = paginate(ledger.history_query(ctx.user.user_id), ctx.query, scope=f"GET /credits:{ctx.user.user_id}")
    return {
        "balance": {"available": balance.available, "held": balance.held, "earnings": balance.earnings,
                    "owed": balance.owed, "restricted": balance.restricted},
        "data": [_line(line) for line in page.items],
        "pagination": page.meta(),
    }


@route(credits_api, "/credits/checkout", "POST", access=SIGNED_IN, body=CheckoutIn, response=CheckoutOut,
       status=201, errors=(400, 404, 503), tags=["credits"],
       summary="Buy a credit package: creates a Stripe Checkout Session and returns its URL")
def post_checkout(ctx: RequestContext) -> dict:
    """Credits are granted when Stripe reports the payment (webhook), not on return to the
    success URL. Send an ``Idempotency-Key`` header so a retried or double-clicked request
    returns the same Checkout Session."""
    body: CheckoutIn = ctx.body
    return payments.start_checkout(ctx.user.record, body.package_id,
                                   client_key=ctx.request.headers.get("idempotency-key"), request_id=ctx.request_id)


@route(credits_api, "/subscriptions", "POST", access=SIGNED_IN, body=SubscribeIn, response=CheckoutOut,
       status=201, errors=(400, 404, 409, 503), tags=["credits"],
       summary="Subscribe to a plan: Stripe Checkout in subscription mode")
def post_subscription(ctx: RequestContext) -> dict:
    """409 already_subscribed while a subscription is active, trialing or past due. Each
    paid invoice grants the plan's credits once; unused ones roll over up to the plan's cap."""
    body: SubscribeIn = ctx.body
    return payments.start_subscription(ctx.user.record, body.plan_id,
                                       client_key=ctx.request.headers.get("idempotency-key"),
                                       request_id=ctx.request_id)


def _subscription_out(record: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        subscription_id=record.subscription_id, plan_id=record.plan_id, status=record.status,
        cancel_at_period_end=bool(record.cancel_at_period_end), current_period_start=record.current_period_start,
        current_period_end=record.current_period_end, canceled_at=record.canceled_at,
        credits_granted=int(record.credits_granted or 0), rollover_credits=int(record.bucket or 0))


@route(credits_api, "/subscriptions/me", "GET", access=SIGNED_IN, response=SubscriptionMeOut, tags=["credits"],
       summary="The caller's subscription (current one, else the latest; null if none)")
def get_my_subscription(ctx: RequestContext) -> dict:
    record = payments.latest_subscription(ctx.user.user_id)
    # Spelled out: the response models drop null fields, and here null is the answer.
    return {"subscription": _subscription_out(record).dump() if record else None}


@route(credits_api, "/subscriptions/me", "DELETE", access=SIGNED_IN, response=SubscriptionOut,
       errors=(404, 503), tags=["credits"], summary="Cancel the subscription at the end of the paid period")
def cancel_my_subscription(ctx: RequestContext) -> SubscriptionOut:
    """Idempotent: cancelling again answers the same. The period's credits stay; no refund."""
    return _subscription_out(payments.cancel_subscription(ctx.user.user_id))


@route(credits_api, "/webhooks/stripe", "POST", access=PUBLIC, response=StripeWebhookAck, tags=["webhooks"],
       errors=(400, 413, 503), summary="Stripe events (signed): checkout, invoices, subscriptions, refunds, disputes")
def stripe_webhook(ctx: RequestContext) -> StripeWebhookAck:
    """Verifies ``Stripe-Signature`` over the raw body (300 s tolerance either way; any
    ``v1`` may match); a bad signature is a 400 and nothing is recorded. The event id is
    recorded permanently and the event queued in one transaction: a replay answers
    ``duplicate: true`` and does nothing; a failure to record is a 503 so Stripe retries."""
    ack = payments.receive_webhook(ctx.request.raw_body or b"", ctx.request.headers.get("stripe-signature"))
    return StripeWebhookAck(**ack)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auralumic local checkout</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}}</style></head>
<body><h1>Local checkout</h1>
<p>No money moves here: this page stands in for Stripe Checkout on the local stack. Paying sends
signed Stripe events to <code>POST /webhooks/stripe</code>, exactly as Stripe would.</p>
<p><strong>{name}</strong><br>{amount} {currency}{interval}</p>
<p id="actions"><button id="pay" onclick="finish('paid')">Pay</button>
<button id="fail" onclick="finish('failed')">Fail the payment</button></p>
<pre id="result"></pre>
<script>
async function finish(outcome) {{
  const response = await fetch(location.pathname, {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{outcome}})}});
  const body = await response.json();
  document.getElementById("result").textContent = JSON.stringify(body, null, 2);
  if (response.ok && outcome === "paid") {{ setTimeout(() => location.href = {success}, 1500); }}
}}
</script></body></html>"""


def _local_session(session_id: str) -> dict:
    from chalicelib.integrations.payments import LocalGateway, gateway

    local = gateway()
    session = local.session(session_id) if isinstance(local, LocalGateway) else None
    if session is None:
        raise NotFound("checkout session")
    return session


@route(credits_api, "/local/checkout/{sessionId}", "GET", access=PUBLIC, content_type="text/html",
       errors=(404,), tags=["local"], summary="Local stack only: the stand-in for Stripe's Checkout page")
def local_checkout_page(ctx: RequestContext, sessionId: str) -> str:
    """404 outside the local stack (where Checkout is Stripe's own page)."""
    session = _local_session(sessionId)
    item = session["line_item"]
    success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", sessionId)
    return _PAGE.format(name=html.escape(item["name"]), amount=f"{item['amount'] / 100:.2f}",
                        currency=html.escape(session["currency"].upper()),
                        interval=f" per {html.escape(item['interval'])}" if item.get("interval") else "",
                        success=html.escape(repr(success)))


@route(credits_api, "/local/checkout/{sessionId}", "POST", access=PUBLIC, body=LocalCheckoutIn,
       response=LocalCheckoutOut, errors=(404, 409), tags=["local"],
       summary="Local stack only: pay (or fail) a checkout session; delivers signed Stripe events")
def local_checkout_complete(ctx: RequestContext, sessionId: str) -> LocalCheckoutOut:
    """The events go through the real webhook path (signature, record, outbox); the local
    workers then grant the credits within a second or two. 409 when already completed."""
    body: LocalCheckoutIn = ctx.body
    _local_session(sessionId)
    delivered = payments.complete_local_checkout(sessionId, body.outcome)
    return LocalCheckoutOut.model_validate({"sessionId": sessionId, "outcome": body.outcome, "events": delivered})
