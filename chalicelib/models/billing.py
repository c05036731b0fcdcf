"""Stripe-side records: what a payment bought and each user's subscriptions."""

from __future__ import annotations

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
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
