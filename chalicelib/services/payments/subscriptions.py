"""Subscriptions: our copy of Stripe's subscription, cancelling, and the credits of each
paid invoice (the plan's, from the catalog; unused ones roll over up to the plan's cap).

The record is always rewritten from Stripe's current object (fetched), never from an
event's snapshot, so the events may arrive in any order; an ended one is never revived by a
late fetch. The user item names the current subscription (what GET /me shows), written in
the same transaction as the record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from chalicelib import telemetry
from chalicelib.errors import NotFound
from chalicelib.integrations.payments import gateway
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.billing import Purchase, Subscription
from chalicelib.models.users import User
from chalicelib.services import catalog, ledger, outbox
from chalicelib.services.payments.shared import (
    CURRENT_STATES,
    bucket_is,
    current_subscription,
    moved,
    subscriptions_of,
)
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically


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
    """Write Stripe's current subscription object over ours (bucket and grant counters kept),
    and the user's current subscription (what GET /me shows) in the same transaction.

    A fetch that lost a race with a later one is stale: a record Stripe has ended
    (canceled, incomplete_expired: final in Stripe) is never rewritten as live again."""
    metadata = obj.get("metadata") or {}
    user_id, plan_id = metadata.get("userId"), metadata.get("planId")
    if not user_id or not plan_id:
        logger.warning("subscription without our metadata; ignored", extra={"subscriptionId": obj.get("id")})
        return None
    subscription_id, status = str(obj["id"]), str(obj.get("status") or "incomplete")
    start, end = _period(obj)
    now = iso(utcnow())
    created = _ts(obj.get("created")) or now
    actions: list[Any] = [
        Subscription.plan_id.set(plan_id),
        Subscription.status.set(status),
        Subscription.cancel_at_period_end.set(bool(obj.get("cancel_at_period_end"))),
        Subscription.customer_id.set(str(obj.get("customer") or "")),
        Subscription.updated_at.set(now),
        Subscription.created_at.set(Subscription.created_at | created),
        Subscription.version.add(1),
    ]
    for attribute, value in ((Subscription.current_period_start, start), (Subscription.current_period_end, end),
                             (Subscription.canceled_at, _ts(obj.get("canceled_at")))):
        actions.append(attribute.set(value) if value else attribute.remove())
    live = None if status in ENDED_STATES else \
        (Subscription.status.does_not_exist() | ~Subscription.status.is_in(*ENDED_STATES))

    def work(tx: Transaction) -> None:
        tx.update(Subscription(user_id=user_id, subscription_id=subscription_id), actions=actions, condition=live,
                  label="subscription")
        try:
            user = User.get(user_id, consistent_read=True)
        except User.DoesNotExist:
            return
        stored = _pointer_of(user)
        wanted = _next_pointer(stored, Pointer(subscription_id, status, created), lambda: subscriptions_of(user_id))
        if wanted != stored:
            tx.update(User(user_id=user_id), actions=_pointer_actions(wanted),
                      condition=User.subscription_id == stored.id if stored else User.subscription_id.does_not_exist(),
                      label="user")

    try:
        atomically(work, retry_on=lambda failed: "user" in failed and "subscription" not in failed)
    except ConditionsFailed as failed:
        if "subscription" not in failed:
            raise
        logger.info("stale subscription object: the record has ended", extra={"subscriptionId": subscription_id})
    return Subscription.get(user_id, subscription_id, consistent_read=True)


def period_credits(record: Subscription, available: int) -> tuple[int, int, int]:
    """The current period's subscription credits: (included, used, rollover). ``included``
    and ``rollover`` are what its paid invoice granted and carried over; the unused ones are
    the bucket, at most the balance (as the next invoice counts them for the rollover), so
    ``used`` is the rest. All 0 before the first paid invoice."""
    included, rollover = int(record.period_included or 0), int(record.period_rollover or 0)
    unused = min(int(record.bucket or 0), max(available, 0))
    return included, max(0, included + rollover - unused), rollover


# --- the user's current subscription (User.subscriptionId) ------------------------------

# Stripe's final states: a subscription in one never becomes live again.
ENDED_STATES = ("canceled", "incomplete_expired")


class Pointer(NamedTuple):
    id: str
    status: str
    created: str


def _rank(pointer: Pointer) -> tuple[int, str, str]:
    """Which of two current subscriptions the user item names: a paying one (active,
    trialing, past due) over one not paid yet (incomplete, unpaid), then the newer."""
    return (1 if pointer.status in ("active", "trialing", "past_due") else 0), pointer.created, pointer.id


def _pointer_of(user: User) -> Pointer | None:
    if not user.subscription_id:
        return None
    return Pointer(user.subscription_id, user.subscription_status or "", user.subscription_created_at or "")


def _next_pointer(stored: Pointer | None, applied: Pointer,
                  others: Callable[[], list[Subscription]]) -> Pointer | None:
    """The user's current subscription once ``applied`` is written: a current one replaces
    the stored one when it is the same or ranks higher; an ended one clears only itself
    (the best other current subscription, read then, takes its place)."""
    if applied.status in CURRENT_STATES:
        if stored is None or stored.id == applied.id or _rank(applied) >= _rank(stored):
            return applied
        return stored
    if stored is None or stored.id != applied.id:
        return stored
    candidates = [Pointer(s.subscription_id, s.status, s.created_at) for s in others()
                  if s.subscription_id != applied.id and s.status in CURRENT_STATES]
    return max(candidates, key=_rank) if candidates else None


def _pointer_actions(pointer: Pointer | None) -> list[Any]:
    if pointer is None:
        return [User.subscription_id.remove(), User.subscription_status.remove(),
                User.subscription_created_at.remove()]
    return [User.subscription_id.set(pointer.id), User.subscription_status.set(pointer.status),
            User.subscription_created_at.set(pointer.created)]


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
                           Subscription.credits_granted.add(included), Subscription.period_included.set(included),
                           Subscription.period_rollover.set(carried), Subscription.version.add(1)],
                  condition=bucket_is(bucket), label="subscription")
        tx.save(Purchase(payment_key=payment_key, user_id=user_id, credits=included,
                         amount=int(invoice.get("amount_paid") or 0), currency=str(invoice.get("currency") or "usd"),
                         source="invoice", source_id=invoice_id, grant_entry_id=entry_id, created_at=iso(utcnow())),
                condition=Purchase.payment_key.does_not_exist(), label="purchase")
        outbox.emit(tx, "subscription.credits_granted", userId=user_id, credits=included, expired=expire,
                    planId=record.plan_id, invoiceId=invoice_id, amount=int(invoice.get("amount_paid") or 0),
                    currency=str(invoice.get("currency") or "usd").lower())
        memo = f"{plan['name']}: {included} credits" + (f", {expire} expired" if expire else "")
        ledger.grant(tx, user, included, source="subscription", entry_id=entry_id, ref=record.subscription_id,
                     expire=expire, memo=memo)

    if ledger.apply(work, retry_on=moved(user_id, "subscription")):
        telemetry.credits_granted(included, "subscription")


def invoice_failed(invoice: dict[str, Any]) -> None:
    subscription_id = _invoice_subscription_id(invoice)
    if subscription_id:
        sync_subscription(subscription_id)  # Stripe has it past_due (or whatever it is now)


def subscription_changed(obj: dict[str, Any]) -> None:
    sync_subscription(str(obj["id"]))
