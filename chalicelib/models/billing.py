"""Stripe-side records: the checkout orders we opened, what a payment bought, and each
user's subscriptions."""

from __future__ import annotations

import hashlib

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class Purchase(Model):
    """A paid Stripe payment and the credits it granted, keyed ``pi:<payment intent>``
    (or ``in:<invoice>`` when an invoice carries no payment intent). Refunds and disputes
    find the credits to reverse here; ``reversed_credits`` never exceeds ``credits``."""

    class Meta:
        table_name = table_name("purchases")
        region = region()

    payment_key = UnicodeAttribute(hash_key=True, attr_name="paymentKey")
    user_id = UnicodeAttribute(attr_name="userId")
    credits = NumberAttribute()
    amount = NumberAttribute()  # minor units (cents) actually paid
    currency = UnicodeAttribute(default="usd")
    source = UnicodeAttribute()  # checkout | invoice
    source_id = UnicodeAttribute(attr_name="sourceId")  # checkout session or invoice id
    grant_entry_id = UnicodeAttribute(attr_name="grantEntryId")
    reversed_credits = NumberAttribute(default=0, attr_name="reversedCredits")
    created_at = UnicodeAttribute(attr_name="createdAt")


class CheckoutOrder(Model):
    """What a Checkout Session was created for, written when we create it: the buyer, the
    package, its credits and its price. A paid session grants exactly this (the event's
    metadata is never trusted for who or how much), and only when the amount Stripe
    collected is this price.

    Stored in the purchases table under ``checkout:<session id>`` (an order, beside the
    payments it becomes); not listed in the model registry, which holds one model per table.
    """

    class Meta:
        table_name = table_name("purchases")
        region = region()

    KEY_PREFIX = "checkout:"

    order_key = UnicodeAttribute(hash_key=True, attr_name="paymentKey")
    session_id = UnicodeAttribute(attr_name="sessionId")
    user_id = UnicodeAttribute(attr_name="userId")
    kind = UnicodeAttribute()  # credits | subscription
    item_id = UnicodeAttribute(attr_name="itemId")  # the package (or plan) id
    credits = NumberAttribute(default=0)  # for a package: what a paid session grants
    amount = NumberAttribute()  # the price, minor units
    currency = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")

    @classmethod
    def key_of(cls, session_id: str) -> str:
        return cls.KEY_PREFIX + session_id

    @classmethod
    def find(cls, session_id: str) -> CheckoutOrder | None:
        try:
            return cls.get(cls.key_of(session_id), consistent_read=True)
        except cls.DoesNotExist:
            return None

    # A checkout request sent with an Idempotency-Key is also recorded under
    # ``checkout-request:<user id>:<digest of the key>`` (same attributes, its session): a
    # retry finds it, past the rate limit, and a key reused for another item is refused.
    REQUEST_PREFIX = "checkout-request:"

    @classmethod
    def request_key_of(cls, user_id: str, client_key: str) -> str:
        return f"{cls.REQUEST_PREFIX}{user_id}:{hashlib.sha256(client_key.encode()).hexdigest()[:32]}"

    @classmethod
    def find_request(cls, user_id: str, client_key: str) -> CheckoutOrder | None:
        try:
            return cls.get(cls.request_key_of(user_id, client_key), consistent_read=True)
        except cls.DoesNotExist:
            return None


class Subscription(Model):
    """Our copy of a Stripe subscription, rewritten from Stripe's current object on every
    related event (so events may arrive in any order). ``bucket`` counts the subscription
    credits still considered unused, for the rollover cap."""

    class Meta:
        table_name = table_name("subscriptions")
        region = region()

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    subscription_id = UnicodeAttribute(range_key=True, attr_name="subscriptionId")
    plan_id = UnicodeAttribute(attr_name="planId")
    status = UnicodeAttribute()  # Stripe's: incomplete, trialing, active, past_due, canceled, unpaid...
    cancel_at_period_end = BooleanAttribute(default=False, attr_name="cancelAtPeriodEnd")
    current_period_start = UnicodeAttribute(null=True, attr_name="currentPeriodStart")
    current_period_end = UnicodeAttribute(null=True, attr_name="currentPeriodEnd")
    canceled_at = UnicodeAttribute(null=True, attr_name="canceledAt")
    customer_id = UnicodeAttribute(null=True, attr_name="customerId")
    bucket = NumberAttribute(default=0)
    last_invoice_id = UnicodeAttribute(null=True, attr_name="lastInvoiceId")
    credits_granted = NumberAttribute(default=0, attr_name="creditsGranted")
    # The current period's grant, set by its paid invoice: the plan's credits and the unused
    # ones carried over from the period before (absent until the first paid invoice).
    period_included = NumberAttribute(null=True, attr_name="periodIncluded")
    period_rollover = NumberAttribute(null=True, attr_name="periodRollover")
    # Raised by one on every write of the record (Stripe's object applied, an invoice's grant).
    version = NumberAttribute(default=0)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
