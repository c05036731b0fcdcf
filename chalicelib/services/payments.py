"""Buying credits: Stripe Checkout, subscriptions, and Stripe's webhook events.

Credits are granted only from Stripe's events, never from the browser's return to the
success page. The webhook request does the minimum: verify the signature, record the
event id (a permanent conditional put) and put the event in the outbox, in one
transaction; the domain-events worker then processes it (``process``). Every grant and
reversal has a deterministic ledger entry id (``purchase:<checkout session>``,
``subscription:<invoice>``, ``refund:<refund>``...), so redelivered, replayed or
reordered events apply once. Where order matters (subscriptions), the current object is
fetched from Stripe instead of trusting the event's snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib.config import get_settings
from chalicelib.errors import BadRequest, Conflict, DependencyUnavailable, NotFound
from chalicelib.integrations import stripe_signature
from chalicelib.integrations.payments import LineItem, gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.billing import Purchase, Subscription
from chalicelib.models.ledger import LedgerEntry
from chalicelib.models.users import User
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services import catalog, events, ledger, outbox
from chalicelib.services.tx import Transaction

# Subscriptions in these states are the user's current one (a second checkout is refused).
CURRENT_STATES = ("active", "trialing", "past_due", "incomplete", "unpaid")
HANDLED_EVENTS = frozenset({
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "refund.failed",
    "charge.dispute.created",
    "charge.dispute.closed",
})
_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_]{1,200}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


# --- checkout ---------------------------------------------------------------------------

def _idempotency_key(kind: str, user_id: str, item_id: str, client_key: str | None, request_id: str) -> str:
    """Stripe's idempotency key for our request: the client's Idempotency-Key when sent
    (a double-click gets the same Checkout Session), else this request's id."""
    if client_key is not None and not _IDEMPOTENCY_KEY.match(client_key):
        raise BadRequest("Idempotency-Key must be 1-200 printable ASCII characters", code="invalid_idempotency_key")
    return f"auralumic:{kind}:{user_id}:{item_id}:{client_key or request_id}"


def start_checkout(user: User, package_id: str, *, client_key: str | None, request_id: str) -> dict[str, Any]:
    package = catalog.get_active("credit_package", package_id)
    if package is None:
        raise NotFound("credit package", details={"packageId": package_id})
    metadata = {"userId": user.user_id, "kind": "credits", "packageId": package_id,
                "credits": str(int(package["credits"]))}
    app = get_settings().app_base_url
    session = gateway().create_checkout(
        mode="payment",
        item=LineItem(name=f"{package['name']} - {int(package['credits'])} credits", amount=int(package["price"]),
                      currency=str(package.get("currency", "usd"))),
        metadata=metadata, customer_email=user.email,
        success_url=f"{app}/credits?checkout=success&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{app}/credits?checkout=cancelled",
        idempotency_key=_idempotency_key("checkout", user.user_id, package_id, client_key, request_id),
    )
    return {"sessionId": session["id"], "checkoutUrl": session["url"], "packageId": package_id,
            "credits": int(package["credits"]), "amount": int(package["price"]),
            "currency": str(package.get("currency", "usd"))}


def start_subscription(user: User, plan_id: str, *, client_key: str | None, request_id: str) -> dict[str, Any]:
    plan = catalog.get_active("plan", plan_id)
    if plan is None:
        raise NotFound("plan", details={"planId": plan_id})
    current = current_subscription(user.user_id)
    if current is not None:
        raise Conflict("you already have a subscription; cancel it before choosing another plan",
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
    return {"sessionId": session["id"], "checkoutUrl": session["url"], "planId": plan_id,
            "amount": int(plan["price"]), "currency": str(plan.get("currency", "usd"))}


# --- subscriptions ----------------------------------------------------------------------

def subscriptions_of(user_id: str) -> list[Subscription]:
    return sorted(Subscription.query(user_id, consistent_read=True), key=lambda s: s.updated_at, reverse=True)


def current_subscription(user_id: str) -> Subscription | None:
    for subscription in subscriptions_of(user_id):
        if subscription.status in CURRENT_STATES:
            return subscription
    return None


def latest_subscription(user_id: str) -> Subscription | None:
    found = subscriptions_of(user_id)
    current = [s for s in found if s.status in CURRENT_STATES]
    return (current or found)[0] if (current or found) else None


def cancel_subscription(user_id: str) -> Subscription:
    """Cancel at the end of the paid period (the credits of this period stay)."""
    current = current_subscription(user_id)
    if current is None:
        raise NotFound("subscription")
    if current.cancel_at_period_end:
        return current
    updated = gateway().cancel_at_period_end(current.subscription_id,
                                             idempotency_key=f"auralumic:cancel:{current.subscription_id}")
    return apply_subscription(updated) or current


def _ts(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return iso(datetime.fromtimestamp(int(value), UTC))


def _period(obj: dict[str, Any]) -> tuple[str | None, str | None]:
    start, end = obj.get("current_period_start"), obj.get("current_period_end")
    items = (obj.get("items") or {}).get("data") or []
    if start is None and items:  # API versions from 2025 keep the period on the items
        start = min(i.get("current_period_start") or 0 for i in items) or None
        end = max(i.get("current_period_end") or 0 for i in items) or None
    return _ts(start), _ts(end)


def apply_subscription(obj: dict[str, Any]) -> Subscription | None:
    """Write Stripe's current subscription object over ours (bucket and grant counters kept)."""
    metadata = obj.get("metadata") or {}
    user_id, plan_id = metadata.get("userId"), metadata.get("planId")
    if not user_id or not plan_id:
        logger.warning("subscription without our metadata; ignored", extra={"subscriptionId": obj.get("id")})
        return None
    start, end = _period(obj)
    now = iso(utcnow())
    record = Subscription(user_id=user_id, subscription_id=obj["id"])
    actions: list[Any] = [
        Subscription.plan_id.set(plan_id),
        Subscription.status.set(str(obj.get("status") or "incomplete")),
        Subscription.cancel_at_period_end.set(bool(obj.get("cancel_at_period_end"))),
        Subscription.customer_id.set(str(obj.get("customer") or "")),
        Subscription.updated_at.set(now),
        Subscription.created_at.set(Subscription.created_at | (_ts(obj.get("created")) or now)),
    ]
    for attribute, value in ((Subscription.current_period_start, start), (Subscription.current_period_end, end),
                             (Subscription.canceled_at, _ts(obj.get("canceled_at")))):
        actions.append(attribute.set(value) if value else attribute.remove())
    record.update(actions=actions)
    return record


def _sync_subscription(subscription_id: str) -> Subscription | None:
    return apply_subscription(gateway().retrieve_subscription(subscription_id))


# --- webhook ----------------------------------------------------------------------------

def receive_webhook(raw_body: bytes, signature_header: str | None, *, now: datetime | None = None) -> dict[str, Any]:
    """Verify, record, enqueue. Returns the acknowledgement; raises BadRequest (400) for a
    bad signature or event, DependencyUnavailable (503, Stripe retries) if recording fails."""
    moment = now or utcnow()
    try:
        stripe_signature.verify(raw_body, signature_header, get_settings().stripe_webhook_secret, now=moment)
    except stripe_signature.InvalidSignature as exc:
        raise BadRequest(str(exc), code="invalid_signature") from exc
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("the event is not JSON", code="invalid_event") from exc
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and _EVENT_ID.match(event["id"])
            and isinstance(event.get("type"), str) and isinstance((event.get("data") or {}).get("object"), dict)):
        raise BadRequest("not a Stripe event (id, type, data.object)", code="invalid_event")
    handled = event["type"] in HANDLED_EVENTS
    tx = Transaction()
    tx.save(ProcessedWebhook(event_key=f"stripe#{event['id']}", source="stripe", event_type=event["type"],
                             received_at=iso(moment)),
            condition=ProcessedWebhook.event_key.does_not_exist(), label="webhook")
    if handled:
        outbox.emit(tx, "stripe.event_received", eventId=event["id"], type=event["type"],
                    created=event.get("created"), object=event["data"]["object"])
    try:
        with tx:
            pass
    except TransactWriteError as exc:
        if "webhook" in tx.failed(exc):
            return {"received": True, "duplicate": True, "handled": handled}
        raise DependencyUnavailable("could not record the event; Stripe will retry", code="not_recorded") from exc
    except PynamoDBException as exc:
        raise DependencyUnavailable("could not record the event; Stripe will retry", code="not_recorded") from exc
    return {"received": True, "duplicate": False, "handled": handled}


@events.consumer("stripe.event_received")
def _on_stripe_event(message: dict[str, Any]) -> None:
    data = message["data"]
    process(data["type"], data["object"], event_id=data.get("eventId", ""))


def process(event_type: str, obj: dict[str, Any], *, event_id: str = "") -> None:
    """Apply one Stripe event. Idempotent; safe in any order."""
    handler = _HANDLERS.get(event_type)
    if handler is None:
        return
    logger.info("stripe event", extra={"eventId": event_id, "type": event_type, "objectId": obj.get("id")})
    handler(obj)


def _checkout_completed(session: dict[str, Any]) -> None:
    if session.get("mode") == "subscription":
        if session.get("subscription"):
            _sync_subscription(str(session["subscription"]))
        return
    if session.get("payment_status") == "paid":
        _grant_purchase(session)
    # "unpaid" with a delayed method: wait for checkout.session.async_payment_succeeded.


def _async_succeeded(session: dict[str, Any]) -> None:
    if session.get("mode") == "payment":
        _grant_purchase(session)
    elif session.get("subscription"):
        _sync_subscription(str(session["subscription"]))


def _async_failed(session: dict[str, Any]) -> None:
    logger.info("checkout payment failed; nothing granted", extra={"sessionId": session.get("id")})


def _grant_purchase(session: dict[str, Any]) -> None:
    metadata = session.get("metadata") or {}
    user_id, credits = metadata.get("userId"), int(metadata.get("credits") or 0)
    if not user_id or credits <= 0 or metadata.get("kind") != "credits":
        logger.warning("checkout session without our metadata; ignored", extra={"sessionId": session.get("id")})
        return
    session_id = str(session["id"])
    payment_key = f"pi:{session['payment_intent']}" if session.get("payment_intent") else f"cs:{session_id}"
    entry_id = f"purchase:{session_id}"
    now = iso(utcnow())

    def records(tx: Transaction) -> None:
        tx.save(Purchase(payment_key=payment_key, user_id=user_id, credits=credits,
                         amount=int(session.get("amount_total") or 0), currency=str(session.get("currency") or "usd"),
                         source="checkout", source_id=session_id, grant_entry_id=entry_id, created_at=now),
                condition=Purchase.payment_key.does_not_exist(), label="purchase")
        outbox.emit(tx, "credits.purchased", userId=user_id, credits=credits, packageId=metadata.get("packageId"),
                    sessionId=session_id)

    _grant_bought(user_id, credits, entry_id=entry_id, ref=session_id,
                  memo=f"Purchased {credits} credits ({metadata.get('packageId')})", records=records)


def _bucket_is(record: Subscription, value: int) -> Any:
    # A record written only by apply_subscription has no bucket attribute (read as 0).
    return (Subscription.bucket == value) if value else \
        (Subscription.bucket.does_not_exist() | (Subscription.bucket == 0))


def _grant_bought(user_id: str, credits: int, *, entry_id: str, ref: str, memo: str,
                  records: Callable[[Transaction], None] | None) -> None:
    """Grant paid-for credits. Subscription credits are spent first, so the credits still
    counted as unused subscription credits (the rollover bucket) can be no more than the
    balance before this grant: the bucket is clamped to it in the same transaction, and the
    bought credits never expire at the next invoice."""
    for _ in range(ledger.MAX_ATTEMPTS):
        user = User.get(user_id, consistent_read=True)
        available = int(user.credits_available or 0)
        current = current_subscription(user_id)

        def extra(tx: Transaction, current: Subscription | None = current, available: int = available) -> None:
            if records is not None:
                records(tx)
            bucket = int(current.bucket or 0) if current is not None else 0
            if current is not None and bucket > available:
                tx.update(Subscription(user_id=current.user_id, subscription_id=current.subscription_id),
                          actions=[Subscription.bucket.set(available)], condition=_bucket_is(current, bucket),
                          label="subscription")

        try:
            ledger.grant(user_id, credits, source="purchase", entry_id=entry_id, ref=ref, memo=memo, extra=extra,
                         user=user)
            return
        except ledger.LedgerRejected as exc:
            if "subscription" not in exc.labels:
                raise
    raise DependencyUnavailable("subscription changed too often while granting; will retry")


def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    if invoice.get("subscription"):
        return str(invoice["subscription"])
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    return str(details["subscription"]) if details.get("subscription") else None


def _invoice_paid(invoice: dict[str, Any]) -> None:
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        return
    record = _sync_subscription(subscription_id)
    if record is None or int(invoice.get("amount_paid") or 0) <= 0:
        return  # trial or zero invoice: no credits until a paid one
    plan = catalog.get_active("plan", record.plan_id, include_retired=True)
    if plan is None:
        logger.error("paid invoice for an unknown plan", extra={"planId": record.plan_id, "invoiceId": invoice["id"]})
        return
    included, cap = int(plan["creditsIncluded"]), int(plan.get("rolloverCap") or 0)
    invoice_id = str(invoice["id"])
    payment_key = f"pi:{invoice['payment_intent']}" if invoice.get("payment_intent") else f"in:{invoice_id}"
    for _ in range(ledger.MAX_ATTEMPTS):
        current = Subscription.get(record.user_id, record.subscription_id, consistent_read=True)
        user = User.get(record.user_id, consistent_read=True)
        bucket = int(current.bucket or 0)
        unused = min(bucket, int(user.credits_available or 0))
        carried = min(unused, cap)
        expire = unused - carried
        now = iso(utcnow())

        def extra(tx: Transaction, current: Subscription = current, bucket: int = bucket, carried: int = carried,
                  expire: int = expire, now: str = now) -> None:
            # A record written only by apply_subscription has no bucket attribute, and the
            # model reads the missing attribute as its default (0): accept either for 0.
            condition = _bucket_is(current, bucket)
            tx.update(Subscription(user_id=record.user_id, subscription_id=record.subscription_id),
                      actions=[Subscription.bucket.set(carried + included),
                               Subscription.last_invoice_id.set(invoice_id),
                               Subscription.credits_granted.add(included)],
                      condition=condition, label="subscription")
            tx.save(Purchase(payment_key=payment_key, user_id=record.user_id, credits=included,
                             amount=int(invoice.get("amount_paid") or 0),
                             currency=str(invoice.get("currency") or "usd"),
                             source="invoice", source_id=invoice_id, grant_entry_id=f"subscription:{invoice_id}",
                             created_at=now),
                    condition=Purchase.payment_key.does_not_exist(), label="purchase")
            outbox.emit(tx, "subscription.credits_granted", userId=record.user_id, credits=included,
                        expired=expire, planId=record.plan_id, invoiceId=invoice_id)

        try:
            ledger.grant(record.user_id, included, source="subscription", entry_id=f"subscription:{invoice_id}",
                         ref=record.subscription_id, expire=expire, user=user, extra=extra,
                         memo=f"{plan['name']}: {included} credits" + (f", {expire} expired" if expire else ""))
            return
        except ledger.LedgerRejected as exc:
            if "subscription" not in exc.labels:
                raise
    raise DependencyUnavailable("subscription changed too often while granting; will retry")


def _invoice_failed(invoice: dict[str, Any]) -> None:
    subscription_id = _invoice_subscription_id(invoice)
    if subscription_id:
        _sync_subscription(subscription_id)  # Stripe has it past_due (or whatever it is now)


def _subscription_changed(obj: dict[str, Any]) -> None:
    _sync_subscription(str(obj["id"]))


# --- refunds and disputes ---------------------------------------------------------------

def _purchase_for(obj: dict[str, Any]) -> Purchase | None:
    keys = []
    if obj.get("payment_intent"):
        keys.append(f"pi:{obj['payment_intent']}")
    if obj.get("invoice"):
        keys.append(f"in:{obj['invoice']}")
    for key in keys:
        try:
            return Purchase.get(key, consistent_read=True)
        except Purchase.DoesNotExist:
            continue
    return None


def _credits_for(purchase: Purchase, amount: int) -> int:
    """Credits matching ``amount`` of the purchase's price (a full refund is all of them)."""
    paid = int(purchase.amount or 0)
    total = int(purchase.credits)
    if paid <= 0 or amount >= paid:
        return total
    return total * amount // paid


def _take_back(purchase: Purchase, wanted: int, *, entry_id: str, kind: str, memo: str) -> None:
    """Reverse ``wanted`` credits of the purchase (never more than it has left)."""
    for _ in range(ledger.MAX_ATTEMPTS):
        current = Purchase.get(purchase.payment_key, consistent_read=True)
        reversed_so_far = int(current.reversed_credits or 0)
        credits = min(wanted, int(current.credits) - reversed_so_far)
        if credits <= 0:
            return

        def extra(tx: Transaction, current: Purchase = current, credits: int = credits,
                  reversed_so_far: int = reversed_so_far) -> None:
            tx.update(Purchase(payment_key=current.payment_key),
                      actions=[Purchase.reversed_credits.set(reversed_so_far + credits)],
                      condition=Purchase.reversed_credits == reversed_so_far if current.reversed_credits is not None
                      else Purchase.reversed_credits.does_not_exist(), label="purchase")
            outbox.emit(tx, "credits.reversed", userId=current.user_id, credits=credits, reason=kind)

        try:
            ledger.reverse(current.user_id, credits, entry_id=entry_id, ref=current.source_id, kind=kind, memo=memo,
                           extra=extra)
            return
        except ledger.LedgerRejected as exc:
            if "purchase" not in exc.labels:
                raise
    raise DependencyUnavailable("purchase changed too often while reversing; will retry")


def _give_back(purchase: Purchase, reversal_entry_id: str, *, entry_id: str, memo: str) -> None:
    """Undo a reversal (the refund failed, the dispute was won)."""
    try:
        reversal = LedgerEntry.get(reversal_entry_id, consistent_read=True)
    except LedgerEntry.DoesNotExist:
        return  # never reversed (e.g. the failure arrived first): nothing to undo
    credits = sum(int(p.amount) for p in reversal.postings if p.account == "external:stripe")
    if credits <= 0:
        return

    def records(tx: Transaction) -> None:
        tx.update(Purchase(payment_key=purchase.payment_key), actions=[Purchase.reversed_credits.add(-credits)],
                  condition=Purchase.reversed_credits >= credits, label="purchase")

    _grant_bought(purchase.user_id, credits, entry_id=entry_id, ref=purchase.source_id, memo=memo, records=records)


def _charge_refunded(charge: dict[str, Any]) -> None:
    purchase = _purchase_for(charge)
    if purchase is None:
        logger.warning("refund of a charge we granted nothing for", extra={"chargeId": charge.get("id")})
        return
    live = [refund for refund in gateway().list_refunds(str(charge["id"]))
            if refund.get("status") in ("succeeded", "pending", "requires_action")]
    # Each refund's credits are its step in the running total, oldest first, so refunds that
    # add up to the whole price take back every credit (rounding each one down would not).
    refunded_before = 0
    for refund in sorted(live, key=lambda r: (int(r.get("created") or 0), str(r["id"]))):
        refunded_after = refunded_before + int(refund.get("amount") or 0)
        share = _credits_for(purchase, refunded_after) - _credits_for(purchase, refunded_before)
        refunded_before = refunded_after
        _take_back(purchase, share, entry_id=f"refund:{refund['id']}", kind="refund", memo=f"Refund {refund['id']}")


def _refund_failed(refund: dict[str, Any]) -> None:
    purchase = _purchase_for(refund) or (_purchase_for({"payment_intent": refund.get("payment_intent")}))
    if purchase is None:
        return
    _give_back(purchase, f"refund:{refund['id']}", entry_id=f"refund-failed:{refund['id']}",
               memo=f"Refund {refund['id']} failed")


def _dispute_created(dispute: dict[str, Any]) -> None:
    purchase = _purchase_for(dispute)
    if purchase is None:
        logger.warning("dispute on a charge we granted nothing for", extra={"disputeId": dispute.get("id")})
        return
    # Where order matters, Stripe's current state decides: a dispute already won (its
    # closing processed first) takes nothing.
    if gateway().retrieve_dispute(str(dispute["id"])).get("status") == "won":
        return
    _take_back(purchase, _credits_for(purchase, int(dispute.get("amount") or 0)),
               entry_id=f"chargeback:{dispute['id']}", kind="chargeback", memo=f"Chargeback {dispute['id']}")


def _dispute_closed(dispute: dict[str, Any]) -> None:
    if dispute.get("status") != "won":
        return
    purchase = _purchase_for(dispute)
    if purchase is not None:
        _give_back(purchase, f"chargeback:{dispute['id']}", entry_id=f"chargeback-won:{dispute['id']}",
                   memo=f"Chargeback {dispute['id']} won")


_HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "charge.refunded": _charge_refunded,
    "refund.failed": _refund_failed,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}
assert set(_HANDLERS) == HANDLED_EVENTS


# --- local payments ---------------------------------------------------------------------

def complete_local_checkout(session_id: str, outcome: str) -> list[dict[str, Any]]:
    """The local stand-in's "pay" button: Stripe-format events, signed with the webhook
    secret, through ``receive_webhook`` exactly as Stripe's deliveries arrive."""
    from chalicelib.integrations.payments import LocalGateway

    local = gateway()
    if not isinstance(local, LocalGateway):
        raise NotFound("checkout session")
    if local.session(session_id) is None:
        raise NotFound("checkout session")
    now = utcnow()
    delivered = []
    for event in local.complete(session_id, outcome, int(now.timestamp())):
        body = json.dumps(event).encode()
        header = stripe_signature.header(get_settings().stripe_webhook_secret, int(now.timestamp()), body)
        ack = receive_webhook(body, header, now=now)
        delivered.append({"eventId": event["id"], "type": event["type"], "duplicate": ack["duplicate"]})
    if not delivered:
        raise Conflict("this checkout session is already complete", code="session_complete")
    return delivered
