"""What checkout, subscriptions and reversals share: the user's subscriptions and the grant
of paid-for credits (with the rollover bucket clamped in the same transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.models.billing import Subscription
from chalicelib.services import ledger
from chalicelib.services.tx import ConditionsFailed, Transaction

# Subscriptions in these states are the user's current one (a second checkout is refused).
CURRENT_STATES = ("active", "trialing", "past_due", "incomplete", "unpaid")


def subscriptions_of(user_id: str) -> list[Subscription]:
    return sorted(Subscription.query(user_id, consistent_read=True), key=lambda s: s.updated_at, reverse=True)


def current_subscription(user_id: str) -> Subscription | None:
    for subscription in subscriptions_of(user_id):
        if subscription.status in CURRENT_STATES:
            return subscription
    return None


def bucket_is(value: int) -> Any:
    """The condition "the rollover bucket is still ``value``". A record written only by
    ``apply_subscription`` has no bucket attribute (the model reads it as 0)."""
    return (Subscription.bucket == value) if value else \
        (Subscription.bucket.does_not_exist() | (Subscription.bucket == 0))


def moved(user_id: str, *labels: str) -> Callable[[ConditionsFailed], bool]:
    """For ``retry_on``: the balance read in this attempt moved, or one of ``labels`` (a
    record read in this attempt) changed; never when the movement was applied before."""
    balance_moved = ledger.balance_moved(user_id)

    def retry(failed: ConditionsFailed) -> bool:
        if ledger.already_applied(failed):
            return False
        return balance_moved(failed) or any(label in failed for label in labels)
    return retry


def grant_bought(user_id: str, credits: int, *, entry_id: str, ref: str, memo: str,
                 records: Callable[[Transaction], None] | None = None) -> bool:
    """Grant paid-for credits, with ``records`` (the purchase record, an event) in the same
    transaction. True when granted, False when this entry was granted before.

    Subscription credits are spent first, so the credits still counted as unused
    subscription credits (the rollover bucket) can be no more than the balance before this
    grant: the bucket is clamped to it in the same transaction, and the bought credits
    never expire at the next invoice."""

    def work(tx: Transaction) -> None:
        user = ledger.read_user(user_id)
        available = int(user.credits_available or 0)
        current = current_subscription(user_id)
        if records is not None:
            records(tx)
        ledger.grant(tx, user, credits, source="purchase", entry_id=entry_id, ref=ref, memo=memo)
        bucket = int(current.bucket or 0) if current is not None else 0
        if current is not None and bucket > available:
            tx.update(Subscription(user_id=current.user_id, subscription_id=current.subscription_id),
                      actions=[Subscription.bucket.set(available), Subscription.version.add(1)],
                      condition=bucket_is(bucket),
                      label="subscription")

    return ledger.apply(work, retry_on=moved(user_id, "subscription"))
