"""Subscriptions: our copy of Stripe's subscription, cancelling, and the credits of each
paid invoice (the plan's, from the catalog; unused ones roll over up to the plan's cap).

The record is always rewritten from Stripe's current object (fetched), never from an
event's snapshot, so the events may arrive in any order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import NotFound
from chalicelib.integrations.payments import gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.billing import Purchase, Subscription
from chalicelib.services import catalog, ledger, outbox
from chalicelib.services.payments.shared import (
    CURRENT_STATES,
    bucket_is,
    current_subscription,
    moved,
    subscriptions_of,
)
from chalicelib.services.tx import Transaction


def latest_subscription(user_id: str) -> Subscription | None:
    """The current subscription, else the latest one, else None."""
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


def sync_subscription(subscription_id: str) -> Subscription | None:
    """Our record from Stripe's current object (not the event's snapshot)."""
    return apply_subscription(gateway().retrieve_subscription(subscription_id))


# --- Stripe's subscription and invoice events -------------------------------------------

def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    if invoice.get("subscription"):
        return str(invoice["subscription"])
    details = ((invoice.get("parent") or {}).get("subscription_details") or {})
    return str(details["subscription"]) if details.get("subscription") else None


def invoice_paid(invoice: dict[str, Any]) -> None:
    """Grant the plan's credits for a paid invoice, once (entry ``subscription:<invoice>``):
    unused subscription credits carry over up to the plan's rollover cap, the rest expire,
    in the same transaction as the bucket, the purchase record and the event."""
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        return
    record = sync_subscription(subscription_id)
    if record is None or int(invoice.get("amount_paid") or 0) <= 0:
        return  # trial or zero invoice: no credits until a paid one
    plan = catalog.get_active("plan", record.plan_id, include_retired=True)
    if plan is None:
        logger.error("paid invoice for an unknown plan", extra={"planId": record.plan_id, "invoiceId": invoice["id"]})
        return
    included, cap = int(plan["creditsIncluded"]), int(plan.get("rolloverCap") or 0)
    invoice_id = str(invoice["id"])
    payment_key = f"pi:{invoice['payment_intent']}" if invoice.get("payment_intent") else f"in:{invoice_id}"
    user_id, entry_id = record.user_id, f"subscription:{invoice_id}"

    def work(tx: Transaction) -> None:
        current = Subscription.get(user_id, record.subscription_id, consistent_read=True)
        user = ledger.read_user(user_id)
        bucket = int(current.bucket or 0)
        unused = min(bucket, int(user.credits_available or 0))
        carried = min(unused, cap)
        expire = unused - carried
        tx.update(Subscription(user_id=user_id, subscription_id=record.subscription_id),
                  actions=[Subscription.bucket.set(carried + included), Subscription.last_invoice_id.set(invoice_id),
                           Subscription.credits_granted.add(included)],
                  condition=bucket_is(bucket), label="subscription")
        tx.save(Purchase(payment_key=payment_key, user_id=user_id, credits=included,
                         amount=int(invoice.get("amount_paid") or 0), currency=str(invoice.get("currency") or "usd"),
                         source="invoice", source_id=invoice_id, grant_entry_id=entry_id, created_at=iso(utcnow())),
                condition=Purchase.payment_key.does_not_exist(), label="purchase")
        outbox.emit(tx, "subscription.credits_granted", userId=user_id, credits=included, expired=expire,
                    planId=record.plan_id, invoiceId=invoice_id)
        memo = f"{plan['name']}: {included} credits" + (f", {expire} expired" if expire else "")
        ledger.grant(tx, user, included, source="subscription", entry_id=entry_id, ref=record.subscription_id,
                     expire=expire, memo=memo)

    ledger.apply(work, retry_on=moved(user_id, "subscription"))


def invoice_failed(invoice: dict[str, Any]) -> None:
    subscription_id = _invoice_subscription_id(invoice)
    if subscription_id:
        sync_subscription(subscription_id)  # Stripe has it past_due (or whatever it is now)


def subscription_changed(obj: dict[str, Any]) -> None:
    sync_subscription(str(obj["id"]))
