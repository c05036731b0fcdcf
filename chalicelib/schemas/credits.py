"""Credits, checkout and subscriptions on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import ApiModel, InputModel, PageInfo, PageMeta, PageQuery

_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class CheckoutIn(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"packageId": "seeker"}]})
    package_id: str = Field(description="a credit package id from GET /catalog (creditPackages)",
                            min_length=1, max_length=64, pattern=_ID_PATTERN)


class SubscribeIn(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"planId": "monthly-60"}]})
    plan_id: str = Field(description="a plan id from GET /catalog (subscriptionPlans)",
                         min_length=1, max_length=64, pattern=_ID_PATTERN)


class CheckoutOut(ApiModel):
    """A payment checkout session: send the user to checkoutUrl."""
    session_id: str
    checkout_url: str = Field(description="send the browser here (Stripe Checkout; locally, the local payment page)")
    amount: int = Field(description="price in minor units (cents)")
    currency: str
    package_id: str | None = None
    plan_id: str | None = None
    credits: int | None = Field(default=None, description="credits the package grants once paid")


class BalanceOut(ApiModel):
    """The caller's credit accounts: available to spend, held for open readings, earned as a reader (inside the
    dispute window, then payable: available for payout), owed after a chargeback."""
    available: int = Field(description="credits the user can spend")
    held: int = Field(description="credits held for requested readings")
    earnings: int = Field(description="a reader's credits earned (net of the platform fee) and still inside their "
                                      "readings' dispute window: not available for payout yet (0 for clients)")
    payable: int = Field(description="a reader's earned credits whose dispute window closed: available for payout "
                                     "to their bank (0 for clients)")
    owed: int = Field(description="credits owed after a refund or chargeback of credits already spent")
    restricted: bool = Field(description="true while something is owed: no new readings until settled "
                                         "(the next purchase pays it down first)")


class LedgerLineOut(ApiModel):
    """One ledger entry: how it changed the caller's accounts."""
    entry_id: str
    kind: str = Field(description="grant.purchase, grant.subscription, grant.promotion, hold, release, capture, "
                                  "payout, refund, reversal, chargeback")
    created_at: str
    changes: dict[str, int] = Field(description="signed change per account of the user: available, held, "
                                                "earnings, payable, owed")
    reference: str | None = Field(default=None, description="the reading, checkout session or subscription")
    description: str | None = None


class CreditsOut(ApiModel):
    """The caller's credit balances and a page of their ledger, newest first."""
    balance: BalanceOut
    data: list[LedgerLineOut] = Field(description="ledger history, newest first")
    pagination: PageInfo
    meta: PageMeta


class CreditsQuery(PageQuery):
    pass


SubscriptionStatus = Literal["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled",
                             "unpaid", "paused"]


class SubscriptionCredits(ApiModel):
    """The subscription credits of the current period (all 0 before the first paid invoice)."""
    included: int = Field(description="credits the plan granted for this period")
    used: int = Field(description="credits of this period already spent: included plus rollover, less the "
                                  "subscription credits still unused")
    rollover: int = Field(description="unused credits carried over from the period before")


class SubscriptionOut(ApiModel):
    """A subscription to a plan: its period, status and the credits it granted."""
    subscription_id: str
    plan_id: str
    status: str = Field(description="Stripe's status: trialing, active, past_due, canceled, unpaid, incomplete...")
    cancel_at_period_end: bool
    current_period_start: str | None = None
    current_period_end: str | None = None
    canceled_at: str | None = None
    credits_granted: int = Field(description="subscription credits granted so far")
    rollover_credits: int = Field(description="unused subscription credits carried into the next period "
                                              "(up to the plan's rollover cap)")
    # The product's Subscription interface names, beside the fields above.
    version: int = Field(description="raised by one each time the record is rewritten (from Stripe's events)")
    credits: SubscriptionCredits
    id: str | None = Field(default=None, description="same as subscriptionId")
    user_id: str | None = None
    stripe_subscription_id: str | None = Field(default=None, description="Stripe's subscription id (same as "
                                                                         "subscriptionId)")
    cancelled_date: str | None = Field(default=None, description="same as canceledAt")
    trial_end: str | None = Field(default=None, description="while trialing: when the trial ends (the end of "
                                                            "the current period)")
    created_at: str | None = None
    updated_at: str | None = None


class SubscriptionMeOut(ApiModel):
    """The caller's subscription, or null without one."""
    subscription: SubscriptionOut | None = Field(description="the current subscription, else the latest, else null")


class StripeWebhookAck(ApiModel):
    """The acknowledgement of a Stripe webhook delivery."""
    received: bool = True
    duplicate: bool = Field(description="this event id was already recorded: nothing done again")
    handled: bool = Field(description="false for event types we do not use (acknowledged, ignored)")


class LocalCheckoutIn(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "paid"}]})
    outcome: Literal["paid", "failed"] = Field(description="paid: the card succeeds; failed: the payment fails")


class DeliveredEvent(ApiModel):
    """A payment event the local checkout delivered to the webhook."""
    event_id: str
    type: str
    duplicate: bool


class LocalCheckoutOut(ApiModel):
    """The outcome of a local (simulated) checkout and the events it delivered."""
    session_id: str
    outcome: str
    events: list[DeliveredEvent] = Field(description="Stripe-format events signed and delivered to "
                                                     "POST /webhooks/stripe")
