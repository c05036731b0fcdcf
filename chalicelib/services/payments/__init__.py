"""Buying credits: Stripe Checkout, subscriptions, Stripe's webhook events, reversals.

Credits are granted only from Stripe's events, never from the browser's return to the
success page, and only what we recorded when opening the session (``checkout``).

- ``checkout``: opening a session for a package or a plan; granting a paid package
- ``subscriptions``: our copy of Stripe's subscription, cancelling, invoice credits
- ``stripe_events``: the webhook's receipt and the dispatch of each event type
- ``reversals``: refunds and chargebacks (and their undoing)
- ``local``: the local stand-in's "pay" button
- ``shared``: the user's subscriptions and the grant of paid-for credits
"""

from chalicelib.services.payments.checkout import CheckoutStarted, start_checkout, start_subscription
from chalicelib.services.payments.local import Delivery, complete_local_checkout, local_session
from chalicelib.services.payments.shared import CURRENT_STATES, current_subscription, subscriptions_of
from chalicelib.services.payments.stripe_events import HANDLED_EVENTS, WebhookReceipt, process, receive_webhook
from chalicelib.services.payments.subscriptions import (
    apply_subscription,
    cancel_subscription,
    latest_subscription,
    period_credits,
)

__all__ = [
    "CURRENT_STATES", "HANDLED_EVENTS", "CheckoutStarted", "Delivery", "WebhookReceipt", "apply_subscription",
    "cancel_subscription", "complete_local_checkout", "current_subscription", "latest_subscription",
    "local_session", "period_credits", "process", "receive_webhook", "start_checkout", "start_subscription",
    "subscriptions_of",
]
