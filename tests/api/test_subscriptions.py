"""Subscriptions: POST /subscriptions, GET/DELETE /subscriptions/me and the Stripe events that
drive them, through the real StripeGateway and a recording stand-in of Stripe's API.

The subscription record is always Stripe's current object (fetched), so the events may
arrive in any order; each paid invoice grants the plan's credits once, carrying unused
subscription credits over up to the plan's rollover cap and expiring the rest.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.fakes import stripe_events as se
from tests.fakes.stripe_api import StripeApi, stripe_api  # noqa: F401 - a fixture
from tests.report import report

pytestmark = pytest.mark.usefixtures("default_catalog")


def send(api: Any, drain: Any, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Deliver one signed event and let the worker process it."""
    response = se.deliver(api, se.event(event_type, obj))
    assert response.status_code == 200, response.body
    drain()
    return response.json_body


def my_subscription(api: Any, user: str) -> dict[str, Any] | None:
    response = api.get("/subscriptions/me", as_user=user)
    assert response.status_code == 200, response.body
    # Null fields are left out of responses (ApiModel dumps with exclude_none).
    return response.json_body.get("subscription")


def credits(api: Any, user: str) -> dict[str, Any]:
    return api.get("/credits", as_user=user).json_body


def subscribe_in_stripe(api: Any, drain: Any, stripe: StripeApi, user: str, *, plan_id: str = "monthly-60",
                        status: str = "active", pay_first_invoice: bool = True) -> str:
    """The customer completed Checkout: Stripe has the subscription and has sent its events."""
    subscription_id = se.unique("sub_")
    stripe.put_subscription(se.subscription(subscription_id, user, plan_id=plan_id, status=status))
    send(api, drain, "checkout.session.completed", se.subscription_checkout(user, subscription_id, plan_id=plan_id))
    if pay_first_invoice:
        send(api, drain, "invoice.paid", se.invoice(se.unique("in_"), subscription_id, payment_intent=se.unique("pi_"),
                                                    billing_reason="subscription_create"))
    return subscription_id


def next_period(api: Any, drain: Any, stripe: StripeApi, subscription_id: str, user: str, period: int,
                *, plan_id: str = "monthly-60") -> str:
    """Stripe renews the subscription and its invoice is paid."""
    stripe.put_subscription(se.subscription(subscription_id, user, plan_id=plan_id, period=period))
    invoice_id = se.unique("in_")
    send(api, drain, "invoice.paid", se.invoice(invoice_id, subscription_id, period=period,
                                                payment_intent=se.unique("pi_")))
    return invoice_id


# --- event ordering ---------------------------------------------------------------------------

def test_every_order_of_the_four_subscription_events_reaches_the_same_state(api, make_user, drain,
                                                                            stripe_api):  # noqa: F811
    """Stripe does not guarantee delivery order. The snapshots inside the events disagree
    (created says incomplete, updated says active); Stripe's current object says active."""
    finals: dict[str, tuple[Any, ...]] = {}
    for number, order in enumerate(itertools.permutations(
            ["checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
             "invoice.paid"])):
        user = f"orderer-{number}"
        make_user(user)
        subscription_id = se.unique("sub_")
        stripe_api.put_subscription(se.subscription(subscription_id, user, status="active"))
        objects = {
            "checkout.session.completed": se.subscription_checkout(user, subscription_id),
            "customer.subscription.created": se.subscription(subscription_id, user, status="incomplete"),
            "customer.subscription.updated": se.subscription(subscription_id, user, status="active"),
            "invoice.paid": se.invoice(se.unique("in_"), subscription_id, payment_intent=se.unique("pi_"),
                                       billing_reason="subscription_create"),
        }
        for event_type in order:
            send(api, drain, event_type, objects[event_type])
        subscription = my_subscription(api, user)
        assert subscription is not None, order
        assert subscription.pop("subscriptionId") == subscription_id
        # The Subscription interface's names: the same id again, and when our copy was written.
        assert (subscription.pop("id"), subscription.pop("stripeSubscriptionId")) == (subscription_id,) * 2
        assert subscription.pop("userId") == user
        subscription.pop("createdAt"), subscription.pop("updatedAt")
        subscription["credits"] = tuple(sorted(subscription["credits"].items()))
        seen = credits(api, user)
        finals[" > ".join(order)] = (
            tuple(sorted(subscription.items())), tuple(sorted(seen["balance"].items())),
            tuple((line["kind"], tuple(line["changes"].items())) for line in seen["data"]))

    states = set(finals.values())
    assert len(finals) == 24
    assert len(states) == 1, finals
    [(subscription_items, balance, lines)] = states
    subscription = dict(subscription_items)
    assert subscription["status"] == "active" and subscription["planId"] == "monthly-60"
    assert (subscription["creditsGranted"], subscription["rolloverCredits"]) == (60, 60)
    assert dict(subscription["credits"]) == {"included": 60, "used": 0, "rollover": 0}
    assert subscription["version"] == 5  # Stripe's object applied once per event, and the invoice's grant
    assert subscription["cancelAtPeriodEnd"] is False
    assert subscription["currentPeriodStart"].startswith("2026-01-01")
    assert subscription["currentPeriodEnd"].startswith("2026-01-31")
    assert dict(balance)["available"] == 60
    assert lines == (("grant.subscription", (("available", 60),)),)
    report(f"stripe: {len(finals)} orderings of 4 subscription events -> {len(states)} final state")


def _stripe_sub(subscription_id: str, user: str, status: str, created_day: int) -> dict[str, Any]:
    return {**se.subscription(subscription_id, user, status=status), "created": se.PERIOD_START + created_day * se.DAY}


def _pointer(user: str) -> tuple[Any, Any]:
    """What GET /me shows of the user's subscription, as stored on the user item."""
    from chalicelib.models.users import User

    stored = User.get(user, consistent_read=True)
    return stored.subscription_id, stored.subscription_status


def test_the_users_current_subscription_follows_the_newer_or_paying_one_whatever_the_order(api, make_user):
    """GET /me's subscriptionId lives on the user item, written with the subscription record.
    An ended subscription clears it only when it is the one stored; a late (stale) fetch of
    an ended subscription never revives it."""
    from chalicelib.models.billing import Subscription
    from chalicelib.services.payments import apply_subscription

    make_user("switcher")
    apply_subscription(_stripe_sub("sub_old", "switcher", "active", 0))
    assert _pointer("switcher") == ("sub_old", "active")
    assert api.get("/me", as_user="switcher").json["subscriptionId"] == "sub_old"
    apply_subscription(_stripe_sub("sub_old", "switcher", "canceled", 0))
    assert _pointer("switcher") == (None, None)
    assert "subscriptionId" not in api.get("/me", as_user="switcher").json

    apply_subscription(_stripe_sub("sub_new", "switcher", "active", 5))
    assert _pointer("switcher") == ("sub_new", "active")
    # Late deliveries about the old subscription: its cancellation again, then a fetch made
    # before it ended (Stripe never makes a canceled subscription live again).
    apply_subscription(_stripe_sub("sub_old", "switcher", "canceled", 0))
    ended = Subscription.get("switcher", "sub_old")
    apply_subscription(_stripe_sub("sub_old", "switcher", "active", 0))
    again = Subscription.get("switcher", "sub_old")
    assert (again.status, again.version) == ("canceled", ended.version)
    assert _pointer("switcher") == ("sub_new", "active")
    # An older subscription still live does not displace the newer one; a newer one not
    # paid yet (incomplete) does not displace a paying one.
    apply_subscription(_stripe_sub("sub_older", "switcher", "active", 1))
    apply_subscription(_stripe_sub("sub_unpaid", "switcher", "incomplete", 9))
    assert _pointer("switcher") == ("sub_new", "active")
    # The stored one changes state: the user item follows; when it ends, the best other
    # current subscription takes its place.
    apply_subscription(_stripe_sub("sub_new", "switcher", "past_due", 5))
    assert _pointer("switcher") == ("sub_new", "past_due")
    apply_subscription(_stripe_sub("sub_new", "switcher", "canceled", 5))
    assert _pointer("switcher") == ("sub_older", "active")
    apply_subscription(_stripe_sub("sub_older", "switcher", "canceled", 1))
    assert _pointer("switcher") == ("sub_unpaid", "incomplete")
    apply_subscription(_stripe_sub("sub_unpaid", "switcher", "incomplete_expired", 9))
    assert _pointer("switcher") == (None, None)


def test_the_subscription_version_rises_with_each_rewrite(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("versioned")
    subscription_id = se.unique("sub_")
    stripe_api.put_subscription(se.subscription(subscription_id, "versioned"))
    send(api, drain, "customer.subscription.created", se.subscription(subscription_id, "versioned"))
    assert (my_subscription(api, "versioned") or {})["version"] == 1
    send(api, drain, "customer.subscription.updated", se.subscription(subscription_id, "versioned"))
    assert (my_subscription(api, "versioned") or {})["version"] == 2
    # A paid invoice: Stripe's object applied again, then the period's grant.
    send(api, drain, "invoice.paid", se.invoice(se.unique("in_"), subscription_id, payment_intent=se.unique("pi_")))
    subscription = my_subscription(api, "versioned") or {}
    assert subscription["version"] == 4 and subscription["credits"] == {"included": 60, "used": 0, "rollover": 0}


# --- invoices ---------------------------------------------------------------------------------

def test_an_invoice_grants_once_and_each_period_rolls_over_up_to_the_cap(api, make_user, drain,
                                                                         stripe_api):  # noqa: F811
    from chalicelib.services import ledger, ledger_check

    make_user("subscriber")
    subscription_id = se.unique("sub_")
    stripe_api.put_subscription(se.subscription(subscription_id, "subscriber"))
    first = se.invoice("in_first", subscription_id, payment_intent="pi_first", billing_reason="subscription_create")
    send(api, drain, "invoice.paid", first)
    send(api, drain, "invoice.paid", first)  # a second event for the same invoice
    assert credits(api, "subscriber")["balance"]["available"] == 60
    assert (my_subscription(api, "subscriber") or {})["creditsGranted"] == 60

    # 20 credits go to a reading: 40 unused, all carried (cap 60).
    from tests.support import ledger as moves

    moves.hold("subscriber", 20, entry_id="hold:reading-1", ref="reading-1")
    assert (my_subscription(api, "subscriber") or {})["credits"] == {"included": 60, "used": 20, "rollover": 0}
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 1)
    assert credits(api, "subscriber")["balance"]["available"] == 100
    subscription = my_subscription(api, "subscriber") or {}
    assert subscription["rolloverCredits"] == 100
    assert subscription["credits"] == {"included": 60, "used": 0, "rollover": 40}
    moves.hold("subscriber", 30, entry_id="hold:reading-2", ref="reading-2")
    assert (my_subscription(api, "subscriber") or {})["credits"] == {"included": 60, "used": 30, "rollover": 40}
    moves.release("subscriber", 30, entry_id="release:reading-2", ref="reading-2", memo="Reading declined")

    # 100 unused: 60 carried, 40 expire, 60 new.
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 2)
    seen = credits(api, "subscriber")
    assert seen["balance"]["available"] == 120 and seen["balance"]["held"] == 20
    newest = seen["data"][0]
    assert newest["kind"] == "grant.subscription" and newest["changes"] == {"available": 20}
    assert "40 expired" in newest["description"]
    assert ledger.system_balance("platform:expired") == 40
    subscription = my_subscription(api, "subscriber") or {}
    assert (subscription["creditsGranted"], subscription["rolloverCredits"]) == (180, 120)
    assert subscription["credits"] == {"included": 60, "used": 0, "rollover": 60}
    assert subscription["currentPeriodStart"].startswith("2026-03-02")
    assert ledger_check.run().ok


def test_purchased_credits_are_never_expired_by_the_rollover_cap(api, make_user, drain, stripe_api):  # noqa: F811
    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    send(api, drain, "checkout.session.completed", se.ordered_checkout(api, "subscriber", package_id="starter"))
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 1)
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 2)
    # 120 subscription credits unused at the third invoice: 60 carried, 60 expired; the 30 bought stay.
    assert credits(api, "subscriber")["balance"]["available"] == 30 + 60 + 60


def test_credits_bought_after_spending_the_subscription_credits_do_not_expire(api, make_user, drain,
                                                                              stripe_api):  # noqa: F811
    from tests.support import ledger

    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    ledger.hold("subscriber", 60, entry_id="hold:reading-1", ref="reading-1")  # all 60 spent
    send(api, drain, "checkout.session.completed", se.ordered_checkout(api, "subscriber", package_id="mystic"))
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 1)  # 60 new, none unused
    next_period(api, drain, stripe_api, subscription_id, "subscriber", 2)  # 60 unused <= cap: nothing expires
    assert credits(api, "subscriber")["balance"]["available"] == 120 + 60 + 60


def test_a_failed_invoice_makes_the_subscription_past_due_and_grants_nothing(api, make_user, drain,
                                                                             stripe_api):  # noqa: F811
    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    stripe_api.put_subscription(se.subscription(subscription_id, "subscriber", status="past_due", period=1))
    send(api, drain, "invoice.payment_failed", se.invoice("in_declined", subscription_id, amount_paid=0, period=1,
                                                          status="open", payment_intent="pi_declined"))
    subscription = my_subscription(api, "subscriber") or {}
    assert subscription["status"] == "past_due" and subscription["creditsGranted"] == 60
    seen = credits(api, "subscriber")
    assert seen["balance"]["available"] == 60 and len(seen["data"]) == 1
    # Still the current subscription: no second one while it is past due.
    assert api.post("/subscriptions", as_user="subscriber", json_body={"planId": "monthly-60"}).status_code == 409


def test_a_trial_invoice_of_zero_grants_nothing_until_the_first_paid_one(api, make_user, drain,
                                                                         stripe_api):  # noqa: F811
    make_user("trialist")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "trialist", plan_id="monthly-150",
                                          status="trialing", pay_first_invoice=False)
    send(api, drain, "invoice.paid", se.invoice("in_trial", subscription_id, amount_paid=0,
                                                billing_reason="subscription_create"))
    assert (my_subscription(api, "trialist") or {})["status"] == "trialing"
    assert credits(api, "trialist")["balance"]["available"] == 0
    next_period(api, drain, stripe_api, subscription_id, "trialist", 1, plan_id="monthly-150")
    subscription = my_subscription(api, "trialist") or {}
    assert subscription["status"] == "active" and subscription["creditsGranted"] == 150
    assert credits(api, "trialist")["balance"]["available"] == 150


def test_a_deleted_subscription_is_canceled_keeps_its_credits_and_allows_a_new_one(api, make_user, drain,
                                                                                    stripe_api):  # noqa: F811
    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    ended = se.subscription(subscription_id, "subscriber", status="canceled", canceled_at=se.PERIOD_START + se.DAY)
    stripe_api.put_subscription(ended)
    send(api, drain, "customer.subscription.deleted", ended)
    subscription = my_subscription(api, "subscriber") or {}
    assert subscription["status"] == "canceled"
    assert subscription["canceledAt"].startswith("2026-01-02")
    assert credits(api, "subscriber")["balance"]["available"] == 60
    assert api.delete("/subscriptions/me", as_user="subscriber").status_code == 404
    again = api.post("/subscriptions", as_user="subscriber", json_body={"planId": "monthly-150"})
    assert again.status_code == 201, again.body


# --- POST /subscriptions ------------------------------------------------------------------------

@pytest.mark.parametrize(("plan_id", "price", "trial_days"), [("monthly-60", 1599, None), ("monthly-150", 3499, "7")])
def test_subscribing_opens_a_subscription_checkout_in_stripe(api, make_user, stripe_api,  # noqa: F811
                                                             plan_id, price, trial_days):
    make_user("subscriber")
    response = api.post("/subscriptions", as_user="subscriber", json_body={"planId": plan_id},
                        headers={"Idempotency-Key": "sub-click-1"})
    assert response.status_code == 201, response.body
    out = response.json_body
    assert out["checkoutUrl"] == f"https://checkout.stripe.com/c/pay/{out['sessionId']}"
    assert (out["planId"], out["amount"], out["currency"]) == (plan_id, price, "usd")
    [sent] = stripe_api.calls("POST", "/v1/checkout/sessions")
    assert sent.form["mode"] == "subscription"
    assert sent.form["line_items[0][price_data][recurring][interval]"] == "month"
    assert sent.form["line_items[0][price_data][unit_amount]"] == str(price)
    ours = {"userId": "subscriber", "kind": "subscription", "planId": plan_id}
    assert sent.under("metadata") == ours
    assert sent.under("subscription_data[metadata]") == ours  # every later event carries who and what
    assert sent.form.get("subscription_data[trial_period_days]") == trial_days
    assert not any(key.startswith("payment_intent_data") for key in sent.form)
    assert sent.idempotency_key and "sub-click-1" in sent.idempotency_key

    again = api.post("/subscriptions", as_user="subscriber", json_body={"planId": plan_id},
                     headers={"Idempotency-Key": "sub-click-1"})
    assert again.json_body["sessionId"] == out["sessionId"]


@pytest.mark.parametrize("status", ["active", "trialing", "past_due", "incomplete", "unpaid"])
def test_a_second_subscription_is_refused_while_one_is_current(api, make_user, drain, stripe_api,  # noqa: F811
                                                               status):
    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber", status=status,
                                          pay_first_invoice=False)
    response = api.post("/subscriptions", as_user="subscriber", json_body={"planId": "monthly-150"})
    assert response.status_code == 409, response.body
    assert response.json["error"]["code"] == "already_subscribed"
    assert response.json["error"]["details"]["subscriptionId"] == subscription_id
    assert stripe_api.calls("POST", "/v1/checkout/sessions") == []


@pytest.mark.parametrize(("body", "status"), [
    ({"planId": "no-such-plan"}, 404), ({"planId": "monthly-60", "x": 1}, 400), ({"planId": "Monthly 60"}, 400)])
def test_a_subscription_checkout_stripe_would_not_get_is_refused(api, make_user, stripe_api,  # noqa: F811
                                                                 body, status):
    make_user("subscriber")
    assert api.post("/subscriptions", as_user="subscriber", json_body=body).status_code == status
    assert stripe_api.requests == []


# --- GET / DELETE /subscriptions/me -------------------------------------------------------------

def test_no_subscription_reads_as_null_and_cannot_be_cancelled(api, make_user, stripe_api):  # noqa: F811
    make_user("nobody")
    assert my_subscription(api, "nobody") is None
    response = api.delete("/subscriptions/me", as_user="nobody")
    assert response.status_code == 404
    assert stripe_api.requests == []


def test_cancelling_asks_stripe_once_for_the_period_end_and_is_idempotent(api, make_user, drain,
                                                                          stripe_api):  # noqa: F811
    make_user("subscriber")
    subscription_id = subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    before = len(stripe_api.requests)

    first = api.delete("/subscriptions/me", as_user="subscriber")
    assert first.status_code == 200, first.body
    assert first.json_body["cancelAtPeriodEnd"] is True and first.json_body["status"] == "active"
    [sent] = stripe_api.calls("POST", f"/v1/subscriptions/{subscription_id}")
    assert sent.form == {"cancel_at_period_end": "true"}
    assert sent.idempotency_key and subscription_id in sent.idempotency_key
    assert stripe_api.subscriptions[subscription_id]["cancel_at_period_end"] is True

    second = api.delete("/subscriptions/me", as_user="subscriber")
    assert second.status_code == 200 and second.json_body == first.json_body
    cancels = stripe_api.calls("POST", f"/v1/subscriptions/{subscription_id}")
    assert len({r.idempotency_key for r in cancels}) == 1  # asked at most once, always the same request
    assert len(stripe_api.requests) - before == len(cancels)

    subscription = my_subscription(api, "subscriber") or {}
    assert subscription["cancelAtPeriodEnd"] is True and subscription["status"] == "active"
    assert credits(api, "subscriber")["balance"]["available"] == 60  # the paid period's credits stay

    # Stripe's own event about the change agrees.
    send(api, drain, "customer.subscription.updated", stripe_api.subscriptions[subscription_id])
    assert (my_subscription(api, "subscriber") or {})["cancelAtPeriodEnd"] is True


def test_a_stripe_failure_while_cancelling_is_a_503_and_changes_nothing(api, make_user, drain,
                                                                        stripe_api):  # noqa: F811
    make_user("subscriber")
    subscribe_in_stripe(api, drain, stripe_api, "subscriber")
    stripe_api.fail_next(500)
    response = api.delete("/subscriptions/me", as_user="subscriber")
    assert response.status_code == 503, response.body
    assert (my_subscription(api, "subscriber") or {})["cancelAtPeriodEnd"] is False
    retry = api.delete("/subscriptions/me", as_user="subscriber")
    assert retry.status_code == 200 and retry.json_body["cancelAtPeriodEnd"] is True
