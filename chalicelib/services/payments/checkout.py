"""Stripe Checkout: opening a session for a credit package or a plan, and granting a paid
package.

Opening a package's session records a ``CheckoutOrder`` (session -> buyer, package,
credits, price). A paid session grants exactly that order, and only when Stripe collected
its price: the event's metadata never decides who gets credits or how many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib import telemetry
from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.integrations.payments import LineItem, gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.billing import CheckoutOrder, Purchase
from chalicelib.models.users import User
from chalicelib.services import catalog, outbox
from chalicelib.services.payments.shared import current_subscription, grant_bought
from chalicelib.services.payments.subscriptions import sync_subscription
from chalicelib.services.tx import Transaction

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class CheckoutStarted:
    """A Checkout Session to send the browser to."""

    session_id: str
    checkout_url: str
    amount: int  # minor units
    currency: str
    package_id: str | None = None
    plan_id: str | None = None
    credits: int | None = None


def _idempotency_key(kind: str, user_id: str, item_id: str, client_key: str | None, request_id: str) -> str:
    """Stripe's idempotency key for our request: the client's Idempotency-Key when sent
    (a double-click gets the same Checkout Session), else this request's id."""
    if client_key is not None and not _IDEMPOTENCY_KEY.match(client_key):
        raise BadRequest("Idempotency-Key must be 1-200 printable ASCII characters.", code="invalid_idempotency_key")
    return f"auralumic:{kind}:{user_id}:{item_id}:{client_key or request_id}"


def has_request(user_id: str, client_key: str) -> bool:
    """Whether this caller's checkout request with this Idempotency-Key already opened a
    session (one read): its retry is a replay, let through past the rate limit."""
    return _IDEMPOTENCY_KEY.match(client_key) is not None and \
        CheckoutOrder.find_request(user_id, client_key) is not None


def _check_request(user_id: str, client_key: str | None, kind: str, item_id: str) -> None:
    """409 when the caller's Idempotency-Key already opened a session for something else."""
    if client_key is None or not _IDEMPOTENCY_KEY.match(client_key):
        return
    first = CheckoutOrder.find_request(user_id, client_key)
    if first is not None and (first.kind, first.item_id) != (kind, item_id):
        raise Conflict("This Idempotency-Key was used for a different request.", code="idempotency_key_reused")


def _record_request(user_id: str, client_key: str | None, kind: str, item_id: str, session_id: str,
                    credits: int, amount: int, currency: str) -> None:
    if client_key is None:
        return
    CheckoutOrder(order_key=CheckoutOrder.request_key_of(user_id, client_key), session_id=session_id,
                  user_id=user_id, kind=kind, item_id=item_id, credits=credits, amount=amount, currency=currency,
                  created_at=iso(utcnow())).save()


def start_checkout(user: User, package_id: str, *, client_key: str | None, request_id: str) -> CheckoutStarted:
    package = catalog.get_active("credit_package", package_id)
    if package is None:
        raise NotFound("credit package", details={"packageId": package_id})
    _check_request(user.user_id, client_key, "credits", package_id)
    credits, price = int(package["credits"]), int(package["price"])
    currency = str(package.get("currency", "usd")).lower()
    metadata = {"userId": user.user_id, "kind": "credits", "packageId": package_id, "credits": str(credits)}
    app = get_settings().app_base_url
    session = gateway().create_checkout(
        mode="payment",
        item=LineItem(name=f"{package['name']} - {credits} credits", amount=price, currency=currency),
        metadata=metadata, customer_email=user.email,
        success_url=f"{app}/credits?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{app}/credits?checkout=cancelled",
        idempotency_key=_idempotency_key("checkout", user.user_id, package_id, client_key, request_id),
    )
    session_id = str(session["id"])
    # Written before the URL is handed out: a session nobody can pay has no order, and a
    # retried request (the same session) writes the same order again.
    CheckoutOrder(order_key=CheckoutOrder.key_of(session_id), session_id=session_id, user_id=user.user_id,
                  kind="credits", item_id=package_id, credits=credits, amount=price, currency=currency,
                  created_at=iso(utcnow())).save(
        condition=CheckoutOrder.order_key.does_not_exist()
        | ((CheckoutOrder.user_id == user.user_id) & (CheckoutOrder.item_id == package_id)))
    _record_request(user.user_id, client_key, "credits", package_id, session_id, credits, price, currency)
    return CheckoutStarted(session_id=session_id, checkout_url=str(session["url"]), package_id=package_id,
                           credits=credits, amount=price, currency=currency)


def start_subscription(user: User, plan_id: str, *, client_key: str | None, request_id: str) -> CheckoutStarted:
    plan = catalog.get_active("plan", plan_id)
    if plan is None:
        raise NotFound("plan", details={"planId": plan_id})
    _check_request(user.user_id, client_key, "subscription", plan_id)
    current = current_subscription(user.user_id)
    if current is not None:
        raise Conflict("You already have a subscription; cancel it before choosing another plan.",
                       code="already_subscribed", details={"subscriptionId": current.subscription_id})
    app = get_settings().app_base_url
    session = gateway().create_checkout(
        mode="subscription",
        item=LineItem(name=str(plan["name"]), amount=int(plan["price"]), currency=str(plan.get("currency", "usd")),
                      recurring_interval="month"),
        metadata={"userId": user.user_id, "kind": "subscription", "planId": plan_id},
        customer_email=user.email,
        success_url=f"{app}/subscription?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{app}/subscription?checkout=cancelled",
        idempotency_key=_idempotency_key("subscribe", user.user_id, plan_id, client_key, request_id),
        trial_days=int(plan.get("trialDays") or 0),
    )
    _record_request(user.user_id, client_key, "subscription", plan_id, str(session["id"]), 0, int(plan["price"]),
                    str(plan.get("currency", "usd")))
    return CheckoutStarted(session_id=str(session["id"]), checkout_url=str(session["url"]), plan_id=plan_id,
                           amount=int(plan["price"]), currency=str(plan.get("currency", "usd")))


# --- Stripe's checkout events -----------------------------------------------------------

def checkout_completed(session: dict[str, Any]) -> None:
    if session.get("mode") == "subscription":
        if session.get("subscription"):
            sync_subscription(str(session["subscription"]))
        return
    if session.get("payment_status") == "paid":
        grant_paid_checkout(session)
    # "unpaid" with a delayed method: wait for checkout.session.async_payment_succeeded.


def async_payment_succeeded(session: dict[str, Any]) -> None:
    if session.get("mode") == "payment":
        grant_paid_checkout(session)
    elif session.get("subscription"):
        sync_subscription(str(session["subscription"]))


def async_payment_failed(session: dict[str, Any]) -> None:
    logger.info("checkout payment failed; nothing granted", extra={"sessionId": session.get("id")})


def grant_paid_checkout(session: dict[str, Any]) -> bool:
    """Grant the order of a paid session: its buyer, its package's credits. Nothing (an
    error logged, the event acknowledged) for a session we did not open or an amount that
    is not the order's price. True when granted now."""
    session_id = str(session.get("id") or "")
    order = CheckoutOrder.find(session_id) if session_id else None
    if order is None or order.kind != "credits":
        logger.error("paid checkout session with no credits order; nothing granted", extra={"sessionId": session_id})
        return False
    paid, currency = int(session.get("amount_total") or 0), str(session.get("currency") or "").lower()
    if (paid, currency) != (int(order.amount), order.currency.lower()):
        logger.error("checkout paid amount is not the order's price; nothing granted",
                     extra={"sessionId": session_id, "paid": paid, "currency": currency,
                            "price": int(order.amount), "priceCurrency": order.currency})
        return False
    metadata = session.get("metadata") or {}
    if metadata.get("userId", order.user_id) != order.user_id or \
            str(metadata.get("credits", order.credits)) != str(int(order.credits)):
        logger.warning("checkout metadata disagrees with its order; the order decides",
                       extra={"sessionId": session_id, "metadataUserId": metadata.get("userId"),
                              "metadataCredits": metadata.get("credits")})
    user_id, credits, package_id = order.user_id, int(order.credits), order.item_id
    payment_key = f"pi:{session['payment_intent']}" if session.get("payment_intent") else f"cs:{session_id}"
    entry_id = f"purchase:{session_id}"
    now = iso(utcnow())

    def records(tx: Transaction) -> None:
        tx.save(Purchase(payment_key=payment_key, user_id=user_id, credits=credits, amount=paid, currency=currency,
                         source="checkout", source_id=session_id, grant_entry_id=entry_id, created_at=now),
                condition=Purchase.payment_key.does_not_exist(), label="purchase")
        outbox.emit(tx, "credits.purchased", userId=user_id, credits=credits, packageId=package_id,
                    sessionId=session_id, amount=paid, currency=currency)

    granted = grant_bought(user_id, credits, entry_id=entry_id, ref=session_id,
                           memo=f"Purchased {credits} credits ({package_id})", records=records)
    if granted:
        telemetry.credits_granted(credits, "purchase")
    return granted
