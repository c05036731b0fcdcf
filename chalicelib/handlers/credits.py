"""Credits: balance and history, buying packages, subscriptions, and Stripe's webhook.
(The local stand-in for Stripe Checkout is ``handlers/local_checkout.py``, local only.)"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import PUBLIC, SIGNED_IN
from chalicelib.models.base import plain
from chalicelib.models.billing import Subscription
from chalicelib.pagination import paginate
from chalicelib.schemas.credits import (
    CheckoutIn,
    CheckoutOut,
    CreditsOut,
    CreditsQuery,
    StripeWebhookAck,
    SubscribeIn,
    SubscriptionCredits,
    SubscriptionMeOut,
    SubscriptionOut,
)
from chalicelib.services import ledger, payments

credits_api = Blueprint(__name__)

_CHANGE_NAMES = {"available": "available", "held": "held", "earnings": "earnings", "payable": "payable",
                 "receivable": "owed"}


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
                    "payable": balance.payable, "owed": balance.owed, "restricted": balance.restricted},
        **page.body([_line(line) for line in page.items]),
    }


@route(credits_api, "/credits/checkout", "POST", access=SIGNED_IN, body=CheckoutIn, response=CheckoutOut,
       status=201, errors=(400, 404, 503), tags=["credits"], rate_limit="checkout", idempotent=True,
       summary="Buy a credit package: creates a Stripe Checkout Session and returns its URL")
def post_checkout(ctx: RequestContext) -> CheckoutOut:
    """Credits are granted when Stripe reports the payment (webhook), not on return to the
    success URL. Send an ``Idempotency-Key`` header so a retried or double-clicked request
    returns the same Checkout Session."""
    body: CheckoutIn = ctx.body
    return _checkout_out(payments.start_checkout(ctx.user.record, body.package_id,
                                                 client_key=ctx.request.headers.get("idempotency-key"),
                                                 request_id=ctx.request_id))


@route(credits_api, "/subscriptions", "POST", access=SIGNED_IN, body=SubscribeIn, response=CheckoutOut,
       status=201, errors=(400, 404, 409, 503), tags=["credits"], rate_limit="checkout", idempotent=True,
       summary="Subscribe to a plan: Stripe Checkout in subscription mode")
def post_subscription(ctx: RequestContext) -> CheckoutOut:
    """409 already_subscribed while a subscription is active, trialing or past due. Each
    paid invoice grants the plan's credits once; unused ones roll over up to the plan's cap."""
    body: SubscribeIn = ctx.body
    return _checkout_out(payments.start_subscription(ctx.user.record, body.plan_id,
                                                     client_key=ctx.request.headers.get("idempotency-key"),
                                                     request_id=ctx.request_id))


def _checkout_out(started: payments.CheckoutStarted) -> CheckoutOut:
    return CheckoutOut(session_id=started.session_id, checkout_url=started.checkout_url, amount=started.amount,
                       currency=started.currency, package_id=started.package_id, plan_id=started.plan_id,
                       credits=started.credits)


def _subscription_out(record: Subscription, available: int) -> SubscriptionOut:
    included, used, rollover = payments.period_credits(record, available)
    return SubscriptionOut(
        subscription_id=record.subscription_id, plan_id=record.plan_id, status=record.status,
        cancel_at_period_end=bool(record.cancel_at_period_end), current_period_start=record.current_period_start,
        current_period_end=record.current_period_end, canceled_at=record.canceled_at,
        credits_granted=int(record.credits_granted or 0), rollover_credits=int(record.bucket or 0),
        version=int(record.version or 0),
        credits=SubscriptionCredits(included=included, used=used, rollover=rollover),
        id=record.subscription_id, user_id=record.user_id, stripe_subscription_id=record.subscription_id,
        cancelled_date=record.canceled_at, created_at=record.created_at, updated_at=record.updated_at,
        # Stripe's current period of a trialing subscription is the trial.
        trial_end=record.current_period_end if record.status == "trialing" else None)


def _available(ctx: RequestContext) -> int:
    """The caller's balance as the request's authentication read it."""
    record = ctx.user.record
    return int(record.credits_available or 0) if record is not None else 0


@route(credits_api, "/subscriptions/me", "GET", access=SIGNED_IN, response=SubscriptionMeOut, tags=["credits"],
       summary="The caller's subscription (current one, else the latest; null if none)")
def get_my_subscription(ctx: RequestContext) -> dict:
    record = payments.latest_subscription(ctx.user.user_id)
    # Spelled out: the response models drop null fields, and here null is the answer.
    return {"subscription": _subscription_out(record, _available(ctx)).dump() if record else None}


@route(credits_api, "/subscriptions/me", "DELETE", access=SIGNED_IN, response=SubscriptionOut,
       errors=(404, 503), tags=["credits"], summary="Cancel the subscription at the end of the paid period")
def cancel_my_subscription(ctx: RequestContext) -> SubscriptionOut:
    """Idempotent: cancelling again answers the same. The period's credits stay; no refund."""
    return _subscription_out(payments.cancel_subscription(ctx.user.user_id), _available(ctx))


@route(credits_api, "/webhooks/stripe", "POST", access=PUBLIC, response=StripeWebhookAck, tags=["webhooks"],
       errors=(400, 413, 503), summary="Stripe events (signed): checkout, invoices, subscriptions, refunds, disputes")
def stripe_webhook(ctx: RequestContext) -> StripeWebhookAck:
    """Verifies ``Stripe-Signature`` over the raw body (300 s tolerance either way; any
    ``v1`` may match); a bad signature is a 400 and nothing is recorded. The event id is
    recorded permanently and the event queued in one transaction: a replay answers
    ``duplicate: true`` and does nothing; a failure to record is a 503 so Stripe retries."""
    receipt = payments.receive_webhook(ctx.request.raw_body or b"", ctx.request.headers.get("stripe-signature"))
    return StripeWebhookAck(received=True, duplicate=receipt.duplicate, handled=receipt.handled)
