"""What the purge erases outside our tables: the account's Clerk user, its Stripe customers.

**When: at the purge, not at the deletion.** Until ``ACCOUNT_RETENTION_DAYS`` have passed a
deletion is only soft: the user item, the ledger and every personal field are still there, so
the account can still be restored (support's undo within the retention period). Deleting the
Clerk user cannot be undone (Clerk never reuses an id; the sign-in, its sessions and the email
go with it), and neither can deleting a Stripe customer, so both wait for the purge like every
other erasure. Meanwhile the account's tokens are refused (401 ``account_deleted``) and its
subscription stops renewing (erasure.wind_down). An account Clerk deleted (source ``clerk``)
has no Clerk user left to delete.

**How, reliably.** The purge's last transaction (purge._finish) marks the erasure purged and
records in it what is left to erase here (``externalPending``: ``clerk``, and
``stripe:<customerId>`` for each customer of the account's subscriptions), keeping it in the
``purgeDue`` index; never inside a request's unit of work. ``erase`` then calls each provider
and removes each item from the set once it is done. Each call is idempotent: Clerk's 404 and
Stripe's ``resource_missing`` mean "already gone", which counts as done. A failure (an outage,
a rate limit) leaves its item and raises ``ExternalErasureFailed``; the purge job postpones the
erasure (erasure.postpone: an hour later, doubling, at most a week) and the next run retries
only what is left, without purging the tables again. The erasure leaves the index when nothing
is left. Clerk then sends ``user.deleted`` for the user: the tombstone is deleted already, so
the webhook changes nothing (services/clerk_sync.py).
"""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from chalicelib.integrations import clerk_api, payments
from chalicelib.logs import logger
from chalicelib.models.billing import Subscription
from chalicelib.models.privacy import Erasure
from chalicelib.services.privacy import erasure

CLERK = "clerk"
STRIPE_CUSTOMER = "stripe:"


class ExternalErasureFailed(RuntimeError):
    """A provider could not erase its part now (the items stay pending for the next run)."""


def pending(user_id: str, source: str) -> set[str]:
    """What there is to erase outside our tables for the account ``user_id``."""
    items = {STRIPE_CUSTOMER + customer for customer in customer_ids(user_id)}
    if source != CLERK:
        items.add(CLERK)
    return items


def customer_ids(user_id: str) -> set[str]:
    """The Stripe customers of the account: their subscriptions name them (one Query). A
    one-time checkout makes no customer of ours (Checkout's guest customers are Stripe's)."""
    return {sub.customer_id for sub in Subscription.query(user_id) if sub.customer_id}


def erase(user_id: str) -> bool:
    """Erase what is pending for ``user_id`` at each provider; True when something was done.
    Every item is tried; ``ExternalErasureFailed`` names those that failed (they stay)."""
    record = erasure.record(user_id)
    if record is None or record.purged_at is None or record.purge_due is None:
        return False  # not purged yet (the purge comes first), or finished
    failed: list[str] = []
    for item in sorted(record.external_pending or ()):
        try:
            existed = _erase_one(user_id, item)
        except Exception as exc:  # noqa: BLE001 - every provider's errors alike; the others still run
            logger.warning("external erasure failed", extra={"userId": user_id, "item": item, "error": str(exc)})
            failed.append(f"{item} ({type(exc).__name__}: {exc})")
            continue
        Erasure(user_id=user_id).update(actions=[Erasure.external_pending.delete({item})])
        logger.info("erased outside our tables", extra={"userId": user_id, "item": item, "existed": existed})
    if failed:
        raise ExternalErasureFailed(f"The erasure of {user_id} outside our tables is incomplete: {'; '.join(failed)}")
    _done(user_id)
    return True


def _erase_one(user_id: str, item: str) -> bool:
    if item == CLERK:
        return clerk_api.clerk().delete_user(user_id)
    if item.startswith(STRIPE_CUSTOMER):
        return payments.gateway().delete_customer(item.removeprefix(STRIPE_CUSTOMER))
    raise ValueError(f"unknown external erasure item {item!r}")


def _done(user_id: str) -> None:
    """Nothing left anywhere: the erasure leaves the ``purgeDue`` index (the set is gone:
    DynamoDB removes a set with its last element)."""
    try:
        Erasure(user_id=user_id).update(
            actions=[Erasure.purge_due.remove()],
            condition=Erasure.external_pending.does_not_exist() & Erasure.purged_at.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
